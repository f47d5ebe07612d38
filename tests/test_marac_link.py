"""TUKO and MARAC linked: a TUKO case raises a MARAC case, MARAC outcomes reach the TUKO
network, and the case leader takes MARAC actions owned by network agencies into the plan.

Issue 3, "Linked to TUKO"; seed 000, Stage 3 (tasks match each member's competence, and
the plan's timeframe is days in a crisis, weeks otherwise). The TUKO side is the sample
case of tuko_flow.testing; every reference is made up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from marac_helpers import (
    PlannedAction,
    actions,
    hold_conference,
    list_for_conference,
    prepare_conference,
)

from tuko_flow import (
    ActionReview,
    AddNetworkMember,
    Case,
    Client,
    DistributePlan,
    DraftPlan,
    Engine,
    HoldConference,
    InMemoryEventStore,
    ManualClock,
    NetworkMember,
    OpenMaracCase,
    PersonAtRisk,
    Relation,
    ReviewActions,
    TakeMaracActions,
    replay,
)
from tuko_flow.errors import CommandRefused, StorageUnavailable, ValidationError
from tuko_flow.events import (
    MaracActionsTaken,
    MaracCaseLinked,
    MaracOutcomeShared,
    PlanDistributed,
    TaskAssigned,
)
from tuko_flow.testing import OFFICER, POLICE, VICTIM_SUPPORT, drive_to

TUKO_CASE = "case-l1"
MARAC_CASE = "marac-l1"
VICTIM = "victim-91c2"
CHILD = "child-55d0"
CLIENT = "client-7f3a"
AREA = "area-east"

#: The MARAC network: the sample case's police officer and victim-support worker (the
#: coordinator), an independent advocate (not in the TUKO network) and child protection.
NETWORK = (
    NetworkMember(member_id="m-pol", agency="police", person="pol-202"),
    NetworkMember(member_id="m-vs", agency="victim_support", person="vs-303", case_leader=True),
    NetworkMember(member_id="m-idva", agency="womens_support_centre", person="wsc-814"),
    NetworkMember(member_id="m-cp", agency="child_protection", person="cp-404"),
)
PRESENT = ("police", "victim_support", "womens_support_centre", "child_protection")


def raise_marac(engine: Engine, **kw: object) -> Case:
    """The TUKO case's police officer opens a MARAC case from it, without a checklist."""
    fields: dict[str, object] = {
        "case_id": MARAC_CASE,
        "area": AREA,
        "victim": PersonAtRisk(ref=VICTIM, relation=Relation.VICTIM),
        "perpetrator": Client(CLIENT),
        "network": NETWORK,
        "children": (PersonAtRisk(ref=CHILD, relation=Relation.CHILD),),
        "checklist": None,
        "tuko_case_id": TUKO_CASE,
    }
    fields.update(kw)
    return engine.open_case(OpenMaracCase(**fields), actor=POLICE)  # type: ignore[arg-type]


#: Police and victim support are in the TUKO network; the women's centre is not.
PLAN: tuple[PlannedAction, ...] = (
    ("a-1", "police", "policing"),
    ("a-2", "womens_support_centre", "victim_safety"),
    ("a-3", "victim_support", "victim_safety"),
)


def to_conference(engine: Engine, clock: ManualClock, plan: Sequence[PlannedAction] = PLAN) -> Case:
    """Take the raised MARAC case through referral to its first conference, a week on
    (the sample case's police officer refers; its victim-support worker coordinates)."""
    list_for_conference(
        engine, clock, MARAC_CASE, days=7, coordinator=VICTIM_SUPPORT, police=POLICE
    )
    prepare_conference(
        engine, MARAC_CASE, children=True, child=CHILD, coordinator=VICTIM_SUPPORT, police=POLICE
    )
    clock.advance(days=7)
    return hold_conference(
        engine, clock, MARAC_CASE, plan=plan, present=PRESENT, coordinator=VICTIM_SUPPORT
    )


def review(
    engine: Engine, clock: ManualClock, outcomes: dict[str, str], new: Sequence[PlannedAction] = ()
) -> Case:
    """Two weeks on, the coordinator reviews the actions to ``outcomes`` and plans ``new``."""
    clock.advance(days=14)
    return engine.execute(
        MARAC_CASE,
        ReviewActions(
            held_at=clock.now(),
            agencies_present=PRESENT,
            victim_represented_by="m-idva",
            reviews=[ActionReview(action_id=a, outcome=o) for a, o in outcomes.items()],
            new_actions=actions(clock, *new),
        ),
        actor=VICTIM_SUPPORT,
    )


