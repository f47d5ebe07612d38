"""The DASH risk checklist: instruments as data, answers, checklists, thresholds and scoring.

Expected values come from shared/DOMAIN.md (24 questions; yes / no / don't know; score =
number of yes; visible high risk at 14 yes by default; professional judgement with
written reasons, never lowering a visible-high-risk result; potential escalation at 3
incidents in 12 months; children need their own child-safeguarding referral) and from
issue 3.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import aware_datetimes, naive_datetimes, pseudonymous_refs

from tuko_flow import Actor
from tuko_flow.errors import ConfigurationError, TukoFlowError, ValidationError
from tuko_flow.rules.dash import (
    SAFELIVES_DASH,
    Answer,
    AnswerValue,
    Checklist,
    Criterion,
    Instrument,
    Question,
    RiskResult,
    Thresholds,
    answers_from,
    score,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ASKER = Actor("victim_support", "vs-204")
VICTIM = "victim-7f3a"

#: A made-up three-question variant, defined as data only (no code for it anywhere).
TOY_DATA = {
    "name": "toy-variant",
    "version": "1",
    "questions": [
        {"id": "a1", "topic": "fear", "text": "Is the person afraid of the other person?"},
        {"id": "a2", "topic": "threats", "text": "Have there been threats?"},
        {"id": "a3", "topic": "weapons", "text": "Has anything been used as a weapon?"},
    ],
    "source": "made up for tests",
}


def values_for(
    instrument: Instrument, yes: int, *, dont_know: int = 0
) -> dict[str, AnswerValue | str]:
    """The first ``yes`` questions answered yes, the next ``dont_know`` don't know, rest no."""
    out: dict[str, AnswerValue | str] = {}
    for i, qid in enumerate(instrument.ids):
        if i < yes:
            out[qid] = "yes"
        elif i < yes + dont_know:
            out[qid] = "dont_know"
        else:
            out[qid] = "no"
    return out


def checklist(
    yes: int = 0,
    *,
    dont_know: int = 0,
    instrument: Instrument = SAFELIVES_DASH,
    children: bool = False,
    incidents: int = 0,
    window: int = 365,
    judgement: str | None = None,
) -> Checklist:
    """A complete checklist for the made-up victim ``victim-7f3a``."""
    answers = answers_from(
        values_for(instrument, yes, dont_know=dont_know),
        instrument=instrument,
        asked_by=ASKER,
        asked_at=AT,
    )
    return Checklist(
        instrument=instrument,
        answers=answers,
        victim_ref=VICTIM,
        children_in_household=children,
        incidents=incidents,
        incidents_window_days=window,
        professional_judgement=judgement,
    )


def answer(value: str = "yes", *, instrument: str = "safelives-dash", version: str = "2009"):
    """One valid answer given by the victim, asked by ``vs-204``."""
    return Answer(value, instrument=instrument, version=version, asked_by=ASKER, asked_at=AT)


def met_names(result: RiskResult) -> set[str]:
    return {f.criterion.value for f in result.criteria_met}


# --- the SafeLives instrument -----------------------------------------------------------


def test_safelives_dash_has_the_24_questions_q1_to_q24() -> None:
    """DOMAIN.md: the SafeLives checklist has 24 questions; ids are q1..q24 in order."""
    assert SAFELIVES_DASH.name == "safelives-dash"
    assert SAFELIVES_DASH.version == "2009"
    assert SAFELIVES_DASH.ids == tuple(f"q{n}" for n in range(1, 25))


@pytest.mark.parametrize(
    ("qid", "word"),
    [
        ("q1", "injur"),
        ("q6", "separat"),
        ("q8", "stalk"),
        ("q9", "pregnan"),
        ("q14", "kill"),
        ("q15", "strangl"),
        ("q19", "animal"),
        ("q23", "bail"),
        ("q24", "criminal"),
    ],
)
def test_safelives_dash_topics_follow_the_domain_notes(qid: str, word: str) -> None:
    """The paraphrased questions are about the topics DOMAIN.md numbers (spot checks)."""
    q = SAFELIVES_DASH.question(qid)
    assert word in (q.topic + " " + q.text).lower()


def test_safelives_dash_says_its_wording_is_unverified() -> None:
    """The shipped wording is marked as paraphrased and unverified, as data."""
    assert "unverified" in SAFELIVES_DASH.source
    assert "paraphrased" in SAFELIVES_DASH.source


