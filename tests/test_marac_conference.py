"""MARAC conferences: the advocate, child safeguarding, the action plan, reviews, closure,
deadlines, information shared on a legal basis, and durable storage.

Expected behaviour comes from issue 3 and shared/DOMAIN.md ("MARAC process": each action
belongs to one agency; minutes separate actions circumstances prevented from actions not
done; the victim is represented by an advocate; timescales are local configuration) and
seed 001, Data ix (high-risk information shared by law, Victim Support Act § 10).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from marac_helpers import (
    ADVOCATE,
    CHILD,
    COORDINATOR,
    MARAC_CASE,
    MARAC_NETWORK,
    POLICE,
    PRESENT,
    actions,
    checklist,
    discussed,
    hold_conference,
    list_for_conference,
    new_types,
    open_marac,
    prepare_conference,
    refer,
)

from tuko_flow import (
    ActionReview,
    Actor,
    CirculateMinutes,
    Client,
    CloseMaracCase,
    Engine,
    HoldConference,
    InMemoryEventStore,
    ManualClock,
    MaracConfig,
    OfferAdvocate,
    OpenMaracCase,
    PersonAtRisk,
    ReceiveReferral,
    ReferToService,
    Relation,
    ReportIncident,
    ReturnReferral,
    ReviewActions,
    ShareMaracInformation,
    TukoConfig,
    replay,
)
from tuko_flow.errors import CommandRefused, ValidationError
from tuko_flow.events import (
    ActionsReviewed,
    ConferenceHeld,
    ConferenceOverdue,
    MaracInformationShared,
    MinutesCirculated,
    MinutesOverdue,
)
from tuko_flow.testing import START


def refused(engine: Engine, command: object, actor: Actor = COORDINATOR) -> CommandRefused:
    """Run a command that must be refused; check nothing was written; return the refusal."""
    before = engine.case(MARAC_CASE)
    with pytest.raises(CommandRefused) as info:
        engine.execute(MARAC_CASE, command, actor=actor)  # type: ignore[arg-type]
    assert engine.case(MARAC_CASE) == before
    assert len(engine.history(MARAC_CASE)) == before.version
    return info.value


def invalid(engine: Engine, command: object, actor: Actor = COORDINATOR) -> ValidationError:
    """Run a command that must be invalid; check nothing was written; return the error."""
    before = engine.case(MARAC_CASE)
    with pytest.raises(ValidationError) as info:
        engine.execute(MARAC_CASE, command, actor=actor)  # type: ignore[arg-type]
    assert engine.case(MARAC_CASE) == before
    return info.value


def conference(clock: ManualClock, *plan: tuple[str, str, str], **kw: object) -> HoldConference:
    fields: dict[str, object] = {
        "held_at": clock.now(),
        "agencies_present": PRESENT,
        "victim_represented_by": "m-idva",
        "actions": actions(clock, *plan),
    }
    fields.update(kw)
    return HoldConference(**fields)  # type: ignore[arg-type]


def review(clock: ManualClock, *findings: tuple[str, str], **kw: object) -> ReviewActions:
    fields: dict[str, object] = {
        "held_at": clock.now(),
        "agencies_present": PRESENT,
        "victim_represented_by": "m-idva",
        "reviews": [ActionReview(action_id=a, outcome=o) for a, o in findings],
    }
    fields.update(kw)
    return ReviewActions(**fields)  # type: ignore[arg-type]


def listed(engine: Engine, clock: ManualClock, *, children: bool = False) -> None:
    """A high-risk case listed for a conference, and the clock at the conference date."""
    open_marac(engine, clock, yes=16, children=children)
    list_for_conference(engine, clock)
    clock.advance(days=10)


# --- before the conference --------------------------------------------------------------


def test_conference_is_refused_until_the_victim_is_offered_an_advocate(
    engine: Engine, clock: ManualClock
) -> None:
    """Every high-risk victim is offered an independent advocate before the conference."""
    listed(engine, clock)
    error = refused(engine, conference(clock, ("a-1", "police", "policing")))
    assert error.rules == ("advocate_offered",)
    case = engine.execute(
        MARAC_CASE, OfferAdvocate(advocate="m-idva", accepted=False), actor=COORDINATOR
    )
    advocate = case.marac.advocate
    assert advocate is not None
    assert (advocate.advocate, advocate.accepted) == ("m-idva", False)
    assert (
        engine.execute(
            MARAC_CASE, conference(clock, ("a-1", "police", "policing")), actor=COORDINATOR
        ).state
        == "discussed"
    )


def test_the_advocate_must_be_a_network_member_of_an_advocate_agency(
    engine: Engine, clock: ManualClock
) -> None:
    """Police cannot be the victim's independent advocate; an unknown member is refused."""
    listed(engine, clock)
    assert "m-idva" in str(invalid(engine, OfferAdvocate(advocate="m-pol", accepted=True)))
    assert invalid(engine, OfferAdvocate(advocate="m-zzz", accepted=True)).fields == ("advocate",)


