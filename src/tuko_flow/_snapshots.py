"""Case snapshots: a case's state as JSON, so long histories load without full replay.

A snapshot records the schema of :class:`~tuko_flow.Case` it was written under
(:data:`CASE_SCHEMA_VERSION`). One written under another schema, for another case, ahead
of the stored history, or unreadable, is ignored (the case is replayed from its events
instead) — never trusted blindly.
"""

from __future__ import annotations

import hashlib
import json

import cattrs

from ._case import Case
from ._store import Snapshot
from .events import Event, codec

#: Bump when :class:`~tuko_flow.Case` (or anything it holds) changes shape.
CASE_SCHEMA_VERSION = 2


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def to_snapshot(case: Case, event: Event) -> Snapshot:
    """The case as a snapshot; ``event`` is the case's event number ``case.version``.

    The snapshot records a digest of the case's state and of that event, so a snapshot
    that was edited, or that belongs to another history, is recognised and ignored.
    """
    state = json.dumps(codec.converter.unstructure(case), separators=(",", ":"), sort_keys=True)
    envelope = {
        "case": state,
        "case_digest": _digest(state),
        "event_digest": _digest(codec.to_json(event)),
    }
    return Snapshot(case.case_id, case.version, CASE_SCHEMA_VERSION, json.dumps(envelope))


def from_snapshot(snapshot: Snapshot, *, case_id: str, event: Event | None) -> Case | None:
    """The case in ``snapshot``, or ``None`` when the snapshot must not be used.

    ``event`` is the stored event at the snapshot's version (``None`` when there is none).
    """
    if snapshot.schema_version != CASE_SCHEMA_VERSION or snapshot.case_id != case_id:
        return None
    if event is None or event.version != snapshot.version or event.case_id != case_id:
        return None
    try:
        envelope = json.loads(snapshot.state)
        state = envelope["case"]
        if envelope["case_digest"] != _digest(state):
            return None
        if envelope["event_digest"] != _digest(codec.to_json(event)):
            return None
        case = codec.converter.structure(json.loads(state), Case)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError):
        return None
    if case.case_id != case_id or case.version != snapshot.version:
        return None
    return case
