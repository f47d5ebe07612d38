"""MARAC risk identification and referral: DASH results, the referral criteria, repeats,
the coordinator's decision, and one MARAC case per victim and perpetrator.

Expected behaviour comes from issue 3 and shared/DOMAIN.md (SafeLives referral criteria:
visible high risk, professional judgement, potential escalation, repeat; thresholds and
the repeat window are configuration). All people are made-up pseudonymous references.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from marac_helpers import (
    AREA,
    COORDINATOR,
    MARAC_CASE,
    PERPETRATOR,
    POLICE,
    SAFE_NOTICE,
    UNSAFE_NOTICE,
    VICTIM,
    checklist,
    discussed,
    list_for_conference,
    new_types,
    open_marac,
    refer,
)

from tuko_flow import (
    AcceptReferral,
    ActionReview,
    Actor,
    CloseMaracCase,
    DecideNotToRefer,
    Engine,
    InMemoryEventStore,
    ManualClock,
    MaracConfig,
    ReceiveReferral,
    RecordRiskAssessment,
    ReferToMarac,
    RepeatAnchor,
    ReportIncident,
    ReturnReferral,
    ReviewActions,
    TukoConfig,
    replay,
)
from tuko_flow.errors import CommandRefused, TukoFlowError, ValidationError
from tuko_flow.events import (
    IncidentReported,
    MaracReferralMade,
    NotReferredDecided,
    ReferralReturned,
    RiskAssessed,
)
from tuko_flow.rules.dash import Thresholds
from tuko_flow.testing import START


def engine_with(clock: ManualClock, **marac: object) -> Engine:
    """An in-memory engine whose default MARAC has the given settings."""
    config = TukoConfig(marac=MaracConfig(**marac))  # type: ignore[arg-type]
    return Engine(InMemoryEventStore(), clock=clock, config=config)


def close_first_round(engine: Engine, clock: ManualClock) -> None:
    """Take the case from its first conference to closure (both actions done)."""
    clock.advance(days=14)
    engine.execute(
        MARAC_CASE,
        ReviewActions(
            held_at=clock.now(),
            agencies_present=("police", "victim_support", "womens_support_centre"),
            victim_represented_by="m-idva",
            reviews=[
                ActionReview(action_id="a-1", outcome="done"),
                ActionReview(action_id="a-2", outcome="done"),
            ],
        ),
        actor=COORDINATOR,
    )
    engine.execute(MARAC_CASE, CloseMaracCase(reason="Risk reduced."), actor=COORDINATOR)


def refused(engine: Engine, command: object, actor: Actor = POLICE) -> CommandRefused:
    """Run a command that must be refused; check nothing was written; return the refusal."""
    before = engine.case(MARAC_CASE)
    with pytest.raises(CommandRefused) as info:
        engine.execute(MARAC_CASE, command, actor=actor)  # type: ignore[arg-type]
    assert engine.case(MARAC_CASE) == before
    assert len(engine.history(MARAC_CASE)) == before.version
    return info.value


# --- DASH below and above the threshold -------------------------------------------------


def test_dash_below_the_threshold_is_not_referred_and_every_finding_says_why(
    engine: Engine, clock: ManualClock
) -> None:
    """Below 14 yes with no judgement or escalation: refer_to_marac is refused with
    referral_criteria_met, and the reason carries every finding of the assessment."""
    case = open_marac(engine, clock, yes=9)
    assert case.state == "assessment"
    assessed = case.marac.current.assessment
    assert assessed is not None
    assert assessed.yes_count == 9
    assert case.marac.current.criteria_met == ()
    error = refused(engine, ReferToMarac(victim_notice=SAFE_NOTICE))
    assert error.rules == ("referral_criteria_met",)
    reason = error.failures[0].reason
    assert len(assessed.findings) == 3
    for finding in assessed.findings:
        assert not finding.met
        assert str(finding) in reason


def test_decide_not_to_refer_rests_a_case_below_the_threshold(
    engine: Engine, clock: ManualClock
) -> None:
    """An assessment that meets no criterion can be closed as not referred, with reasons."""
    open_marac(engine, clock, yes=3)
    before = engine.case(MARAC_CASE).version
    case = engine.execute(
        MARAC_CASE, DecideNotToRefer(reason="Standard risk; safety plan in place."), actor=POLICE
    )
    assert case.state == "not_referred"
    assert new_types(engine, MARAC_CASE, before) == ["NotReferredDecided", "StageChanged"]
    decided = engine.history(MARAC_CASE)[before]
    assert isinstance(decided, NotReferredDecided)
    assert case.marac.current.not_referred == decided


def test_dash_at_the_threshold_is_referred_on_visible_high_risk(
    engine: Engine, clock: ManualClock
) -> None:
    """14 yes (the default threshold) meets visible high risk: the referral is made by the
    police on that criterion, with the assessment attached and the victim notice recorded."""
    case = open_marac(engine, clock, yes=14)
    assert case.marac.current.criteria_met == ("visible_high_risk",)
    assessed = case.marac.current.assessment
    assert assessed is not None
    before = case.version
    case = engine.execute(MARAC_CASE, ReferToMarac(victim_notice=UNSAFE_NOTICE), actor=POLICE)
    assert case.state == "referred"
    assert new_types(engine, MARAC_CASE, before) == ["MaracReferralMade", "StageChanged"]
    referral = engine.history(MARAC_CASE)[before]
    assert isinstance(referral, MaracReferralMade)
    assert referral.referring_agency == "police"
    assert referral.criteria == ("visible_high_risk",)
    assert referral.repeat is False
    assert referral.assessment_version == assessed.version
    assert referral.victim_notice == UNSAFE_NOTICE
    assert referral.legal_basis == MaracConfig().legal_basis
    assert case.marac.current.referral == referral


def test_a_high_risk_case_cannot_be_decided_not_referred(
    engine: Engine, clock: ManualClock
) -> None:
    """decide_not_to_refer is refused when a criterion is met, naming the criteria."""
    open_marac(engine, clock, yes=20)
    error = refused(engine, DecideNotToRefer(reason="Not needed."))
    assert error.rules == ("no_referral_criterion_met",)
    assert "visible_high_risk" in error.failures[0].reason


def test_assessment_answers_are_kept_with_who_asked_and_when(
    engine: Engine, clock: ManualClock
) -> None:
    """RiskAssessed keeps every answer with its asker and time, and the thresholds used."""
    case = open_marac(engine, clock, yes=15)
    assessed = case.marac.current.assessment
    assert assessed is not None
    assert assessed.instrument == "safelives-dash"
    assert assessed.question_count == len(assessed.answers) == 24
    assert [a.value for a in assessed.answers].count("yes") == assessed.yes_count == 15
    assert {a.asked_by for a in assessed.answers} == {"police/pol-612"}
    assert {a.asked_at for a in assessed.answers} == {clock.now()}
    assert assessed.thresholds == Thresholds()


def test_referral_without_a_victim_notice_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """The victim notice is required: a missing one is a ValidationError, nothing written."""
    case = open_marac(engine, clock, yes=15)
    with pytest.raises(ValidationError) as info:
        engine.execute(MARAC_CASE, ReferToMarac(victim_notice=None), actor=POLICE)  # type: ignore[arg-type]
    assert info.value.fields == ("victim_notice",)
    assert engine.case(MARAC_CASE) == case


def test_a_checklist_for_another_victim_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """A checklist recorded for someone else than the case's victim is refused."""
    open_marac(engine, clock, yes=3)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            MARAC_CASE,
            RecordRiskAssessment(checklist=checklist(15, at=clock.now(), victim="victim-0bad")),
            actor=POLICE,
        )
    assert "checklist.victim_ref" in info.value.fields


