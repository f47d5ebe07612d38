"""``tuko-flow check`` (run scenario files) and ``tuko-flow validate`` (check protocols).

Both print plain words by default and JSON with ``--json``. Exit codes: 0 everything
passed; 1 a scenario step differs from its expectation / a protocol has problems; 2 an
error (a missing file, an unknown protocol or version, a malformed scenario: the message
says which file and line).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._cli_output import print_json
from ._protocol import Protocol
from ._registry import resolve_protocol, shipped_protocols
from .errors import ProtocolDefinitionError, TukoFlowError
from .scenarios import ScenarioError, ScenarioResult, load, run

CHECK_EXAMPLES = """examples:
  tuko-flow check examples/scenarios/*.toml
  tuko-flow check my-case.toml --protocol tuko@1
  tuko-flow check my-case.toml --protocol my_team.protocols:VARIANT --json

A scenario file (TOML) gives the case's facts in [case] and then [[steps]]: the command
(trigger name) and its arguments, 'by' (a network member id or agency/person), 'at' (when)
and 'expect' (state, events, refused = [rules], invalid = [fields]). See docs/scenarios.md.
Exit codes: 0 every step as expected, 1 some step differs, 2 a file could not be run.
"""

VALIDATE_EXAMPLES = """examples:
  tuko-flow validate                          every protocol shipped with tuko_flow
  tuko-flow validate --protocol tuko@1
  tuko-flow validate --protocol my_team.protocols:VARIANT --json

Checks: unreachable states, traps (no closed or final state reachable), final states with
exits, unknown states and rules, two transitions for one trigger and state, unused rules,
automatic transitions that loop. Exit codes: 0 sound, 1 problems found, 2 an unknown
protocol or a module that cannot be imported.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` and ``validate`` commands to the ``tuko-flow`` parser."""
    check = sub.add_parser(
        "check",
        help="run scenario files against a protocol and report every step that differs",
        description="Run scenario files (TOML) against a protocol version; report, in plain "
        "words, every step whose result differs from what the file expects.",
        epilog=CHECK_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="scenario files (.toml)")
    check.add_argument(
        "--protocol",
        metavar="SPEC",
        help="'tuko', 'tuko@1' or 'package.module:NAME' (overrides each file's 'protocol')",
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    check.set_defaults(run=_check)
    validate = sub.add_parser(
        "validate",
        help="check protocol definitions and report every problem (exit 1 if any)",
        description="Check protocol definitions: every problem is reported at once.",
        epilog=VALIDATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument(
        "--protocol",
        metavar="SPEC",
        action="append",
        help="a protocol to check (repeatable; default: every shipped protocol)",
    )
    validate.add_argument("--json", action="store_true", help="print the results as JSON")
    validate.set_defaults(run=_validate)


def _engine_logger(args: argparse.Namespace) -> Any:
    if not args.verbose:
        return None  # the scenario runner's silent logger
    from ._cli import _logger  # imported here: _cli imports this module

    return _logger(args)


def _check(args: argparse.Namespace) -> int:
    override: Protocol | None = None
    if args.protocol is not None:
        try:
            override = resolve_protocol(args.protocol)
        except ProtocolDefinitionError as exc:
            raise TukoFlowError(f"--protocol {args.protocol}: {exc}") from None
    logger = _engine_logger(args)
    results: list[ScenarioResult] = []
    errors: list[ScenarioError] = []
    for path in args.paths:
        try:
            results.append(run(load(path), protocol=override, logger=logger))
        except ScenarioError as exc:
            errors.append(exc)
    if args.json:
        print_json(
            {
                "ok": not errors and all(r.ok for r in results),
                "results": [r.to_dict() for r in results],
                "errors": [
                    {
                        "path": e.problems[0].source if e.problems else None,
                        "problems": [
                            {"path": p.source, "line": p.line, "message": p.message}
                            for p in e.problems
                        ],
                    }
                    for e in errors
                ],
            }
        )
    else:
        for result in results:
            print(result.report())
        for error in errors:
            print(f"tuko-flow: {error}", file=sys.stderr)
        passed = sum(r.ok for r in results)
        summary = f"{len(args.paths)} scenario file(s): {passed} passed"
        summary += f", {len(results) - passed} failed"
        if errors:
            summary += f", {len(errors)} could not be run"
        print(summary)
    if errors:
        return 2
    return 0 if all(r.ok for r in results) else 1


def _validate(args: argparse.Namespace) -> int:
    targets: list[tuple[str, Protocol | None, list[str]]] = []
    unresolved: list[tuple[str, str]] = []  # (spec, why) naming no protocol: reported last
    if args.protocol:
        for spec in args.protocol:
            try:
                protocol = resolve_protocol(spec)
            except ProtocolDefinitionError as exc:
                # the module building the protocol raised: that is what validate reports
                targets.append((spec, None, list(exc.problems)))
                continue
            except TukoFlowError as exc:
                unresolved.append((spec, str(exc)))
                continue
            targets.append((spec, protocol, protocol.problems()))
    else:
        for (name, version), protocol in sorted(shipped_protocols().items()):
            targets.append((f"{name}@{version}", protocol, protocol.problems()))
    if args.json:
        print_json(
            [
                {
                    "protocol": spec,
                    "name": p.name if p is not None else None,
                    "version": p.version if p is not None else None,
                    "ok": not problems,
                    "problems": problems,
                }
                for spec, p, problems in targets
            ]
            + [{"protocol": spec, "ok": False, "error": error} for spec, error in unresolved]
        )
    else:
        for spec, p, problems in targets:
            label = (
                spec
                if p is None or spec == f"{p.name}@{p.version}"
                else (f"{spec} ({p.name}@{p.version})")
            )
            if not problems:
                print(f"{label}: ok")
                continue
            built = "" if p is not None else ", so it could not be built"
            print(f"{label}: {len(problems)} problem(s){built}:")
            for problem in problems:
                print(f"  - {problem}")
        for _, error in unresolved:
            print(f"tuko-flow: {error}", file=sys.stderr)
    if unresolved:
        return 2
    return 1 if any(problems for _, _, problems in targets) else 0
