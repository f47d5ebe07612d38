"""The ``tuko-flow`` command line.

* ``demo`` takes a sample case through TUKO Stages 1-4, closes it and raises the need
  again, printing each stage change and domain event (stored in SQLite by default);
* ``protocol`` prints the TUKO protocol (states, transitions, rules with their seed
  passages);
* ``cases``, ``history`` and ``verify`` read a store: list its cases, show one case's
  history, check every case's hash chain.

Exit codes: 0 success; 1 ``verify`` found a broken history; 2 an error (the message says
what and where); argparse's own 2 for a malformed command line.

``--store`` takes a SQLite file path, or a ``postgresql://`` URL for the PostgreSQL store.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from . import diagrams
from ._cli_check import register as register_checks
from ._cli_paths import register as register_paths
from ._cli_versions import register as register_versions
from ._clock import ManualClock
from ._demo import START, describe, run_demo
from ._engine import Engine
from ._protocol import Protocol
from ._registry import resolve_protocol, shipped_protocols
from ._store import EventStore
from .errors import SubscriberFailed, TukoFlowError
from .events import Event, codec
from .stages import TUKO
from .stores import InMemoryEventStore, SQLiteEventStore

EXAMPLES = """examples:
  tuko-flow demo                              the sample case, stored in a new SQLite file
  tuko-flow demo --store cases.sqlite3        ... in a file of your choice
  tuko-flow demo --json --memory              the events as JSON lines, kept in memory
  tuko-flow protocol                          TUKO's states, transitions and rules
  tuko-flow protocol --protocol marac         ... MARAC's (referral, conference, repeats)
  tuko-flow cases --store cases.sqlite3       the cases in a store, with state and version
  tuko-flow history case-0001 --store cases.sqlite3 --json
  tuko-flow verify --store cases.sqlite3      check every case's hash chain (exit 1 if broken)
  tuko-flow diagram --format dot              the protocol for Graphviz (dot -Tsvg)
  tuko-flow diagram --store cases.sqlite3 --case case-0001   ... with that case highlighted
  tuko-flow diff tuko@1 team.mod:TUKO_V2 --store cases.sqlite3   changes; cases they strand
  tuko-flow migrate --store cases.sqlite3 --to team.mod:TUKO_V2 --dry-run   plan, replay check
  tuko-flow replay-check --store cases.sqlite3 --protocol team.mod:TUKO_V2
  tuko-flow diagram --protocol tuko@1 --format svg > tuko.svg   SVG (needs Graphviz's dot)
  tuko-flow diagram --update-docs docs        rewrite the <!-- diagram: SPEC FORMAT --> blocks
  tuko-flow validate                          check every shipped protocol (exit 1 on problems)
  tuko-flow check examples/scenarios/*.toml   run scenario files (exit 1 if a step differs)
  tuko-flow paths --kind cover                test paths covering every transition and rule outcome
"""


def _logger(args: argparse.Namespace) -> Any:
    """A logger for this command's engine, writing to stderr.

    Built here and handed to the engine, so the command line never changes structlog's
    global configuration (a host that calls ``main()`` keeps its own).
    """
    level = logging.INFO if args.verbose else logging.WARNING
    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )


def open_store(location: str) -> EventStore:
    """The store at ``location``: a ``postgresql://`` URL, or a SQLite file path."""
    if location.startswith(("postgresql://", "postgres://")):
        from .stores.postgres import PostgresEventStore

        store: EventStore = PostgresEventStore(location)
        return store
    return SQLiteEventStore(location)


def _existing_store(location: str) -> EventStore:
    """An existing store; reading commands never create one or touch an unrelated file."""
    if location.startswith(("postgresql://", "postgres://")):
        return open_store(location)
    path = Path(location)
    if not path.is_file():
        raise TukoFlowError(f"no store at {location!r}: the file does not exist")
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            found = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tuko_events'"
            ).fetchone()
    except sqlite3.Error as exc:
        raise TukoFlowError(f"{location!r} is not a SQLite database ({exc})") from None
    if found is None:
        raise TukoFlowError(f"{location!r} is not a tuko_flow store (it has no tuko_events table)")
    return open_store(location)


def _demo(args: argparse.Namespace) -> int:
    clock = ManualClock(START)
    if args.memory:
        store: EventStore = InMemoryEventStore()
        where = "memory"
    else:
        location = args.store or str(Path(tempfile.mkdtemp(prefix="tuko-flow-")) / "demo.sqlite3")
        if Path(location).exists() and not location.startswith("postgres"):
            raise TukoFlowError(
                f"{location!r} exists already; the demo writes a new store (choose another path)"
            )
        store = open_store(location)
        where = location
    engine = Engine(store, clock=clock, logger=_logger(args))
    if args.json:
        engine.subscribe(lambda e: print(codec.to_json(e)))
        run_demo(engine, clock, out=lambda _line: None)
    else:
        run_demo(engine, clock)
        print("")
        if where == "memory":
            print("The events were kept in memory.")
        else:
            print(f"The events are stored in {where}; look at them with:")
            print(f"  tuko-flow history case-0001 --store {where}")
            print(f"  tuko-flow verify --store {where}")
    return 0


def _cases(args: argparse.Namespace) -> int:
    engine = Engine(_existing_store(args.store), logger=_logger(args))
    rows = []
    for case_id in engine.case_ids():
        case = engine.case(case_id)
        rows.append(
            {
                "case_id": case_id,
                "protocol": f"{case.protocol}@{case.protocol_version}",
                "state": case.state,
                "cycle": case.cycle.number,
                "version": case.version,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no cases")
    else:
        for r in rows:
            print(
                f"{r['case_id']:<20} {r['protocol']:<10} {r['state']:<18} "
                f"cycle {r['cycle']:<3} version {r['version']}"
            )
    return 0


def _history(args: argparse.Namespace) -> int:
    engine = Engine(_existing_store(args.store), logger=_logger(args))
    events = engine.history(args.case_id)
    if args.json:
        print(json.dumps([codec.to_dict(e) for e in events], indent=2))
    else:
        for event in events:
            print(describe(event))
    return 0


def _verify(args: argparse.Namespace) -> int:
    store = _existing_store(args.store)
    problems = store.verify()
    count = len(list(store.case_ids()))
    if args.json:
        print(
            json.dumps(
                {
                    "cases": count,
                    "ok": not problems,
                    "problems": [
                        {
                            "case_id": p.case_id,
                            "version": p.version,
                            "position": p.position,
                            "problem": p.problem,
                        }
                        for p in problems
                    ],
                },
                indent=2,
            )
        )
    elif problems:
        print(f"{len(problems)} problem(s) in {count} case(s):")
        for p in problems:
            print(f"  - {p}")
    else:
        print(f"ok: {count} case(s), every hash chain intact")
    return 1 if problems else 0


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
    protocol = resolve_protocol(args.protocol)
    if args.json:
        data = {
            "name": protocol.name,
            "version": protocol.version,
            "initial": protocol.initial,
            "states": [
                {"name": s.name, "stage": s.stage, "closed": s.closed, "final": s.final}
                for s in protocol.states
            ],
            "transitions": [
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "rules": list(t.rules),
                    "auto": t.auto,
                }
                for t in protocol.transitions
            ],
            "rules": {
                r.name: {"reason": r.reason, "source": r.source} for r in protocol.rules.values()
            },
        }
        print(json.dumps(data, indent=2))
    else:
        print(describe_protocol(protocol))
    return 0


def _diagram(args: argparse.Namespace) -> int:
    if args.check and args.update_docs is None:
        raise TukoFlowError(
            "--check goes with --update-docs: 'tuko-flow diagram --update-docs docs --check' "
            "reports the stale pages without writing them"
        )
    if args.update_docs is not None:
        stale = diagrams.update_docs(args.update_docs, write=not args.check)
        for page in stale:
            print(f"{'stale' if args.check else 'updated'}: {page}")
        if not stale:
            print(f"every marked diagram in {args.update_docs} is current")
        return 1 if stale and args.check else 0
    protocol = resolve_protocol(args.protocol) if args.protocol else TUKO
    case = None
    history: tuple[Event, ...] = ()
    if args.case is not None:
        if args.store is None:
            raise TukoFlowError("--case needs --store: the store that holds the case")
        runs = (protocol,) if args.protocol else tuple(shipped_protocols().values())
        engine = Engine(_existing_store(args.store), logger=_logger(args), protocols=runs)
        case = engine.case(args.case)
        history = engine.history(args.case)
        if not args.protocol:  # draw the protocol the case runs under (TUKO or MARAC)
            protocol = engine.protocol_of(case)
    draw = {"mermaid": diagrams.mermaid, "dot": diagrams.dot, "svg": diagrams.svg}[args.format]
    print(draw(protocol, case=case, history=history))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuko-flow",
        description="Multi-agency safeguarding protocols (TUKO, MARAC) as explainable state "
        "machines.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log commands to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a sample case through Stages 1-4 and back")
    demo.add_argument("--json", action="store_true", help="print events as JSON lines")
    where = demo.add_mutually_exclusive_group()
    where.add_argument("--store", help="a new SQLite file (default: one in a temp directory)")
    where.add_argument("--memory", action="store_true", help="keep the events in memory")
    demo.set_defaults(run=_demo)
    for name, helptext, run in (
        ("cases", "list the cases in a store", _cases),
        ("verify", "check every case's hash chain (exit code 1 if any is broken)", _verify),
    ):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("--store", required=True, help="SQLite file or postgresql:// URL")
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(run=run)
    diagram = sub.add_parser(
        "diagram",
        help="draw a protocol (Mermaid, Graphviz DOT or SVG); update docs diagrams",
        description="Draw a protocol from its own data: every transition with its guard "
        "rules, closed and final states marked, optionally one case's state and path.",
        epilog="""examples:
  tuko-flow diagram                                   TUKO as a Mermaid state diagram
  tuko-flow diagram --protocol marac --format dot     MARAC for Graphviz
  tuko-flow diagram --protocol tuko@1 --format svg > tuko.svg   (needs Graphviz's dot)
  tuko-flow diagram --store cases.sqlite3 --case marac-0001     the case highlighted
  tuko-flow diagram --update-docs docs --check        exit 1 if a docs diagram is stale
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diagram.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    diagram.add_argument(
        "--protocol", metavar="SPEC", help="'tuko@1', 'pkg.mod:NAME' (default tuko)"
    )
    diagram.add_argument(
        "--update-docs",
        nargs="?",
        const="docs",
        metavar="DIR",
        help="rewrite every block in DIR/*.md (default docs) between '<!-- diagram: SPEC "
        "FORMAT -->' (FORMAT mermaid or dot) and '<!-- /diagram -->'",
    )
    diagram.add_argument(
        "--check", action="store_true", help="with --update-docs: only report stale pages (exit 1)"
    )
    diagram.add_argument("--store", help="with --case: the store that holds the case")
    diagram.add_argument("--case", help="highlight this case's state and path so far")
    diagram.set_defaults(run=_diagram)
    history = sub.add_parser("history", help="show one case's events, oldest first")
    history.add_argument("case_id")
    history.add_argument("--store", required=True, help="SQLite file or postgresql:// URL")
    history.add_argument("--json", action="store_true", help="print the events as JSON")
    history.set_defaults(run=_history)
    proto = sub.add_parser(
        "protocol", help="print a protocol: states, transitions, rules with their sources"
    )
    proto.add_argument(
        "--protocol",
        metavar="SPEC",
        default="tuko",
        help="'tuko', 'marac', 'tuko@1', 'pkg.mod:NAME' (default tuko)",
    )
    proto.add_argument("--json", action="store_true", help="print it as JSON")
    proto.set_defaults(run=_protocol)
    register_versions(sub)
    register_checks(sub)
    register_paths(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except BrokenPipeError:
        return _closed_pipe()
    except SubscriberFailed as exc:
        if all(isinstance(e, BrokenPipeError) for e in exc.errors):
            return _closed_pipe()
        print(f"tuko-flow: {exc}", file=sys.stderr)
        return 2
    except TukoFlowError as exc:
        print(f"tuko-flow: {exc}", file=sys.stderr)
        return 2
    return code


def _closed_pipe() -> int:
    """The reader of our output went away (``tuko-flow demo | head``): stop quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
