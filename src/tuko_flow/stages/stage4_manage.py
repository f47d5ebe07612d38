"""TUKO Stage 4 — coordinated case management.

Seed 000: "In the fourth stage a coordinated execution of the plan takes place. Partners
communicate with each other to keep each other informed. Possible outcomes of the stage:
New meeting to assess the situation and to make adaptions to the plan. If there are no
needs and risks have been reduced, the probation officer documents the situation in
written form and lets partners know that TUKO process has been finished. If risks and
need reemerge, a process will be started again."
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
    Information,
    TaskStatus,
    _classification,
    _str_tuple,
    _task_status,
)
from ..events import (
    CaseClosed,
    Event,
    MeetingHeld,
    PartnerCommunicationRecorded,
    SituationReassessed,
    TaskProgressRecorded,
)
from ._common import CLOSED, STAGE3, STAGE4, members
from .stage2_evaluate import check_meeting

STATES = (
    StateSpec(
        name=STAGE4,
        stage=4,
        description="Stage 4 - coordinated case management: the plan is carried out, "
        "partners keep each other informed, review meetings adapt the plan.",
    ),
    StateSpec(
        name=CLOSED,
        closed=True,
        description="TUKO process finished: no needs remain and risks were reduced; if risks "
        "and need re-emerge the process starts again in a new cycle.",
    ),
)


@attrs.frozen(kw_only=True)
class RecordTaskProgress(Command):
    """The task's owner or the case leader records progress on a plan task."""

    name = "record_task_progress"

    task_id: str
    status: TaskStatus = attrs.field(converter=_task_status)
    note: str = ""


@attrs.frozen(kw_only=True)
class RecordPartnerCommunication(Command):
    """A partner records informing other partners between meetings."""

    name = "record_partner_communication"

    to_members: tuple[str, ...] = attrs.field(converter=_str_tuple)
    information: str
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )


@attrs.frozen(kw_only=True)
class HoldReviewMeeting(Command):
    """A new meeting reassesses the situation: do needs remain, were risks reduced?"""

    name = "hold_review_meeting"

    participants: tuple[str, ...] = attrs.field(converter=_str_tuple)
    needs_remain: bool
    risks_reduced: bool
    held_at: datetime | None = None


@attrs.frozen(kw_only=True)
class CloseCase(Command):
    """The case leader documents the situation in writing and lets every partner know."""

    name = "close_case"

    summary: str


def _record_progress(f: Firing) -> None:
    cmd = cast(RecordTaskProgress, f.command)
    p = f.problems()
    plan = f.case.cycle.plan
    task = plan.task(cmd.task_id) if plan is not None else None
    if task is None:
        ids = ", ".join(t.task_id for t in plan.tasks) if plan is not None else "none"
        p.add("task_id", f"{cmd.task_id!r} is not a task of the current plan", ids)
    progress = "in_progress, blocked, done"
    if not isinstance(cmd.status, TaskStatus):
        p.add("status", f"{cmd.status!r} is not a task status", progress)
    elif cmd.status == TaskStatus.ASSIGNED:
        p.add("status", "'assigned' is not progress", progress)
    if not isinstance(cmd.note, str):
        p.add("note", f"{cmd.note!r} is not text", "text")
    member = f.case.member_for(f.actor)
    if (
        task is not None
        and member is not None
        and not (member.member_id == task.owner or member.case_leader)
    ):
        p.add(
            "actor",
            f"{member.member_id!r} neither owns task {task.task_id!r} nor leads the case",
            f"{task.owner!r} or the case leader",
        )
    f.reject(p)
    f.emit(TaskProgressRecorded, task_id=cmd.task_id, status=cmd.status, note=cmd.note)