# --- professional judgement -------------------------------------------------------------


def test_professional_judgement_refers_a_case_below_the_threshold(
    engine: Engine, clock: ManualClock
) -> None:
    """Below the threshold, written professional judgement is a criterion of its own."""
    open_marac(engine, clock, yes=5, judgement="Threats escalated after separation.")
    case = refer(engine)
    assert case.marac.current.referral is not None
    assert case.marac.current.referral.criteria == ("professional_judgement",)


def test_professional_judgement_never_lowers_a_visible_high_risk_result(
    engine: Engine, clock: ManualClock
) -> None:
    """With visible high risk and judgement both, the referral lists both criteria."""
    case = open_marac(engine, clock, yes=18, judgement="Also judged high risk.")
    assert case.marac.current.criteria_met == ("visible_high_risk", "professional_judgement")
    case = refer(engine)
    assert case.marac.current.referral is not None
    assert "visible_high_risk" in case.marac.current.referral.criteria


# --- potential escalation ---------------------------------------------------------------


@pytest.mark.parametrize(("incidents", "met"), [(2, False), (3, True), (7, True)])
def test_escalation_meets_the_criterion_at_the_configured_number_of_incidents(
    engine: Engine, clock: ManualClock, incidents: int, met: bool
) -> None:
    """Three incidents in 12 months (the default) is potential escalation, below any DASH
    threshold; two is not."""
    case = open_marac(engine, clock, yes=2, incidents=incidents)
    assert ("potential_escalation" in case.marac.current.criteria_met) is met
    if met:
        assert refer(engine).marac.current.referral.criteria == ("potential_escalation",)  # type: ignore[union-attr]
    else:
        assert refused(engine, ReferToMarac(victim_notice=SAFE_NOTICE)).rules == (
            "referral_criteria_met",
        )