def test_children_in_the_household_need_the_child_welfare_referral_first(
    engine: Engine, clock: ManualClock
) -> None:
    """MARAC never replaces child protection: the conference waits for the separate
    child-welfare referral; without advocate and referral both rules are named."""
    listed(engine, clock, children=True)
    assert engine.case(MARAC_CASE).marac.current.child_safeguarding_required
    error = refused(engine, conference(clock, ("a-1", "police", "policing")))
    assert set(error.rules) == {"advocate_offered", "child_safeguarding_referred"}
    engine.execute(MARAC_CASE, OfferAdvocate(advocate="m-idva", accepted=True), actor=COORDINATOR)
    error = refused(engine, conference(clock, ("a-1", "police", "policing")))
    assert error.rules == ("child_safeguarding_referred",)
    engine.execute(
        MARAC_CASE, ReferToService(service="child_welfare", person_ref=CHILD), actor=POLICE
    )
    case = engine.execute(
        MARAC_CASE, conference(clock, ("a-1", "police", "policing")), actor=COORDINATOR
    )
    assert case.state == "discussed"


def test_without_children_no_child_welfare_referral_is_needed(
    engine: Engine, clock: ManualClock
) -> None:
    """An adult-only household goes to conference with the advocate offered only."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    assert hold_conference(engine, clock).state == "discussed"


# --- the conference and its action plan -------------------------------------------------


def test_conference_records_who_was_there_and_the_action_plan(
    engine: Engine, clock: ManualClock
) -> None:
    """ConferenceHeld names the agencies, the advocate representing the victim and the
    legal basis; each action is owned by one agency present."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    before = engine.case(MARAC_CASE).version
    case = hold_conference(engine, clock)
    assert new_types(engine, MARAC_CASE, before) == [
        "ConferenceHeld",
        "ActionPlanAgreed",
        "StageChanged",
    ]
    held = engine.history(MARAC_CASE)[before]
    assert isinstance(held, ConferenceHeld)
    assert held.agencies_present == PRESENT
    assert held.victim_represented_by == "m-idva"
    assert held.review is False
    assert held.legal_basis == MaracConfig().legal_basis
    assert [(a.action_id, a.agency) for a in case.marac.current.actions] == [
        ("a-1", "police"),
        ("a-2", "womens_support_centre"),
    ]
    assert [a.action_id for a in case.marac.current.open_actions] == ["a-1", "a-2"]


@pytest.mark.parametrize(
    ("plan", "field", "words"),
    [
        ((("a-1", "health", "mental_health"),), "actions[0].agency", "not at the conference"),
        ((("a-1", "police", "child_safety"),), "actions[0].agency", "no competence"),
        ((("a-1", "police", "gardening"),), "actions[0].area", "not a task area"),
        (
            (("a-1", "police", "policing"), ("a-1", "victim_support", "victim_safety")),
            "actions[1].action_id",
            "used already",
        ),
    ],
    ids=["agency_absent", "no_competence", "unknown_area", "duplicate_id"],
)
def test_each_action_is_owned_by_one_agency_present_and_competent(
    engine: Engine,
    clock: ManualClock,
    plan: tuple[tuple[str, str, str], ...],
    field: str,
    words: str,
) -> None:
    """An action's agency must be at the conference and competent for its area."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    error = invalid(engine, conference(clock, *plan))
    assert field in error.fields
    assert words in str(error)


def test_an_action_due_before_the_conference_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """due_on cannot be earlier than the conference date."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    (action,) = actions(clock, ("a-1", "police", "policing"))
    late = type(action)(
        action_id="a-1",
        agency="police",
        description="Done before it was agreed.",
        area="policing",
        due_on=clock.now().date() - timedelta(days=1),
    )
    error = invalid(engine, conference(clock, actions=[late]))
    assert "actions[0].due_on" in error.fields


