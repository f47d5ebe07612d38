"""The ``tuko-flow`` commands for protocol versions: ``diff``, ``migrate``, ``replay-check``.

Wired into :func:`tuko_flow._cli.build_parser` by :func:`register`. Exit codes: 0 fine;
1 a problem was found (stranded cases, diverging histories, a refused migration); 2 an
error (unknown protocol, missing store, malformed ``--map``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ._cli_output import answer
from ._engine import Engine
from ._protocol import Protocol
from ._registry import resolve_protocol, shipped_protocols
from ._values import Actor
from .errors import MigrationRefused, TukoFlowError
from .versions import diff, plan_migration, replay_check, stranded_cases

DIFF_EXAMPLES = """examples:
  tuko-flow diff tuko@1 myteam.protocols:TUKO_V2
  tuko-flow diff tuko@1 myteam.protocols:TUKO_V2 --store cases.sqlite3   ... and the cases
                                                    it would strand (exit 1 if any)
  tuko-flow diff tuko@1 myteam.protocols:TUKO_V2 --json
"""

MIGRATE_EXAMPLES = """examples:
  tuko-flow migrate --store cases.sqlite3 --to myteam.protocols:TUKO_V2 --dry-run
        what would move, and the replay check of every history (nothing is written)
  tuko-flow migrate --store cases.sqlite3 --to myteam.protocols:TUKO_V2 \\
        --map stage3_plan=stage3_planning --keep-unmapped --reason "TUKO v2 goes live"
  tuko-flow migrate --store cases.sqlite3 --to myteam.protocols:TUKO_V2 --case case-0001 \\
        --reason "pilot case" --actor probation/po-101 --json

Without --map every state keeps its name; with --map only the states listed are moved,
unless --keep-unmapped keeps the others' names. A case in a state not covered refuses
the whole migration (exit 1) and nothing is written.
"""

REPLAY_EXAMPLES = """examples:
  tuko-flow replay-check --store cases.sqlite3 --protocol myteam.protocols:TUKO_V2
  tuko-flow replay-check --store cases.sqlite3 --protocol tuko@1 --json

