"""TUKO Stage 2 — share information and evaluate.

Seed 000: "Meeting is lead by probation officer. Every participant shares relevant
information and gives their evaluation about risks, needs and ways to work further.
Common assessment is made [six questions]. If the network find that there is a need for
interagency cooperation the situation and its risks are described, and the cooperation
moves to the next stage. If there is no need for further coordinated action, the case is
closed until someone brings up the need again."
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import attrs

from .._case import Applier, CaseDraft
from .._machine import Firing
from .._protocol import Command, StateSpec, TransitionSpec
from .._values import (
    Classification,
    CommonAssessment,
    Information,
    _classification,
    _str_tuple,
)
from ..events import (
    CommonAssessmentRecorded,
    CooperationNeedDecided,
    Event,
    InformationShared,
    MeetingHeld,
    MeetingScheduled,
    NoCooperationNeedDecided,
)
from ._common import CLOSED_NO_NEED, STAGE2, STAGE3, STAGE4, in_future, members, not_in_future

STATES = (
    StateSpec(
        name=STAGE2,
        stage=2,
        description="Stage 2 - share information and evaluate: the network meets, shares "
        "information and makes the common assessment.",
    ),
    StateSpec(
        name=CLOSED_NO_NEED,
        closed=True,
        description="Closed at Stage 2: no need for further coordinated action, until "
        "someone brings up the need again.",
    ),
)

_DECIDING_RULES = (
    "actor_is_case_leader",
    "evaluation_meeting_held",
    "every_participant_heard",
    "common_assessment_complete",
)


@attrs.frozen(kw_only=True)
class ScheduleMeeting(Command):
    """The case leader agrees the time of the next network meeting."""

    name = "schedule_meeting"

    meeting_at: datetime


@attrs.frozen(kw_only=True)
class HoldMeeting(Command):
    """The case leader records the Stage 2 meeting and who took part."""

    name = "hold_meeting"

    participants: tuple[str, ...] = attrs.field(converter=_str_tuple)
    held_at: datetime | None = None


@attrs.frozen(kw_only=True)
class ShareInformation(Command):
    """A participant shares relevant information and gives an evaluation of risks and needs."""

    name = "share_information"

    information: str
    evaluation: str
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )


@attrs.frozen(kw_only=True)
class RecordCommonAssessment(Command):
    """The case leader records the network's common assessment (all six answers)."""

    name = "record_common_assessment"

    assessment: CommonAssessment


@attrs.frozen(kw_only=True)
class DecideCooperationNeeded(Command):
    """The network finds a need for cooperation: the situation and its risks are described."""

    name = "decide_cooperation_needed"

    situation: str
    risks: tuple[str, ...] = attrs.field(converter=_str_tuple)
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )


@attrs.frozen(kw_only=True)
class DecideNoCooperationNeeded(Command):
    """The network finds no need for further coordinated action; the case closes."""

    name = "decide_no_cooperation_needed"

    reason: str


def check_meeting(f: Firing, participants: tuple[str, ...], held_at: datetime | None) -> datetime:
    """Validate a meeting's participants (led by the case leader) and time; return the time."""
    p = f.problems()
    members(p, "participants", participants, f.case, required=True)
    leader = f.case.case_leader.member_id
    if participants and leader not in participants:
        p.add("participants", "the case leader is not among them", f"a list including {leader!r}")
    when = held_at if held_at is not None else f.now
    not_in_future(p, "held_at", when, f.now)
    f.reject(p)
    return when


def _schedule_meeting(f: Firing) -> None:
    cmd = cast(ScheduleMeeting, f.command)
    p = f.problems()
    in_future(p, "meeting_at", cmd.meeting_at, f.now)
    f.reject(p)
    f.emit(MeetingScheduled, meeting_at=cmd.meeting_at)


def _hold_meeting(f: Firing) -> None:
    cmd = cast(HoldMeeting, f.command)
    when = check_meeting(f, cmd.participants, cmd.held_at)
    f.emit(MeetingHeld, purpose="evaluation", held_at=when, participants=cmd.participants)


def _share_information(f: Firing) -> None:
    cmd = cast(ShareInformation, f.command)
    p = f.problems()
    p.text("information", cmd.information)
    p.text("evaluation", cmd.evaluation)
    p.member("classification", cmd.classification, Classification)
    if cmd.classification == Classification.VICTIM_CONFIDENTIAL:
        # what is said at the meeting is heard by everyone there, the client's side too
        client_side = [
            pid
            for m in f.case.cycle.meetings
            for pid in m.participants
            if (x := f.case.member(pid)) is not None and x.agency == f.config.client_agency
        ]
        if client_side:
            p.add(
                "classification",
                "victim-confidential information cannot be shared at a meeting the client "
                f"attends ({', '.join(sorted(set(client_side)))} took part)",
                "need_to_know or network here; victim-confidential information goes to the "
                "partners outside the meeting (record_partner_communication)",
            )
    f.reject(p)
    member = f.case.member_for(f.actor)
    assert member is not None  # guaranteed by the actor_in_network rule
    agency = f.actor.agency
    f.emit(
        InformationShared,
        member_id=member.member_id,
        information=Information(
            text=cmd.information, source_agency=agency, classification=cmd.classification
        ),
        evaluation=Information(
            text=cmd.evaluation, source_agency=agency, classification=cmd.classification
        ),
    )


