"""``tuko-flow paths``: test paths generated from a protocol and its input cases.

Exit codes: 0 done; 1 ``--kind cover`` left transitions or rule outcomes uncovered (or an
input case was invalid); 2 an error (unknown protocol, no input cases, a bad limit).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

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
from .errors import TukoFlowError

EXAMPLES = """examples:
  tuko-flow paths                               covering paths of TUKO (exit 1: a goal missed)
  tuko-flow paths --kind shortest               the shortest path to every state
  tuko-flow paths --protocol marac              covering paths of MARAC
  tuko-flow paths --kind simple --max-length 4  simple paths of up to 4 changes of state
  tuko-flow paths --json                        as JSON
  tuko-flow paths --protocol mypkg.protocols:VARIANT --inputs mypkg.protocols:VARIANT_INPUTS
"""


def _load(spec: str) -> object:
    return load_object(spec, f"--inputs {spec!r}")


def _same(a: Protocol, b: Protocol) -> bool:
    return a is b or (a.name, a.version) == (b.name, b.version)


def inputs_for(protocol: Protocol, spec: str, inputs: str | None = None) -> InputCases:
    """The input cases for ``protocol``: ``inputs`` (``pkg.mod:NAME``) when given, else the
    shipped ones (the ``*_INPUTS`` of :mod:`tuko_flow.paths`), else ``NAME_INPUTS`` next to
    a protocol named ``pkg.mod:NAME``."""
    label = f"{protocol.name}@{protocol.version}"
    candidates: list[str] = []
    if inputs is not None:
        candidates.append(inputs)
    else:
        from . import paths

        for shipped in (getattr(paths, n) for n in paths.__all__ if n.endswith("_INPUTS")):
            if isinstance(shipped, InputCases) and _same(shipped.protocol, protocol):
                return shipped
        name = spec.partition("@")[0]
        if ":" in name:
            candidates.append(f"{name}_INPUTS")
        candidates.append(f"tuko_flow.stages.{protocol.name}:{protocol.name.upper()}_INPUTS")
    for candidate in candidates:
        try:
            found = _load(candidate)
        except TukoFlowError:
            if inputs is not None:
                raise
            continue
        if not isinstance(found, InputCases):
            raise TukoFlowError(
                f"{candidate} is a {type(found).__name__}, not tuko_flow.paths.InputCases"
            )
        if not _same(found.protocol, protocol):
            raise TukoFlowError(
                f"{candidate} holds input cases for {found.protocol.name}@"
                f"{found.protocol.version}, not for {label}"
            )
        return found
    raise TukoFlowError(
        f"no input cases are declared for protocol {label}: declare a "
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
    if args.json:
        data: dict[str, Any] = found.to_dict()
        print(json.dumps(data, indent=2))
    else:
        print(found.explain())
    return 1 if args.kind == "cover" and not found.complete else 0


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
