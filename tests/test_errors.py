"""The exception hierarchy, and messages that name the case, state, command and rules."""

from __future__ import annotations

import inspect

import pytest

import tuko_flow.errors as errors_module
from tuko_flow import (
    BeginCaseManagement,
    DecideCooperationNeeded,
    Engine,
    ManualClock,
    NoticeNeed,
    OpenCase,
)
from tuko_flow.errors import (
    CaseAlreadyExists,
    CaseNotFound,
    CommandNotAllowedInState,
    CommandRefused,
    ConcurrencyError,
    ConfigurationError,
    EventStoreError,
    FieldProblem,
    ProtocolDefinitionError,
    RuleFailure,
    SerializationError,
    SubscriberFailed,
    TukoFlowError,
    ValidationError,
)
from tuko_flow.testing import OFFICER, POLICE, drive_to, sample_intake

EXCEPTIONS = sorted(
    (
        obj
        for name in errors_module.__all__
        if inspect.isclass(obj := getattr(errors_module, name)) and issubclass(obj, BaseException)
    ),
    key=lambda cls: cls.__name__,
)


def test_module_exports_every_documented_error() -> None:
    """The exceptions exported are the ones drawn in the module docstring, plus the root."""
    assert {cls.__name__ for cls in EXCEPTIONS} == {
        "TukoFlowError",
        "ProtocolDefinitionError",
        "ConfigurationError",
        "ValidationError",
        "CaseNotFound",
        "CaseAlreadyExists",
        "CommandRefused",
        "CommandNotAllowedInState",
        "ConcurrencyError",
        "MigrationRefused",
        "EventStoreError",
        "StorageUnavailable",
        "CorruptEventError",
        "SerializationError",
        "SubscriberFailed",
    }
    for cls in EXCEPTIONS:
        assert cls.__name__ in (errors_module.__doc__ or "")


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: c.__name__)
def test_every_error_subclasses_tuko_flow_error(cls: type[BaseException]) -> None:
    """One root: every exported exception is a TukoFlowError."""
    assert issubclass(cls, TukoFlowError)


def test_validation_error_is_a_value_error() -> None:
    """Generic ValueError handlers catch ValidationError."""
    assert issubclass(ValidationError, ValueError)


def test_case_not_found_is_a_lookup_error() -> None:
    """Generic LookupError handlers catch CaseNotFound."""
    assert issubclass(CaseNotFound, LookupError)


def test_not_allowed_in_state_is_a_refusal() -> None:
    """CommandNotAllowedInState is caught by CommandRefused handlers."""
    assert issubclass(CommandNotAllowedInState, CommandRefused)


def test_only_the_documented_dual_parents() -> None:
    """No other error doubles as a builtin exception besides ValueError and LookupError."""
    for cls in EXCEPTIONS:
        builtin = {b for b in cls.__mro__ if b.__module__ == "builtins"}
        extra = builtin - {object, BaseException, Exception, ValueError, LookupError}
        assert extra == set(), cls


def test_rule_failure_and_field_problem_are_not_exceptions() -> None:
    """RuleFailure and FieldProblem are plain values carried by errors."""
    assert not issubclass(RuleFailure, BaseException)
    assert not issubclass(FieldProblem, BaseException)
    assert str(RuleFailure("plan_drafted", "no plan yet")) == "plan_drafted: no plan yet"
    assert str(FieldProblem("due_on", "is in the past", "a later date")) == (
        "due_on: is in the past (allowed: a later date)"
    )
    assert str(FieldProblem("what", "is empty")) == "what: is empty"


# --- messages built directly ----------------------------------------------------------


