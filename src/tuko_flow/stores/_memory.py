"""The in-memory event store: the reference implementation of the event-store port."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from .._store import AppendResult, ChainProblem, Snapshot, StoredEvent
from ..errors import ConcurrencyError
from ..events import Event, EventCodec
from ..events import codec as default_codec
from ._rows import GENESIS, Row, check_batch, encode, verify_rows


class InMemoryEventStore:
    """Keeps every case's events in memory. Thread-safe; lost when the process ends.

    :param hash_chain: also keep each event's serialized form and hash chain, so
        :meth:`verify` can prove the history unaltered (as the durable stores do). Off by
        default: the events it holds are immutable objects that live only in this process,
        and serializing every event would cost more than the rest of a command.
    """

    def __init__(self, *, hash_chain: bool = False, codec: EventCodec = default_codec) -> None:
        self.hash_chain = hash_chain
        self.codec = codec
        self._streams: dict[str, list[Event]] = {}
        self._commands: dict[tuple[str, str], tuple[int, int]] = {}
        self._log: list[Event] = []
        self._rows: dict[str, list[Row]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> AppendResult:
        if not events:
            return AppendResult(case_id, expected_version, expected_version)
        command_id = events[0].command_id
        with self._lock:
            done = self._commands.get((case_id, command_id))
            if done is not None:
                return AppendResult(case_id, done[0], done[1], duplicate=True)
            stream = self._streams.get(case_id)
            actual = len(stream) if stream is not None else 0
            if actual != expected_version:
                raise ConcurrencyError(case_id, expected=expected_version, actual=actual)
            check_batch(case_id, events, expected_version)
            if self.hash_chain:
                rows = self._rows.setdefault(case_id, [])
                previous = rows[-1].hash if rows else GENESIS
                encoded = encode(events, previous, self.codec)
                for offset, (event, payload, digest) in enumerate(encoded, start=1):
                    rows.append(
                        Row(
                            len(self._log) + offset,
                            case_id,
                            event.version,
                            type(event).__name__,
                            event.schema_version,
                            command_id,
                            payload,
                            digest,
                        )
                    )
            if stream is None:
                self._streams[case_id] = list(events)
            else:
                stream.extend(events)
            self._log.extend(events)
            last = events[-1].version
            self._commands[(case_id, command_id)] = (expected_version + 1, last)
            return AppendResult(case_id, expected_version + 1, last)

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]:
        stream = self._streams.get(case_id)
        if stream is None:
            return ()
        return tuple(stream[after:])

    def version(self, case_id: str) -> int:
        stream = self._streams.get(case_id)
        return len(stream) if stream is not None else 0

    def command_version(self, case_id: str, command_id: str) -> int | None:
        done = self._commands.get((case_id, command_id))
        return done[1] if done is not None else None

    def case_ids(self) -> Iterator[str]:
        with self._lock:
            ids = list(self._streams)
        return iter(ids)

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]:
        with self._lock:
            end = len(self._log) if limit is None else min(len(self._log), after + limit)
            return tuple(
                StoredEvent(position, self._log[position - 1])
                for position in range(after + 1, end + 1)
            )

    def verify(self, case_id: str | None = None) -> list[ChainProblem]:
        """Check versions are contiguous and, with ``hash_chain=True``, the hash chain."""
        with self._lock:
            ids = [case_id] if case_id is not None else list(self._streams)
            problems: list[ChainProblem] = []
            for cid in ids:
                if self.hash_chain:
                    rows = self._rows.get(cid, [])
                    problems.extend(verify_rows(cid, rows))
                    stored = len(self._streams.get(cid, []))
                    if len(rows) != stored:
                        problems.append(
                            ChainProblem(
                                cid,
                                stored,
                                None,
                                f"the case is at version {stored} but only {len(rows)} events "
                                "are in its chain: events were removed",
                            )
                        )
                    continue
                for expected, event in enumerate(self._streams.get(cid, []), start=1):
                    if event.version != expected:
                        problems.append(
                            ChainProblem(cid, expected, None, f"found version {event.version}")
                        )
            return problems

    def save_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            current = self._snapshots.get(snapshot.case_id)
            if current is None or snapshot.version >= current.version:
                self._snapshots[snapshot.case_id] = snapshot

    def load_snapshot(self, case_id: str) -> Snapshot | None:
        return self._snapshots.get(case_id)
