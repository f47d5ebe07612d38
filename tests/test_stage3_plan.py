"""TUKO Stage 3: the written risk-reduction plan, its tasks, timeframes and distribution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tuko_flow import (
    AddNetworkMember,
    AssignTask,
    BeginCaseManagement,
    DistributePlan,
    DraftPlan,
    Engine,
    InMemoryEventStore,
    ManualClock,
    NetworkMember,
    Timeframes,
    TukoConfig,
)
from tuko_flow.errors import CommandRefused, ConfigurationError, ValidationError
from tuko_flow.events import PlanDistributed, PlanDrafted, TaskAssigned
from tuko_flow.rules import CompetenceTable
from tuko_flow.testing import OFFICER, POLICE, drive_to

CASE = "case-s3"
EVERYONE = ("m-po", "m-pol", "m-vs", "m-cp")
MUNICIPALITY = NetworkMember(member_id="m-mun", agency="municipality", person="mun-505")


def at_stage3(engine: Engine, clock: ManualClock) -> None:
    """Take the sample case to the start of Stage 3 (cooperation need decided)."""
    drive_to(engine, clock, CASE, "stage3_plan")


def draft(engine: Engine, clock: ManualClock, *, crisis: bool = False) -> None:
    """Draft the plan with the next meeting two days ahead (inside any plan's timeframe)."""
    engine.execute(
        CASE,
        DraftPlan(
            crisis=crisis,
            communication="Weekly phone round.",
            next_meeting_at=clock.now() + timedelta(days=2),
        ),
        actor=OFFICER,
    )


def assign(
    engine: Engine,
    clock: ManualClock,
    *,
    task_id: str = "t-1",
    area: str = "victim_safety",
    owner: str = "m-vs",
    days: int = 5,
) -> None:
    """Assign a task due ``days`` after today (by the engine's clock)."""
    engine.execute(
        CASE,
        AssignTask(
            task_id=task_id,
            description=f"Task {task_id} of the plan.",
            area=area,
            owner=owner,
            due_on=clock.now().date() + timedelta(days=days),
        ),
        actor=OFFICER,
    )


def planned(engine: Engine, clock: ManualClock, *, crisis: bool = False) -> None:
    """Stage 3 with a drafted plan."""
    at_stage3(engine, clock)
    draft(engine, clock, crisis=crisis)


def new_types(engine: Engine, before: int) -> list[str]:
    """Class names of the events stored after version ``before``."""
    return [type(e).__name__ for e in engine.history(CASE)[before:]]


def plan_text(exc: ValidationError, field: str) -> str:
    """Everything reported about ``field``."""
    return " | ".join(str(p) for p in exc.problems if p.field == field)


# --- draft_plan -----------------------------------------------------------------------


def test_case_leader_drafts_the_plan_and_agrees_the_next_meeting(
    engine: Engine, clock: ManualClock
) -> None:
    """Seed: 'a written agreement ... The time of the next meeting and in between communication'."""
    at_stage3(engine, clock)
    before = engine.case(CASE).version
    meeting_at = clock.now() + timedelta(days=7)
    case = engine.execute(
        CASE,
        DraftPlan(crisis=False, communication="Weekly phone round.", next_meeting_at=meeting_at),
        actor=OFFICER,
    )
    assert new_types(engine, before) == ["PlanDrafted", "MeetingScheduled"]
    drafted = engine.history(CASE)[before]
    assert isinstance(drafted, PlanDrafted)
    assert (drafted.crisis, drafted.communication) == (False, "Weekly phone round.")
    plan = case.cycle.plan
    assert plan is not None
    assert (plan.tasks, plan.revision, plan.distributed_revision) == ((), 1, 0)
    assert case.next_meeting_at == meeting_at
    assert case.state == "stage3_plan"


def test_plan_is_drafted_once_per_cycle(engine: Engine, clock: ManualClock) -> None:
    """A second draft in the same cycle is refused; the plan is adapted with tasks instead."""
    planned(engine, clock)
    with pytest.raises(CommandRefused) as info:
        draft(engine, clock, crisis=True)
    assert info.value.rules == ("no_plan_yet",)
    plan = engine.case(CASE).cycle.plan
    assert plan is not None
    assert plan.crisis is False


def test_only_the_case_leader_drafts_the_plan(engine: Engine, clock: ManualClock) -> None:
    """A partner cannot draft the plan."""
    at_stage3(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(
            CASE,
            DraftPlan(
                crisis=False, communication="x", next_meeting_at=clock.now() + timedelta(days=1)
            ),
            actor=POLICE,
        )
    assert info.value.rules == ("actor_is_case_leader",)


def test_next_meeting_of_the_plan_must_be_in_the_future(engine: Engine, clock: ManualClock) -> None:
    """The agreed next meeting lies ahead."""
    at_stage3(engine, clock)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            CASE,
            DraftPlan(
                crisis=False,
                communication="Calls.",
                next_meeting_at=clock.now() - timedelta(days=1),
            ),
            actor=OFFICER,
        )
    assert info.value.fields == ("next_meeting_at",)
    assert engine.case(CASE).cycle.plan is None


# --- assign_task ----------------------------------------------------------------------


def test_member_takes_responsibility_for_a_task(engine: Engine, clock: ManualClock) -> None:
    """A task in the owner's area of competence is added and the plan's revision grows."""
    planned(engine, clock)
    before = engine.case(CASE).version
    assign(engine, clock)
    (event,) = engine.history(CASE)[before:]
    assert isinstance(event, TaskAssigned)
    assert event.revision == 2
    plan = engine.case(CASE).cycle.plan
    assert plan is not None
    assert [t.task_id for t in plan.tasks] == ["t-1"]
    assert plan.tasks[0].owner == "m-vs"
    assert plan.revision == 2


def test_task_before_the_plan_is_drafted_is_refused(engine: Engine, clock: ManualClock) -> None:
    """Tasks belong to a written plan."""
    at_stage3(engine, clock)
    with pytest.raises(CommandRefused) as info:
        assign(engine, clock)
    assert info.value.rules == ("plan_drafted",)


def test_task_owner_outside_the_network_is_refused(engine: Engine, clock: ManualClock) -> None:
    """The owner must be a network member; the members are listed."""
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, owner="m-nobody")
    assert info.value.fields == ("owner",)
    text = plan_text(info.value, "owner")
    for member_id in EVERYONE:
        assert member_id in text


