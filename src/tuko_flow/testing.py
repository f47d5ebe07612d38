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
from datetime import timedelta

from ._case import Case
from ._clock import ManualClock
from ._contract import EventStoreContract
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
from ._values import TaskStatus
from .errors import TukoFlowError
from .events import Event
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
