"""The event-store contract: every promise of the port, as a test class.

Re-exported as :class:`tuko_flow.testing.EventStoreContract`. Subclass it in a test suite,
implement :meth:`~EventStoreContract.make_store`, and pytest runs every check against the
adapter. Adapters that cannot do something (an in-memory store cannot be shared by two
processes) say so with the capability flags; the checks that need it are then reported as
skipped with the reason, never silently passed.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from ._demo import OFFICER
from ._store import EventStore
from .errors import ConcurrencyError, TukoFlowError
from .events import Event, MeetingScheduled


def _event(case_id: str, version: int, minutes: int = 0, command_id: str | None = None) -> Event:
    """A small valid event for store tests (stores do not interpret event types)."""
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return MeetingScheduled(
        case_id=case_id,
        version=version,
        occurred_at=at,
        actor=OFFICER,
        command_id=command_id or f"cmd-{case_id}-{version}",
        meeting_at=at + timedelta(days=1),
    )


class EventStoreContract:
    """The promises of the event-store port, as tests. Subclass and implement ``make_store``.

    Example (in a host application's test suite)::

        class TestMyStore(EventStoreContract):
            def make_store(self):
                return MyStore(...)
    """

    __test__ = False  # the base class itself is not collected; subclasses set it to True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    def make_store(self) -> EventStore:
        """Return a new, empty store."""
        raise NotImplementedError

    def _events(self, case_id: str, first: int, count: int) -> list[Event]:
        """One command's batch: ``count`` events sharing a command id."""
        command_id = f"cmd-{case_id}-{first}"
        return [_event(case_id, v, command_id=command_id) for v in range(first, first + count)]

    def test_new_case_has_version_zero_and_no_events(self) -> None:
        """An unknown case has version 0 and loads as empty."""
        store = self.make_store()
        assert store.version("nobody") == 0
        assert list(store.load("nobody")) == []

    def test_append_then_load_returns_events_in_order(self) -> None:
        """Appended events load back equal and in version order."""
        store = self.make_store()
        events = self._events("case-a", 1, 3)
        store.append("case-a", events, 0)
        assert list(store.load("case-a")) == events
        assert store.version("case-a") == 3
        assert list(store.load("case-a", after=2)) == events[2:]

    def test_wrong_expected_version_raises_and_stores_nothing(self) -> None:
        """A stale writer gets ConcurrencyError naming the versions; nothing is stored."""
        store = self.make_store()
        store.append("case-a", self._events("case-a", 1, 2), 0)
        try:
            store.append("case-a", self._events("case-a", 2, 2), 1)
        except ConcurrencyError as exc:
            assert (exc.case_id, exc.expected, exc.actual) == ("case-a", 1, 2)
        else:
            raise AssertionError("append with a stale expected version was accepted")
        assert store.version("case-a") == 2

    def test_batch_with_bad_versions_stores_nothing(self) -> None:
        """A batch whose versions do not follow on is refused whole."""
        store = self.make_store()
        store.append("case-a", self._events("case-a", 1, 1), 0)
        bad = [_event("case-a", 2, command_id="c-x"), _event("case-a", 4, command_id="c-x")]
        try:
            store.append("case-a", bad, 1)
        except TukoFlowError:
            pass
        else:
            raise AssertionError("a batch with a version gap was accepted")
        assert store.version("case-a") == 1

    def test_racing_writers_exactly_one_wins(self) -> None:
        """Two threads appending at the same expected version: exactly one succeeds."""
        store = self.make_store()
        store.append("case-a", self._events("case-a", 1, 1), 0)
        results: list[str] = []
        barrier = threading.Barrier(2)

        def write(tag: str) -> None:
            barrier.wait()
            try:
                store.append("case-a", [_event("case-a", 2, command_id=f"c-{tag}")], 1)
                results.append("won")
            except ConcurrencyError:
                results.append("lost")

        threads = [threading.Thread(target=write, args=(t,)) for t in ("x", "yy")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["lost", "won"]
        assert store.version("case-a") == 2

    def test_case_ids_lists_every_case_once(self) -> None:
        """case_ids lists each stored case once, in the order first stored."""
        store = self.make_store()
        for cid in ("case-b", "case-a"):
            store.append(cid, self._events(cid, 1, 2), 0)
        assert list(store.case_ids()) == ["case-b", "case-a"]

    def test_read_all_is_commit_ordered_and_resumable(self) -> None:
        """read_all gives every event in commit order; a position resumes after it."""
        store = self.make_store()
        a = [*self._events("case-a", 1, 1), *self._events("case-a", 2, 1)]
        b = self._events("case-b", 1, 2)
        store.append("case-a", a[:1], 0)
        store.append("case-b", b, 0)
        store.append("case-a", a[1:], 1)
        stored = list(store.read_all())
        assert [s.event for s in stored] == [a[0], b[0], b[1], a[1]]
        positions = [s.position for s in stored]
        assert positions == sorted(positions)
        assert len(set(positions)) == 4
        rest = list(store.read_all(after=positions[1]))
        assert [s.event for s in rest] == [b[1], a[1]]
        assert [s.event for s in store.read_all(after=positions[0], limit=2)] == [b[0], b[1]]
