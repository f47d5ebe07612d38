"""Domain values are validated where they enter, and every bad field is reported at once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import REF_PATTERN, aware_datetimes, naive_datetimes, refs

from tuko_flow import (
    ASSESSMENT_QUESTIONS,
    Actor,
    Classification,
    Client,
    CommonAssessment,
    Engine,
    HarmProbability,
    Information,
    InformNetwork,
    ManualClock,
    NetworkMember,
    PersonAtRisk,
    PlanTask,
    Relation,
)
from tuko_flow.errors import TukoFlowError, ValidationError
from tuko_flow.testing import OFFICER, drive_to

_FULL_REF = re.compile(REF_PATTERN)


def _answers(**overrides: object) -> dict[str, object]:
    answers: dict[str, object] = {
        "who_is_under_threat": "The victim and the child.",
        "probability_of_harm": HarmProbability.HIGH,
        "threat_and_conditions": "Threats by phone, worse at handovers.",
        "risk_modifiers": "Alcohol raises it; work lowers it.",
        "client_needs_and_motivation": "Wants contact with the child.",
        "protective_factors": "Victim engaged with support.",
    }
    answers.update(overrides)
    return answers


# --- references -----------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(ref=refs)
def test_any_reference_in_the_grammar_is_accepted(ref: str) -> None:
    """Every string the documented reference grammar allows builds a Client and an Actor."""
    assert Client(ref).ref == ref
    assert Actor(agency=ref, person=ref).person == ref


def _with_foreign_character(ref: str) -> st.SearchStrategy[str]:
    """``ref`` with one character the grammar does not allow inserted somewhere."""
    foreign = st.sampled_from(" \n\t/#@\u00e4") | st.characters().filter(
        lambda c: not re.fullmatch(r"[A-Za-z0-9._:\-]", c)
    )
    return st.tuples(st.integers(0, len(ref)), foreign).map(
        lambda t: ref[: t[0]] + t[1] + ref[t[0] :]
    )


_outside_grammar = st.text(max_size=70).filter(lambda s: _FULL_REF.match(s) is None) | refs.flatmap(
    _with_foreign_character
)


@settings(max_examples=200, deadline=None)
@given(value=_outside_grammar)
def test_any_string_outside_the_grammar_is_rejected(value: str) -> None:
    """A string the reference grammar does not allow is rejected with field "ref"."""
    with pytest.raises(ValidationError) as exc:
        Client(value)
    assert exc.value.fields == ("ref",)


@pytest.mark.parametrize(
    "bad",
    ["", " ", "-client", ".client", "client 7f3a", "client/7f3a", "client#1", "x" * 65, "ä-1"],
)
def test_bad_references_are_rejected(bad: str) -> None:
    """Empty, spaced, punctuated, over-long and non-ASCII references are rejected."""
    with pytest.raises(ValidationError) as exc:
        Client(bad)
    assert exc.value.fields == ("ref",)
    assert repr(bad) in str(exc.value)
    assert "1-64 characters" in str(exc.value)


@pytest.mark.parametrize("bad", ["client-7f3a\n", "po-101\n"])
def test_reference_with_trailing_newline_is_rejected(bad: str) -> None:
    """A trailing newline is outside the reference grammar and must be rejected."""
    with pytest.raises(ValidationError):
        Client(bad)
    with pytest.raises(ValidationError):
        Actor(agency="probation", person=bad)


def test_longest_reference_is_accepted() -> None:
    """A reference of exactly 64 characters is accepted."""
    ref = "c" + "0" * 63
    assert Client(ref).ref == ref


@pytest.mark.parametrize("bad", [None, 42, b"client-7f3a"])
def test_non_string_reference_is_rejected(bad: object) -> None:
    """A reference that is not a str is rejected."""
    with pytest.raises(ValidationError):
        Client(bad)  # type: ignore[arg-type]


# --- the error itself -----------------------------------------------------------------


def test_validation_error_is_a_value_error_and_a_tuko_flow_error() -> None:
    """ValidationError is caught by ValueError and by TukoFlowError handlers."""
    with pytest.raises(ValueError, match="Actor is not valid"):
        Actor(agency="", person="po-101")
    with pytest.raises(TukoFlowError):
        Actor(agency="", person="po-101")


def test_actor_lists_every_bad_field() -> None:
    """Both bad fields of an Actor are reported in one error."""
    with pytest.raises(ValidationError) as exc:
        Actor(agency="", person="po 101")
    assert exc.value.fields == ("agency", "person")
    assert exc.value.subject == "Actor"
    assert all(p.allowed for p in exc.value.problems)


def test_client_rejects_bad_ref() -> None:
    """A Client with a bad reference names the field "ref"."""
    with pytest.raises(ValidationError) as exc:
        Client("client?")
    assert exc.value.fields == ("ref",)
    assert exc.value.subject == "Client"


def test_person_at_risk_lists_every_bad_field() -> None:
    """Bad ref, unknown relation and a non-bool living flag are reported together."""
    with pytest.raises(ValidationError) as exc:
        PersonAtRisk(ref="", relation="spouse", lives_with_client="yes")  # type: ignore[arg-type]
    assert exc.value.fields == ("ref", "relation", "lives_with_client")
    message = str(exc.value)
    assert "'spouse'" in message
    for relation in Relation:
        assert repr(relation.value) in message


def test_person_at_risk_converts_relation_given_as_string() -> None:
    """relation="victim" becomes Relation.VICTIM."""
    person = PersonAtRisk(ref="victim-91c2", relation="victim")  # type: ignore[arg-type]
    assert person.relation is Relation.VICTIM
    assert person.lives_with_client is False


def test_network_member_lists_every_bad_field() -> None:
    """Bad member id, agency, person and case_leader flag are reported together."""
    with pytest.raises(ValidationError) as exc:
        NetworkMember(member_id="m po", agency="", person="-x", case_leader=1)  # type: ignore[arg-type]
    assert exc.value.fields == ("member_id", "agency", "person", "case_leader")


def test_network_member_acts_as_matching_actor_only() -> None:
    """acts_as is true for the same agency and person, false otherwise."""
    member = NetworkMember(member_id="m-pol", agency="police", person="pol-202")
    assert member.acts_as(Actor(agency="police", person="pol-202"))
    assert not member.acts_as(Actor(agency="police", person="pol-999"))
    assert not member.acts_as(Actor(agency="probation", person="pol-202"))


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_information_rejects_blank_text(blank: str) -> None:
    """Empty or whitespace-only text is rejected."""
    with pytest.raises(ValidationError) as exc:
        Information(text=blank, source_agency="police")
    assert exc.value.fields == ("text",)


def test_information_rejects_over_long_text() -> None:
    """Text longer than 10000 characters is rejected with the limit stated."""
    with pytest.raises(ValidationError) as exc:
        Information(text="x" * 10_001, source_agency="police")
    assert exc.value.fields == ("text",)
    assert "10000" in str(exc.value)
    assert Information(text="x" * 10_000, source_agency="police").text == "x" * 10_000


def test_information_lists_every_bad_field() -> None:
    """Blank text, bad agency and an unknown classification are reported together."""
    with pytest.raises(ValidationError) as exc:
        Information(text="", source_agency="no agency", classification="secret")  # type: ignore[arg-type]
    assert exc.value.fields == ("text", "source_agency", "classification")
    assert "'victim_confidential'" in str(exc.value)


@pytest.mark.parametrize("value", [c.value for c in Classification])
def test_information_converts_classification_given_as_string(value: str) -> None:
    """A classification given by its value becomes the enum member."""
    info = Information(text="Shared.", source_agency="police", classification=value)  # type: ignore[arg-type]
    assert info.classification is Classification(value)


def test_information_defaults_to_need_to_know() -> None:
    """Without a classification, information is need-to-know."""
    assert Information(text="Shared.", source_agency="police").classification is (
        Classification.NEED_TO_KNOW
    )


def test_common_assessment_reports_every_unanswered_question() -> None:
    """An empty assessment names all six questions, in the seed's order, in one error."""
    with pytest.raises(ValidationError) as exc:
        CommonAssessment()
    assert exc.value.fields == tuple(ASSESSMENT_QUESTIONS)
    message = str(exc.value)
    for question in ASSESSMENT_QUESTIONS.values():
        assert question in message