def test_instrument_question_lookup_names_the_instrument_when_missing() -> None:
    """Looking up an id the instrument lacks raises KeyError naming the instrument."""
    with pytest.raises(KeyError, match="safelives-dash 2009"):
        SAFELIVES_DASH.question("q25")


# --- instruments as data ----------------------------------------------------------------


def test_instrument_round_trips_through_json() -> None:
    """An instrument written as JSON and read back is the same instrument."""
    text = json.dumps(SAFELIVES_DASH.to_dict())
    assert Instrument.from_dict(json.loads(text)) == SAFELIVES_DASH


def test_instrument_from_dict_builds_questions_in_order() -> None:
    """from_dict keeps the question order and texts given in the data."""
    toy = Instrument.from_dict(TOY_DATA)
    assert toy.ids == ("a1", "a2", "a3")
    assert toy.question("a2") == Question("a2", "threats", "Have there been threats?")
    assert toy.label == "toy-variant 1"


def test_instrument_from_dict_lists_every_problem_at_once() -> None:
    """Unknown keys, a missing version, bad and incomplete questions, duplicates: all reported."""
    data = {
        "name": "toy variant",
        "questions": [
            {"id": "a1", "topic": "fear", "text": "Afraid?"},
            {"id": "a1", "topic": "threats", "text": "Threats?"},
            {"id": "a 3", "topic": "", "text": "Weapon?"},
            {"id": "a4", "topic": "missing text"},
            "not a mapping",
        ],
        "colour": "blue",
    }
    with pytest.raises(ValidationError) as info:
        Instrument.from_dict(data)
    fields = info.value.fields
    assert info.value.subject == "Instrument"
    assert "colour" in fields
    assert "name" in fields
    assert "version" in fields
    assert "questions[2].id" in fields
    assert "questions[2].topic" in fields
    assert "questions[3].text" in fields
    assert "questions[4]" in fields
    assert any("used twice: a1" in p.problem for p in info.value.problems)


def test_instrument_from_dict_refuses_questions_that_are_not_a_list() -> None:
    """``questions`` given as one string is refused, not split into letters."""
    with pytest.raises(ValidationError) as info:
        Instrument.from_dict({"name": "toy", "version": "1", "questions": "q1"})
    assert info.value.fields == ("questions",)


def test_instrument_refuses_bad_definitions_when_built() -> None:
    """A bad name and version, no questions: every problem in one error."""
    with pytest.raises(ValidationError) as info:
        Instrument(name="", version="two words", questions=[])
    assert info.value.fields == ("name", "version", "questions")


def test_instrument_refuses_duplicate_ids_and_non_questions() -> None:
    """Duplicate question ids and items that are not Questions are both reported."""
    q = Question("a1", "fear", "Afraid?")
    with pytest.raises(ValidationError) as info:
        Instrument(name="toy", version="1", questions=[q, q, "a2"])
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith("questions[2]:") for p in problems)
    assert any("used twice: a1" in p for p in problems)


def test_question_lists_every_problem() -> None:
    """A question with a bad id, a blank topic and a blank text reports all three."""
    with pytest.raises(ValidationError) as info:
        Question("q 1", " ", "")
    assert info.value.fields == ("id", "topic", "text")


# --- answers ----------------------------------------------------------------------------


def test_answer_accepts_the_three_values_as_text() -> None:
    """yes / no / dont_know given as text become AnswerValue members."""
    assert [answer(v).value for v in ("yes", "no", "dont_know")] == [
        AnswerValue.YES,
        AnswerValue.NO,
        AnswerValue.DONT_KNOW,
    ]


def test_answer_records_its_source_when_not_the_victim() -> None:
    """No source means the victim answered; a source reference records who else did."""
    by_victim = answer()
    from_records = Answer(
        "yes",
        instrument="safelives-dash",
        version="2009",
        asked_by="po-101",
        asked_at=AT,
        source="police-record-9c1",
    )
    assert by_victim.by_victim is True
    assert from_records.by_victim is False
    assert from_records.source == "police-record-9c1"
    assert from_records.asked_by == "po-101"


