"""Engine.check_deadlines: overdue plan tasks and missed meetings, as of the manual clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from tuko_flow import (
    SYSTEM_ACTOR,
    CloseCase,
    DecideNoCooperationNeeded,
    Engine,
    HoldMeeting,
    HoldReviewMeeting,
    InMemoryEventStore,
    ManualClock,
    RecordCommonAssessment,
    RecordTaskProgress,
    ScheduleMeeting,
    ShareInformation,
    TaskStatus,
    TukoConfig,
)
from tuko_flow.events import MeetingMissed, TaskOverdue
from tuko_flow.testing import (
    OFFICER,
    POLICE,
    VICTIM_SUPPORT,
    RecordingSubscriber,
    drive_to,
    sample_assessment,
)

CASE = "case-dl"
EVERYONE = ("m-po", "m-pol", "m-vs", "m-cp")


def at_stage4(engine: Engine, clock: ManualClock, case_id: str = CASE) -> tuple[date, datetime]:
    """The sample case in Stage 4; returns task t-1's due date and the agreed next meeting."""
    case = drive_to(engine, clock, case_id, "stage4_manage")
    assert case.cycle.plan is not None
    assert case.next_meeting_at is not None
    return case.cycle.plan.tasks[0].due_on, case.next_meeting_at


def day_after(clock: ManualClock, due_on: date) -> None:
    """Move the clock to midnight at the start of the day after ``due_on``."""
    clock.set(datetime.combine(due_on + timedelta(days=1), time(0, 0), tzinfo=clock.now().tzinfo))


def test_nothing_is_reported_when_nothing_is_late(engine: Engine, clock: ManualClock) -> None:
    """A case with tasks not yet due and a meeting still ahead has no deadline events."""
    at_stage4(engine, clock)
    version = engine.case(CASE).version
    assert engine.check_deadlines(CASE) == ()
    assert engine.check_deadlines() == ()
    assert engine.case(CASE).version == version


def test_task_is_not_overdue_on_its_due_date(engine: Engine, clock: ManualClock) -> None:
    """A task may still be done on the day it is due."""
    due_on, _ = at_stage4(engine, clock)
    clock.set(datetime.combine(due_on, time(23, 0), tzinfo=clock.now().tzinfo))
    assert engine.check_deadlines(CASE) == ()


def test_overdue_task_is_reported_once(engine: Engine, clock: ManualClock) -> None:
    """A task past its due date and not done gives one TaskOverdue; a second check adds nothing."""
    due_on, _ = at_stage4(engine, clock)
    day_after(clock, due_on)
    (event,) = engine.check_deadlines(CASE)
    assert isinstance(event, TaskOverdue)
    assert (event.task_id, event.due_on) == ("t-1", due_on)
    assert event.actor == SYSTEM_ACTOR
    assert event.occurred_at == clock.now()
    clock.advance(hours=6)
    assert engine.check_deadlines(CASE) == ()
    case = engine.case(CASE)
    assert [t for t, _ in case.cycle.overdue_tasks] == ["t-1"]
    assert case.state == "stage4_manage"


def test_done_task_is_never_overdue(engine: Engine, clock: ManualClock) -> None:
    """A task recorded as done before its due date is not reported later."""
    due_on, _ = at_stage4(engine, clock)
    engine.execute(
        CASE, RecordTaskProgress(task_id="t-1", status=TaskStatus.DONE), actor=VICTIM_SUPPORT
    )
    day_after(clock, due_on)
    assert engine.check_deadlines(CASE) == ()


def test_task_in_progress_is_still_overdue(engine: Engine, clock: ManualClock) -> None:
    """Only 'done' stops a task from becoming overdue."""
    due_on, _ = at_stage4(engine, clock)
    engine.execute(
        CASE,
        RecordTaskProgress(task_id="t-1", status=TaskStatus.IN_PROGRESS),
        actor=VICTIM_SUPPORT,
    )
    day_after(clock, due_on)
    assert [type(e).__name__ for e in engine.check_deadlines(CASE)] == ["TaskOverdue"]


def test_meeting_is_missed_only_after_the_grace_period(engine: Engine, clock: ManualClock) -> None:
    """With the default grace of one day, a meeting is missed once a day has passed unheld."""
    _, meeting_at = at_stage4(engine, clock)
    engine.execute(
        CASE, RecordTaskProgress(task_id="t-1", status=TaskStatus.DONE), actor=VICTIM_SUPPORT
    )
    clock.set(meeting_at + timedelta(days=1))
    assert engine.check_deadlines(CASE) == ()
    clock.advance(minutes=1)
    (event,) = engine.check_deadlines(CASE)
    assert isinstance(event, MeetingMissed)
    assert event.meeting_at == meeting_at
    assert event.actor == SYSTEM_ACTOR
    assert engine.check_deadlines(CASE) == ()
    assert engine.case(CASE).missed_meetings == (meeting_at,)