def draft(engine: Engine, clock: ManualClock, *, crisis: bool = False) -> None:
    engine.execute(
        TUKO_CASE,
        DraftPlan(
            crisis=crisis,
            communication="Weekly phone round.",
            next_meeting_at=clock.now() + timedelta(days=2),
        ),
        actor=OFFICER,
    )


@pytest.fixture
def linked(engine: Engine, clock: ManualClock) -> Engine:
    """A TUKO case in Stage 3 (its common assessment found high harm) and the MARAC case
    raised from it."""
    drive_to(engine, clock, TUKO_CASE, "stage3_plan")
    raise_marac(engine)
    return engine


def invalid(engine: Engine, command: TakeMaracActions) -> ValidationError:
    """Run a take_marac_actions that must be invalid; nothing is written; the error."""
    before = engine.case(TUKO_CASE)
    with pytest.raises(ValidationError) as info:
        engine.execute(TUKO_CASE, command, actor=OFFICER)
    assert engine.case(TUKO_CASE) == before
    return info.value


# --- raising a MARAC case from TUKO -----------------------------------------------------


def test_a_high_harm_common_assessment_raises_a_marac_case_as_professional_judgement(
    linked: Engine,
) -> None:
    """Without a checklist, the TUKO Stage 2 common assessment (probability of harm high)
    is recorded as a professional judgement naming the TUKO case."""
    marac = linked.case(MARAC_CASE)
    assessed = marac.marac.current.assessment
    assert assessed is not None
    assert assessed.instrument == "tuko_common_assessment"
    assert assessed.from_case == TUKO_CASE
    assert assessed.professional_judgement is not None
    assert TUKO_CASE in assessed.professional_judgement
    assert "high" in assessed.professional_judgement
    assert marac.marac.current.criteria_met == ("professional_judgement",)
    assert marac.marac.linked_case == TUKO_CASE
    assert marac.marac.current.child_safeguarding_required


def test_the_tuko_case_records_the_link(linked: Engine) -> None:
    """The TUKO case gets MaracCaseLinked and stays in its state."""
    tuko = linked.case(TUKO_CASE)
    assert tuko.state == "stage3_plan"
    (link,) = tuko.marac_links
    assert isinstance(link, MaracCaseLinked)
    assert (link.marac_case_id, link.area, link.victim_ref) == (MARAC_CASE, AREA, VICTIM)
    assert linked.history(TUKO_CASE)[-1] == link
    assert replay(linked.history(TUKO_CASE)) == tuko


def test_a_retried_open_records_the_link_once(engine: Engine, clock: ManualClock) -> None:
    """Re-sending the same OpenMaracCase (same command id) stores nothing twice."""
    drive_to(engine, clock, TUKO_CASE, "stage3_plan")
    command = OpenMaracCase(
        case_id=MARAC_CASE,
        area=AREA,
        victim=PersonAtRisk(ref=VICTIM, relation=Relation.VICTIM),
        perpetrator=Client(CLIENT),
        network=NETWORK,
        children=(PersonAtRisk(ref=CHILD, relation=Relation.CHILD),),
        tuko_case_id=TUKO_CASE,
    )
    first = engine.open_case(command, actor=POLICE)
    tuko_version = engine.case(TUKO_CASE).version
    again = engine.open_case(command, actor=POLICE)
    assert again == first
    assert engine.case(TUKO_CASE).version == tuko_version
    assert len(engine.case(TUKO_CASE).marac_links) == 1


