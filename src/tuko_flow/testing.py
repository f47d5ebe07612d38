"""Helpers for testing code that embeds tuko_flow — and for testing event-store adapters.

* :class:`EventStoreContract` — the promises every event store keeps, as a test class.
  Subclass it in your test suite, implement :meth:`~EventStoreContract.make_store`, and
  pytest runs every check against your adapter.
* :class:`RecordingSubscriber` — collects the events an engine publishes.
* :func:`sample_intake`, :data:`SAMPLE_NETWORK`, :func:`sample_assessment` and the
  sample actors — made-up, pseudonymous test data (no real person).
* :func:`drive_to` — take a sample case to any TUKO state through the public API.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from ._case import Case
from ._clock import ManualClock
from ._demo import (
    CHILD_PROTECTION,
    NETWORK,
    OFFICER,
    POLICE,
    START,
    VICTIM_SUPPORT,
    sample_assessment,
    sample_intake,
)
from ._engine import Engine
from ._store import EventStore
from ._values import TaskStatus
from .errors import ConcurrencyError, TukoFlowError
from .events import Event, MeetingScheduled
from .stages import _common as states
from .stages.stage1_notice import InformNetwork, NoticeNeed
from .stages.stage2_evaluate import (
    DecideCooperationNeeded,
    DecideNoCooperationNeeded,
    HoldMeeting,
    RecordCommonAssessment,
    ShareInformation,
)
from .stages.stage3_plan import AssignTask, BeginCaseManagement, DistributePlan, DraftPlan
from .stages.stage4_manage import CloseCase, HoldReviewMeeting, RecordTaskProgress

__all__ = [
    "CHILD_PROTECTION",
    "OFFICER",
    "POLICE",
    "SAMPLE_NETWORK",
    "START",
    "VICTIM_SUPPORT",
    "EventStoreContract",
    "RecordingSubscriber",
    "drive_to",
    "sample_assessment",
    "sample_intake",
]

#: A four-member network: probation officer (case leader, ``m-po``), police (``m-pol``),
#: victim support (``m-vs``) and child protection (``m-cp``).
SAMPLE_NETWORK = NETWORK


class RecordingSubscriber:
    """A subscriber that keeps every event it is given, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    @property
    def types(self) -> list[str]:
        """The class names of the recorded events."""
        return [type(e).__name__ for e in self.events]


_ORDER = (
    states.AWAITING_NOTICE,
    states.STAGE1,
    states.STAGE2,
    states.STAGE3,
    states.STAGE4,
    states.CLOSED,
)


def drive_to(
    engine: Engine,
    clock: ManualClock,
    case_id: str,
    state: str,
    *,
    crisis: bool = False,
    always_assume_need: bool = False,
) -> Case:
    """Open a sample case and take it to ``state`` with ordinary, valid commands.

    ``state`` is any TUKO state (``closed_no_need`` too). The clock is advanced as a real
    case would take time. Returns the case in that state.
    """
    all_states = (*_ORDER, states.CLOSED_NO_NEED)
    if state not in all_states:
        raise TukoFlowError(f"drive_to: unknown state {state!r}; known: {', '.join(all_states)}")
    if always_assume_need and state in (states.AWAITING_NOTICE, states.CLOSED_NO_NEED):
        raise TukoFlowError(f"drive_to: an always-assume-need case never rests in {state!r}")
    case = engine.open_case(
        sample_intake(case_id, lives_with_victim=always_assume_need), actor=OFFICER
    )
    if case.state == state:
        return case
    if case.state == states.AWAITING_NOTICE:
        case = engine.execute(case_id, NoticeNeed(what="Partner noticed a need."), actor=POLICE)
    if case.state == state:
        return case
    engine.execute(
        case_id, InformNetwork(meeting_at=clock.now() + timedelta(days=1)), actor=OFFICER
    )
    clock.advance(days=1)
    case = engine.case(case_id)
    if state == states.STAGE2:
        return case
    participants = tuple(m.member_id for m in NETWORK)
    engine.execute(case_id, HoldMeeting(participants=participants), actor=OFFICER)
    for actor in (OFFICER, POLICE, VICTIM_SUPPORT, CHILD_PROTECTION):
        engine.execute(
            case_id,
            ShareInformation(information="Relevant information.", evaluation="An evaluation."),
            actor=actor,
        )
    engine.execute(case_id, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
    if state == states.CLOSED_NO_NEED:
        return engine.execute(
            case_id, DecideNoCooperationNeeded(reason="No further need found."), actor=OFFICER
        )
    case = engine.execute(
        case_id,
        DecideCooperationNeeded(situation="Situation described.", risks=("a described risk",)),
        actor=OFFICER,
    )
    if state == states.STAGE3:
        return case
    engine.execute(
        case_id,
        DraftPlan(
            crisis=crisis,
            communication="Weekly updates by phone.",
            next_meeting_at=clock.now() + timedelta(days=7),
        ),
        actor=OFFICER,
    )
    engine.execute(
        case_id,
        AssignTask(
            task_id="t-1",
            description="Check on the victim's safety.",
            area="victim_safety",
            owner="m-vs",
            due_on=clock.now().date() + timedelta(days=5),
        ),
        actor=OFFICER,
    )
    engine.execute(case_id, DistributePlan(), actor=OFFICER)
    case = engine.execute(case_id, BeginCaseManagement(), actor=OFFICER)
    if state == states.STAGE4:
        return case
    engine.execute(
        case_id, RecordTaskProgress(task_id="t-1", status=TaskStatus.DONE), actor=VICTIM_SUPPORT
    )
    clock.advance(days=7)
    engine.execute(
        case_id,
        HoldReviewMeeting(participants=participants, needs_remain=False, risks_reduced=True),
        actor=OFFICER,
    )
    return engine.execute(
        case_id, CloseCase(summary="Risks reduced; no needs remain."), actor=OFFICER
    )


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