def test_the_perpetrator_takes_no_part_in_a_marac(engine: Engine, clock: ManualClock) -> None:
    """The client agency among the agencies present is refused; so is a conference without
    the coordinator's agency."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    with_client = invalid(engine, conference(clock, agencies_present=(*PRESENT, "client")))
    assert "agencies_present" in with_client.fields
    assert "perpetrator" in str(with_client)
    no_coordinator = invalid(
        engine, conference(clock, agencies_present=("police", "womens_support_centre"))
    )
    assert "victim_support" in str(no_coordinator)


def test_the_victim_is_represented_by_an_advocate_not_another_agency(
    engine: Engine, clock: ManualClock
) -> None:
    """victim_represented_by must be a member of an advocate agency."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    error = invalid(engine, conference(clock, victim_represented_by="m-pol"))
    assert error.fields == ("victim_represented_by",)


def test_conference_commands_are_the_coordinators(engine: Engine, clock: ManualClock) -> None:
    """Police and the advocate cannot hold, minute, review or close the MARAC."""
    listed(engine, clock)
    prepare_conference(engine, children=False)
    for actor in (POLICE, ADVOCATE):
        error = refused(engine, conference(clock, ("a-1", "police", "policing")), actor)
        assert error.rules == ("actor_is_coordinator",)
    hold_conference(engine, clock)
    clock.advance(days=14)
    later = (
        CirculateMinutes(),
        review(clock, ("a-1", "done"), ("a-2", "done")),
        CloseMaracCase(reason="Done."),
    )
    for command in later:
        for actor in (POLICE, ADVOCATE):
            assert "actor_is_coordinator" in refused(engine, command, actor).rules


# --- minutes and reviews ----------------------------------------------------------------


def test_minutes_go_to_the_agencies_present_once_per_conference(
    engine: Engine, clock: ManualClock
) -> None:
    """The minutes of the latest conference are circulated once, to the agencies present."""
    discussed(engine, clock)
    case = engine.execute(MARAC_CASE, CirculateMinutes(), actor=COORDINATOR)
    minutes = case.marac.current.minutes[-1]
    assert isinstance(minutes, MinutesCirculated)
    assert minutes.recipients == PRESENT
    assert minutes.conference_at == case.marac.current.last_conference.held_at  # type: ignore[union-attr]
    assert refused(engine, CirculateMinutes()).rules == ("minutes_pending",)


def test_review_separates_done_prevented_not_done_and_in_progress(
    engine: Engine, clock: ManualClock
) -> None:
    """The review keeps prevented apart from not done; in-progress actions stay open and
    closing is refused, naming them, until a later review settles them."""
    discussed(
        engine,
        clock,
        plan=(
            ("a-1", "police", "policing"),
            ("a-2", "womens_support_centre", "victim_safety"),
            ("a-3", "victim_support", "victim_safety"),
            ("a-4", "child_protection", "child_safety"),
        ),
    )
    assert refused(engine, CloseMaracCase(reason="Early.")).rules == ("actions_reviewed",)
    clock.advance(days=14)
    before = engine.case(MARAC_CASE).version
    case = engine.execute(
        MARAC_CASE,
        review(
            clock,
            ("a-1", "done"),
            ("a-2", "prevented"),
            ("a-3", "not_done"),
            ("a-4", "in_progress"),
        ),
        actor=COORDINATOR,
    )
    assert new_types(engine, MARAC_CASE, before) == ["ConferenceHeld", "ActionsReviewed"]
    reviewed = engine.history(MARAC_CASE)[before + 1]
    assert isinstance(reviewed, ActionsReviewed)
    current = case.marac.current
    outcomes = {a.action_id: current.outcome(a.action_id) for a in current.actions}
    assert {k: v.value for k, v in outcomes.items() if v} == {
        "a-1": "done",
        "a-2": "prevented",
        "a-3": "not_done",
        "a-4": "in_progress",
    }
    assert [a.action_id for a in current.open_actions] == ["a-4"]
    error = refused(engine, CloseMaracCase(reason="Risk reduced."))
    assert error.rules == ("actions_reviewed",)
    assert "a-4" in error.failures[0].reason
    clock.advance(days=14)
    engine.execute(MARAC_CASE, review(clock, ("a-4", "done")), actor=COORDINATOR)
    case = engine.execute(MARAC_CASE, CloseMaracCase(reason="Risk reduced."), actor=COORDINATOR)
    assert case.state == "closed"
    assert case.marac.current.closure is not None


