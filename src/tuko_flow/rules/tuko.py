"""The guard rules of the TUKO framework, each with the seed passage it encodes.

Source of every quotation: Estonian Prison and Probation Service, "Interagency cooperation
regarding GBV-related probation clients in Estonia" (``shared/seeds/000_…txt``).
"""

from __future__ import annotations

from ._base import Rule, RuleContext, rule


@rule(
    "actor_is_case_leader",
    reason="only the case leader (the probation officer leading this case) may do this",
    source="Probation officer as a case manager gathers/informs the network around the case. / "
    "Meeting is lead by probation officer.",
)
def actor_is_case_leader(ctx: RuleContext) -> bool:
    return ctx.case.case_leader.acts_as(ctx.actor)


@rule(
    "actor_in_network",
    reason="only a member of the case's network may do this",
    source="Precondition of TUKO is that at least one network partner notices the need for "
    "cooperation. / Partners communicate with each other to keep each other informed.",
)
def actor_in_network(ctx: RuleContext) -> bool:
    return ctx.case.member_for(ctx.actor) is not None


@rule(
    "always_assume_need",
    reason="the case's risk-need matrix cell is not marked 'always assume need'",
    source="In some cases the probation offices needs to always assume the need.",
)
def always_assume_need(ctx: RuleContext) -> bool:
    return ctx.case.always_assume_need


@rule(
    "network_has_partners",
    reason="the network has no partner besides the case leader; add the partners first",
    source="A multidisciplinary network tailored to each case. / High-risk cases often "
    "involve several stakeholders with important information and abilities.",
)
def network_has_partners(ctx: RuleContext) -> bool:
    return any(not m.case_leader for m in ctx.case.network)


@rule(
    "evaluation_meeting_held",
    reason="the Stage 2 network meeting led by the case leader has not been held yet",
    source="Meeting is lead by probation officer. Every participant shares relevant "
    "information and gives their evaluation about risks, needs and ways to work further.",
)
def evaluation_meeting_held(ctx: RuleContext) -> bool:
    return any(m.purpose == "evaluation" for m in ctx.case.cycle.meetings)


@rule(
    "every_participant_heard",
    reason="every meeting participant must share information and give an evaluation",
    source="Every participant shares relevant information and gives their evaluation about "
    "risks, needs and ways to work further.",
)
def every_participant_heard(ctx: RuleContext) -> bool | str:
    cycle = ctx.case.cycle
    participants = {p for m in cycle.meetings if m.purpose == "evaluation" for p in m.participants}
    heard = {s.member_id for s in cycle.shared}
    missing = sorted(participants - heard)
    if not missing:
        return True
    return f"these participants have not shared information and an evaluation: {', '.join(missing)}"


@rule(
    "common_assessment_complete",
    reason="the common assessment (all six questions) has not been recorded; "
    "the decision cannot be taken before it is complete",
    source="Common assessment is made: Who is in threat? What is the probability of damage to "
    "someone's heath or life? What is the threat about? ... What are the known protective "
    "factors?",
)
def common_assessment_complete(ctx: RuleContext) -> bool:
    return ctx.case.cycle.assessment is not None


@rule(
    "need_not_always_assumed",
    reason="this case's risk-need matrix cell is marked 'always assume need', so it cannot be "
    "closed as 'no need for cooperation'",
    source="In some cases the probation offices needs to always assume the need. / "
    "RISK-NEED MATRIX: Contact sexual crimes; Domestic violence offenders living with "
    "victims - High need",
)
def need_not_always_assumed(ctx: RuleContext) -> bool | str:
    if not ctx.case.always_assume_need:
        return True
    return (
        f"this case's risk-need matrix cell {ctx.case.matrix_cell!r} is marked 'always assume "
        "need', so it cannot be closed as 'no need for cooperation'"
    )


@rule(
    "no_plan_yet",
    reason="this cycle's risk-reduction plan was drafted already; adapt it with assign_task",
    source="In the third stage a written agreement on the further action will be made in the "
    "form of the risk reduction plan.",
)
def no_plan_yet(ctx: RuleContext) -> bool:
    return ctx.case.cycle.plan is None


@rule(
    "plan_drafted",
    reason="no written risk-reduction plan has been drafted in this cycle",
    source="In the third stage a written agreement on the further action will be made in the "
    "form of the risk reduction plan.",
)
def plan_drafted(ctx: RuleContext) -> bool:
    return ctx.case.cycle.plan is not None


@rule(
    "plan_has_tasks",
    reason="the risk-reduction plan has no task; network members take responsibility in the "
    "form of tasks",
    source="Network members take responsibility if the form of tasks that corresponds to their "
    "area of competence and authority.",
)
def plan_has_tasks(ctx: RuleContext) -> bool:
    plan = ctx.case.cycle.plan
    return plan is not None and bool(plan.tasks)


@rule(
    "next_meeting_agreed",
    reason="the time of the next meeting has not been agreed (or has already passed)",
    source="The time of the next meeting and in between communication is agreed.",
)
def next_meeting_agreed(ctx: RuleContext) -> bool:
    at = ctx.case.next_meeting_at
    return at is not None and at > ctx.now


@rule(
    "plan_sent_to_all_participants",
    reason="the current risk-reduction plan has not been sent to every participant",
    source="The plan is sent to all participants after the meeting to support responsibility "
    "and action.",
)
def plan_sent_to_all_participants(ctx: RuleContext) -> bool | str:
    plan = ctx.case.cycle.plan
    if plan is None or plan.distributed_revision == 0:
        return "the risk-reduction plan has not been sent to the participants"
    if plan.distributed_revision != plan.revision:
        return (
            f"the plan changed (revision {plan.revision}) after it was sent (revision "
            f"{plan.distributed_revision}); send it again"
        )
    missing = [m for m in ctx.case.member_ids if m not in plan.distributed_to]
    if missing:
        return f"the plan has not been sent to: {', '.join(missing)}"
    return True


@rule(
    "situation_reassessed",
    reason="no review meeting has reassessed the situation in Stage 4 yet",
    source="New meeting to assess the situation and to make adaptions to the plan.",
)
def situation_reassessed(ctx: RuleContext) -> bool:
    return ctx.case.cycle.latest_reassessment is not None


@rule(
    "no_needs_remain",
    reason="the latest reassessment recorded that needs remain",
    source="If there are no needs and risks have been reduced, the probation officer "
    "documents the situation in written form and lets partners know that TUKO process has "
    "been finished.",
)
def no_needs_remain(ctx: RuleContext) -> bool:
    latest = ctx.case.cycle.latest_reassessment
    return latest is None or not latest.needs_remain  # no review yet: situation_reassessed


@rule(
    "risks_reduced",
    reason="the latest reassessment did not record the risks as reduced",
    source="If there are no needs and risks have been reduced, the probation officer "
    "documents the situation in written form and lets partners know that TUKO process has "
    "been finished.",
)
def risks_reduced(ctx: RuleContext) -> bool:
    latest = ctx.case.cycle.latest_reassessment
    return latest is None or latest.risks_reduced  # no review yet: situation_reassessed


#: Every TUKO rule by name.
TUKO_RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        actor_is_case_leader,
        actor_in_network,
        always_assume_need,
        network_has_partners,
        evaluation_meeting_held,
        every_participant_heard,
        common_assessment_complete,
        need_not_always_assumed,
        no_plan_yet,
        plan_drafted,
        plan_has_tasks,
        next_meeting_agreed,
        plan_sent_to_all_participants,
        situation_reassessed,
        no_needs_remain,
        risks_reduced,
    )
}