def test_command_refused_message_names_case_state_command_rules_and_allowed() -> None:
    """The message says which case, state and command, every failed rule, and what is allowed."""
    exc = CommandRefused(
        case_id="case-0001",
        state="stage3_plan",
        command="begin_case_management",
        failures=(
            RuleFailure("actor_is_case_leader", "only the case leader may do this"),
            RuleFailure("plan_sent_to_all_participants", "the plan has not been sent"),
        ),
        allowed=("record_partner_communication",),
    )
    message = str(exc)
    for part in (
        "'case-0001'",
        "'stage3_plan'",
        "'begin_case_management'",
        "2 rule(s)",
        "actor_is_case_leader: only the case leader may do this",
        "plan_sent_to_all_participants: the plan has not been sent",
        "record_partner_communication",
    ):
        assert part in message
    assert exc.rules == ("actor_is_case_leader", "plan_sent_to_all_participants")
    assert (exc.case_id, exc.state, exc.command) == (
        "case-0001",
        "stage3_plan",
        "begin_case_management",
    )


def test_command_refused_says_when_nothing_is_allowed() -> None:
    """With no allowed commands the message says "none"."""
    exc = CommandRefused(
        case_id="case-0001",
        state="stage2_evaluate",
        command="hold_meeting",
        failures=(RuleFailure("actor_is_case_leader", "only the case leader"),),
        allowed=(),
    )
    assert "Commands allowed now: none" in str(exc)


def test_concurrency_error_names_case_and_versions_and_says_what_to_do() -> None:
    """ConcurrencyError carries case, expected and actual version, and advises a reload."""
    exc = ConcurrencyError("case-0001", expected=3, actual=5)
    assert (exc.case_id, exc.expected, exc.actual) == ("case-0001", 3, 5)
    message = str(exc)
    assert "'case-0001'" in message
    assert "expected version 3" in message
    assert "found version 5" in message
    assert "reload" in message


def test_case_not_found_names_the_case_and_how_to_open_it() -> None:
    """CaseNotFound names the missing id and points at open_case."""
    exc = CaseNotFound("case-404")
    assert exc.case_id == "case-404"
    assert "'case-404'" in str(exc)
    assert "open_case" in str(exc)


def test_validation_error_message_names_subject_case_and_every_field() -> None:
    """The message lists each problem with what is allowed."""
    exc = ValidationError(
        [
            FieldProblem("what", "must be non-empty text", "any text"),
            FieldProblem("noticed_at", "x"),
        ],
        subject="command 'notice_need'",
        case_id="case-0001",
    )
    message = str(exc)
    assert "command 'notice_need' is not valid for case 'case-0001'" in message
    assert "what: must be non-empty text (allowed: any text)" in message
    assert "noticed_at: x" in message
    assert exc.fields == ("what", "noticed_at")


def test_protocol_definition_error_counts_and_lists_problems() -> None:
    """The message names the protocol, counts the problems and lists each."""
    exc = ProtocolDefinitionError("marac", ["first problem", "second problem"])
    assert exc.protocol == "marac"
    assert exc.problems == ("first problem", "second problem")
    message = str(exc)
    assert "'marac'" in message
    assert "2 problems" in message
    assert "first problem" in message
    assert "second problem" in message


def test_configuration_error_lists_every_problem() -> None:
    """ConfigurationError keeps and shows each problem."""
    exc = ConfigurationError(["a problem", "another problem"])
    assert exc.problems == ("a problem", "another problem")
    assert "a problem" in str(exc)
    assert "another problem" in str(exc)


def test_subscriber_failed_says_the_command_was_recorded() -> None:
    """SubscriberFailed names the case and each error type, and says the command was recorded."""
    exc = SubscriberFailed("case-0001", [RuntimeError("boom"), KeyError("k")])
    assert exc.case_id == "case-0001"
    assert len(exc.errors) == 2
    message = str(exc)
    assert "'case-0001'" in message
    assert "recorded" in message
    assert "RuntimeError" in message
    assert "KeyError" in message


def test_case_already_exists_names_the_case() -> None:
    """CaseAlreadyExists names the reused id."""
    exc = CaseAlreadyExists("case-0001")
    assert exc.case_id == "case-0001"
    assert "'case-0001'" in str(exc)


def test_event_store_and_serialization_errors_take_a_message() -> None:
    """The plain errors keep the message they are given."""
    assert str(EventStoreError("store is read-only")) == "store is read-only"
    assert str(SerializationError("not JSON")) == "not JSON"


# --- errors raised by the engine ------------------------------------------------------


