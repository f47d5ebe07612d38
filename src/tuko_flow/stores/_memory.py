"""The in-memory event store: the reference implementation of the event-store port."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from .._store import StoredEvent
from ..errors import ConcurrencyError, EventStoreError
from ..events import Event


class InMemoryEventStore:
    """Keeps every case's events in memory. Thread-safe; lost when the process ends."""

    def __init__(self) -> None:
        self._streams: dict[str, list[Event]] = {}
        self._log: list[Event] = []
        self._lock = threading.Lock()

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> None:
        if not events:
            return
        with self._lock:
            stream = self._streams.get(case_id)
            actual = len(stream) if stream is not None else 0
            if actual != expected_version:
                raise ConcurrencyError(case_id, expected=expected_version, actual=actual)
            for offset, event in enumerate(events, start=1):
                if event.case_id != case_id or event.version != expected_version + offset:
                    raise EventStoreError(
                        f"case {case_id!r}: event {offset} of the batch has case "
                        f"{event.case_id!r} version {event.version}; expected case {case_id!r} "
                        f"version {expected_version + offset}. Nothing was stored."
                    )
            if stream is None:
                self._streams[case_id] = list(events)
            else:
                stream.extend(events)
            self._log.extend(events)

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]:
        stream = self._streams.get(case_id)
        if stream is None:
            return ()
        return tuple(stream[after:])

    def version(self, case_id: str) -> int:
        stream = self._streams.get(case_id)
        return len(stream) if stream is not None else 0

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