def _record_communication(f: Firing) -> None:
    cmd = cast(RecordPartnerCommunication, f.command)
    p = f.problems()
    members(p, "to_members", cmd.to_members, f.case, required=True)
    p.text("information", cmd.information)
    p.member("classification", cmd.classification, Classification)
    sender = f.case.member_for(f.actor)
    assert sender is not None  # guaranteed by the actor_in_network rule
    if sender.member_id in cmd.to_members:
        p.add("to_members", "includes the sender", "other network members")
    if cmd.classification == Classification.VICTIM_CONFIDENTIAL:
        clients = [
            m
            for m in cmd.to_members
            if (x := f.case.member(m)) is not None and x.agency == f.config.client_agency
        ]
        if clients:
            p.add(
                "to_members",
                "victim-confidential information must never reach the client "
                f"({', '.join(clients)})",
                "partners other than the client",
            )
    f.reject(p)
    f.emit(
        PartnerCommunicationRecorded,
        from_member=sender.member_id,
        to_members=cmd.to_members,
        information=Information(
            text=cmd.information, source_agency=f.actor.agency, classification=cmd.classification
        ),
    )


def _hold_review(f: Firing) -> None:
    cmd = cast(HoldReviewMeeting, f.command)
    p = f.problems()
    for field in ("needs_remain", "risks_reduced"):
        if not isinstance(getattr(cmd, field), bool):
            p.add(field, f"{getattr(cmd, field)!r} is not a bool", "True or False")
    f.reject(p)
    when = check_meeting(f, cmd.participants, cmd.held_at)
    f.emit(MeetingHeld, purpose="review", held_at=when, participants=cmd.participants)
    f.emit(SituationReassessed, needs_remain=cmd.needs_remain, risks_reduced=cmd.risks_reduced)


def _close_case(f: Firing) -> None:
    cmd = cast(CloseCase, f.command)
    p = f.problems()
    p.text("summary", cmd.summary)
    f.reject(p)
    f.emit(
        CaseClosed,
        summary=Information(
            text=cmd.summary, source_agency=f.actor.agency, classification=Classification.NETWORK
        ),
        informed=tuple(m.member_id for m in f.case.network if not m.case_leader),
    )


TRANSITIONS = (
    TransitionSpec(
        trigger=RecordTaskProgress.name,
        source=(STAGE4,),
        dest=None,
        rules=("actor_in_network",),
        handler=_record_progress,
        emits=(TaskProgressRecorded,),
        command=RecordTaskProgress,
        description="Progress on a plan task is recorded.",
    ),
    TransitionSpec(
        trigger=RecordPartnerCommunication.name,
        source=(STAGE3, STAGE4),
        dest=None,
        rules=("actor_in_network",),
        handler=_record_communication,
        emits=(PartnerCommunicationRecorded,),
        command=RecordPartnerCommunication,
        description="Partners keep each other informed.",
    ),
    TransitionSpec(
        trigger=HoldReviewMeeting.name,
        source=(STAGE4,),
        dest=None,
        rules=("actor_is_case_leader",),
        handler=_hold_review,
        emits=(MeetingHeld, SituationReassessed),
        command=HoldReviewMeeting,
        description="A new meeting reassesses the situation.",
    ),
    TransitionSpec(
        trigger=CloseCase.name,
        source=(STAGE4,),
        dest=CLOSED,
        rules=("actor_is_case_leader", "situation_reassessed", "no_needs_remain", "risks_reduced"),
        handler=_close_case,
        emits=(CaseClosed,),
        command=CloseCase,
        description="No needs remain and risks were reduced: the TUKO process is finished.",
    ),
)


def _progress(d: CaseDraft, e: TaskProgressRecorded) -> None:
    d.set_cycle(progress=(*d.cycle("progress"), e))


def _communicated(d: CaseDraft, e: PartnerCommunicationRecorded) -> None:
    d.set_cycle(communications=(*d.cycle("communications"), e))


def _reassessed(d: CaseDraft, e: SituationReassessed) -> None:
    d.set_cycle(reassessments=(*d.cycle("reassessments"), e))


def _closed(d: CaseDraft, e: CaseClosed) -> None:
    """The TUKO process is finished: no meeting is expected any more."""
    d.set_cycle(closure=e)
    d.set(next_meeting_at=None)


APPLIERS: dict[type[Event], Applier] = {
    TaskProgressRecorded: _progress,
    PartnerCommunicationRecorded: _communicated,
    SituationReassessed: _reassessed,
    CaseClosed: _closed,
}
