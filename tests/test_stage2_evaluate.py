"""TUKO Stage 2: the meeting, shared information, the common assessment and the decision."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tuko_flow import (
    ASSESSMENT_QUESTIONS,
    Actor,
    CommonAssessment,
    DecideCooperationNeeded,
    DecideNoCooperationNeeded,
    Engine,
    HarmProbability,
    HoldMeeting,
    ManualClock,
    NoticeNeed,
    RecordCommonAssessment,
    ShareInformation,
)
from tuko_flow.errors import CommandRefused, ValidationError
from tuko_flow.events import (
    CooperationNeedDecided,
    CycleStarted,
    InformationShared,
    MeetingHeld,
    NoCooperationNeedDecided,
)
from tuko_flow.testing import (
    CHILD_PROTECTION,
    OFFICER,
    POLICE,
    VICTIM_SUPPORT,
    drive_to,
    sample_assessment,
)

CASE = "case-s2"
EVERYONE = ("m-po", "m-pol", "m-vs", "m-cp")
ACTORS = (OFFICER, POLICE, VICTIM_SUPPORT, CHILD_PROTECTION)
OUTSIDER = Actor(agency="police", person="pol-999")


def at_stage2(engine: Engine, clock: ManualClock, *, always_assume_need: bool = False) -> None:
    """Take the sample case to the start of Stage 2 (network informed, meeting time reached)."""
    drive_to(engine, clock, CASE, "stage2_evaluate", always_assume_need=always_assume_need)


def share(engine: Engine, *actors: Actor) -> None:
    """Each actor shares information and an evaluation."""
    for actor in actors:
        engine.execute(
            CASE,
            ShareInformation(information="What we know.", evaluation="Our evaluation."),
            actor=actor,
        )


def ready_to_decide(
    engine: Engine, clock: ManualClock, *, always_assume_need: bool = False
) -> None:
    """Stage 2 with the meeting held, every participant heard and the assessment recorded."""
    at_stage2(engine, clock, always_assume_need=always_assume_need)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    share(engine, *ACTORS)
    engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)


def new_types(engine: Engine, before: int) -> list[str]:
    """Class names of the events stored after version ``before``."""
    return [type(e).__name__ for e in engine.history(CASE)[before:]]


DECIDE_NEEDED = DecideCooperationNeeded(
    situation="Escalating threats around child contact.",
    risks=("threats to the former partner", "child exposed to conflict"),
)
DECIDE_NOT_NEEDED = DecideNoCooperationNeeded(reason="Victim moved away; no contact since.")


# --- hold_meeting ---------------------------------------------------------------------


def test_case_leader_holds_the_meeting(engine: Engine, clock: ManualClock) -> None:
    """The meeting led by the case leader is recorded with its participants and time."""
    at_stage2(engine, clock)
    before = engine.case(CASE).version
    case = engine.execute(CASE, HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    assert case.state == "stage2_evaluate"
    assert new_types(engine, before) == ["MeetingHeld"]
    (meeting,) = case.cycle.meetings
    assert isinstance(meeting, MeetingHeld)
    assert (meeting.purpose, meeting.participants, meeting.held_at) == (
        "evaluation",
        ("m-po", "m-pol"),
        clock.now(),
    )
    assert case.next_meeting_at is None


def test_participants_must_be_network_members(engine: Engine, clock: ManualClock) -> None:
    """A participant outside the network is refused, listing the network's members."""
    at_stage2(engine, clock)
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, HoldMeeting(participants=("m-po", "m-xyz")), actor=OFFICER)
    assert info.value.fields == ("participants",)
    text = str(info.value.problems[0])
    assert "'m-xyz'" in text
    for member_id in EVERYONE:
        assert member_id in text


def test_participants_must_include_the_case_leader(engine: Engine, clock: ManualClock) -> None:
    """Seed: 'Meeting is lead by probation officer': a meeting without the leader is refused."""
    at_stage2(engine, clock)
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, HoldMeeting(participants=("m-pol", "m-vs")), actor=OFFICER)
    assert info.value.fields == ("participants",)
    assert "case leader" in info.value.problems[0].problem
    assert engine.case(CASE).cycle.meetings == ()


def test_meeting_without_participants_is_refused(engine: Engine, clock: ManualClock) -> None:
    """An empty participant list is not a meeting."""
    at_stage2(engine, clock)
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, HoldMeeting(participants=()), actor=OFFICER)
    assert info.value.fields == ("participants",)