def test_without_a_high_harm_assessment_a_checklist_is_required(
    engine: Engine, clock: ManualClock
) -> None:
    """A TUKO case with no Stage 2 common assessment yet cannot stand in for a DASH."""
    drive_to(engine, clock, TUKO_CASE, "stage2_evaluate")
    with pytest.raises(ValidationError) as info:
        raise_marac(engine)
    assert info.value.fields == ("checklist",)
    assert sorted(engine.case_ids()) == [TUKO_CASE]
    assert engine.case(TUKO_CASE).marac_links == ()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"perpetrator": Client("client-0other")}, "perpetrator"),
        ({"victim": PersonAtRisk(ref="victim-0other", relation=Relation.VICTIM)}, "victim"),
        ({"tuko_case_id": "case-missing"}, "tuko_case_id"),
    ],
    ids=["other_perpetrator", "other_victim", "no_such_case"],
)
def test_the_marac_case_must_be_about_the_tuko_cases_people(
    engine: Engine, clock: ManualClock, change: dict[str, object], field: str
) -> None:
    """Victim and perpetrator must be the TUKO case's victim and client."""
    drive_to(engine, clock, TUKO_CASE, "stage3_plan")
    with pytest.raises(ValidationError) as info:
        raise_marac(engine, **change)
    assert field in info.value.fields
    assert engine.case(TUKO_CASE).marac_links == ()


# --- outcomes shared with the TUKO network ----------------------------------------------


def test_the_conference_outcome_reaches_the_tuko_case_on_the_legal_basis(
    linked: Engine, clock: ManualClock
) -> None:
    """After the conference the TUKO case holds the MARAC state, conference date and action
    plan, shared on the MARAC's legal basis."""
    marac = to_conference(linked, clock)
    tuko = linked.case(TUKO_CASE)
    (outcome,) = tuko.marac_outcomes
    assert isinstance(outcome, MaracOutcomeShared)
    assert outcome.marac_case_id == MARAC_CASE
    assert outcome.marac_state == "discussed"
    assert outcome.conference_at == marac.marac.current.last_conference.held_at  # type: ignore[union-attr]
    assert outcome.actions == marac.marac.current.actions
    assert outcome.legal_basis == "Victim Support Act § 10"
    assert tuko.marac_outcome(MARAC_CASE) == outcome


def test_reviews_and_closure_are_shared_too(linked: Engine, clock: ManualClock) -> None:
    """Each later MARAC decision sends the newest outcome with the review findings."""
    to_conference(linked, clock)
    review(linked, clock, {"a-1": "done", "a-2": "prevented", "a-3": "in_progress"})
    outcome = linked.case(TUKO_CASE).marac_outcome(MARAC_CASE)
    assert outcome is not None
    assert {r.action_id: r.outcome.value for r in outcome.reviews} == {
        "a-1": "done",
        "a-2": "prevented",
        "a-3": "in_progress",
    }
    assert len(linked.case(TUKO_CASE).marac_outcomes) == 2


def test_a_retried_conference_shares_the_outcome_once(linked: Engine, clock: ManualClock) -> None:
    """Re-sending the HoldConference command does not share its outcome twice."""
    to_conference(linked, clock)
    held = next(
        e for e in reversed(linked.history(MARAC_CASE)) if type(e).__name__ == "ConferenceHeld"
    )
    command = HoldConference(
        command_id=held.command_id,
        held_at=held.held_at,
        agencies_present=PRESENT,
        victim_represented_by="m-idva",
        actions=actions(clock, *PLAN),
    )
    tuko_version = linked.case(TUKO_CASE).version
    linked.execute(MARAC_CASE, command, actor=VICTIM_SUPPORT)
    assert linked.case(TUKO_CASE).version == tuko_version
    assert len(linked.case(TUKO_CASE).marac_outcomes) == 1


# --- MARAC actions in the TUKO plan -----------------------------------------------------


def test_actions_of_network_agencies_become_plan_tasks(linked: Engine, clock: ManualClock) -> None:
    """Police and victim-support actions become tasks marac:<id> owned by their members;
    the women's centre, outside the TUKO network, is recorded as not taken."""
    to_conference(linked, clock)
    draft(linked, clock)
    before = linked.case(TUKO_CASE).version
    case = linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=OFFICER)
    new = linked.history(TUKO_CASE)[before:]
    assert [type(e).__name__ for e in new] == ["TaskAssigned", "TaskAssigned", "MaracActionsTaken"]
    assigned = [e.task for e in new if isinstance(e, TaskAssigned)]
    assert [(t.task_id, t.owner, t.area) for t in assigned] == [
        ("marac:a-1", "m-pol", "policing"),
        ("marac:a-3", "m-vs", "victim_safety"),
    ]
    taken = new[-1]
    assert isinstance(taken, MaracActionsTaken)
    assert taken.taken == ("a-1", "a-3")
    assert [left.action_id for left in taken.not_taken] == ["a-2"]
    assert "womens_support_centre" in taken.not_taken[0].reason
    plan_now = case.cycle.plan
    assert plan_now is not None
    assert {t.task_id for t in plan_now.tasks} == {"marac:a-1", "marac:a-3"}
    assert case.marac_actions_taken == (taken,)
    assert replay(linked.history(TUKO_CASE)) == case


