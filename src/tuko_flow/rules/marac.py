"""The guard rules of the MARAC protocol, each with the source passage it encodes.

Sources: the TACTICS regional report for Estonia (``shared/seeds/001_…txt``, "Legal
framework" and "Data"), and the MARAC facts gathered in ``shared/DOMAIN.md`` (SafeLives
referral criteria and MARAC process).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._base import Rule, RuleContext, rule
from .tuko import actor_in_network

if TYPE_CHECKING:
    from .._marac_case import MaracFile


def _file(ctx: RuleContext) -> MaracFile:
    marac = ctx.case.marac
    if marac is None:  # pragma: no cover - MARAC rules guard MARAC cases only
        raise AssertionError(f"case {ctx.case.case_id!r} is not a MARAC case")
    return marac


@rule(
    "actor_is_coordinator",
    reason="only the MARAC coordinator (the case leader of a MARAC case: in Estonia victim "
    "support, run by the Social Insurance Board) may do this",
    source="Seed 001, Legal framework: the professional who carries out the risk assessment "
    '"will forward the results to the Victim Support Unit. Victim Support will include the '
    'case in the MARAC model if justified."',
)
def actor_is_coordinator(ctx: RuleContext) -> bool:
    return ctx.case.case_leader.acts_as(ctx.actor)


def criteria(ctx: RuleContext) -> tuple[str, ...]:
    """The referral criteria the case's current round meets now (see ``MaracFile.criteria``)."""
    file = _file(ctx)
    return file.criteria(ctx.config.marac_for(file.area).thresholds, ctx.now.date())


@rule(
    "risk_assessed",
    reason="no risk assessment (a DASH checklist, or a TUKO common assessment) and no "
    "incident has been recorded in this round; assess the risk first",
    source='Seed 001, Legal framework: "Whether a case is high-risk and falls under the '
    'MARAC model is decided by a DASH risk assessment."',
)
def risk_assessed(ctx: RuleContext) -> bool:
    current = _file(ctx).current
    return current.assessment is not None or bool(current.incidents)


@rule(
    "referral_criteria_met",
    reason="no MARAC referral criterion is met (visible high risk, professional judgement, "
    "potential escalation, or a repeat incident)",
    source="shared/DOMAIN.md, MARAC referral criteria (SafeLives): visible high risk; "
    "professional judgement, with written reasons; potential escalation; repeat — any "
    "agency that learns of a repeat must refer back whatever the threshold.",
)
def referral_criteria_met(ctx: RuleContext) -> bool | str:
    if criteria(ctx):
        return True
    file = _file(ctx)
    thresholds = ctx.config.marac_for(file.area).thresholds
    window = thresholds.escalation_window_days
    incidents = file.recent_incidents(ctx.now.date(), window)
    counted = (
        f"{incidents} reported incident(s) in the last {window} days, fewer than "
        f"{thresholds.escalation_incidents}; no repeat incident"
    )
    if file.current.assessment is None:
        return f"no referral criterion is met: no risk assessment in this round; {counted}"
    unmet = "; ".join(str(f) for f in file.current.assessment.findings)
    return f"no referral criterion is met: {unmet}; {counted}"


@rule(
    "no_referral_criterion_met",
    reason="the round meets MARAC referral criteria: a high-risk case must be referred",
    source="Seed 004 (inspection): risk assessments missing or shallow, and no link between "
    "the assessment and what is done. shared/DOMAIN.md: any agency that learns of a repeat "
    "must refer back whatever the threshold.",
)
def no_referral_criterion_met(ctx: RuleContext) -> bool | str:
    met = criteria(ctx)
    if not met:
        return True
    return f"the round meets these MARAC referral criteria: {', '.join(met)}; refer the case"


@rule(
    "advocate_offered",
    reason="the victim has not been offered an independent advocate; every high-risk victim "
    "is offered one, who represents them at the conference",
    source="shared/DOMAIN.md, MARAC process: the victim does not attend; every high-risk "
    "victim is offered an independent advocate (IDVA), who contacts the victim before and "
    "after.",
)
def advocate_offered(ctx: RuleContext) -> bool:
    file = _file(ctx)
    # the offer belongs to this referral: a new round (a new referral) offers again
    return file.advocate is not None and file.advocate.occurred_at >= file.current.started_at


@rule(
    "child_safeguarding_referred",
    reason="children live in the household (by the checklist or the case's people at risk): "
    "the separate referral to the child-welfare specialist has not been recorded in this round "
    "(MARAC never replaces child protection)",
    source='Seed 001, Data viii: "In cases involving children, whether or not the child was '
    "present at the incident, consent will not be sought and the case will be referred to a "
    'child welfare specialist." shared/DOMAIN.md: "MARAC never replaces child protection."',
)
def child_safeguarding_referred(ctx: RuleContext) -> bool:
    current = _file(ctx).current
    children = any(p.relation == "child" for p in ctx.case.people_at_risk)
    if not (current.child_safeguarding_required or children):
        return True
    # a referral of this round: the household may have changed since an earlier one
    return any(
        r.service == "child_welfare" and r.occurred_at >= current.started_at
        for r in ctx.case.service_referrals
    )


@rule(
    "minutes_pending",
    reason="the minutes of the latest conference have been circulated already",
    source="shared/DOMAIN.md, MARAC process: conference -> action plan -> minutes; minutes "
    "within a local timescale (3 working days is one example).",
)
def minutes_pending(ctx: RuleContext) -> bool:
    current = _file(ctx).current
    last = current.last_conference
    return last is not None and all(m.conference_at != last.held_at for m in current.minutes)


@rule(
    "actions_to_review",
    reason="the action plan has no action waiting for review",
    source="shared/DOMAIN.md, MARAC process: actions reviewed at the next conference.",
)
def actions_to_review(ctx: RuleContext) -> bool:
    return bool(_file(ctx).current.open_actions)


@rule(
    "actions_reviewed",
    reason="actions of the action plan are still open; review them at a conference first "
    "(done, prevented by circumstances, or not done)",
    source="shared/DOMAIN.md, MARAC process: actions reviewed at the next conference; the "
    "minutes separate incomplete actions that circumstances prevented from actions the agency "
    "did not do.",
)
def actions_reviewed(ctx: RuleContext) -> bool | str:
    open_actions = _file(ctx).current.open_actions
    if not open_actions:
        return True
    return "these actions have not been reviewed to an outcome: " + ", ".join(
        a.action_id for a in open_actions
    )


@rule(
    "marac_outcome_received",
    reason="no linked MARAC case has shared an action plan with this case yet",
    source="Linked to MARAC (issue 3): MARAC actions owned by network agencies appear in the "
    'TUKO risk-reduction plan. Seed 000: "Inspiration by the example of MAPPA and MARAC '
    'models" / "Partners communicate with each other to keep each other informed."',
)
def marac_outcome_received(ctx: RuleContext) -> bool:
    return any(o.actions for o in ctx.case.marac_outcomes)


#: The rules a TUKO case uses for its link to MARAC, by name.
LINK_RULES: dict[str, Rule] = {marac_outcome_received.name: marac_outcome_received}

#: Every MARAC rule by name (``actor_in_network`` is shared with TUKO).
MARAC_RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        actor_in_network,
        actor_is_coordinator,
        risk_assessed,
        referral_criteria_met,
        no_referral_criterion_met,
        advocate_offered,
        child_safeguarding_referred,
        minutes_pending,
        actions_to_review,
        actions_reviewed,
    )
}
