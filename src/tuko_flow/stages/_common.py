"""Shared pieces of the TUKO stage modules: state names and input checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from .._case import Case
from .._config import TukoConfig
from .._values import NetworkMember, Problems

AWAITING_NOTICE = "awaiting_notice"
STAGE1 = "stage1_notice"
STAGE2 = "stage2_evaluate"
STAGE3 = "stage3_plan"
STAGE4 = "stage4_manage"
CLOSED_NO_NEED = "closed_no_need"
CLOSED = "closed"

#: States in which a case is being worked on (not resting after closure).
ACTIVE = (AWAITING_NOTICE, STAGE1, STAGE2, STAGE3, STAGE4)
#: States in which a case rests; raising the need again starts a new cycle.
RESTING = (CLOSED_NO_NEED, CLOSED)


def members(p: Problems, field: str, ids: Iterable[str], case: Case, *, required: bool) -> None:
    """Every id must name a member of the case's network; ``required``: at least one."""
    if not p.sequence(field, ids, "network member ids"):
        return
    ids = tuple(ids)
    if required and not ids:
        p.add(field, "is empty", "one or more network member ids")
    known = case.member_ids
    unknown = [i for i in ids if i not in known]
    if unknown:
        p.add(field, f"{', '.join(map(repr, unknown))} not in the case's network", ", ".join(known))
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        p.add(field, f"lists {', '.join(dupes)} more than once", "each member once")


def network_members(p: Problems, value: object, config: TukoConfig) -> tuple[NetworkMember, ...]:
    """The intake's ``network``: a list of members with unique ids from known agencies.

    Every problem is added to ``p`` (the ``network`` field, or ``network[i].agency``); the
    members that are ``NetworkMember`` values are returned for the intake's own checks.
    """
    if not p.sequence("network", value, "NetworkMember values"):
        return ()
    assert isinstance(value, tuple)
    network = tuple(m for m in value if isinstance(m, NetworkMember))
    if len(network) != len(value):
        p.add("network", "contains something that is not a NetworkMember", "NetworkMember")
    ids = [m.member_id for m in network]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        p.add("network", f"member ids used twice: {', '.join(dupes)}", "unique member ids")
    for i, m in enumerate(network):
        if m.agency not in config.agency_set:
            p.add(
                f"network[{i}].agency",
                f"{m.agency!r} is not a known agency",
                ", ".join(config.agencies),
            )
    return network


def in_future(p: Problems, field: str, value: object, now: datetime) -> None:
    p.aware(field, value)
    if isinstance(value, datetime) and value.tzinfo is not None and value <= now:
        p.add(field, f"{value.isoformat()} is not in the future", f"after {now.isoformat()}")


def not_in_future(p: Problems, field: str, value: object, now: datetime) -> None:
    p.aware(field, value)
    if isinstance(value, datetime) and value.tzinfo is not None and value > now:
        p.add(field, f"{value.isoformat()} is in the future", f"at or before {now.isoformat()}")