def test_review_needs_a_finding_for_every_open_action_and_only_those(
    engine: Engine, clock: ManualClock
) -> None:
    """A review missing an open action, or naming an unknown one, is invalid."""
    discussed(engine, clock)
    clock.advance(days=14)
    missing = invalid(engine, review(clock, ("a-1", "done")))
    assert "a-2" in str(missing)
    unknown = invalid(engine, review(clock, ("a-1", "done"), ("a-2", "done"), ("a-9", "done")))
    assert "reviews[2].action_id" in unknown.fields


def test_a_review_can_agree_new_actions_which_stay_open(engine: Engine, clock: ManualClock) -> None:
    """New actions agreed at a review are owned like the first ones and reviewed later."""
    discussed(engine, clock)
    clock.advance(days=14)
    case = engine.execute(
        MARAC_CASE,
        review(
            clock,
            ("a-1", "done"),
            ("a-2", "done"),
            new_actions=actions(clock, ("a-5", "victim_support", "victim_safety")),
        ),
        actor=COORDINATOR,
    )
    assert [a.action_id for a in case.marac.current.open_actions] == ["a-5"]
    assert refused(engine, CloseMaracCase(reason="x")).rules == ("actions_reviewed",)


def test_a_review_conference_must_come_after_the_last_one(
    engine: Engine, clock: ManualClock
) -> None:
    """held_at of a review not later than the last conference is invalid."""
    discussed(engine, clock)
    error = invalid(engine, review(clock, ("a-1", "done"), ("a-2", "done")))
    assert "held_at" in error.fields


# --- deadlines --------------------------------------------------------------------------


def test_a_referral_not_discussed_in_time_is_recorded_overdue_once(
    engine: Engine, clock: ManualClock
) -> None:
    """conference_within_days (28 by default) after the referral, check_deadlines records
    ConferenceOverdue once; checking again records nothing."""
    open_marac(engine, clock, yes=16)
    list_for_conference(engine, clock)
    clock.set(START + timedelta(days=28))
    assert engine.check_deadlines(MARAC_CASE) == ()
    clock.advance(minutes=1)
    (overdue,) = engine.check_deadlines(MARAC_CASE)
    assert isinstance(overdue, ConferenceOverdue)
    assert overdue.due_by == START + timedelta(days=28)
    assert engine.case(MARAC_CASE).marac.current.conference_overdue == overdue
    clock.advance(days=3)
    assert engine.check_deadlines() == ()


def test_a_returned_referral_is_never_overdue(engine: Engine, clock: ManualClock) -> None:
    """A returned (resting) referral has no conference to wait for."""
    open_marac(engine, clock, yes=16)
    refer(engine)
    engine.execute(MARAC_CASE, ReceiveReferral(), actor=COORDINATOR)
    engine.execute(MARAC_CASE, ReturnReferral(reason="Wrong area."), actor=COORDINATOR)
    clock.advance(days=60)
    assert engine.check_deadlines(MARAC_CASE) == ()