def test_incidents_reported_to_the_case_count_towards_escalation(
    engine: Engine, clock: ManualClock
) -> None:
    """Three incidents reported within the escalation window meet potential escalation on
    a low DASH; the referral records that criterion."""
    open_marac(engine, clock, yes=2)
    for days_ago in (40, 20):
        engine.execute(
            MARAC_CASE,
            ReportIncident(
                occurred_on=clock.now().date() - timedelta(days=days_ago), kind="call_out"
            ),
            actor=POLICE,
        )
    error = refused(engine, ReferToMarac(victim_notice=SAFE_NOTICE))
    assert "2 reported incident(s)" in error.failures[0].reason
    engine.execute(
        MARAC_CASE, ReportIncident(occurred_on=clock.now().date(), kind="call_out"), actor=POLICE
    )
    referral = refer(engine).marac.current.referral
    assert referral is not None
    assert referral.criteria == ("potential_escalation",)


def test_escalation_number_is_configuration(clock: ManualClock) -> None:
    """An area counting five call-outs in 12 months does not escalate at three."""
    engine = engine_with(clock, thresholds=Thresholds(escalation_incidents=5))
    case = open_marac(engine, clock, yes=2, incidents=3)
    assert case.marac.current.criteria_met == ()
    case = engine.execute(
        MARAC_CASE,
        RecordRiskAssessment(checklist=checklist(2, at=clock.now(), incidents=5)),
        actor=POLICE,
    )
    assert case.marac.current.criteria_met == ("potential_escalation",)


# --- configurable thresholds ------------------------------------------------------------


@pytest.mark.parametrize(("yes", "met"), [(9, False), (10, True)])
def test_visible_high_risk_threshold_is_configuration(
    clock: ManualClock, yes: int, met: bool
) -> None:
    """With visible_high_risk=10, ten yes answers meet the criterion and nine do not."""
    engine = engine_with(clock, thresholds=Thresholds(visible_high_risk=10))
    case = open_marac(engine, clock, yes=yes)
    assert ("visible_high_risk" in case.marac.current.criteria_met) is met
    assessed = case.marac.current.assessment
    assert assessed is not None
    assert assessed.thresholds.visible_high_risk == 10


def test_each_marac_area_scores_with_its_own_thresholds(clock: ManualClock) -> None:
    """marac_areas gives each area its own thresholds, recorded on its assessments."""
    config = TukoConfig(
        marac_areas={
            AREA: MaracConfig(),
            "area-south": MaracConfig(thresholds=Thresholds(visible_high_risk=20)),
        }
    )
    engine = Engine(InMemoryEventStore(), clock=clock, config=config)
    north = open_marac(engine, clock, case_id="marac-n", yes=15, area=AREA)
    south = open_marac(
        engine, clock, case_id="marac-s", yes=15, area="area-south", victim="victim-77aa"
    )
    assert north.marac.current.criteria_met == ("visible_high_risk",)
    assert south.marac.current.criteria_met == ()
    assert south.marac.current.assessment.thresholds.visible_high_risk == 20  # type: ignore[union-attr]


def test_a_threshold_above_the_instrument_is_an_error_of_the_area_not_the_checklist(
    clock: ManualClock,
) -> None:
    """A visible-high-risk threshold no 24-question checklist can meet is not silently
    accepted: opening the case fails and nothing is stored."""
    engine = engine_with(clock, thresholds=Thresholds(visible_high_risk=30))
    with pytest.raises(TukoFlowError) as info:
        open_marac(engine, clock, yes=24)
    assert "visible_high_risk" in str(info.value)
    assert list(engine.case_ids()) == []


# --- repeats ----------------------------------------------------------------------------