def test_answer_lists_every_problem_including_a_naive_datetime() -> None:
    """A bad value, refs, asker, a naive datetime and a bad source are reported together."""
    with pytest.raises(ValidationError) as info:
        Answer(
            "maybe",
            instrument="safe lives",
            version="",
            asked_by="staff member",
            asked_at=datetime(2026, 1, 5, 9, 0),
            source="a neighbour",
        )
    assert info.value.fields == (
        "value",
        "instrument",
        "version",
        "asked_by",
        "asked_at",
        "source",
    )
    value_problem = info.value.problems[0]
    assert value_problem.allowed is not None
    assert all(v in value_problem.allowed for v in ("yes", "no", "dont_know"))
    assert "naive" in info.value.problems[4].problem


def test_answers_from_lists_every_bad_answer() -> None:
    """answers_from reports each bad answer under its question id, all at once."""
    with pytest.raises(ValidationError) as info:
        answers_from(
            {"q1": "maybe", "q2": "yes", "q3": "perhaps"},
            instrument=SAFELIVES_DASH,
            asked_by=ASKER,
            asked_at=AT,
        )
    assert info.value.fields == ("answers['q1'].value", "answers['q3'].value")


def test_answers_from_records_the_instrument_asked() -> None:
    """Answers made with answers_from carry the instrument's name and version."""
    made = answers_from({"q1": "yes"}, instrument=SAFELIVES_DASH, asked_by=ASKER, asked_at=AT)
    assert (made["q1"].instrument, made["q1"].version) == ("safelives-dash", "2009")
    assert made["q1"].asked_by == ASKER
    assert made["q1"].asked_at == AT


# --- checklist validation ---------------------------------------------------------------


def test_incomplete_checklist_lists_the_missing_questions() -> None:
    """An incomplete checklist is refused, naming every unanswered question."""
    values = values_for(SAFELIVES_DASH, 5)
    for qid in ("q4", "q17", "q24"):
        del values[qid]
    answers = answers_from(values, instrument=SAFELIVES_DASH, asked_by=ASKER, asked_at=AT)
    with pytest.raises(ValidationError) as info:
        Checklist(
            instrument=SAFELIVES_DASH,
            answers=answers,
            victim_ref=VICTIM,
            children_in_household=False,
            incidents=0,
        )
    (problem,) = info.value.problems
    assert problem.field == "answers"
    assert "q4, q17, q24" in problem.problem
    assert "3 of 24" in problem.problem


def test_unknown_question_ids_are_refused() -> None:
    """Answers to questions the instrument does not have are refused, by id."""
    answers = dict(checklist(3).answers)
    answers["q25"] = answer()
    answers["children_block_1"] = answer()
    with pytest.raises(ValidationError) as info:
        Checklist(
            instrument=SAFELIVES_DASH,
            answers=answers,
            victim_ref=VICTIM,
            children_in_household=False,
            incidents=0,
        )
    (problem,) = info.value.problems
    assert "unknown question ids" in problem.problem
    assert "'q25'" in problem.problem
    assert "'children_block_1'" in problem.problem


@pytest.mark.parametrize(
    ("name", "version"),
    [("safelives-dash", "2024"), ("police-dash", "2009")],
)
def test_answers_from_another_instrument_or_version_are_refused(name: str, version: str) -> None:
    """Answers asked from another version or instrument cannot be scored against this one."""
    answers = dict(checklist(3).answers)
    answers["q2"] = answer(instrument=name, version=version)
    answers["q9"] = answer("no", instrument=name, version=version)
    with pytest.raises(ValidationError) as info:
        Checklist(
            instrument=SAFELIVES_DASH,
            answers=answers,
            victim_ref=VICTIM,
            children_in_household=False,
            incidents=0,
        )
    (problem,) = info.value.problems
    assert problem.field == "answers"
    assert f"q2, q9 answered from {name} {version}" in problem.problem
    assert "safelives-dash 2009" in problem.problem


def test_professional_judgement_without_written_reasons_is_refused() -> None:
    """Professional judgement needs written reasons: blank text is refused."""
    for blank in ("", "   \n"):
        with pytest.raises(ValidationError) as info:
            checklist(2, judgement=blank)
        assert info.value.fields == ("professional_judgement",)
        assert "without written reasons" in info.value.problems[0].problem


@pytest.mark.parametrize("bad", [-1, True, 2.5, "3"])
def test_incident_count_must_be_a_whole_number_not_below_zero(bad: object) -> None:
    """A negative, boolean, fractional or textual incident count is refused."""
    with pytest.raises(ValidationError) as info:
        checklist(2, incidents=bad)  # type: ignore[arg-type]
    assert info.value.fields == ("incidents",)