@pytest.mark.parametrize("grace_hours", [0, 2, 48])
def test_missed_meeting_grace_is_configurable(clock: ManualClock, grace_hours: int) -> None:
    """TukoConfig(missed_meeting_grace=...) sets when an unheld meeting counts as missed."""
    config = TukoConfig(missed_meeting_grace=timedelta(hours=grace_hours))
    engine = Engine(InMemoryEventStore(), clock=clock, config=config)
    _, meeting_at = at_stage4(engine, clock)
    engine.execute(
        CASE, RecordTaskProgress(task_id="t-1", status=TaskStatus.DONE), actor=VICTIM_SUPPORT
    )
    clock.set(meeting_at + timedelta(hours=grace_hours))
    assert engine.check_deadlines(CASE) == ()
    clock.advance(minutes=1)
    assert [type(e).__name__ for e in engine.check_deadlines(CASE)] == ["MeetingMissed"]


def test_stage2_meeting_agreed_when_informing_can_be_missed(
    engine: Engine, clock: ManualClock
) -> None:
    """The meeting agreed when the network was informed is watched too."""
    case = drive_to(engine, clock, CASE, "stage2_evaluate")
    assert case.next_meeting_at is not None
    clock.set(case.next_meeting_at + timedelta(days=2))
    events = engine.check_deadlines(CASE)
    assert [type(e).__name__ for e in events] == ["MeetingMissed"]


def test_meeting_held_in_time_is_not_missed(engine: Engine, clock: ManualClock) -> None:
    """A review meeting held on time clears the agreed meeting."""
    _, meeting_at = at_stage4(engine, clock)
    clock.set(meeting_at)
    engine.execute(
        CASE,
        HoldReviewMeeting(participants=EVERYONE, needs_remain=True, risks_reduced=False),
        actor=OFFICER,
    )
    clock.advance(days=5)
    assert [type(e).__name__ for e in engine.check_deadlines(CASE)] == ["TaskOverdue"]


def test_closed_case_reports_nothing(engine: Engine, clock: ManualClock) -> None:
    """A case closed with a task never done is not checked any more."""
    due_on, _ = at_stage4(engine, clock)
    engine.execute(
        CASE,
        HoldReviewMeeting(participants=EVERYONE, needs_remain=False, risks_reduced=True),
        actor=OFFICER,
    )
    engine.execute(CASE, CloseCase(summary="Risks reduced."), actor=OFFICER)
    day_after(clock, due_on)
    clock.advance(weeks=4)
    assert engine.check_deadlines(CASE) == ()
    assert engine.check_deadlines() == ()


def test_case_closed_as_no_need_reports_nothing(engine: Engine, clock: ManualClock) -> None:
    """A meeting agreed before a 'no need' decision is dropped, and never reported missed."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    engine.execute(CASE, HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    for actor in (OFFICER, POLICE):
        engine.execute(CASE, ShareInformation(information="Info.", evaluation="Eval."), actor=actor)
    engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
    engine.execute(CASE, ScheduleMeeting(meeting_at=clock.now() + timedelta(days=3)), actor=OFFICER)
    case = engine.execute(CASE, DecideNoCooperationNeeded(reason="No further need."), actor=OFFICER)
    assert case.state == "closed_no_need"
    assert case.next_meeting_at is None
    clock.advance(weeks=2)
    assert engine.check_deadlines(CASE) == ()


def test_deadline_events_are_stored_and_published(
    engine: Engine, clock: ManualClock, recorder: RecordingSubscriber
) -> None:
    """What check_deadlines returns is appended to the history and told to subscribers."""
    _, meeting_at = at_stage4(engine, clock)
    before = engine.case(CASE).version
    recorder.events.clear()
    clock.set(meeting_at + timedelta(days=2))
    events = engine.check_deadlines(CASE)
    assert [type(e).__name__ for e in events] == ["TaskOverdue", "MeetingMissed"]
    assert engine.history(CASE)[before:] == events
    assert recorder.events == list(events)
    assert [e.version for e in events] == [before + 1, before + 2]
    assert len({e.command_id for e in events}) == 1


def test_check_without_case_id_checks_every_open_case(engine: Engine, clock: ManualClock) -> None:
    """Without a case id every case in the store is checked."""
    drive_to(engine, clock, "case-dl-c", "closed")
    due_a, meeting_a = at_stage4(engine, clock, "case-dl-a")
    due_b, _ = at_stage4(engine, clock, "case-dl-b")
    day_after(clock, max(due_a, due_b))
    assert clock.now() < meeting_a + timedelta(days=1)
    events = engine.check_deadlines()
    assert sorted((e.case_id, type(e).__name__) for e in events) == [
        ("case-dl-a", "TaskOverdue"),
        ("case-dl-b", "TaskOverdue"),
    ]
    assert engine.check_deadlines() == ()
