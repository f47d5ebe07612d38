"""``tuko-flow paths``: test paths generated from a protocol and its input cases.

Exit codes: 0 done; 1 ``--kind cover`` left transitions or rule outcomes uncovered (or an
input case was invalid); 2 an error (unknown protocol, no input cases, a bad limit).
"""

from __future__ import annotations

import argparse
from typing import Any

import attrs

from ._cli_output import answer
from ._paths import InputCases
from ._paths_explore import (
    DEFAULT_MAX_CASES,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_STEPS,
    KINDS,
    generate,
)
from ._protocol import Protocol
from ._registry import load_object, resolve_protocol
from .errors import ConfigurationError, TukoFlowError

EXAMPLES = """examples:
  tuko-flow paths                               covering paths of TUKO (exit 1: a goal missed)
  tuko-flow paths --kind shortest               the shortest path to every state
  tuko-flow paths --protocol marac              covering paths of MARAC
  tuko-flow paths --kind simple --max-length 4  simple paths of up to 4 changes of state
  tuko-flow paths --json                        as JSON
  tuko-flow paths --protocol mypkg.protocols:VARIANT --inputs mypkg.protocols:VARIANT_INPUTS
"""


def _label(protocol: Protocol) -> str:
    return f"{protocol.name}@{protocol.version}"


def _as_inputs(found: object, spec: str) -> InputCases:
    if not isinstance(found, InputCases):
        raise TukoFlowError(f"{spec} is a {type(found).__name__}, not tuko_flow.paths.InputCases")
    return found


def _load(spec: str) -> InputCases:
    return _as_inputs(load_object(spec, f"--inputs {spec!r}"), spec)


def _fitted(found: InputCases, protocol: Protocol, what: str) -> InputCases:
    """``found`` for ``protocol``: as it is when declared for it; re-targeted (and checked
    again) when declared for another protocol of the same name and version — a team's
    edited copy; refused when declared for another protocol."""
    if found.protocol == protocol:
        return found
    label = _label(protocol)
    if _label(found.protocol) != label:
        raise TukoFlowError(
            f"{what} holds input cases for {_label(found.protocol)}, not for {label}"
        )
    try:
        return attrs.evolve(found, protocol=protocol)
    except ConfigurationError as exc:
        problems = "".join(
            f"\n  - {p.removeprefix(f'input cases for {label}: ')}" for p in exc.problems
        )
        raise TukoFlowError(
            f"{what} holds input cases for another {label} than this one (an edited copy?), "
            f"and they do not fit it:{problems}\ndeclare a tuko_flow.paths.InputCases for it "
            "and pass --inputs package.module:NAME"
        ) from None


def inputs_for(protocol: Protocol, spec: str, inputs: str | None = None) -> InputCases:
    """The input cases for ``protocol``: ``inputs`` (``pkg.mod:NAME``) when given; else the
    shipped ones (the ``*_INPUTS`` of :mod:`tuko_flow.paths`) declared for it; else
    ``NAME_INPUTS`` next to a protocol named ``pkg.mod:NAME``; else the shipped ones of
    the same name and version, re-targeted to ``protocol`` (a team's edited copy).

    Input cases declared for another protocol of the same name and version are run on
    ``protocol`` itself, their checks made again (a :class:`TukoFlowError` if they fail).
    """
    if inputs is not None:
        return _fitted(_load(inputs), protocol, inputs)
    from . import paths

    shipped: dict[str, InputCases] = {
        f"tuko_flow.paths:{n}": getattr(paths, n) for n in paths.__all__ if n.endswith("_INPUTS")
    }
    for found in shipped.values():
        if found.protocol == protocol:
            return found
    name = spec.partition("@")[0]
    if ":" in name:
        beside = f"{name}_INPUTS"
        try:
            declared = load_object(beside, f"--inputs {beside!r}")
        except TukoFlowError:
            pass  # none declared beside the protocol
        else:
            return _fitted(_as_inputs(declared, beside), protocol, beside)
    for where, found in shipped.items():
        if _label(found.protocol) == _label(protocol):  # a team's edited copy
            return _fitted(found, protocol, where)
    raise TukoFlowError(
        f"no input cases are declared for protocol {_label(protocol)}: declare a "
        "tuko_flow.paths.InputCases (named intakes and inputs per trigger) and pass "
        "--inputs package.module:NAME"
    )


def _run(args: argparse.Namespace) -> int:
    protocol = resolve_protocol(args.protocol)
    inputs = inputs_for(protocol, args.protocol, args.inputs)
    found = generate(
        inputs,
        args.kind,
        max_length=args.max_length,
        max_steps=args.max_steps,
        max_cases=args.max_cases,
    )
    ok = args.kind != "cover" or found.complete
    return answer(args.json, found.to_dict(), found.explain(), ok)


def register(sub: Any) -> None:
    """Add the ``paths`` command to argparse's subparsers ``sub``."""
    cmd = sub.add_parser(
        "paths",
        help="generate test paths from a protocol and its input cases",
        description="Test paths from a protocol's data, driven by its declared input cases: "
        "the shortest path to every state, simple paths, or paths covering every "
        "transition and both outcomes of every rule.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("--protocol", default="tuko", help="'tuko', 'tuko@1' or 'package.module:NAME'")
    cmd.add_argument(
        "--inputs",
        help="the input cases, 'package.module:NAME' (default: the shipped ones, or "
        "NAME_INPUTS beside the protocol)",
    )
    cmd.add_argument("--kind", choices=KINDS, default="cover", help="default: cover")
    cmd.add_argument(
        "--max-length",
        type=int,
        default=DEFAULT_MAX_LENGTH,
        help=f"simple paths: most changes of state (default {DEFAULT_MAX_LENGTH})",
    )
    cmd.add_argument(
        "--max-steps",
        type=int,
        default=DEFAULT_MAX_STEPS,
        help=f"most commands in a path (default {DEFAULT_MAX_STEPS})",
    )
    cmd.add_argument(
        "--max-cases",
        type=int,
        default=DEFAULT_MAX_CASES,
        help=f"most distinct cases explored (default {DEFAULT_MAX_CASES})",
    )
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(run=_run)