def test_checklist_lists_every_problem_at_once() -> None:
    """Missing, unknown and foreign answers plus every bad field come in one error."""
    answers = {
        "q1": answer(),
        "q99": answer(),
        "q2": answer(version="2024"),
        "q3": "yes",
    }
    with pytest.raises(ValidationError) as info:
        Checklist(
            instrument=SAFELIVES_DASH,
            answers=answers,  # type: ignore[dict-item]
            victim_ref="victim 7f3a",
            children_in_household="yes",  # type: ignore[arg-type]
            incidents=-2,
            incidents_window_days=0,
            professional_judgement=" ",
            other_information="",
        )
    err = info.value
    assert err.subject == "Checklist"
    problems = [str(p) for p in err.problems]
    assert any(p.startswith("answers['q3']: 'yes' is not an Answer") for p in problems)
    assert any("unknown question ids: 'q99'" in p for p in problems)
    assert any("no answer to q4," in p for p in problems)
    assert any("q2 answered from safelives-dash 2024" in p for p in problems)
    assert {
        "victim_ref",
        "children_in_household",
        "incidents",
        "incidents_window_days",
        "professional_judgement",
        "other_information",
    } <= set(err.fields)


def test_validation_errors_belong_to_the_hierarchy() -> None:
    """Checklist errors are tuko_flow errors and ValueErrors, for generic handlers."""
    with pytest.raises(ValidationError) as info:
        checklist(2, incidents=-1)
    assert isinstance(info.value, TukoFlowError)
    assert isinstance(info.value, ValueError)


# --- thresholds -------------------------------------------------------------------------


def test_thresholds_default_to_the_safelives_recommendations() -> None:
    """Defaults: 14 yes; 3 incidents in 365 days (DOMAIN.md, varies by area)."""
    t = Thresholds()
    assert (t.visible_high_risk, t.escalation_incidents, t.escalation_window_days) == (14, 3, 365)


def test_thresholds_report_every_bad_value() -> None:
    """Zero, negative and boolean thresholds are reported together as configuration errors."""
    with pytest.raises(ConfigurationError) as info:
        Thresholds(visible_high_risk=0, escalation_incidents=-3, escalation_window_days=True)
    assert len(info.value.problems) == 3
    assert "visible_high_risk" in info.value.problems[0]
    assert "escalation_incidents" in info.value.problems[1]
    assert "escalation_window_days" in info.value.problems[2]


def test_thresholds_from_dict_keeps_defaults_for_keys_left_out() -> None:
    """An area using 3 incidents in 6 months gives only those keys."""
    t = Thresholds.from_dict({"escalation_window_days": 182})
    assert t == Thresholds(escalation_window_days=182)


def test_thresholds_from_dict_reports_unknown_keys_and_bad_values_together() -> None:
    """An unknown key and a bad value are both in the one error."""
    with pytest.raises(ConfigurationError) as info:
        Thresholds.from_dict({"visible_high_risk": 0, "repeat_months": 12})
    text = " ".join(info.value.problems)
    assert "'repeat_months' is not a known key" in text
    assert "visible_high_risk is 0" in text


# --- scoring: visible high risk ---------------------------------------------------------


def test_below_the_threshold_is_not_visible_high_risk() -> None:
    """13 yes of 24 is below the default 14: no criterion met, no referral."""
    result = score(checklist(13))
    assert result.yes_count == 13
    assert result.high_risk is False
    assert result.criteria_met == ()
    visible = result.findings[0]
    assert visible.criterion is Criterion.VISIBLE_HIGH_RISK
    assert visible.met is False
    assert visible.reason == "13 of 24 answers are yes; the threshold is 14"


@pytest.mark.parametrize("yes", [14, 16, 24])
def test_at_or_above_the_threshold_is_visible_high_risk(yes: int) -> None:
    """14 or more yes answers meet the visible-high-risk criterion, with the count as reason."""
    result = score(checklist(yes))
    assert result.high_risk is True
    (finding,) = result.criteria_met
    assert finding.criterion is Criterion.VISIBLE_HIGH_RISK
    assert finding.reason == f"{yes} of 24 answers are yes; the threshold is 14"