def test_meeting_cannot_be_held_in_the_future(engine: Engine, clock: ManualClock) -> None:
    """A meeting is recorded after it took place."""
    at_stage2(engine, clock)
    later = clock.now() + timedelta(hours=1)
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, HoldMeeting(participants=EVERYONE, held_at=later), actor=OFFICER)
    assert info.value.fields == ("held_at",)


def test_only_the_case_leader_holds_the_meeting(engine: Engine, clock: ManualClock) -> None:
    """A partner cannot record the meeting."""
    at_stage2(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=POLICE)
    assert info.value.rules == ("actor_is_case_leader",)


# --- share_information ----------------------------------------------------------------


def test_sharing_before_the_meeting_is_refused(engine: Engine, clock: ManualClock) -> None:
    """Information is shared at the meeting: before it, the rule names the missing meeting."""
    at_stage2(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(
            CASE, ShareInformation(information="Info.", evaluation="Eval."), actor=POLICE
        )
    assert info.value.rules == ("evaluation_meeting_held",)
    assert engine.case(CASE).cycle.shared == ()


def test_participant_shares_information_and_evaluation(engine: Engine, clock: ManualClock) -> None:
    """A participant's information and evaluation are recorded with the sharing member."""
    at_stage2(engine, clock)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    case = engine.execute(
        CASE,
        ShareInformation(information="Two call-outs last month.", evaluation="Risk elevated."),
        actor=POLICE,
    )
    (shared,) = case.cycle.shared
    assert isinstance(shared, InformationShared)
    assert shared.member_id == "m-pol"
    assert (shared.information.text, shared.information.source_agency) == (
        "Two call-outs last month.",
        "police",
    )
    assert shared.evaluation.text == "Risk elevated."


def test_sharing_by_an_outsider_is_refused(engine: Engine, clock: ManualClock) -> None:
    """Only network members share information."""
    at_stage2(engine, clock)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    with pytest.raises(CommandRefused) as info:
        engine.execute(
            CASE, ShareInformation(information="Info.", evaluation="Eval."), actor=OUTSIDER
        )
    assert info.value.rules == ("actor_in_network",)


# --- the common assessment ------------------------------------------------------------


def test_assessment_with_missing_answers_lists_every_missing_question() -> None:
    """Empty answers are each reported with the seed's question, all at once."""
    with pytest.raises(ValidationError) as info:
        CommonAssessment(
            who_is_under_threat="The former partner.",
            probability_of_harm=None,
            threat_and_conditions="   ",
            risk_modifiers="Alcohol raises the risk.",
            client_needs_and_motivation="",
            protective_factors="Victim engaged with support.",
        )
    missing = ("probability_of_harm", "threat_and_conditions", "client_needs_and_motivation")
    assert info.value.fields == missing
    for field, fp in zip(missing, info.value.problems, strict=True):
        assert ASSESSMENT_QUESTIONS[field] in fp.problem


def test_empty_assessment_lists_all_six_questions() -> None:
    """An assessment with no answers names all six questions of the seed."""
    with pytest.raises(ValidationError) as info:
        CommonAssessment()
    assert info.value.fields == tuple(ASSESSMENT_QUESTIONS)
    assert len(info.value.fields) == 6


def test_case_leader_records_the_common_assessment(engine: Engine, clock: ManualClock) -> None:
    """After the meeting the case leader records the six answers."""
    at_stage2(engine, clock)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    assessment = CommonAssessment(
        who_is_under_threat="The former partner and the child.",
        probability_of_harm=HarmProbability.VERY_HIGH,
        threat_and_conditions="Threats around handovers.",
        risk_modifiers="Alcohol raises it; work lowers it.",
        client_needs_and_motivation="Wants contact with the child.",
        protective_factors="Victim engaged with support services.",
    )
    case = engine.execute(CASE, RecordCommonAssessment(assessment=assessment), actor=OFFICER)
    assert case.cycle.assessment == assessment


def test_assessment_before_the_meeting_is_refused(engine: Engine, clock: ManualClock) -> None:
    """The common assessment is made at the meeting."""
    at_stage2(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
    assert info.value.rules == ("evaluation_meeting_held",)


# --- the decision ---------------------------------------------------------------------


def test_decision_before_the_assessment_is_refused(engine: Engine, clock: ManualClock) -> None:
    """Everyone has shared, but without the common assessment no decision is taken."""
    at_stage2(engine, clock)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    share(engine, *ACTORS)
    for command in (DECIDE_NEEDED, DECIDE_NOT_NEEDED):
        with pytest.raises(CommandRefused) as info:
            engine.execute(CASE, command, actor=OFFICER)
        assert info.value.rules == ("common_assessment_complete",)
    assert engine.case(CASE).state == "stage2_evaluate"


def test_decision_before_every_participant_shared_is_refused(
    engine: Engine, clock: ManualClock
) -> None:
    """Seed: 'Every participant shares': the refusal names who has not shared yet."""
    at_stage2(engine, clock)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    share(engine, OFFICER, POLICE)
    engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DECIDE_NEEDED, actor=OFFICER)
    (failure,) = info.value.failures
    assert failure.rule == "every_participant_heard"
    assert "m-cp" in failure.reason
    assert "m-vs" in failure.reason
    assert "m-pol" not in failure.reason


def test_decision_before_the_meeting_lists_every_failing_rule(
    engine: Engine, clock: ManualClock
) -> None:
    """A partner deciding before the meeting is refused by every failing rule at once."""
    at_stage2(engine, clock)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DECIDE_NEEDED, actor=POLICE)
    assert set(info.value.rules) == {
        "actor_is_case_leader",
        "evaluation_meeting_held",
        "common_assessment_complete",
    }


