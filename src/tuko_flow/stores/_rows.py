"""What durable stores share: the stored row, its hash chain, decoding with clear errors.

A stored event is a row ``(position, case_id, version, type, schema_version, command_id,
payload, hash)``. ``payload`` is the event as canonical JSON (:data:`tuko_flow.events.codec`,
sorted keys); ``hash`` chains the case's events: ``sha256(previous hash + payload)``, the
first event chaining from :data:`GENESIS`. Altering, deleting or reordering a stored event
breaks the chain at that point, and :func:`verify_rows` names where.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .._store import ChainProblem
from ..errors import CorruptEventError, EventStoreError, SerializationError
from ..events import Event, EventCodec

#: The value the first event of every case chains from.
GENESIS = "0" * 64


class Row(NamedTuple):
    """One stored event, as an adapter reads it back."""

    position: int
    case_id: str
    version: int
    type: str
    schema_version: int
    command_id: str
    payload: str
    hash: str


def chain(previous: str, payload: str) -> str:
    """The hash of an event given the previous event's hash and its own payload."""
    return hashlib.sha256(f"{previous}\n{payload}".encode()).hexdigest()


def encode(
    events: Iterable[Event], previous: str, codec: EventCodec
) -> list[tuple[Event, str, str]]:
    """``(event, payload, hash)`` for each event, chaining from ``previous``."""
    out = []
    for event in events:
        try:
            payload = codec.to_json(event)
        except Exception as exc:  # cattrs/json errors: report which event, never leak them
            raise SerializationError(
                f"case {event.case_id!r} version {event.version}: "
                f"{type(event).__name__} cannot be serialized: {exc}"
            ) from None
        previous = chain(previous, payload)
        out.append((event, payload, previous))
    return out


def decode(row: Row, codec: EventCodec) -> Event:
    """The event in ``row``; a corrupt or unknown row raises :class:`CorruptEventError`."""
    return decode_payload(row.case_id, row.version, row.position, row.payload, codec)


def decode_payload(
    case_id: str, version: int, position: int, payload: str, codec: EventCodec
) -> Event:
    """The event stored as ``payload`` for this case, version and position."""
    try:
        event = codec.from_json(payload)
    except SerializationError as exc:
        raise CorruptEventError(case_id, version, position, str(exc)) from None
    if event.case_id != case_id or event.version != version:
        raise CorruptEventError(
            case_id,
            version,
            position,
            f"the payload says case {event.case_id!r} version {event.version}",
        )
    return event


def verify_rows(case_id: str, rows: Iterable[Row]) -> list[ChainProblem]:
    """Check one case's rows (in version order): contiguous versions and an unbroken chain."""
    problems: list[ChainProblem] = []
    previous = GENESIS
    expected = 1
    last_position = 0
    for row in rows:
        if row.version != expected:
            kind = "missing or deleted" if row.version > expected else "repeated or reordered"
            problems.append(
                ChainProblem(
                    case_id,
                    expected,
                    row.position,
                    f"expected version {expected}, found {row.version}: an event is {kind}",
                )
            )
        if row.position <= last_position:
            problems.append(
                ChainProblem(case_id, row.version, row.position, "stored out of commit order")
            )
        if chain(previous, row.payload) != row.hash:
            problems.append(
                ChainProblem(
                    case_id,
                    row.version,
                    row.position,
                    "hash does not match: the event was altered, or one before it was "
                    "altered, removed or reordered",
                )
            )
        previous = row.hash
        expected = row.version + 1
        last_position = row.position
    return problems


def check_batch(case_id: str, events: Sequence[Event], expected: int) -> None:
    """A batch must be for this case, from one command, with versions following ``expected``."""
    command_id = events[0].command_id
    for offset, event in enumerate(events, start=1):
        if event.case_id != case_id or event.version != expected + offset:
            raise EventStoreError(
                f"case {case_id!r}: event {offset} of the batch has case {event.case_id!r} "
                f"version {event.version}; expected case {case_id!r} version "
                f"{expected + offset}. Nothing was stored."
            )
        if event.command_id != command_id:
            raise EventStoreError(
                f"case {case_id!r}: the events of one append must come from one command "
                f"(found command ids {command_id!r} and {event.command_id!r}). "
                "Nothing was stored."
            )