@pytest.mark.parametrize(
    ("holidays", "due_on"),
    [((), date(2026, 1, 20)), ((date(2026, 1, 19),), date(2026, 1, 21))],
    ids=["no_holiday", "monday_holiday"],
)
def test_minutes_are_due_within_working_days_and_overdue_once(
    clock: ManualClock, holidays: tuple[date, ...], due_on: date
) -> None:
    """Minutes of a Thursday conference are due 3 working days later (weekends and the
    configured holidays not counted); the day after, MinutesOverdue is recorded once."""
    engine = Engine(
        InMemoryEventStore(), clock=clock, config=TukoConfig(marac=MaracConfig(holidays=holidays))
    )
    discussed(engine, clock)
    held = engine.case(MARAC_CASE).marac.current.last_conference
    assert held is not None
    assert held.held_at.date() == date(2026, 1, 15)
    clock.set(datetime.combine(due_on, held.held_at.timetz()).replace(hour=23, tzinfo=UTC))
    assert engine.check_deadlines(MARAC_CASE) == ()
    clock.advance(hours=2)
    (overdue,) = engine.check_deadlines(MARAC_CASE)
    assert isinstance(overdue, MinutesOverdue)
    assert (overdue.conference_at, overdue.due_on) == (held.held_at, due_on)
    clock.advance(days=2)
    assert engine.check_deadlines(MARAC_CASE) == ()


def test_minutes_circulated_in_time_are_never_overdue(engine: Engine, clock: ManualClock) -> None:
    """Circulated minutes leave nothing for the deadline check."""
    discussed(engine, clock)
    engine.execute(MARAC_CASE, CirculateMinutes(), actor=COORDINATOR)
    clock.advance(days=10)
    assert engine.check_deadlines(MARAC_CASE) == ()


# --- information sharing ----------------------------------------------------------------


def test_information_is_shared_on_the_legal_basis_recorded_on_each_event(
    engine: Engine, clock: ManualClock
) -> None:
    """Each sharing event records the legal basis and that no consent was relied on."""
    listed(engine, clock)
    for actor, text in ((POLICE, "Two call-outs this month."), (ADVOCATE, "Victim moved.")):
        engine.execute(
            MARAC_CASE,
            ShareMaracInformation(information=text, to_agencies=("victim_support", "police")),
            actor=actor,
        )
    shared = engine.case(MARAC_CASE).marac.shared
    assert len(shared) == 2
    for event in shared:
        assert isinstance(event, MaracInformationShared)
        assert event.legal_basis == "Victim Support Act § 10"
        assert event.consent is False
    assert [e.from_agency for e in shared] == ["police", "womens_support_centre"]


def test_the_legal_basis_is_the_areas_configuration(clock: ManualClock) -> None:
    """Another legal basis configured for the MARAC is the one recorded."""
    engine = Engine(
        InMemoryEventStore(),
        clock=clock,
        config=TukoConfig(marac=MaracConfig(legal_basis="Local data-sharing act s. 4")),
    )
    open_marac(engine, clock, yes=16)
    case = engine.execute(
        MARAC_CASE,
        ShareMaracInformation(information="Risk rising.", to_agencies=("victim_support",)),
        actor=POLICE,
    )
    assert case.marac.shared[-1].legal_basis == "Local data-sharing act s. 4"
    referral = refer(engine).marac.current.referral
    assert referral is not None
    assert referral.legal_basis == "Local data-sharing act s. 4"


def test_marac_information_never_goes_to_the_client_agency(
    engine: Engine, clock: ManualClock
) -> None:
    """Sharing to the client agency is invalid and nothing is recorded."""
    listed(engine, clock)
    error = invalid(
        engine,
        ShareMaracInformation(information="Victim's new address.", to_agencies=("client",)),
        POLICE,
    )
    assert error.fields == ("to_agencies",)
    assert engine.case(MARAC_CASE).marac.shared == ()


# --- durable storage --------------------------------------------------------------------


