"""Case snapshots: a case's state as JSON, so long histories load without full replay.

A snapshot records the schema of :class:`~tuko_flow.Case` it was written under
(:data:`CASE_SCHEMA_VERSION`). One written under another schema, for another case, ahead
of the stored history, or unreadable, is ignored (the case is replayed from its events
instead) — never trusted blindly.
"""

from __future__ import annotations

import json

import cattrs

from ._case import Case
from ._store import Snapshot
from .events import codec

#: Bump when :class:`~tuko_flow.Case` (or anything it holds) changes shape.
CASE_SCHEMA_VERSION = 1


def to_snapshot(case: Case) -> Snapshot:
    """The case as a snapshot."""
    state = json.dumps(codec.converter.unstructure(case), separators=(",", ":"), sort_keys=True)
    return Snapshot(case.case_id, case.version, CASE_SCHEMA_VERSION, state)


def from_snapshot(snapshot: Snapshot, *, case_id: str, stored_version: int) -> Case | None:
    """The case in ``snapshot``, or ``None`` when the snapshot must not be used."""
    if snapshot.schema_version != CASE_SCHEMA_VERSION or snapshot.case_id != case_id:
        return None
    if not 0 < snapshot.version <= stored_version:
        return None
    try:
        case = codec.converter.structure(json.loads(snapshot.state), Case)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError):
        return None
    if case.case_id != case_id or case.version != snapshot.version:
        return None
    return case
