"""Quickstart: one made-up case through TUKO Stages 1-4 to closure, printing each stage change.

Run it with ``uv run python examples/quickstart.py``. Every identifier is a made-up
pseudonymous reference; tuko_flow never stores a person's name.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import structlog

from tuko_flow import (
    Actor,
    AssignTask,
    BeginCaseManagement,
    Client,
    CloseCase,
    CommonAssessment,
    DecideCooperationNeeded,
    DistributePlan,
    DraftPlan,
    Engine,
    HoldMeeting,
    HoldReviewMeeting,
    InformNetwork,
    ManualClock,
    NetworkMember,
    NoticeNeed,
    OpenCase,
    PersonAtRisk,
    RecordCommonAssessment,
    RecordTaskProgress,
    ShareInformation,
)
from tuko_flow.events import StageChanged

# Keep the engine's info logs out of this script's output.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

# A manual clock: the example decides when time passes.
clock = ManualClock(datetime(2026, 2, 2, 9, 0, tzinfo=UTC))
engine = Engine(clock=clock)  # in-memory event store by default


# Print every stage change as it is stored.
def show(event: object) -> None:
    if isinstance(event, StageChanged):
        print(f"{event.occurred_at:%Y-%m-%d}  {event.from_state} -> {event.to_state}")


engine.subscribe(show)

officer = Actor(agency="probation", person="po-205")  # the case leader
police = Actor(agency="police", person="pol-318")
support = Actor(agency="victim_support", person="vs-427")
CASE = "case-qs-01"

# Intake: client, people at risk, the network (probation officer as case leader).
engine.open_case(
    OpenCase(
        case_id=CASE,
        client=Client("client-3e9b"),
        people_at_risk=[PersonAtRisk(ref="victim-61fa", relation="victim")],
        network=[
            NetworkMember(member_id="m-po", agency="probation", person="po-205", case_leader=True),
            NetworkMember(member_id="m-pol", agency="police", person="pol-318"),
            NetworkMember(member_id="m-vs", agency="victim_support", person="vs-427"),
        ],
        offence="domestic_violence",
    ),
    actor=officer,
)

# Stage 1: a partner notices the need; the case leader informs the network.
engine.execute(CASE, NoticeNeed(what="Renewed threats reported by phone."), actor=police)
engine.execute(CASE, InformNetwork(meeting_at=clock.now() + timedelta(days=2)), actor=officer)

# Stage 2: the meeting, everyone heard, the common assessment, the decision.
clock.advance(days=2)
everyone = ("m-po", "m-pol", "m-vs")
engine.execute(CASE, HoldMeeting(participants=everyone), actor=officer)
for actor in (officer, police, support):
    engine.execute(
        CASE,
        ShareInformation(information="What we know.", evaluation="Risk is elevated."),
        actor=actor,
    )
assessment = CommonAssessment(
    who_is_under_threat="The former partner.",
    probability_of_harm="high",
    threat_and_conditions="Threats by phone, worse after drinking.",
    risk_modifiers="Alcohol raises it; work lowers it.",
    client_needs_and_motivation="Wants to keep his job.",
    protective_factors="Partner in contact with victim support.",
)
engine.execute(CASE, RecordCommonAssessment(assessment=assessment), actor=officer)
engine.execute(
    CASE,
    DecideCooperationNeeded(situation="Escalating threats.", risks=["threats to the partner"]),
    actor=officer,
)

# Stage 3: the written risk-reduction plan, a task, sent to every participant.
engine.execute(
    CASE,
    DraftPlan(
        crisis=True,  # a crisis plan: its tasks are due within days
        communication="Phone round every Monday.",
        next_meeting_at=clock.now() + timedelta(days=7),
    ),
    actor=officer,
)
engine.execute(
    CASE,
    AssignTask(
        task_id="t-1",
        description="Agree a safety plan with the partner.",
        area="victim_safety",
        owner="m-vs",
        due_on=clock.now().date() + timedelta(days=3),
    ),
    actor=officer,
)
engine.execute(CASE, DistributePlan(), actor=officer)
engine.execute(CASE, BeginCaseManagement(), actor=officer)

# Stage 4: the task is done, a review meeting finds risks reduced, the case closes.
clock.advance(days=3)
engine.execute(CASE, RecordTaskProgress(task_id="t-1", status="done"), actor=support)
clock.advance(days=4)
engine.execute(
    CASE,
    HoldReviewMeeting(participants=everyone, needs_remain=False, risks_reduced=True),
    actor=officer,
)
case = engine.execute(CASE, CloseCase(summary="Threats stopped; plan completed."), actor=officer)

print(f"final state: {case.state} after {case.version} events")
print("partners told of the closure:", ", ".join(case.cycle.closure.informed))