def test_a_full_marac_case_round_trips_through_sqlite_with_snapshots(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A MARAC case in a SQLite file, snapshotted every 2 events, reads back equal in a
    new engine, and its snapshot equals the replayed case."""
    path = tmp_path / "marac.db"
    engine = Engine(path, clock=clock, snapshot_every=2)
    discussed(engine, clock, children=True)
    engine.execute(MARAC_CASE, CirculateMinutes(), actor=COORDINATOR)
    clock.advance(days=14)
    engine.execute(
        MARAC_CASE, review(clock, ("a-1", "done"), ("a-2", "prevented")), actor=COORDINATOR
    )
    live = engine.execute(MARAC_CASE, CloseMaracCase(reason="Risk reduced."), actor=COORDINATOR)
    assert engine.store.load_snapshot(MARAC_CASE) is not None
    reopened = Engine(path, clock=clock, snapshot_every=2)
    assert reopened.case(MARAC_CASE) == live
    assert reopened.history(MARAC_CASE) == engine.history(MARAC_CASE)
    assert replay(reopened.history(MARAC_CASE)) == live
    fresh = Engine(path, clock=clock, snapshot_every=None)
    assert fresh.case(MARAC_CASE) == live
    assert reopened.marac_case_for(live.marac.victim_ref, live.marac.perpetrator_ref) == (
        MARAC_CASE
    )


# --- each round is a new referral ---------------------------------------------------------


def _close_and_refer_again(engine: Engine, clock: ManualClock) -> None:
    """Review and close the first round, report a repeat incident, list round 2."""
    clock.advance(days=20)
    engine.execute(
        MARAC_CASE,
        ReviewActions(
            held_at=clock.now(),
            agencies_present=PRESENT,
            victim_represented_by="m-idva",
            reviews=(
                ActionReview(action_id="a-1", outcome="done"),
                ActionReview(action_id="a-2", outcome="done"),
            ),
        ),
        actor=COORDINATOR,
    )
    engine.execute(MARAC_CASE, CloseMaracCase(reason="Risk reduced."), actor=COORDINATOR)
    clock.advance(days=60)
    engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    list_for_conference(engine, clock)
    clock.advance(days=10)


def test_a_new_round_offers_the_advocate_and_refers_the_children_again(
    engine: Engine, clock: ManualClock
) -> None:
    """The first round's advocate offer and child-welfare referral do not carry over: the
    repeat's conference is refused naming both until they are recorded again."""
    discussed(engine, clock, children=True)
    _close_and_refer_again(engine, clock)
    before = engine.case(MARAC_CASE)
    with pytest.raises(CommandRefused) as refused:
        hold_conference(engine, clock)
    assert refused.value.rules == ("advocate_offered", "child_safeguarding_referred")
    assert engine.case(MARAC_CASE) == before
    prepare_conference(engine, children=True)
    # action ids stay unique across rounds: round 2 agrees new ones
    second = hold_conference(engine, clock, plan=(("a-3", "police", "policing"),))
    assert second.state == "discussed"
    assert second.marac is not None
    assert second.marac.current.number == 2


def test_children_among_the_people_at_risk_need_the_child_welfare_referral(
    engine: Engine, clock: ManualClock
) -> None:
    """A child on the case needs its own referral even when the checklist said no children."""
    engine.open_case(
        OpenMaracCase(
            case_id=MARAC_CASE,
            area="area-north",
            victim=PersonAtRisk(ref="victim-3c1d", relation=Relation.VICTIM),
            perpetrator=Client("client-8e2f"),
            network=MARAC_NETWORK,
            children=(PersonAtRisk(ref=CHILD, relation=Relation.CHILD),),
            checklist=checklist(15, at=clock.now(), children=False),
        ),
        actor=POLICE,
    )
    list_for_conference(engine, clock)
    prepare_conference(engine, children=False)
    clock.advance(days=10)
    with pytest.raises(CommandRefused) as refused:
        hold_conference(engine, clock)
    assert refused.value.rules == ("child_safeguarding_referred",)


def test_a_conference_before_the_referral_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """A conference cannot have discussed a referral that did not exist yet."""
    open_marac(engine, clock)
    list_for_conference(engine, clock)
    prepare_conference(engine, children=False)
    clock.advance(days=10)
    before = engine.case(MARAC_CASE)
    with pytest.raises(ValidationError) as invalid:
        engine.execute(
            MARAC_CASE,
            HoldConference(
                held_at=START - timedelta(days=1),
                agencies_present=PRESENT,
                victim_represented_by="m-idva",
                actions=(),
            ),
            actor=COORDINATOR,
        )
    assert "held_at" in invalid.value.fields
    assert "before the referral" in str(invalid.value)
    assert engine.case(MARAC_CASE) == before