def test_assessment_questions_are_the_seeds_six() -> None:
    """The six questions are those of seed 000, Stage 2 (spelling of 'health' corrected)."""
    assert list(ASSESSMENT_QUESTIONS.values()) == [
        "Who is in threat?",
        "What is the probability of damage to someone's health or life?",
        "What is the threat about? In which conditions it is more likely present itself?",
        "What can increase or decrease the risk?",
        "What are the needs and motivation of the client? What motivates the client?",
        "What are the known protective factors?",
    ]


def test_common_assessment_reports_blank_and_wrong_answers_together() -> None:
    """A blank answer, an unknown probability and a bad classification are all reported."""
    with pytest.raises(ValidationError) as exc:
        CommonAssessment(
            **_answers(risk_modifiers="  ", probability_of_harm="extreme"),  # type: ignore[arg-type]
            classification="secret",  # type: ignore[arg-type]
        )
    assert exc.value.fields == ("probability_of_harm", "risk_modifiers", "classification")
    assert "'extreme'" in str(exc.value)


def test_common_assessment_converts_enum_strings() -> None:
    """probability_of_harm and classification given as strings become enum members."""
    assessment = CommonAssessment(
        **_answers(probability_of_harm="very_high"),  # type: ignore[arg-type]
        classification="network",  # type: ignore[arg-type]
    )
    assert assessment.probability_of_harm is HarmProbability.VERY_HIGH
    assert assessment.classification is Classification.NETWORK