def _record_assessment(f: Firing) -> None:
    cmd = cast(RecordCommonAssessment, f.command)
    if not isinstance(cmd.assessment, CommonAssessment):
        p = f.problems()
        p.add("assessment", f"{cmd.assessment!r} is not a CommonAssessment", "CommonAssessment")
        f.reject(p)
    f.emit(CommonAssessmentRecorded, assessment=cmd.assessment)


def _decide_needed(f: Firing) -> None:
    cmd = cast(DecideCooperationNeeded, f.command)
    p = f.problems()
    p.text("situation", cmd.situation)
    if p.sequence("risks", cmd.risks, "described risks"):
        if not cmd.risks:
            p.add("risks", "is empty", "one or more described risks")
        for i, risk in enumerate(cmd.risks):
            p.text(f"risks[{i}]", risk, max_len=2_000)
    p.member("classification", cmd.classification, Classification)
    f.reject(p)
    f.emit(
        CooperationNeedDecided,
        situation=Information(
            text=cmd.situation, source_agency=f.actor.agency, classification=cmd.classification
        ),
        risks=cmd.risks,
    )


def _decide_not_needed(f: Firing) -> None:
    cmd = cast(DecideNoCooperationNeeded, f.command)
    p = f.problems()
    p.text("reason", cmd.reason)
    f.reject(p)
    f.emit(
        NoCooperationNeedDecided,
        reason=Information(text=cmd.reason, source_agency=f.actor.agency),
    )


TRANSITIONS = (
    TransitionSpec(
        trigger=ScheduleMeeting.name,
        source=(STAGE2, STAGE3, STAGE4),
        dest=None,
        rules=("actor_is_case_leader",),
        handler=_schedule_meeting,
        emits=(MeetingScheduled,),
        command=ScheduleMeeting,
        description="The case leader agrees the time of the next meeting.",
    ),
    TransitionSpec(
        trigger=HoldMeeting.name,
        source=(STAGE2,),
        dest=None,
        rules=("actor_is_case_leader",),
        handler=_hold_meeting,
        emits=(MeetingHeld,),
        command=HoldMeeting,
        description="The Stage 2 meeting, led by the case leader, takes place.",
    ),
    TransitionSpec(
        trigger=ShareInformation.name,
        source=(STAGE2,),
        dest=None,
        rules=("actor_in_network", "evaluation_meeting_held"),
        handler=_share_information,
        emits=(InformationShared,),
        command=ShareInformation,
        description="A participant shares information and an evaluation.",
    ),
    TransitionSpec(
        trigger=RecordCommonAssessment.name,
        source=(STAGE2,),
        dest=None,
        rules=("actor_is_case_leader", "evaluation_meeting_held"),
        handler=_record_assessment,
        emits=(CommonAssessmentRecorded,),
        command=RecordCommonAssessment,
        description="The common assessment answers the six questions.",
    ),
    TransitionSpec(
        trigger=DecideCooperationNeeded.name,
        source=(STAGE2,),
        dest=STAGE3,
        rules=_DECIDING_RULES,
        handler=_decide_needed,
        emits=(CooperationNeedDecided,),
        command=DecideCooperationNeeded,
        description="Need for cooperation found: Stage 3 begins.",
    ),
    TransitionSpec(
        trigger=DecideNoCooperationNeeded.name,
        source=(STAGE2,),
        dest=CLOSED_NO_NEED,
        rules=(*_DECIDING_RULES, "need_not_always_assumed"),
        handler=_decide_not_needed,
        emits=(NoCooperationNeedDecided,),
        command=DecideNoCooperationNeeded,
        description="No need for coordinated action: closed until the need is raised again.",
    ),
)


def _shared(d: CaseDraft, e: InformationShared) -> None:
    d.set_cycle(shared=(*d.cycle("shared"), e))


def _assessed(d: CaseDraft, e: CommonAssessmentRecorded) -> None:
    d.set_cycle(assessment=e.assessment)


def _decided(d: CaseDraft, e: CooperationNeedDecided) -> None:
    d.set_cycle(decision=e)


def _closed_no_need(d: CaseDraft, e: NoCooperationNeedDecided) -> None:
    """The case rests: no meeting is expected any more."""
    d.set_cycle(decision=e)
    d.set(next_meeting_at=None)


APPLIERS: dict[type[Event], Applier] = {
    InformationShared: _shared,
    CommonAssessmentRecorded: _assessed,
    CooperationNeedDecided: _decided,
    NoCooperationNeedDecided: _closed_no_need,
}