def test_repeat_within_12_months_starts_a_new_round_and_is_referred_without_a_dash(
    engine: Engine, clock: ManualClock
) -> None:
    """After closure, a new incident within the window starts round 2, is flagged as a
    repeat, and the referral passes on ('repeat',) although no DASH was done."""
    discussed(engine, clock)
    close_first_round(engine, clock)
    assert engine.case(MARAC_CASE).state == "closed"
    clock.advance(days=100)
    before = engine.case(MARAC_CASE).version
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    assert new_types(engine, MARAC_CASE, before) == [
        "ReferralRoundStarted",
        "IncidentReported",
        "StageChanged",
    ]
    assert case.state == "assessment"
    assert case.marac.current.number == 2
    assert case.marac.current.assessment is None
    incident = case.marac.current.incidents[-1]
    assert incident.repeat is True
    assert incident.anchor is RepeatAnchor.LAST_REFERRAL
    assert incident.anchor_at == START
    assert "repeat" in incident.reason
    case = refer(engine)
    referral = case.marac.current.referral
    assert referral is not None
    assert (referral.criteria, referral.repeat, referral.assessment_version) == (
        ("repeat",),
        True,
        None,
    )
    assert case.marac.rounds[0].closure is not None  # the first round stays


def test_after_12_months_an_incident_is_a_new_referral_that_needs_criteria(
    engine: Engine, clock: ManualClock
) -> None:
    """More than 365 days after the last referral an incident is not a repeat: referral is
    refused until a DASH meets a criterion."""
    discussed(engine, clock)
    close_first_round(engine, clock)
    clock.set(START + timedelta(days=366))
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="breach_of_order", criminal=True),
        actor=POLICE,
    )
    incident = case.marac.current.incidents[-1]
    assert incident.repeat is False
    assert "new referral" in incident.reason
    error = refused(engine, ReferToMarac(victim_notice=SAFE_NOTICE))
    assert error.rules == ("referral_criteria_met",)
    assert "no risk assessment" in error.failures[0].reason
    engine.execute(
        MARAC_CASE, RecordRiskAssessment(checklist=checklist(9, at=clock.now())), actor=POLICE
    )
    assert refused(engine, ReferToMarac(victim_notice=SAFE_NOTICE)).rules == (
        "referral_criteria_met",
    )
    engine.execute(
        MARAC_CASE, RecordRiskAssessment(checklist=checklist(16, at=clock.now())), actor=POLICE
    )
    referral = refer(engine).marac.current.referral
    assert referral is not None
    assert (referral.criteria, referral.repeat) == (("visible_high_risk",), False)


@pytest.mark.parametrize(("days", "repeat"), [(0, True), (365, True), (366, False)])
def test_repeat_window_boundary(
    engine: Engine, clock: ManualClock, days: int, repeat: bool
) -> None:
    """The window counts whole days from the date of the last referral, 365 included."""
    discussed(engine, clock)
    close_first_round(engine, clock)
    clock.set(START + timedelta(days=400))
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=(START + timedelta(days=days)).date(), kind="dispute"),
        actor=POLICE,
    )
    assert case.marac.current.incidents[-1].repeat is repeat


def test_window_anchor_last_discussion_counts_from_the_last_conference(
    clock: ManualClock,
) -> None:
    """With repeat_anchor='last_discussion' the window runs from the last conference (here
    the review, 24 days after the referral): an incident 370 days after the referral is a
    repeat there only."""
    results = {}
    for anchor in (RepeatAnchor.LAST_REFERRAL, RepeatAnchor.LAST_DISCUSSION):
        run_clock = ManualClock(START)
        engine = engine_with(run_clock, repeat_anchor=anchor)
        discussed(engine, run_clock)  # referral at START, conference 10 days later
        # the review conference, 14 days after that, is the last discussion
        close_first_round(engine, run_clock)
        run_clock.set(START + timedelta(days=370))
        case = engine.execute(
            MARAC_CASE,
            ReportIncident(occurred_on=run_clock.now().date(), kind="unwanted_contact"),
            actor=POLICE,
        )
        incident = case.marac.current.incidents[-1]
        assert incident.anchor is anchor
        results[anchor] = (incident.repeat, incident.anchor_at)
    assert results[RepeatAnchor.LAST_REFERRAL] == (False, START)
    assert results[RepeatAnchor.LAST_DISCUSSION] == (True, START + timedelta(days=24))