def test_actions_are_taken_once(linked: Engine, clock: ManualClock) -> None:
    """Taking the same MARAC case's actions again, with nothing new, is invalid."""
    to_conference(linked, clock)
    draft(linked, clock)
    linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=OFFICER)
    error = invalid(linked, TakeMaracActions(marac_case_id=MARAC_CASE))
    assert "no action left" in str(error)


def test_only_the_case_leader_takes_marac_actions(linked: Engine, clock: ManualClock) -> None:
    """A partner cannot change the plan."""
    to_conference(linked, clock)
    draft(linked, clock)
    with pytest.raises(CommandRefused) as info:
        linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=POLICE)
    assert "actor_is_case_leader" in info.value.rules


def test_no_outcome_yet_is_refused_and_writes_nothing(linked: Engine, clock: ManualClock) -> None:
    """Before the MARAC conference there is nothing to take into the plan."""
    draft(linked, clock)
    before = linked.case(TUKO_CASE)
    with pytest.raises(CommandRefused) as info:
        linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=OFFICER)
    assert info.value.rules == ("marac_outcome_received",)
    assert linked.case(TUKO_CASE) == before
    assert len(linked.history(TUKO_CASE)) == before.version


def test_an_unlinked_marac_case_id_is_invalid_naming_the_linked_ones(
    linked: Engine, clock: ManualClock
) -> None:
    """An id whose outcome never reached this case is refused; the linked ids are named."""
    to_conference(linked, clock)
    draft(linked, clock)
    error = invalid(linked, TakeMaracActions(marac_case_id="marac-zz99"))
    assert error.fields == ("marac_case_id",)
    assert MARAC_CASE in str(error)


def test_an_agency_with_two_members_needs_an_owner_chosen(
    linked: Engine, clock: ManualClock
) -> None:
    """With two police members the action's owner is ambiguous: the error names the action
    and the members; owners chooses one."""
    linked.execute(
        TUKO_CASE,
        AddNetworkMember(
            member=NetworkMember(member_id="m-pol2", agency="police", person="pol-203")
        ),
        actor=OFFICER,
    )
    to_conference(linked, clock)
    draft(linked, clock)
    error = invalid(linked, TakeMaracActions(marac_case_id=MARAC_CASE))
    assert error.fields == ("owners['a-1']",)
    assert "m-pol" in str(error)
    assert "m-pol2" in str(error)
    wrong = invalid(linked, TakeMaracActions(marac_case_id=MARAC_CASE, owners={"a-1": "m-vs"}))
    assert wrong.fields == ("owners['a-1']",)
    unknown = invalid(
        linked,
        TakeMaracActions(marac_case_id=MARAC_CASE, owners={"a-1": "m-pol2", "a-9": "m-pol"}),
    )
    assert unknown.fields == ("owners['a-9']",)
    case = linked.execute(
        TUKO_CASE,
        TakeMaracActions(marac_case_id=MARAC_CASE, owners={"a-1": "m-pol2"}),
        actor=OFFICER,
    )
    plan_now = case.cycle.plan
    assert plan_now is not None
    task = plan_now.task("marac:a-1")
    assert task is not None
    assert task.owner == "m-pol2"


def test_an_action_due_beyond_the_plans_timeframe_is_invalid_naming_it(
    linked: Engine, clock: ManualClock
) -> None:
    """A crisis plan's tasks fall within days: a MARAC action due in 30 days is refused,
    naming the action; nothing is taken."""
    to_conference(
        linked,
        clock,
        plan=[
            ("a-1", "police", "policing", 30),
            ("a-3", "victim_support", "victim_safety", 5),
        ],
    )
    draft(linked, clock, crisis=True)
    error = invalid(linked, TakeMaracActions(marac_case_id=MARAC_CASE))
    assert error.fields == ("actions['a-1'].due_on",)
    assert linked.case(TUKO_CASE).marac_actions_taken == ()