Replays every stored history of the protocol under that version and reports, per case,
the first event where it would have gone differently (exit 1 if any diverges).
"""

#: Who a migration from the command line is recorded as, unless ``--actor`` says.
CLI_ACTOR = "tuko_flow/migration"


def _state_map(pairs: Sequence[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    found: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip() or "=" in new:
            raise TukoFlowError(f"--map {pair!r} is not OLD=NEW (e.g. stage3_plan=stage3_planning)")
        if old.strip() in found:
            raise TukoFlowError(f"--map names state {old.strip()!r} twice")
        found[old.strip()] = new.strip()
    return found


def _actor(text: str) -> Actor:
    agency, sep, person = text.partition("/")
    if not sep:
        raise TukoFlowError(f"--actor {text!r} is not AGENCY/PERSON (e.g. probation/po-101)")
    return Actor(agency=agency, person=person)


def _engine(args: argparse.Namespace, *extra: Protocol) -> Engine:
    from ._cli import _existing_store, _logger

    protocols: dict[tuple[str, str], Protocol] = dict(shipped_protocols())
    for spec in args.from_ or ():
        p = resolve_protocol(spec)
        protocols[(p.name, p.version)] = p
    for p in extra:
        protocols[(p.name, p.version)] = p
    return Engine(_existing_store(args.store), protocols=protocols.values(), logger=_logger(args))


def _diff(args: argparse.Namespace) -> int:
    old, new = resolve_protocol(args.old), resolve_protocol(args.new)
    change = diff(old, new)
    if args.store is None:
        return answer(args.json, change.to_dict(), change.explain(), ok=True)
    stranded = stranded_cases(_engine(args, old, new), change)
    under = f"under {change.old_label} would be stranded"
    lines = [change.explain(), ""]
    if stranded:
        lines.append(f"{len(stranded)} in-flight case(s) {under}:")
        lines.extend(f"  - {s}" for s in stranded)
    else:
        lines.append(f"no in-flight case {under}")
    data = {
        **change.to_dict(),
        "stranded": [
            {
                "case_id": s.case_id,
                "state": s.state,
                "reason": s.reason,
                "lost": list(s.lost),
            }
            for s in stranded
        ],
    }
    return answer(args.json, data, "\n".join(lines), ok=not stranded)


def _migrate(args: argparse.Namespace) -> int:
    target = resolve_protocol(args.to)
    engine = _engine(args, target)
    state_map = _state_map(args.map)
    case_ids = args.case or None
    if args.dry_run:
        plan = plan_migration(
            engine, target, case_ids=case_ids, state_map=state_map, keep_unmapped=args.keep_unmapped
        )
        report = replay_check(
            engine,
            target,
            state_map=state_map,
            keep_unmapped=args.keep_unmapped,
            case_ids=case_ids,  # a pilot migration checks its own cases only
        )
        ok = plan.ok and report.ok
        data = {"dry_run": True, "ok": ok, "plan": plan.to_dict(), "replay": report.to_dict()}
        text = f"{plan.explain()}\n\n{report.explain()}\n\ndry run: nothing was written"
        return answer(args.json, data, text, ok)
    if not args.reason or not args.reason.strip():
        raise TukoFlowError("--reason is required: say why the cases are migrated")
    try:
        result = engine.migrate(
            case_ids,
            to=target,
            state_map=state_map,
            keep_unmapped=args.keep_unmapped,
            actor=_actor(args.actor),
            reason=args.reason,
        )
    except MigrationRefused as refused:
        data = {
            "dry_run": False,
            "ok": False,
            "refused": {
                "target": refused.target,
                "reason": refused.reason,
                "cases": refused.cases,
                "allowed": refused.allowed,
            },
        }
        return answer(args.json, data, str(refused), ok=False)
    data = {"dry_run": False, "ok": result.ok, "result": result.to_dict()}
    return answer(args.json, data, result.explain(), result.ok)


def _replay_check(args: argparse.Namespace) -> int:
    target = resolve_protocol(args.protocol)
    report = replay_check(
        _engine(args, target),
        target,
        state_map=_state_map(args.map),
        keep_unmapped=args.keep_unmapped,
    )
    return answer(args.json, report.to_dict(), report.explain(), report.ok)


def _mapping_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--map",
        action="append",
        metavar="OLD=NEW",
        help="move cases in state OLD to state NEW (repeatable; default: keep every name)",
    )
    cmd.add_argument(
        "--keep-unmapped",
        action="store_true",
        help="with --map: states not listed keep their name",
    )
    cmd.add_argument(
        "--from",
        dest="from_",
        action="append",
        metavar="SPEC",
        help="a protocol the stored cases run under that does not ship with tuko_flow (repeatable)",
    )


def register(sub: Any) -> None:
    """Add ``diff``, ``migrate`` and ``replay-check`` to the ``tuko-flow`` subcommands."""
    raw = argparse.RawDescriptionHelpFormatter
    spec_help = "a protocol spec: tuko, tuko@1, or package.module:NAME[@VERSION]"
    cmd = sub.add_parser(
        "diff",
        help="what changed between two protocol versions (and which cases it strands)",
        epilog=DIFF_EXAMPLES,
        formatter_class=raw,
    )
    cmd.add_argument("old", metavar="OLD", help=spec_help)
    cmd.add_argument("new", metavar="NEW", help=spec_help)
    cmd.add_argument("--store", help="list the cases under OLD that NEW would strand")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(run=_diff, from_=None)

    cmd = sub.add_parser(
        "migrate",
        help="move cases to another version of their protocol (--dry-run to look first)",
        epilog=MIGRATE_EXAMPLES,
        formatter_class=raw,
    )
    cmd.add_argument("--store", required=True, help="SQLite file or postgresql:// URL")
    cmd.add_argument("--to", required=True, metavar="SPEC", help="the target version: " + spec_help)
    _mapping_options(cmd)
    cmd.add_argument(
        "--case", action="append", metavar="ID", help="migrate only this case (repeatable)"
    )
    cmd.add_argument("--reason", help="why the cases are migrated (recorded in each history)")
    cmd.add_argument(
        "--actor",
        default=CLI_ACTOR,
        metavar="AGENCY/PERSON",
        help=f"who the migration is recorded as (default: {CLI_ACTOR})",
    )
    cmd.add_argument(
        "--dry-run",
        action="store_true",
        help="show the plan and the replay check; write nothing",
    )
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(run=_migrate)

    cmd = sub.add_parser(
        "replay-check",
        help="replay every stored history under a protocol version; report divergence",
        epilog=REPLAY_EXAMPLES,
        formatter_class=raw,
    )
    cmd.add_argument("--store", required=True, help="SQLite file or postgresql:// URL")
    cmd.add_argument("--protocol", required=True, metavar="SPEC", help=spec_help)
    _mapping_options(cmd)
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(run=_replay_check)