def test_refusal_lists_every_failed_rule(engine: Engine, clock: ManualClock) -> None:
    """Deciding before the meeting, as police, fails three rules, all listed, nothing stored."""
    drive_to(engine, clock, "case-0001", "stage2_evaluate")
    version = engine.store.version("case-0001")
    with pytest.raises(CommandRefused) as exc:
        engine.execute(
            "case-0001",
            DecideCooperationNeeded(situation="Situation.", risks=("a risk",)),
            actor=POLICE,
        )
    refusal = exc.value
    assert type(refusal) is CommandRefused
    assert refusal.rules == (
        "actor_is_case_leader",
        "evaluation_meeting_held",
        "common_assessment_complete",
    )
    assert refusal.state == "stage2_evaluate"
    assert refusal.command == "decide_cooperation_needed"
    message = str(refusal)
    for failure in refusal.failures:
        assert failure.rule in message
        assert failure.reason in message
    assert engine.store.version("case-0001") == version


def test_refusal_lists_the_commands_allowed_now(engine: Engine, clock: ManualClock) -> None:
    """The refusal's allowed commands are those whose rules pass for the same actor."""
    drive_to(engine, clock, "case-0001", "stage2_evaluate")
    with pytest.raises(CommandRefused) as exc:
        engine.execute(
            "case-0001",
            DecideCooperationNeeded(situation="Situation.", risks=("a risk",)),
            actor=OFFICER,
        )
    refusal = exc.value
    assert refusal.rules == ("evaluation_meeting_held", "common_assessment_complete")
    assert set(refusal.allowed) == {
        "add_network_member",
        "notice_need",
        "refer_to_service",
        "schedule_meeting",
        "hold_meeting",
    }
    assert set(refusal.allowed) == set(engine.next_steps("case-0001", OFFICER).allowed)
    for command in refusal.allowed:
        assert command in str(refusal)


def test_command_not_allowed_in_state(engine: Engine, clock: ManualClock) -> None:
    """A command with no transition from the state says where it is possible and what is allowed."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    with pytest.raises(CommandNotAllowedInState) as exc:
        engine.execute("case-0001", BeginCaseManagement(), actor=OFFICER)
    refusal = exc.value
    assert refusal.state == "awaiting_notice"
    assert refusal.command == "begin_case_management"
    assert refusal.rules == ("allowed_in_state",)
    assert "stage3_plan" in refusal.failures[0].reason
    assert set(refusal.allowed) == {"notice_need", "add_network_member", "refer_to_service"}
    assert "'awaiting_notice'" in str(refusal)
    assert engine.store.version("case-0001") == 1


def test_opening_a_case_twice_is_refused(engine: Engine) -> None:
    """Case ids are never reused."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    with pytest.raises(CaseAlreadyExists) as exc:
        engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    assert exc.value.case_id == "case-0001"
    assert engine.store.version("case-0001") == 1


def test_command_of_no_protocol_is_invalid(engine: Engine) -> None:
    """Executing an intake command on a case is a ValidationError naming the command field."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    with pytest.raises(ValidationError) as exc:
        engine.execute("case-0001", sample_intake("case-0001"), actor=OFFICER)
    assert exc.value.fields == ("command",)
    assert exc.value.case_id == "case-0001"
    assert "OpenCase" in str(exc.value)
    assert "notice_need" in str(exc.value)


def test_opening_with_a_non_intake_command_is_invalid(engine: Engine) -> None:
    """open_case with a command that opens nothing names the intake commands."""
    with pytest.raises(ValidationError) as exc:
        engine.open_case(NoticeNeed(what="A need."), actor=OFFICER)
    assert exc.value.fields == ("command",)
    assert OpenCase.__name__ in str(exc.value)


def test_invalid_input_names_case_and_command(engine: Engine) -> None:
    """A ValidationError from a command names the case and the command."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    with pytest.raises(ValidationError) as exc:
        engine.execute("case-0001", NoticeNeed(what="  "), actor=POLICE)
    assert exc.value.case_id == "case-0001"
    assert exc.value.subject == "command 'notice_need'"
    assert exc.value.fields == ("what",)