def test_actions_reviewed_to_an_outcome_are_left_out(linked: Engine, clock: ManualClock) -> None:
    """Actions the MARAC already settled are recorded as not taken; new review actions are
    taken."""
    to_conference(linked, clock)
    review(
        linked,
        clock,
        {"a-1": "done", "a-2": "done", "a-3": "not_done"},
        [("a-4", "police", "policing")],
    )
    draft(linked, clock)
    case = linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=OFFICER)
    (taken,) = case.marac_actions_taken
    assert taken.taken == ("a-4",)
    assert {left.action_id for left in taken.not_taken} == {"a-1", "a-2", "a-3"}


# --- what the client's side never receives ----------------------------------------------


def test_marac_tasks_are_withheld_from_the_clients_copy_of_the_plan(
    linked: Engine, clock: ManualClock
) -> None:
    """With a client member in the TUKO network, distributing the plan records the MARAC
    tasks as withheld from the client's copy; ordinary tasks are not withheld."""
    to_conference(linked, clock)
    draft(linked, clock)
    linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=OFFICER)
    linked.execute(
        TUKO_CASE,
        AddNetworkMember(member=NetworkMember(member_id="m-cl", agency="client", person=CLIENT)),
        actor=OFFICER,
    )
    case = linked.execute(TUKO_CASE, DistributePlan(), actor=OFFICER)
    sent = linked.history(TUKO_CASE)[-1]
    assert isinstance(sent, PlanDistributed)
    assert "m-cl" in sent.recipients
    assert sent.withheld == ("marac:a-1", "marac:a-3")
    assert case.cycle.plan is not None
    assert case.cycle.plan.distributed_revision == case.cycle.plan.revision


def test_without_a_client_member_nothing_is_withheld(linked: Engine, clock: ManualClock) -> None:
    """A network without the client's side receives the whole plan."""
    to_conference(linked, clock)
    draft(linked, clock)
    linked.execute(TUKO_CASE, TakeMaracActions(marac_case_id=MARAC_CASE), actor=OFFICER)
    linked.execute(TUKO_CASE, DistributePlan(), actor=OFFICER)
    sent = linked.history(TUKO_CASE)[-1]
    assert isinstance(sent, PlanDistributed)
    assert sent.withheld == ()


# --- telling again ------------------------------------------------------------------------


class _FailingOnce(InMemoryEventStore):
    """An in-memory store whose next append to one case fails, as a lost disk would."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_for: str | None = None

    def append(self, case_id, events, expected_version):  # type: ignore[no-untyped-def]
        if case_id == self.fail_for:
            self.fail_for = None
            raise StorageUnavailable("the disk went away (test)")
        return super().append(case_id, events, expected_version)


def test_a_fact_lost_on_the_way_is_told_again_when_the_command_is_retried(
    clock: ManualClock,
) -> None:
    """The conference is stored but telling the TUKO case fails; re-sending the same command
    (same command id) stores nothing new on the MARAC case and tells the outcome, once."""
    store = _FailingOnce()
    engine = Engine(store, clock=clock)
    drive_to(engine, clock, TUKO_CASE, "stage3_plan")
    raise_marac(engine)
    list_for_conference(
        engine, clock, MARAC_CASE, days=7, coordinator=VICTIM_SUPPORT, police=POLICE
    )
    prepare_conference(
        engine, MARAC_CASE, children=True, child=CHILD, coordinator=VICTIM_SUPPORT, police=POLICE
    )
    clock.advance(days=7)
    command = HoldConference(
        held_at=clock.now(),
        agencies_present=PRESENT,
        victim_represented_by="m-idva",
        actions=actions(clock, *PLAN),
    )
    store.fail_for = TUKO_CASE
    with pytest.raises(StorageUnavailable):
        engine.execute(MARAC_CASE, command, actor=VICTIM_SUPPORT)
    marac_version = engine.case(MARAC_CASE).version
    assert engine.case(MARAC_CASE).state == "discussed"  # the conference itself is stored
    assert engine.case(TUKO_CASE).marac_outcomes == ()
    engine.execute(MARAC_CASE, command, actor=VICTIM_SUPPORT)  # the retry
    engine.execute(MARAC_CASE, command, actor=VICTIM_SUPPORT)  # and once more
    assert engine.case(MARAC_CASE).version == marac_version
    (outcome,) = engine.case(TUKO_CASE).marac_outcomes
    assert outcome.marac_state == "discussed"
    assert [a.action_id for a in outcome.actions] == [p[0] for p in PLAN]