def test_cooperation_needed_moves_to_stage3_with_situation_and_risks(
    engine: Engine, clock: ManualClock
) -> None:
    """Seed: 'the situation and its risks are described, and the cooperation moves on'."""
    ready_to_decide(engine, clock)
    before = engine.case(CASE).version
    case = engine.execute(CASE, DECIDE_NEEDED, actor=OFFICER)
    assert case.state == "stage3_plan"
    assert new_types(engine, before) == ["CooperationNeedDecided", "StageChanged"]
    decision = case.cycle.decision
    assert isinstance(decision, CooperationNeedDecided)
    assert decision.situation.text == "Escalating threats around child contact."
    assert decision.risks == ("threats to the former partner", "child exposed to conflict")


def test_cooperation_needed_without_risks_is_refused(engine: Engine, clock: ManualClock) -> None:
    """The risks must be described."""
    ready_to_decide(engine, clock)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            CASE, DecideCooperationNeeded(situation="Situation.", risks=()), actor=OFFICER
        )
    assert info.value.fields == ("risks",)


def test_no_cooperation_needed_closes_the_case(engine: Engine, clock: ManualClock) -> None:
    """Seed: 'If there is no need for further coordinated action, the case is closed'."""
    ready_to_decide(engine, clock)
    before = engine.case(CASE).version
    case = engine.execute(CASE, DECIDE_NOT_NEEDED, actor=OFFICER)
    assert case.state == "closed_no_need"
    assert new_types(engine, before) == ["NoCooperationNeedDecided", "StageChanged"]
    assert isinstance(case.cycle.decision, NoCooperationNeedDecided)
    assert case.cycle.decision.reason.text == "Victim moved away; no contact since."


def test_always_assume_need_case_cannot_be_closed_as_no_need(
    engine: Engine, clock: ManualClock
) -> None:
    """A high-need matrix cell refuses 'no need'; the reason names the cell."""
    ready_to_decide(engine, clock, always_assume_need=True)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DECIDE_NOT_NEEDED, actor=OFFICER)
    (failure,) = info.value.failures
    assert failure.rule == "need_not_always_assumed"
    assert "dv_living_with_victim" in failure.reason
    assert "always assume" in failure.reason
    assert engine.case(CASE).state == "stage2_evaluate"
    case = engine.execute(CASE, DECIDE_NEEDED, actor=OFFICER)
    assert case.state == "stage3_plan"


def test_raising_the_need_again_starts_a_new_cycle(engine: Engine, clock: ManualClock) -> None:
    """Seed: 'closed until someone brings up the need again': cycle 2, cycle 1 kept."""
    ready_to_decide(engine, clock)
    engine.execute(CASE, DECIDE_NOT_NEEDED, actor=OFFICER)
    closed = engine.case(CASE)
    clock.advance(weeks=6)
    before = closed.version
    case = engine.execute(CASE, NoticeNeed(what="New threats reported."), actor=VICTIM_SUPPORT)
    assert case.state == "stage1_notice"
    assert new_types(engine, before) == ["CycleStarted", "NeedNoticed", "StageChanged"]
    started = engine.history(CASE)[before]
    assert isinstance(started, CycleStarted)
    assert started.cycle == 2
    assert case.cycle.number == 2
    assert case.cycle.meetings == ()
    assert case.cycle.assessment is None
    assert case.cycle.decision is None
    assert case.cycle.notices[0].noticed_by == "m-vs"
    (past,) = case.past_cycles
    assert past == closed.cycle
    assert past.number == 1
    assert isinstance(past.decision, NoCooperationNeedDecided)
    assert past.assessment == sample_assessment()