def test_repeat_requires_criminal_keeps_the_older_definition(clock: ManualClock) -> None:
    """Under repeat_requires_criminal, non-criminal contact is not a repeat; a criminal
    incident inside the window is."""
    engine = engine_with(clock, repeat_requires_criminal=True)
    discussed(engine, clock)
    close_first_round(engine, clock)
    clock.advance(days=30)
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    first = case.marac.current.incidents[-1]
    assert first.repeat is False
    assert "repeat_requires_criminal" in first.reason
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="assault", criminal=True),
        actor=POLICE,
    )
    assert case.marac.current.incidents[-1].repeat is True
    assert case.marac.current.criteria_met == ("repeat",)


def test_an_incident_before_any_referral_is_not_a_repeat(
    engine: Engine, clock: ManualClock
) -> None:
    """Without an earlier MARAC referral there is nothing to repeat."""
    open_marac(engine, clock, yes=3)
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    incident = case.marac.current.incidents[-1]
    assert (incident.repeat, incident.anchor_at) == (False, None)
    assert case.state == "assessment"


def test_an_incident_in_the_future_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """occurred_on after today is refused as a ValidationError."""
    open_marac(engine, clock, yes=3)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            MARAC_CASE,
            ReportIncident(occurred_on=clock.now().date() + timedelta(days=1), kind="x"),
            actor=POLICE,
        )
    assert info.value.fields == ("occurred_on",)


# --- the coordinator's decision ---------------------------------------------------------


def test_returned_referral_rests_the_case_and_a_new_assessment_starts_a_new_round(
    engine: Engine, clock: ManualClock
) -> None:
    """The coordinator returns a referral with a reason; a later assessment opens round 2
    and round 1 keeps the return."""
    open_marac(engine, clock, yes=15)
    refer(engine)
    engine.execute(MARAC_CASE, ReceiveReferral(), actor=COORDINATOR)
    before = engine.case(MARAC_CASE).version
    case = engine.execute(
        MARAC_CASE,
        ReturnReferral(reason="Victim lives in another MARAC's area."),
        actor=COORDINATOR,
    )
    assert case.state == "returned"
    returned = engine.history(MARAC_CASE)[before]
    assert isinstance(returned, ReferralReturned)
    assert returned.reason == "Victim lives in another MARAC's area."
    with pytest.raises(CommandRefused):
        engine.execute(
            MARAC_CASE,
            AcceptReferral(conference_at=clock.now() + timedelta(days=5)),
            actor=COORDINATOR,
        )
    clock.advance(days=3)
    case = engine.execute(
        MARAC_CASE, RecordRiskAssessment(checklist=checklist(17, at=clock.now())), actor=POLICE
    )
    assert case.state == "assessment"
    assert [r.number for r in case.marac.rounds] == [1, 2]
    assert case.marac.rounds[0].returned == returned
    assert refer(engine).state == "referred"


def test_coordinator_receives_and_lists_within_the_timescale(
    engine: Engine, clock: ManualClock
) -> None:
    """Receiving and accepting record the round's progress; listing names the date."""
    open_marac(engine, clock, yes=15)
    case = list_for_conference(engine, clock, days=28)
    assert case.state == "listed"
    current = case.marac.current
    assert current.received_at == clock.now()
    assert current.accepted is not None
    assert current.accepted.conference_at == clock.now() + timedelta(days=28)


@pytest.mark.parametrize("within", [28, 14])
def test_conference_beyond_the_configured_timescale_is_invalid(
    clock: ManualClock, within: int
) -> None:
    """A conference date later than conference_within_days after the referral is refused,
    naming the latest date allowed."""
    engine = engine_with(clock, conference_within_days=within)
    open_marac(engine, clock, yes=15)
    refer(engine)
    engine.execute(MARAC_CASE, ReceiveReferral(), actor=COORDINATOR)
    latest = START + timedelta(days=within)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            MARAC_CASE,
            AcceptReferral(conference_at=latest + timedelta(hours=1)),
            actor=COORDINATOR,
        )
    assert info.value.fields == ("conference_at",)
    assert latest.isoformat() in str(info.value)
    case = engine.execute(MARAC_CASE, AcceptReferral(conference_at=latest), actor=COORDINATOR)
    assert case.state == "listed"


