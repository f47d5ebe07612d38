"""TUKO Stage 3 — make a plan.

Seed 000: "In the third stage a written agreement on the further action will be made in
the form of the risk reduction plan. Network members take responsibility in the form of
tasks that corresponds to their area of competence and authority. In the crisis situation
the timeframe is in days, in other cases in weeks. The time of the next meeting and in
between communication is agreed. The plan is sent to all participants after the meeting
to support responsibility and action."
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

import attrs

from .._case import Applier, CaseDraft, RiskReductionPlan, replace_plan
from .._machine import Firing
from .._protocol import Command, StateSpec, TransitionSpec
from .._values import FieldProblem, PlanTask
from ..errors import ValidationError
from ..events import Event, MeetingScheduled, PlanDistributed, PlanDrafted, TaskAssigned
from ._common import STAGE3, STAGE4, in_future

STATES = (
    StateSpec(
        name=STAGE3,
        stage=3,
        description="Stage 3 - make a plan: a written risk-reduction plan with tasks, the "
        "next meeting and in-between communication agreed, sent to all participants.",
    ),
)


@attrs.frozen(kw_only=True)
class DraftPlan(Command):
    """The case leader starts the written risk-reduction plan.

    ``crisis`` sets the timeframe (days in a crisis, otherwise weeks); ``communication``
    is the agreed in-between communication; ``next_meeting_at`` the agreed next meeting.
    """

    name = "draft_plan"

    crisis: bool
    communication: str
    next_meeting_at: datetime


@attrs.frozen(kw_only=True)
class AssignTask(Command):
    """A network member takes responsibility for a task in their area of competence."""

    name = "assign_task"

    task_id: str
    description: str
    area: str
    owner: str
    due_on: date


@attrs.frozen(kw_only=True)
class DistributePlan(Command):
    """The case leader sends the current plan to every participant."""

    name = "distribute_plan"


@attrs.frozen(kw_only=True)
class BeginCaseManagement(Command):
    """Stage 4 begins: coordinated execution of the distributed plan."""

    name = "begin_case_management"


def _draft_plan(f: Firing) -> None:
    cmd = cast(DraftPlan, f.command)
    p = f.problems()
    if not isinstance(cmd.crisis, bool):
        p.add("crisis", f"{cmd.crisis!r} is not a bool", "True or False")
    p.text("communication", cmd.communication)
    in_future(p, "next_meeting_at", cmd.next_meeting_at, f.now)
    if isinstance(cmd.crisis, bool) and not p.items:
        latest = f.now + f.config.timeframes.limit(crisis=cmd.crisis)
        if cmd.next_meeting_at > latest:
            p.add(
                "next_meeting_at",
                f"{cmd.next_meeting_at.isoformat()} is beyond the plan's timeframe of "
                f"{f.config.timeframes.describe(crisis=cmd.crisis)}",
                f"by {latest.isoformat()}",
            )
    f.reject(p)
    f.emit(PlanDrafted, crisis=cmd.crisis, communication=cmd.communication)
    f.emit(MeetingScheduled, meeting_at=cmd.next_meeting_at)


#: Plan tasks taken from a MARAC action plan have ids with this prefix; the copy of the plan
#: for the client's side leaves them out (``PlanDistributed.withheld``).
MARAC_TASK_PREFIX = "marac:"


def task_problems(
    f: Firing,
    plan: RiskReductionPlan,
    *,
    task_id: str,
    description: str,
    area: str,
    owner: str,
    due_on: date,
    prefix: str = "",
) -> list[FieldProblem]:
    """Every problem with a task for ``plan``: its shape, then the checks against the case
    (a new id, an owner in the network with competence for the area, a due date within the
    plan's timeframe). ``prefix`` is put before each field name."""
    p = f.problems()
    try:
        PlanTask(task_id=task_id, description=description, area=area, owner=owner, due_on=due_on)
    except ValidationError as exc:
        p.items.extend(exc.problems)
    bad = {problem.field for problem in p.items}
    if "task_id" not in bad and plan.task(task_id) is not None:
        p.add("task_id", f"{task_id!r} is already in the plan", "a new task id")
    member = f.case.member(owner) if "owner" not in bad else None
    if member is None and "owner" not in bad:
        p.add("owner", f"{owner!r} is not in the case's network", ", ".join(f.case.member_ids))
    competent = f.config.competence.agencies_for(area) if "area" not in bad else None
    if competent is None and "area" not in bad:
        p.add("area", f"{area!r} is not a task area", ", ".join(f.config.competence.areas))
    elif competent is not None and member is not None and member.agency not in competent:
        able = [m.member_id for m in f.case.network if m.agency in competent]
        p.add(
            "owner",
            f"{owner!r} ({member.agency}) has no competence for {area!r}",
            f"members of {', '.join(competent)}: {', '.join(able) or 'none in this network'}",
        )
    if "due_on" not in bad:
        today = f.now.date()
        latest = (f.now + f.config.timeframes.limit(crisis=plan.crisis)).date()
        if due_on < today:
            p.add("due_on", f"{due_on.isoformat()} is in the past", f"{today} to {latest}")
        elif due_on > latest:
            p.add(
                "due_on",
                f"{due_on.isoformat()} is beyond the plan's timeframe of "
                f"{f.config.timeframes.describe(crisis=plan.crisis)}",
                f"{today} to {latest}",
            )
    return [FieldProblem(prefix + x.field, x.problem, x.allowed) for x in p.items]


def _assign_task(f: Firing) -> None:
    cmd = cast(AssignTask, f.command)
    plan = f.case.cycle.plan
    assert plan is not None  # guaranteed by the plan_drafted rule
    # The task's own shape first, then every check against the case: all problems at once.
    f.reject(
        task_problems(
            f,
            plan,
            task_id=cmd.task_id,
            description=cmd.description,
            area=cmd.area,
            owner=cmd.owner,
            due_on=cmd.due_on,
        )
    )
    task = PlanTask(
        task_id=cmd.task_id,
        description=cmd.description,
        area=cmd.area,
        owner=cmd.owner,
        due_on=cmd.due_on,
    )
    f.emit(TaskAssigned, task=task, revision=plan.revision + 1)


def _distribute_plan(f: Firing) -> None:
    plan = f.case.cycle.plan
    assert plan is not None  # guaranteed by the plan_drafted rule
    client_side = any(m.agency == f.config.client_agency for m in f.case.network)
    withheld = (
        tuple(t.task_id for t in plan.tasks if t.task_id.startswith(MARAC_TASK_PREFIX))
        if client_side
        else ()
    )
    f.emit(PlanDistributed, revision=plan.revision, recipients=f.case.member_ids, withheld=withheld)


def _begin_case_management(f: Firing) -> None:
    """Nothing to record beyond the stage change itself."""


TRANSITIONS = (
    TransitionSpec(
        trigger=DraftPlan.name,
        source=(STAGE3,),
        dest=None,
        rules=("actor_is_case_leader", "no_plan_yet"),
        handler=_draft_plan,
        emits=(PlanDrafted, MeetingScheduled),
        command=DraftPlan,
        description="The written risk-reduction plan is started.",
    ),
    TransitionSpec(
        trigger=AssignTask.name,
        source=(STAGE3, STAGE4),
        dest=None,
        rules=("actor_is_case_leader", "plan_drafted"),
        handler=_assign_task,
        emits=(TaskAssigned,),
        command=AssignTask,
        description="A network member takes responsibility for a task.",
    ),
    TransitionSpec(
        trigger=DistributePlan.name,
        source=(STAGE3, STAGE4),
        dest=None,
        rules=("actor_is_case_leader", "plan_drafted", "plan_has_tasks", "next_meeting_agreed"),
        handler=_distribute_plan,
        emits=(PlanDistributed,),
        command=DistributePlan,
        description="The plan is sent to all participants.",
    ),
    TransitionSpec(
        trigger=BeginCaseManagement.name,
        source=(STAGE3,),
        dest=STAGE4,
        rules=("actor_is_case_leader", "plan_sent_to_all_participants"),
        handler=_begin_case_management,
        command=BeginCaseManagement,
        description="Coordinated case management begins once the plan is sent.",
    ),
)


def _drafted(d: CaseDraft, e: PlanDrafted) -> None:
    plan = RiskReductionPlan(
        crisis=e.crisis, communication=e.communication, drafted_at=e.occurred_at
    )
    d.set_cycle(plan=plan)


def _assigned(d: CaseDraft, e: TaskAssigned) -> None:
    plan: RiskReductionPlan = d.cycle("plan")
    d.set_cycle(plan=replace_plan(plan, tasks=(*plan.tasks, e.task), revision=e.revision))


def _distributed(d: CaseDraft, e: PlanDistributed) -> None:
    plan: RiskReductionPlan = d.cycle("plan")
    d.set_cycle(
        plan=replace_plan(plan, distributed_revision=e.revision, distributed_to=e.recipients)
    )


APPLIERS: dict[type[Event], Applier] = {
    PlanDrafted: _drafted,
    TaskAssigned: _assigned,
    PlanDistributed: _distributed,
}