def test_plan_task_lists_every_bad_field() -> None:
    """Bad task id, blank description, bad area and owner, and a non-date are reported together."""
    with pytest.raises(ValidationError) as exc:
        PlanTask(task_id="", description=" ", area="victim safety", owner="", due_on="soon")  # type: ignore[arg-type]
    assert exc.value.fields == ("task_id", "description", "area", "owner", "due_on")


def test_plan_task_rejects_a_datetime_as_due_date() -> None:
    """due_on must be a date, not a datetime."""
    with pytest.raises(ValidationError) as exc:
        PlanTask(
            task_id="t-1",
            description="Check on safety.",
            area="victim_safety",
            owner="m-vs",
            due_on=datetime(2026, 1, 9, tzinfo=UTC),
        )
    assert exc.value.fields == ("due_on",)


def test_plan_task_rejects_over_long_description() -> None:
    """A description longer than 2000 characters is rejected."""
    with pytest.raises(ValidationError) as exc:
        PlanTask(
            task_id="t-1",
            description="x" * 2001,
            area="policing",
            owner="m-pol",
            due_on=date.today(),
        )
    assert exc.value.fields == ("description",)


def test_values_are_frozen() -> None:
    """Values cannot be changed after they are built."""
    client = Client("client-7f3a")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        client.ref = "client-0000"  # type: ignore[misc]


# --- datetimes ------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(when=naive_datetimes())
def test_manual_clock_rejects_naive_datetimes(when: datetime) -> None:
    """A ManualClock cannot start at a datetime without a timezone."""
    with pytest.raises(ValidationError) as exc:
        ManualClock(when)
    assert exc.value.fields == ("start",)
    assert "naive" in str(exc.value)


@settings(max_examples=20, deadline=None)
@given(when=aware_datetimes())
def test_manual_clock_accepts_aware_datetimes(when: datetime) -> None:
    """A ManualClock starts at any timezone-aware datetime."""
    assert ManualClock(when).now() == when


def test_command_with_naive_datetime_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """A naive meeting time is refused as invalid input naming the field and the case."""
    drive_to(engine, clock, "case-0001", "stage1_notice")
    naive = (clock.now() + timedelta(days=1)).replace(tzinfo=None)
    with pytest.raises(ValidationError) as exc:
        engine.execute("case-0001", InformNetwork(meeting_at=naive), actor=OFFICER)
    assert exc.value.fields == ("meeting_at",)
    assert exc.value.case_id == "case-0001"
    assert "naive" in str(exc.value)
    assert engine.case("case-0001").state == "stage1_notice"
