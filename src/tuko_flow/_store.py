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


@attrs.frozen
class AppendResult:
    """What an append did: the versions written, or that the command was stored before.

    ``duplicate`` is true when the batch's command (its ``command_id``) had already been
    stored for this case: nothing new was stored and the versions are the stored ones.
    """

    case_id: str
    first_version: int
    last_version: int
    duplicate: bool = False


@attrs.frozen
class Snapshot:
    """A case's state at ``version``, serialized by the engine (``schema_version`` says how)."""

    case_id: str
    version: int
    schema_version: int
    state: str


@attrs.frozen
class ChainProblem:
    """One place where a case's stored history is not what was written."""

    case_id: str
    version: int
    position: int | None
    problem: str

    def __str__(self) -> str:
        where = f" (position {self.position})" if self.position is not None else ""
        return f"case {self.case_id!r} version {self.version}{where}: {self.problem}"


@runtime_checkable
class EventStore(Protocol):
    """Port for storing case histories. :class:`tuko_flow.testing.EventStoreContract` checks it.

    * ``append`` stores all ``events`` of one command (they share a ``command_id``)
      atomically, only if the case's current version equals ``expected_version`` (0 for a
      new case); otherwise it raises :class:`~tuko_flow.errors.ConcurrencyError` and
      stores nothing. If that command was stored before (a retry after a lost
      acknowledgement) it stores nothing and returns ``duplicate=True``.
    * ``load`` returns the case's events with version > ``after``, in version order.
    * ``version`` is the case's current version (0 when it has no events).
    * ``command_version`` is the last version a command wrote, or ``None``.
    * ``case_ids`` lists every case, in the order they were first stored.
    * ``read_all`` returns events after a global ``position``, in commit order, so
      subscribers can keep their place.
    * ``verify`` checks every case's hash chain (or one case's) and lists each problem.
    * ``save_snapshot`` / ``load_snapshot`` keep one snapshot per case (the newest).
    """

    def append(
        self, case_id: str, events: Sequence[Event], expected_version: int
    ) -> AppendResult: ...

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]: ...

    def version(self, case_id: str) -> int: ...

    def command_version(self, case_id: str, command_id: str) -> int | None: ...

    def case_ids(self) -> Iterator[str]: ...

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]: ...

    def verify(self, case_id: str | None = None) -> list[ChainProblem]: ...

    def save_snapshot(self, snapshot: Snapshot) -> None: ...

    def load_snapshot(self, case_id: str) -> Snapshot | None: ...