def test_task_outside_the_owners_competence_lists_competent_agencies_and_members(
    engine: Engine, clock: ManualClock
) -> None:
    """Seed: tasks correspond to 'their area of competence and authority'."""
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, area="child_safety", owner="m-pol")
    assert info.value.fields == ("owner",)
    fp = info.value.problems[0]
    assert "child_safety" in fp.problem
    assert fp.allowed is not None
    assert "child_protection" in fp.allowed
    assert "m-cp" in fp.allowed


def test_competence_refusal_says_when_no_member_is_competent(
    engine: Engine, clock: ManualClock
) -> None:
    """When nobody in the network is competent for the area, the refusal says so."""
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, area="housing", owner="m-pol")
    allowed = info.value.problems[0].allowed
    assert allowed is not None
    assert "municipality" in allowed
    assert "none in this network" in allowed


def test_unknown_task_area_is_refused_listing_areas(engine: Engine, clock: ManualClock) -> None:
    """An area not in the competence table is refused; the table's areas are listed."""
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, area="astrology")
    assert info.value.fields == ("area",)
    text = plan_text(info.value, "area")
    for area in ("supervision", "victim_safety", "child_safety", "housing"):
        assert area in text


def test_task_due_in_the_past_is_refused(engine: Engine, clock: ManualClock) -> None:
    """A task cannot be due before today."""
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, days=-1)
    assert info.value.fields == ("due_on",)
    assert "past" in info.value.problems[0].problem


def test_duplicate_task_id_is_refused(engine: Engine, clock: ManualClock) -> None:
    """Task ids are unique within the plan."""
    planned(engine, clock)
    assign(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, area="policing", owner="m-pol")
    assert info.value.fields == ("task_id",)


def test_every_task_problem_is_reported_at_once(engine: Engine, clock: ManualClock) -> None:
    """Unknown owner, unknown area and a past due date are reported together."""
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, owner="m-nobody", area="astrology", days=-3)
    assert set(info.value.fields) == {"owner", "area", "due_on"}


