"""A national variant of TUKO: its own risk-need matrix, competence table and timeframes.

The configuration is plain data (here JSON, as an agency would keep it in a file) loaded
with ``TukoConfig.from_dict``. The protocol itself (stages, rules) is unchanged; only what
the seed leaves to each service is configured. Run it with
``uv run python examples/custom_config.py``.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import structlog

from tuko_flow import (
    Actor,
    AssignTask,
    Client,
    DraftPlan,
    Engine,
    ManualClock,
    NetworkMember,
    OpenCase,
    PersonAtRisk,
    TukoConfig,
)
from tuko_flow.errors import ConfigurationError, ValidationError
from tuko_flow.testing import OFFICER, START, drive_to

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

# A made-up national variant. Its matrix adds a stalking category and treats every
# domestic-violence case as high need (always assumed only when living with the victim);
# its competence table lets a perpetrator programme (an NGO) own programme tasks.
VARIANT = json.loads(
    """
    {
      "matrix": {"cells": [
        {"name": "contact_sexual_offence", "offence": "contact_sexual",
         "need": "high", "always_assume_need": true},
        {"name": "stalking", "offence": "stalking",
         "need": "high", "always_assume_need": true},
        {"name": "dv_living_with_victim", "offence": "domestic_violence",
         "lives_with_victim": true, "need": "high", "always_assume_need": true},
        {"name": "dv_other", "offence": "domestic_violence", "need": "high"},
        {"name": "other_violence", "offence": "other_violence"}
      ]},
      "competence": {"areas": {
        "supervision": ["probation"],
        "perpetrator_programme": ["ngo", "probation"],
        "victim_safety": ["victim_support", "police"],
        "child_safety": ["child_protection", "municipality"],
        "housing": ["municipality"]
      }},
      "timeframes": {"crisis_max_days": 7, "normal_max_weeks": 6},
      "missed_meeting_grace": 48
    }
    """
)
config = TukoConfig.from_dict(VARIANT)
print("offence categories:", ", ".join(config.matrix.offences))
print("task areas:", ", ".join(config.competence.areas))
print("crisis timeframe:", config.timeframes.describe(crisis=True))
print("other timeframe:", config.timeframes.describe(crisis=False))

clock = ManualClock(START)
engine = Engine(clock=clock, config=config)
officer = Actor(agency="probation", person="po-512")
network = [
    NetworkMember(member_id="m-po", agency="probation", person="po-512", case_leader=True),
    NetworkMember(member_id="m-vs", agency="victim_support", person="vs-613"),
    NetworkMember(member_id="m-ngo", agency="ngo", person="ngo-714"),
]

# A stalking case: the variant's matrix marks it "always assume need", so Stage 1 begins
# at intake, without anyone having to notice the need first.
case = engine.open_case(
    OpenCase(
        case_id="case-cc-01",
        client=Client("client-0b7d"),
        people_at_risk=[PersonAtRisk(ref="victim-7c21", relation="victim")],
        network=network,
        offence="stalking",
    ),
    actor=officer,
)
print(f"\nstalking case: cell {case.matrix_cell!r}, need {case.need!r}, state {case.state!r}")

# A domestic-violence case not living with the victim: high need here, but not assumed.
drive_to(engine, clock, "case-cc-02", "stage3_plan")
dv = engine.case("case-cc-02")
print(f"dv case:       cell {dv.matrix_cell!r}, need {dv.need!r}, assumed {dv.always_assume_need}")

# The case leader (tuko_flow.testing.OFFICER) drafts a plan for the dv case. The sample
# network: m-po probation, m-pol police, m-vs victim support, m-cp child protection.
engine.execute(
    "case-cc-02",
    DraftPlan(
        crisis=False,
        communication="Weekly e-mail round.",
        next_meeting_at=clock.now() + timedelta(days=14),
    ),
    actor=OFFICER,
)


def assign(task_id: str, area: str, owner: str, days: int) -> None:
    """Assign a task and print what the variant's competence table and timeframes say."""
    try:
        engine.execute(
            "case-cc-02",
            AssignTask(
                task_id=task_id,
                description=f"Task {task_id}.",
                area=area,
                owner=owner,
                due_on=clock.now().date() + timedelta(days=days),
            ),
            actor=OFFICER,
        )
        print(f"  {task_id}: {area} -> {owner}, due in {days} days: accepted")
    except ValidationError as invalid:
        for p in invalid.problems:
            print(f"  {task_id}: refused - {p.field}: {p.problem} (allowed: {p.allowed})")


print("\nassigning tasks under the variant:")
assign("t-1", "child_safety", "m-cp", 10)  # child protection: competent
assign("t-2", "victim_safety", "m-pol", 10)  # police may own victim safety in this variant
assign("t-3", "addiction", "m-po", 10)  # no such area in this variant
assign("t-4", "supervision", "m-po", 60)  # beyond 6 weeks for a non-crisis plan

# A broken variant is refused when loaded, naming what is wrong.
print("\nloading a variant whose competence table names an unknown agency:")
try:
    TukoConfig.from_dict({"competence": {"areas": {"housing": ["housing_board"]}}})
except ConfigurationError as exc:
    for number, problem in enumerate(exc.problems, start=1):
        print(f"  problem {number}: {problem}")
else:
    raise SystemExit("the broken variant was accepted")
