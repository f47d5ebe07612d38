"""The ``tuko-flow`` command line.

``tuko-flow demo`` takes a sample case through TUKO Stages 1-4, closes it and raises the
need again, printing each stage change and domain event; ``tuko-flow protocol`` prints
the TUKO protocol (states, transitions, guard rules with their seed passages).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

import structlog

from ._clock import ManualClock
from ._demo import START, run_demo
from ._engine import Engine
from ._protocol import Protocol
from .errors import SubscriberFailed, TukoFlowError
from .events import codec
from .stages import TUKO

EXAMPLES = """examples:
  tuko-flow demo              the sample case, readable
  tuko-flow demo --json       the same events as JSON lines
  tuko-flow protocol          TUKO's states, transitions and rules
"""


def _configure_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def _demo(args: argparse.Namespace) -> int:
    clock = ManualClock(START)
    engine = Engine(clock=clock)
    if args.json:
        engine.subscribe(lambda e: print(codec.to_json(e)))
        run_demo(engine, clock, out=lambda _line: None)
    else:
        run_demo(engine, clock)
    return 0


def describe_protocol(protocol: Protocol) -> str:
    """The protocol as readable text: states, transitions with their rules, rule sources."""
    lines = [f"{protocol.name} version {protocol.version}", protocol.description, "", "States:"]
    for s in protocol.states:
        mark = " (initial)" if s.name == protocol.initial else ""
        mark += " (closed)" if s.closed else ""
        lines.append(f"  {s.name}{mark}: {s.description}")
    lines += ["", "Transitions:"]
    for t in protocol.transitions:
        dest = t.dest if t.dest is not None else "(stays)"
        kind = "automatic" if t.auto else "command"
        rules = ", ".join(t.rules) or "no rules"
        lines.append(f"  {t.trigger} [{kind}]: {' | '.join(t.source)} -> {dest}; if {rules}")
    lines += ["", "Rules:"]
    for r in protocol.rules.values():
        lines.append(f"  {r.name}: {r.reason}")
        lines.append(f"      seed: {r.source}")
    return "\n".join(lines)


def _protocol(args: argparse.Namespace) -> int:
    if args.json:
        data = {
            "name": TUKO.name,
            "version": TUKO.version,
            "initial": TUKO.initial,
            "states": [{"name": s.name, "stage": s.stage, "closed": s.closed} for s in TUKO.states],
            "transitions": [
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "rules": list(t.rules),
                    "auto": t.auto,
                }
                for t in TUKO.transitions
            ],
            "rules": {
                r.name: {"reason": r.reason, "source": r.source} for r in TUKO.rules.values()
            },
        }
        print(json.dumps(data, indent=2))
    else:
        print(describe_protocol(TUKO))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuko-flow",
        description="Multi-agency safeguarding protocols (TUKO) as explainable state machines.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log commands to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a sample case through Stages 1-4 and back")
    demo.add_argument("--json", action="store_true", help="print events as JSON lines")
    demo.set_defaults(run=_demo)
    proto = sub.add_parser("protocol", help="print the TUKO protocol")
    proto.add_argument("--json", action="store_true", help="print it as JSON")
    proto.set_defaults(run=_protocol)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        return _closed_pipe()
    except SubscriberFailed as exc:
        if all(isinstance(e, BrokenPipeError) for e in exc.errors):
            return _closed_pipe()
        print(f"tuko-flow: {exc}", file=sys.stderr)
        return 1
    except TukoFlowError as exc:
        print(f"tuko-flow: {exc}", file=sys.stderr)
        return 1
    return code


def _closed_pipe() -> int:
    """The reader of our output went away (``tuko-flow demo | head``): stop quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
