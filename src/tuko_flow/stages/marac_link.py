"""TUKO and MARAC linked: a TUKO case takes its MARAC case's actions into the plan.

Issue 3 ("Linked to TUKO"): a TUKO case can raise a MARAC referral (its Stage 2 common
assessment or a DASH finds high risk: :class:`~tuko_flow.OpenMaracCase` with
``tuko_case_id``); MARAC outcomes are visible to the TUKO network
(:attr:`tuko_flow.Case.marac_outcomes`); and MARAC actions owned by network agencies
appear in the risk-reduction plan — the case leader takes them in with
:class:`TakeMaracActions`, each as a plan task owned by a network member of the agency
that owns the action, checked like any task (competence, timeframe).

Seed 000, Stage 3: "Network members take responsibility in the form of tasks that
corresponds to their area of competence and authority."
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import attrs

from .._machine import Firing
from .._marac_values import ActionLeftOut
from .._protocol import Command, TransitionSpec
from .._values import FieldProblem, PlanTask
from ..events import MaracActionsTaken, TaskAssigned
from ._common import STAGE3, STAGE4
from .stage3_plan import MARAC_TASK_PREFIX, task_problems


def _owners(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


@attrs.frozen(kw_only=True)
class TakeMaracActions(Command):
    """Take the actions of a linked MARAC case into the risk-reduction plan.

    Each action whose agency is in the network becomes a plan task ``marac:<action id>``
    owned by that agency's member (left out of the plan's copy for the client's side, see
    :class:`~tuko_flow.events.PlanDistributed`); ``owners`` (action id -> member id)
    chooses the member where the agency has several. Actions of agencies outside the
    network, and actions already taken or reviewed to an outcome, are left out (and
    recorded as such).
    """

    name = "take_marac_actions"

    marac_case_id: str
    owners: dict[str, str] = attrs.field(factory=dict, converter=_owners)


def _take_marac_actions(f: Firing) -> None:
    cmd = cast(TakeMaracActions, f.command)
    case = f.case
    plan = case.cycle.plan
    assert plan is not None  # guaranteed by the plan_drafted rule
    p = f.problems()
    p.ref("marac_case_id", cmd.marac_case_id)
    if not isinstance(cmd.owners, dict):
        p.add("owners", f"{cmd.owners!r} is not a mapping", "action id -> network member id")
    f.reject(p)
    outcome = case.marac_outcome(cmd.marac_case_id)
    if outcome is None:
        linked = [x.marac_case_id for x in case.marac_links]
        p.add(
            "marac_case_id",
            f"no outcome of MARAC case {cmd.marac_case_id!r} has reached this case",
            ", ".join(linked) + " (after their conference)"
            if linked
            else "no MARAC case is linked",
        )
        f.reject(p)
    assert outcome is not None
    taken_before = {a for t in case.marac_actions_taken for a in t.taken}
    final = {r.action_id for r in outcome.reviews if r.outcome.final}
    known = {a.action_id for a in outcome.actions}
    for action_id in cmd.owners:
        if action_id not in known:
            p.add(f"owners[{action_id!r}]", "is not an action of that MARAC case", ", ".join(known))
    tasks: list[PlanTask] = []
    taken: list[str] = []
    not_taken: list[ActionLeftOut] = []
    problems: list[FieldProblem] = []
    revision_plan = plan
    for action in outcome.actions:
        if action.action_id in taken_before:
            continue
        if action.action_id in final:
            not_taken.append(
                ActionLeftOut(action_id=action.action_id, reason="reviewed to an outcome already")
            )
            continue
        members = [m.member_id for m in case.network if m.agency == action.agency]
        owner = cmd.owners.get(action.action_id) if isinstance(cmd.owners, dict) else None
        if owner is None:
            if not members:
                not_taken.append(
                    ActionLeftOut(
                        action_id=action.action_id, reason=f"{action.agency} is not in the network"
                    )
                )
                continue
            if len(members) > 1:
                problems.append(
                    FieldProblem(
                        f"owners[{action.action_id!r}]",
                        f"{action.agency} has {len(members)} members in the network: choose one",
                        ", ".join(members),
                    )
                )
                continue
            owner = members[0]
        elif owner not in members:
            problems.append(
                FieldProblem(
                    f"owners[{action.action_id!r}]",
                    f"{owner!r} is not a network member of {action.agency}, which owns the action",
                    ", ".join(members) or f"no member of {action.agency} in the network",
                )
            )
            continue
        task_id = f"{MARAC_TASK_PREFIX}{action.action_id}"
        found = task_problems(
            f,
            revision_plan,
            task_id=task_id,
            description=action.description,
            area=action.area,
            owner=owner,
            due_on=action.due_on,
            prefix=f"actions[{action.action_id!r}].",
        )
        if found:
            problems.extend(found)
            continue
        task = PlanTask(
            task_id=task_id,
            description=action.description,
            area=action.area,
            owner=owner,
            due_on=action.due_on,
        )
        tasks.append(task)
        taken.append(action.action_id)
        revision_plan = attrs.evolve(revision_plan, tasks=(*revision_plan.tasks, task))
    p.items.extend(problems)
    if not p.items and not taken:
        p.add(
            "marac_case_id",
            f"MARAC case {cmd.marac_case_id!r} has no action left to take into the plan",
            "a MARAC case with new actions owned by network agencies",
        )
    f.reject(p)
    for i, task in enumerate(tasks, start=1):
        f.emit(TaskAssigned, task=task, revision=plan.revision + i)
    f.emit(
        MaracActionsTaken,
        marac_case_id=cmd.marac_case_id,
        taken=tuple(taken),
        not_taken=tuple(not_taken),
    )


TRANSITIONS = (
    TransitionSpec(
        trigger=TakeMaracActions.name,
        source=(STAGE3, STAGE4),
        dest=None,
        rules=("actor_is_case_leader", "plan_drafted", "marac_outcome_received"),
        handler=_take_marac_actions,
        command=TakeMaracActions,
        emits=(TaskAssigned, MaracActionsTaken),
        description="MARAC actions owned by network agencies become plan tasks.",
    ),
)
