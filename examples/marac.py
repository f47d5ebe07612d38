"""MARAC: a made-up TUKO case escalates to MARAC, its actions enter the plan, and a repeat.

Run it with ``uv run python examples/marac.py``. A TUKO case reaches Stage 3 with a common
assessment that found a high probability of harm; a police officer raises a MARAC case
from it, the coordinator lists it, the conference agrees an action plan, and the TUKO case
leader takes the actions of network agencies into the risk-reduction plan. After review
and closure, a new incident between the same two people is flagged as a repeat and
referred back. Every identifier is a made-up pseudonymous reference.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import structlog

from tuko_flow import (
    AcceptReferral,
    ActionReview,
    Client,
    CloseMaracCase,
    DraftPlan,
    Engine,
    HoldConference,
    ManualClock,
    MaracAction,
    NetworkMember,
    OfferAdvocate,
    OpenMaracCase,
    PersonAtRisk,
    ReceiveReferral,
    ReferToMarac,
    ReferToService,
    ReportIncident,
    ReviewActions,
    TakeMaracActions,
    VictimNotice,
)
from tuko_flow.testing import OFFICER, POLICE, START, VICTIM_SUPPORT, drive_to

# Keep the engine's info logs out of this script's output.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main() -> None:
    clock = ManualClock(START)
    engine = Engine(clock=clock)  # runs TUKO and MARAC
    tuko = drive_to(engine, clock, "case-0201", "stage3_plan")
    harm = tuko.cycle.assessment.probability_of_harm if tuko.cycle.assessment else None
    print(f"TUKO case-0201: {tuko.state}, common assessment: harm {harm}")

    # A police officer in the TUKO network raises a MARAC case from it.
    marac_network = [
        NetworkMember(member_id="m-pol", agency="police", person=POLICE.person),
        NetworkMember(
            member_id="m-vs",
            agency="victim_support",
            person=VICTIM_SUPPORT.person,
            case_leader=True,
        ),
    ]
    marac = engine.open_case(
        OpenMaracCase(
            case_id="marac-0201",
            area="north",
            victim=PersonAtRisk(ref=tuko.people_at_risk[0].ref, relation="victim"),
            perpetrator=Client(tuko.client.ref),
            network=marac_network,
            tuko_case_id="case-0201",
        ),
        actor=POLICE,
    )
    assert marac.marac is not None
    print(f"MARAC marac-0201 opened: criteria met {', '.join(marac.marac.current.criteria_met)}")
    links = [link.marac_case_id for link in engine.case("case-0201").marac_links]
    print(f"TUKO case-0201 linked to: {', '.join(links)}")

    told = VictimNotice(safe=True, how="in person, at the victim support office")
    engine.execute("marac-0201", ReferToMarac(victim_notice=told), actor=POLICE)
    engine.execute("marac-0201", ReceiveReferral(), actor=VICTIM_SUPPORT)
    conference_at = clock.now() + timedelta(days=7)
    engine.execute("marac-0201", AcceptReferral(conference_at=conference_at), actor=VICTIM_SUPPORT)
    offer = OfferAdvocate(advocate="m-vs", accepted=True)
    engine.execute("marac-0201", offer, actor=VICTIM_SUPPORT)
    child = next(p.ref for p in marac.people_at_risk if p.relation == "child")
    engine.execute(
        "marac-0201", ReferToService(service="child_welfare", person_ref=child), actor=POLICE
    )

    clock.set(conference_at)
    due = clock.now().date() + timedelta(days=14)
    actions = [
        MaracAction(
            action_id="a-1",
            agency="police",
            description="Flag the address for an urgent response.",
            area="policing",
            due_on=due,
        ),
        MaracAction(
            action_id="a-2",
            agency="victim_support",
            description="Safety planning with the victim.",
            area="victim_safety",
            due_on=due,
        ),
        MaracAction(
            action_id="a-3",
            agency="health",
            description="Tell the family doctor of the risk.",
            area="mental_health",
            due_on=due,
        ),
    ]
    present = ("victim_support", "police", "health")
    marac = engine.execute(
        "marac-0201",
        HoldConference(
            held_at=clock.now(),
            agencies_present=present,
            victim_represented_by="m-vs",
            actions=actions,
        ),
        actor=VICTIM_SUPPORT,
    )
    print(f"conference held: {marac.state}, actions {', '.join(a.action_id for a in actions)}")
    outcome = engine.case("case-0201").marac_outcome("marac-0201")
    assert outcome is not None
    print(f"outcome shared with TUKO: {outcome.marac_state}, legal basis {outcome.legal_basis}")

    # The TUKO case leader takes the actions owned by network agencies into the plan.
    engine.execute(
        "case-0201",
        DraftPlan(
            crisis=False,
            communication="Weekly calls between police and victim support.",
            next_meeting_at=clock.now() + timedelta(days=7),
        ),
        actor=OFFICER,
    )
    tuko = engine.execute("case-0201", TakeMaracActions(marac_case_id="marac-0201"), actor=OFFICER)
    assert tuko.cycle.plan is not None
    for task in tuko.cycle.plan.tasks:
        print(f"plan task {task.task_id} -> {task.owner} ({task.area})")
    for left in tuko.marac_actions_taken[-1].not_taken:
        print(f"left out {left.action_id}: {left.reason}")

    # The next conference reviews the actions; the case is closed from MARAC.
    clock.advance(days=21)
    engine.execute(
        "marac-0201",
        ReviewActions(
            held_at=clock.now(),
            agencies_present=present,
            victim_represented_by="m-vs",
            reviews=[
                ActionReview(action_id="a-1", outcome="done"),
                ActionReview(action_id="a-2", outcome="done"),
                ActionReview(action_id="a-3", outcome="prevented", note="No family doctor."),
            ],
        ),
        actor=VICTIM_SUPPORT,
    )
    marac = engine.execute(
        "marac-0201", CloseMaracCase(reason="Actions done; risk reduced."), actor=VICTIM_SUPPORT
    )
    print(f"MARAC marac-0201: {marac.state}")

    # Four months later: unwanted contact between the same two people.
    clock.advance(days=120)
    marac = engine.execute(
        "marac-0201",
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    assert marac.marac is not None
    incident = marac.marac.current.incidents[-1]
    print(f"new incident: repeat {incident.repeat} - {incident.reason}")
    marac = engine.execute("marac-0201", ReferToMarac(victim_notice=told), actor=POLICE)
    assert marac.marac is not None
    assert marac.marac.current.referral is not None
    criteria = ", ".join(marac.marac.current.referral.criteria)
    print(f"round {marac.marac.current.number}: {marac.state} on {criteria}")


if __name__ == "__main__":
    main()
