"""The event-store port: what the engine needs from any storage of case histories."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .events import Event


@attrs.frozen
class StoredEvent:
    """An event with its position in the store's global, commit-ordered log."""

    position: int
    event: Event


@runtime_checkable
class EventStore(Protocol):
    """Port for storing case histories.

    * ``append`` stores all ``events`` of one command atomically, only if the case's
      current version equals ``expected_version`` (0 for a new case); otherwise it raises
      :class:`~tuko_flow.errors.ConcurrencyError` and stores nothing.
    * ``load`` returns the case's events with version > ``after``, in version order.
    * ``version`` is the case's current version (0 when it has no events).
    * ``case_ids`` lists every case, in the order they were first stored.
    * ``read_all`` returns events after a global ``position``, in commit order, so
      subscribers can keep their place.
    """

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> None: ...

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]: ...

    def version(self, case_id: str) -> int: ...

    def case_ids(self) -> Iterator[str]: ...

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]: ...