def test_a_custom_threshold_is_used_instead_of_14() -> None:
    """With an area threshold of 10, 10 yes is high risk and 9 is not."""
    area = Thresholds(visible_high_risk=10)
    assert score(checklist(10), area).met(Criterion.VISIBLE_HIGH_RISK)
    assert not score(checklist(9), area).met(Criterion.VISIBLE_HIGH_RISK)
    assert score(checklist(10), area).criteria_met[0].reason.endswith("the threshold is 10")
    assert not score(checklist(10)).high_risk


def test_dont_know_is_not_counted_as_yes() -> None:
    """13 yes and 11 don't know is still 13 yes: below the threshold."""
    result = score(checklist(13, dont_know=11))
    assert result.yes_count == 13
    assert result.dont_know_count == 11
    assert not result.high_risk


def test_yes_questions_are_listed_in_instrument_order() -> None:
    """The result names the questions answered yes."""
    values: dict[str, AnswerValue | str] = dict.fromkeys(SAFELIVES_DASH.ids, "no")
    values.update({"q15": "yes", "q2": "yes", "q14": "yes"})
    answers = answers_from(values, instrument=SAFELIVES_DASH, asked_by=ASKER, asked_at=AT)
    result = score(
        Checklist(
            instrument=SAFELIVES_DASH,
            answers=answers,
            victim_ref=VICTIM,
            children_in_household=False,
            incidents=0,
        )
    )
    assert result.yes_questions == ("q2", "q14", "q15")


def test_a_threshold_above_the_question_count_is_a_configuration_error() -> None:
    """A threshold no checklist of the instrument could reach is refused when scoring."""
    with pytest.raises(ConfigurationError, match="safelives-dash 2009 has 24 questions"):
        score(checklist(24), Thresholds(visible_high_risk=25))


# --- scoring: professional judgement ----------------------------------------------------


def test_professional_judgement_below_the_threshold_refers_with_reasons() -> None:
    """Below the threshold, written professional judgement alone makes the case high risk."""
    reasons = "Victim describes escalating threats since the separation; perpetrator released."
    result = score(checklist(6, judgement=reasons))
    assert result.high_risk is True
    (finding,) = result.criteria_met
    assert finding.criterion is Criterion.PROFESSIONAL_JUDGEMENT
    assert reasons in finding.reason
    assert not result.met(Criterion.VISIBLE_HIGH_RISK)


def test_professional_judgement_at_the_threshold_adds_a_criterion() -> None:
    """Above the threshold, judgement is recorded as a second criterion met."""
    result = score(checklist(15, judgement="Weapons in the home."))
    assert met_names(result) == {"visible_high_risk", "professional_judgement"}


# --- scoring: potential escalation ------------------------------------------------------


def test_three_incidents_in_twelve_months_is_potential_escalation() -> None:
    """3 incidents in 365 days meet potential escalation, even with no yes answers."""
    result = score(checklist(0, incidents=3))
    assert result.high_risk is True
    (finding,) = result.criteria_met
    assert finding.criterion is Criterion.POTENTIAL_ESCALATION
    assert finding.reason == (
        "3 incidents in the last 365 days; the threshold is 3 incidents in 365 days"
    )
    assert not score(checklist(0, incidents=2)).high_risk


def test_an_area_escalation_threshold_replaces_the_default() -> None:
    """An area using 5 call-outs in 12 months: 4 is not escalation, 5 is."""
    area = Thresholds(escalation_incidents=5)
    assert not score(checklist(0, incidents=4), area).met("potential_escalation")
    assert score(checklist(0, incidents=5), area).met("potential_escalation")


def test_escalation_window_of_the_checklist_must_match_the_thresholds() -> None:
    """A 12-month count cannot decide "3 in 6 months"; a 6-month count can."""
    six_months = Thresholds(escalation_window_days=182)
    with pytest.raises(ValidationError) as info:
        score(checklist(0, incidents=3), six_months)
    assert info.value.fields == ("incidents_window_days",)
    result = score(checklist(0, incidents=3, window=182), six_months)
    assert result.met(Criterion.POTENTIAL_ESCALATION)
    assert "in the last 182 days" in result.criteria_met[0].reason


# --- children and explanation -----------------------------------------------------------