@pytest.mark.parametrize(
    ("crisis", "days", "accepted"),
    [
        (True, 0, True),
        (True, 14, True),
        (True, 15, False),
        (False, 84, True),
        (False, 85, False),
    ],
)
def test_due_dates_keep_to_the_timeframe(
    engine: Engine, clock: ManualClock, crisis: bool, days: int, accepted: bool
) -> None:
    """Seed: 'In the crisis situation the timeframe is in days, in other cases in weeks'."""
    planned(engine, clock, crisis=crisis)
    if accepted:
        assign(engine, clock, days=days)
        plan = engine.case(CASE).cycle.plan
        assert plan is not None
        assert len(plan.tasks) == 1
    else:
        with pytest.raises(ValidationError) as info:
            assign(engine, clock, days=days)
        assert info.value.fields == ("due_on",)
        expected = "14 days (crisis plan)" if crisis else "12 weeks"
        assert expected in info.value.problems[0].problem


def test_same_due_date_fits_a_normal_plan_but_not_a_crisis_plan(
    engine: Engine, clock: ManualClock
) -> None:
    """A task three weeks out is fine in weeks, too far for a plan counted in days."""
    planned(engine, clock, crisis=False)
    assign(engine, clock, days=21)
    other = Engine(InMemoryEventStore(), clock=clock)
    drive_to(other, clock, CASE, "stage3_plan")
    draft(other, clock, crisis=True)
    with pytest.raises(ValidationError) as info:
        assign(other, clock, days=21)
    assert info.value.fields == ("due_on",)


# --- distribute_plan and begin_case_management ----------------------------------------


def test_distributing_needs_tasks(engine: Engine, clock: ManualClock) -> None:
    """A plan without tasks is not sent."""
    planned(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DistributePlan(), actor=OFFICER)
    assert info.value.rules == ("plan_has_tasks",)


def test_distributing_needs_an_agreed_future_meeting(engine: Engine, clock: ManualClock) -> None:
    """Once the agreed meeting time has passed, the plan is not sent; every failure is listed."""
    planned(engine, clock)
    clock.advance(days=8)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DistributePlan(), actor=OFFICER)
    assert info.value.rules == ("plan_has_tasks", "next_meeting_agreed")


def test_distributing_before_drafting_lists_every_failing_rule(
    engine: Engine, clock: ManualClock
) -> None:
    """No plan, no tasks and no agreed meeting are all reported."""
    at_stage3(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DistributePlan(), actor=OFFICER)
    assert info.value.rules == ("plan_drafted", "plan_has_tasks", "next_meeting_agreed")


def test_plan_is_sent_to_every_member(engine: Engine, clock: ManualClock) -> None:
    """Seed: 'The plan is sent to all participants': every member, the leader included."""
    planned(engine, clock)
    assign(engine, clock)
    before = engine.case(CASE).version
    case = engine.execute(CASE, DistributePlan(), actor=OFFICER)
    (event,) = engine.history(CASE)[before:]
    assert isinstance(event, PlanDistributed)
    assert event.revision == 2
    assert event.recipients == EVERYONE
    plan = case.cycle.plan
    assert plan is not None
    assert (plan.distributed_revision, plan.distributed_to) == (2, EVERYONE)


def test_case_management_waits_for_the_plan_to_be_sent(engine: Engine, clock: ManualClock) -> None:
    """Stage 4 cannot begin before the plan reached the participants."""
    planned(engine, clock)
    assign(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, BeginCaseManagement(), actor=OFFICER)
    (failure,) = info.value.failures
    assert failure.rule == "plan_sent_to_all_participants"
    assert "not been sent" in failure.reason
    engine.execute(CASE, DistributePlan(), actor=OFFICER)
    before = engine.case(CASE).version
    case = engine.execute(CASE, BeginCaseManagement(), actor=OFFICER)
    assert case.state == "stage4_manage"
    assert new_types(engine, before) == ["StageChanged"]