def test_only_the_coordinator_receives_lists_or_returns_a_referral(
    engine: Engine, clock: ManualClock
) -> None:
    """The referring police officer cannot act as the MARAC coordinator."""
    open_marac(engine, clock, yes=15)
    refer(engine)
    assert refused(engine, ReceiveReferral(), POLICE).rules == ("actor_is_coordinator",)
    engine.execute(MARAC_CASE, ReceiveReferral(), actor=COORDINATOR)
    for command in (
        AcceptReferral(conference_at=clock.now() + timedelta(days=3)),
        ReturnReferral(reason="Not for us."),
    ):
        assert refused(engine, command, POLICE).rules == ("actor_is_coordinator",)


def test_someone_outside_the_network_cannot_refer(engine: Engine, clock: ManualClock) -> None:
    """A professional who is not a member of the MARAC case's network is refused."""
    open_marac(engine, clock, yes=15)
    stranger = Actor(agency="police", person="pol-999")
    error = refused(engine, ReferToMarac(victim_notice=SAFE_NOTICE), stranger)
    assert error.rules == ("actor_in_network",)


# --- one MARAC case per victim and perpetrator ------------------------------------------


def test_a_second_marac_case_for_the_same_pair_is_refused_naming_the_first(
    engine: Engine, clock: ManualClock
) -> None:
    """Repeats are recognised only if the pair keeps one case: a second is refused, naming
    the first; another perpetrator gets a case of their own."""
    open_marac(engine, clock, yes=15)
    with pytest.raises(ValidationError) as info:
        open_marac(engine, clock, case_id="marac-0002", yes=15)
    assert info.value.fields == ("case_id",)
    assert MARAC_CASE in str(info.value)
    assert sorted(engine.case_ids()) == [MARAC_CASE]
    other = open_marac(engine, clock, case_id="marac-0003", yes=15, perpetrator="client-1d2e")
    assert other.marac.perpetrator_ref == "client-1d2e"
    assert engine.marac_case_for(VICTIM, PERPETRATOR) == MARAC_CASE
    assert engine.marac_case_for(VICTIM, "client-1d2e") == "marac-0003"


def test_a_marac_case_needs_the_coordinator_as_its_case_leader(
    engine: Engine, clock: ManualClock
) -> None:
    """The network must have exactly one case leader, from the coordinator agency."""
    from marac_helpers import MARAC_NETWORK

    from tuko_flow import Client, NetworkMember, OpenMaracCase, PersonAtRisk

    network = (
        NetworkMember(member_id="m-pol", agency="police", person="pol-612", case_leader=True),
        *MARAC_NETWORK[1:],
    )
    with pytest.raises(ValidationError) as info:
        engine.open_case(
            OpenMaracCase(
                case_id=MARAC_CASE,
                area=AREA,
                victim=PersonAtRisk(ref=VICTIM, relation="victim"),
                perpetrator=Client(PERPETRATOR),
                network=network,
                checklist=checklist(15, at=clock.now()),
            ),
            actor=POLICE,
        )
    assert "network" in info.value.fields


# --- replay -----------------------------------------------------------------------------


def test_replay_of_a_marac_history_equals_the_live_case(engine: Engine, clock: ManualClock) -> None:
    """A MARAC case through two rounds is rebuilt exactly from its events."""
    discussed(engine, clock, children=True)
    close_first_round(engine, clock)
    clock.advance(days=40)
    engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    refer(engine)
    history = engine.history(MARAC_CASE)
    assert any(isinstance(e, IncidentReported) for e in history)
    assert any(isinstance(e, RiskAssessed) for e in history)
    assert replay(history) == engine.case(MARAC_CASE)
    for version in (3, len(history) // 2, len(history)):
        assert replay(history[:version]) == engine.case_at(MARAC_CASE, version)


def test_a_returned_referral_starts_no_repeat_window(engine: Engine, clock: ManualClock) -> None:
    """An incident soon after a returned referral is a new referral, not a repeat: the case
    never went to the MARAC."""
    open_marac(engine, clock)
    refer(engine)
    engine.execute(MARAC_CASE, ReceiveReferral(), actor=COORDINATOR)
    engine.execute(MARAC_CASE, ReturnReferral(reason="Another area's MARAC."), actor=COORDINATOR)
    clock.advance(days=30)
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=clock.now().date(), kind="unwanted_contact"),
        actor=POLICE,
    )
    assert case.marac is not None
    incident = case.marac.current.incidents[-1]
    assert not incident.repeat
    assert incident.anchor_at is None
    assert "no earlier MARAC referral" in incident.reason