@pytest.mark.parametrize("yes", [0, 20])
def test_children_in_the_household_require_a_child_safeguarding_referral(yes: int) -> None:
    """Children always need their own referral, whether or not the adult is high risk."""
    result = score(checklist(yes, children=True))
    assert result.child_safeguarding_referral_required is True
    assert "child-safeguarding referral" in result.explain()
    assert "never replaces child protection" in result.explain()


def test_no_children_no_child_safeguarding_referral() -> None:
    """Without children in the household no child-safeguarding referral is required."""
    result = score(checklist(20))
    assert result.child_safeguarding_referral_required is False
    assert "child-safeguarding" not in result.explain()


def test_explain_says_which_criteria_were_met_and_why_not_the_others() -> None:
    """explain() gives the verdict, each criterion met with its reason, and those not met."""
    text = score(checklist(16, dont_know=2, incidents=1)).explain()
    assert text.splitlines()[0] == "safelives-dash 2009 for victim-7f3a: high risk, refer to MARAC."
    assert "16 of 24 answers are yes, 2 don't know." in text
    met, unmet = text.split("Criteria not met:")
    assert "visible_high_risk: 16 of 24 answers are yes; the threshold is 14" in met
    assert "professional_judgement: no professional judgement was recorded" in unmet
    assert "potential_escalation: 1 incident in the last 365 days" in unmet


def test_explain_for_a_case_that_is_not_high_risk() -> None:
    """A checklist meeting no criterion says so and lists no criterion as met."""
    text = score(checklist(3)).explain()
    assert "not high risk" in text
    assert "Criteria met:" not in text


# --- a second instrument, as data only --------------------------------------------------


def test_a_toy_instrument_defined_as_data_is_scored_without_code_changes() -> None:
    """A three-question variant loaded from plain data scores with its own threshold."""
    toy = Instrument.from_dict(json.loads(json.dumps(TOY_DATA)))
    toy_thresholds = Thresholds.from_dict({"visible_high_risk": 2, "escalation_incidents": 2})
    high = score(checklist(2, instrument=toy), toy_thresholds)
    low = score(checklist(1, instrument=toy), toy_thresholds)
    assert (high.instrument, high.version, high.question_count) == ("toy-variant", "1", 3)
    assert high.high_risk is True
    assert high.criteria_met[0].reason == "2 of 3 answers are yes; the threshold is 2"
    assert low.high_risk is False


def test_answers_from_the_safelives_dash_do_not_fit_the_toy_instrument() -> None:
    """A SafeLives checklist's answers given to the toy instrument are refused on every count."""
    toy = Instrument.from_dict(TOY_DATA)
    with pytest.raises(ValidationError) as info:
        Checklist(
            instrument=toy,
            answers=checklist(3).answers,
            victim_ref=VICTIM,
            children_in_household=False,
            incidents=0,
        )
    problems = " | ".join(p.problem for p in info.value.problems)
    assert "unknown question ids: 'q1'" in problems
    assert "no answer to a1, a2, a3" in problems
    assert "answered from safelives-dash 2009, not from toy-variant 1" in problems


# --- properties -------------------------------------------------------------------------

dash_values = st.lists(st.sampled_from(AnswerValue), min_size=24, max_size=24)
thresholds = st.builds(
    Thresholds,
    visible_high_risk=st.integers(min_value=1, max_value=24),
    escalation_incidents=st.integers(min_value=1, max_value=10),
)
incident_counts = st.integers(min_value=0, max_value=12)
reasons = st.text(min_size=1, max_size=80).filter(lambda s: s.strip() != "")


def build(
    values: list[AnswerValue],
    *,
    incidents: int,
    children: bool = False,
    judgement: str | None = None,
    asked_at: datetime = AT,
    victim: str = VICTIM,
) -> Checklist:
    answers = answers_from(
        dict(zip(SAFELIVES_DASH.ids, values, strict=True)),
        instrument=SAFELIVES_DASH,
        asked_by=ASKER,
        asked_at=asked_at,
    )
    return Checklist(
        instrument=SAFELIVES_DASH,
        answers=answers,
        victim_ref=victim,
        children_in_household=children,
        incidents=incidents,
        professional_judgement=judgement,
    )