def test_member_added_after_distribution_must_receive_the_plan(
    engine: Engine, clock: ManualClock
) -> None:
    """A member who joined after the plan was sent blocks Stage 4 until it is sent again."""
    planned(engine, clock)
    assign(engine, clock)
    engine.execute(CASE, DistributePlan(), actor=OFFICER)
    engine.execute(CASE, AddNetworkMember(member=MUNICIPALITY), actor=OFFICER)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, BeginCaseManagement(), actor=OFFICER)
    (failure,) = info.value.failures
    assert failure.rule == "plan_sent_to_all_participants"
    assert "m-mun" in failure.reason
    engine.execute(CASE, DistributePlan(), actor=OFFICER)
    assert engine.execute(CASE, BeginCaseManagement(), actor=OFFICER).state == "stage4_manage"


def test_task_added_after_distribution_requires_sending_again(
    engine: Engine, clock: ManualClock
) -> None:
    """A changed plan (new revision) must be sent again before Stage 4 begins."""
    planned(engine, clock)
    assign(engine, clock)
    engine.execute(CASE, DistributePlan(), actor=OFFICER)
    assign(engine, clock, task_id="t-2", area="policing", owner="m-pol")
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, BeginCaseManagement(), actor=OFFICER)
    (failure,) = info.value.failures
    assert failure.rule == "plan_sent_to_all_participants"
    assert "revision 3" in failure.reason
    assert "revision 2" in failure.reason
    engine.execute(CASE, DistributePlan(), actor=OFFICER)
    assert engine.execute(CASE, BeginCaseManagement(), actor=OFFICER).state == "stage4_manage"


def test_only_the_case_leader_begins_case_management(engine: Engine, clock: ManualClock) -> None:
    """A partner cannot start Stage 4."""
    planned(engine, clock)
    assign(engine, clock)
    engine.execute(CASE, DistributePlan(), actor=OFFICER)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, BeginCaseManagement(), actor=POLICE)
    assert info.value.rules == ("actor_is_case_leader",)


# --- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crisis", "ok_days", "too_far", "described"),
    [(True, 3, 4, "3 days (crisis plan)"), (False, 14, 15, "2 weeks")],
)
def test_timeframes_are_configurable(
    clock: ManualClock, crisis: bool, ok_days: int, too_far: int, described: str
) -> None:
    """TukoConfig(timeframes=...) sets the limits the refusals state."""
    config = TukoConfig(timeframes=Timeframes(crisis_max_days=3, normal_max_weeks=2))
    engine = Engine(InMemoryEventStore(), clock=clock, config=config)
    planned(engine, clock, crisis=crisis)
    assign(engine, clock, days=ok_days)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, task_id="t-2", days=too_far)
    assert info.value.fields == ("due_on",)
    assert described in info.value.problems[0].problem


def test_competence_table_is_configurable(clock: ManualClock) -> None:
    """A custom table decides who may own which area, and which areas exist."""
    table = CompetenceTable({"victim_safety": ("police",), "supervision": ("probation",)})
    engine = Engine(InMemoryEventStore(), clock=clock, config=TukoConfig(competence=table))
    planned(engine, clock)
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, area="victim_safety", owner="m-vs")
    assert info.value.fields == ("owner",)
    assert "m-pol" in (info.value.problems[0].allowed or "")
    assign(engine, clock, area="victim_safety", owner="m-pol")
    with pytest.raises(ValidationError) as info:
        assign(engine, clock, task_id="t-2", area="policing", owner="m-pol")
    assert info.value.fields == ("area",)


def test_competence_table_naming_unknown_agencies_is_refused() -> None:
    """A configuration whose competence table names an unknown agency is not built."""
    with pytest.raises(ConfigurationError) as info:
        TukoConfig(competence=CompetenceTable({"housing": ("ministry_of_magic",)}))
    assert any("ministry_of_magic" in p for p in info.value.problems)


def test_crisis_plan_next_meeting_must_fall_within_days(engine: Engine, clock: ManualClock) -> None:
    """Seed: 'In the crisis situation the timeframe is in days' - the next meeting too."""
    at_stage3(engine, clock)
    far = clock.now() + timedelta(days=30)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            CASE,
            DraftPlan(crisis=True, communication="Daily calls.", next_meeting_at=far),
            actor=OFFICER,
        )
    assert info.value.fields == ("next_meeting_at",)
    assert "14 days (crisis plan)" in str(info.value)
    normal = DraftPlan(crisis=False, communication="Weekly calls.", next_meeting_at=far)
    assert engine.execute(CASE, normal, actor=OFFICER).next_meeting_at == far