@settings(max_examples=100, deadline=None)
@given(values=dash_values, t=thresholds, incidents=incident_counts, why=reasons)
def test_professional_judgement_never_lowers_a_result(
    values: list[AnswerValue], t: Thresholds, incidents: int, why: str
) -> None:
    """Adding judgement never removes a criterion met and never turns high risk off."""
    without = score(build(values, incidents=incidents), t)
    with_judgement = score(build(values, incidents=incidents, judgement=why), t)
    assert met_names(without) <= met_names(with_judgement)
    assert with_judgement.high_risk is True
    assert with_judgement.met(Criterion.VISIBLE_HIGH_RISK) == without.met(
        Criterion.VISIBLE_HIGH_RISK
    )


@settings(max_examples=100, deadline=None)
@given(values=dash_values, t=thresholds, incidents=incident_counts, children=st.booleans())
def test_yes_count_and_criteria_follow_the_answers(
    values: list[AnswerValue], t: Thresholds, incidents: int, children: bool
) -> None:
    """yes_count is the number of yes answers; each criterion is met exactly when its rule holds."""
    result = score(build(values, incidents=incidents, children=children), t)
    yes = values.count(AnswerValue.YES)
    assert result.yes_count == yes == len(result.yes_questions)
    assert result.dont_know_count == values.count(AnswerValue.DONT_KNOW)
    assert result.met(Criterion.VISIBLE_HIGH_RISK) == (yes >= t.visible_high_risk)
    assert result.met(Criterion.POTENTIAL_ESCALATION) == (incidents >= t.escalation_incidents)
    assert not result.met(Criterion.PROFESSIONAL_JUDGEMENT)
    assert result.high_risk == bool(result.criteria_met)
    assert result.child_safeguarding_referral_required == children
    assert [f.criterion for f in result.findings] == list(Criterion)


@settings(max_examples=100, deadline=None)
@given(values=dash_values, t=thresholds, incidents=incident_counts, data=st.data())
def test_scoring_is_monotone_in_yes_answers(
    values: list[AnswerValue], t: Thresholds, incidents: int, data: st.DataObject
) -> None:
    """Turning one no or don't-know into yes adds one to the count and loses no criterion."""
    not_yes = [i for i, v in enumerate(values) if v is not AnswerValue.YES]
    if not not_yes:
        return
    i = data.draw(st.sampled_from(not_yes))
    more = [*values[:i], AnswerValue.YES, *values[i + 1 :]]
    before = score(build(values, incidents=incidents), t)
    after = score(build(more, incidents=incidents), t)
    assert after.yes_count == before.yes_count + 1
    assert met_names(before) <= met_names(after)
    assert after.high_risk or not before.high_risk


@settings(max_examples=50, deadline=None)
@given(
    values=dash_values,
    incidents=incident_counts,
    asked_at=aware_datetimes(),
    victim=pseudonymous_refs("victim"),
)
def test_scoring_is_deterministic(
    values: list[AnswerValue], incidents: int, asked_at: datetime, victim: str
) -> None:
    """Scoring the same checklist twice, or an equal copy, gives equal results."""
    first = build(values, incidents=incidents, asked_at=asked_at, victim=victim)
    again = build(values, incidents=incidents, asked_at=asked_at, victim=victim)
    assert score(first) == score(first) == score(again)
    assert score(first).victim_ref == victim


@settings(max_examples=30, deadline=None)
@given(when=naive_datetimes())
def test_naive_datetimes_never_enter_an_answer(when: datetime) -> None:
    """Any naive asked_at is refused when the answer is made."""
    with pytest.raises(ValidationError) as info:
        answers_from({"q1": "yes"}, instrument=SAFELIVES_DASH, asked_by=ASKER, asked_at=when)
    assert info.value.fields == ("answers['q1'].asked_at",)


questions = st.lists(
    st.builds(
        Question,
        id=pseudonymous_refs("q"),
        topic=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != ""),
        text=st.text(min_size=1, max_size=80).filter(lambda s: s.strip() != ""),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda q: q.id,
)


@settings(max_examples=50, deadline=None)
@given(
    name=pseudonymous_refs("instrument"),
    version=st.integers(min_value=1, max_value=9999).map(str),
    qs=questions,
)
def test_instrument_round_trips_through_plain_data(
    name: str, version: str, qs: list[Question]
) -> None:
    """from_dict(to_dict(instrument)) == instrument, through JSON, for any instrument."""
    instrument = Instrument(name=name, version=version, questions=qs, source="generated")
    assert Instrument.from_dict(json.loads(json.dumps(instrument.to_dict()))) == instrument
