"""Structured logs: what the engine decided, and never the free text or the people involved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from tuko_flow import (
    AssignTask,
    BeginCaseManagement,
    Classification,
    CloseCase,
    CommonAssessment,
    DecideCooperationNeeded,
    DistributePlan,
    DraftPlan,
    Engine,
    HarmProbability,
    HoldMeeting,
    HoldReviewMeeting,
    InformNetwork,
    ManualClock,
    NoticeNeed,
    RecordCommonAssessment,
    RecordPartnerCommunication,
    RecordTaskProgress,
    ShareInformation,
    TaskStatus,
)
from tuko_flow.errors import CommandRefused, ValidationError
from tuko_flow.testing import (
    CHILD_PROTECTION,
    OFFICER,
    POLICE,
    VICTIM_SUPPORT,
    drive_to,
    sample_intake,
)

#: The people of the sample intake, by reference (client, victim, child).
PEOPLE_REFS = ("client-7f3a", "victim-91c2", "child-55d0")
MARK = "FREETEXT"


def _text(n: int) -> str:
    """Free text carrying a marker that must never reach a log."""
    return f"{MARK}-{n:02d} made-up note for the log test."


@pytest.fixture(autouse=True)
def default_structlog() -> Iterator[None]:
    """Run with structlog's default configuration, whatever other tests configured."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.configure(**saved)


def _entries(logs: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == event]


def test_accepted_command_is_logged(engine: Engine) -> None:
    """An accepted command logs case, command, states, version and event types."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    with capture_logs() as logs:
        engine.execute("case-0001", NoticeNeed(what=_text(1)), actor=POLICE)
    (entry,) = _entries(logs, "command_accepted")
    assert entry["log_level"] == "info"
    assert entry["case_id"] == "case-0001"
    assert entry["command"] == "notice_need"
    assert entry["from_state"] == "awaiting_notice"
    assert entry["to_state"] == "stage1_notice"
    assert entry["version"] == 3
    assert entry["events"] == ["NeedNoticed", "StageChanged"]
    assert entry["version"] == engine.store.version("case-0001")


def test_opening_a_case_is_logged(engine: Engine) -> None:
    """open_case logs command_accepted with the case's first version and CaseOpened."""
    with capture_logs() as logs:
        engine.open_case(sample_intake("case-0001", lives_with_victim=True), actor=OFFICER)
    (entry,) = _entries(logs, "command_accepted")
    assert entry["command"] == "open_case"
    assert entry["to_state"] == "stage1_notice"
    assert entry["events"] == ["CaseOpened", "NeedAssumed", "StageChanged"]
    assert entry["version"] == 3


def test_refused_command_is_logged_with_rule_names(engine: Engine, clock: ManualClock) -> None:
    """A refusal logs command_refused with every failed rule's name and the state."""
    drive_to(engine, clock, "case-0001", "stage2_evaluate")
    with capture_logs() as logs, pytest.raises(CommandRefused):
        engine.execute(
            "case-0001",
            DecideCooperationNeeded(situation=_text(2), risks=(_text(3),)),
            actor=POLICE,
        )
    (entry,) = _entries(logs, "command_refused")
    assert entry["log_level"] == "info"
    assert entry["case_id"] == "case-0001"
    assert entry["command"] == "decide_cooperation_needed"
    assert entry["state"] == "stage2_evaluate"
    assert entry["rules"] == [
        "actor_is_case_leader",
        "evaluation_meeting_held",
        "common_assessment_complete",
    ]
    assert _entries(logs, "command_accepted") == []


def test_invalid_command_is_logged_with_field_names(engine: Engine, clock: ManualClock) -> None:
    """Invalid input logs command_invalid with the bad fields' names only."""
    drive_to(engine, clock, "case-0001", "stage2_evaluate")
    engine.execute("case-0001", HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    with capture_logs() as logs, pytest.raises(ValidationError):
        engine.execute(
            "case-0001",
            ShareInformation(information=_text(4), evaluation="  ", classification="secret"),
            actor=POLICE,
        )
    (entry,) = _entries(logs, "command_invalid")
    assert entry["case_id"] == "case-0001"
    assert entry["command"] == "share_information"
    assert entry["fields"] == ["evaluation", "classification"]
    assert MARK not in repr(logs)
    assert "secret" not in repr(logs)


def test_invalid_intake_is_logged_without_the_intake(engine: Engine) -> None:
    """An invalid intake logs command_invalid with field names, not the people's references."""
    intake = sample_intake("case-0001")
    bad = type(intake)(
        case_id="case-0001",
        client=intake.client,
        people_at_risk=intake.people_at_risk,
        network=intake.network,
        offence="shoplifting",
    )
    with capture_logs() as logs, pytest.raises(ValidationError):
        engine.open_case(bad, actor=OFFICER)
    (entry,) = _entries(logs, "command_invalid")
    assert entry["command"] == "open_case"
    assert entry["fields"] == ["offence"]
    for ref in PEOPLE_REFS:
        assert ref not in repr(logs)


def _run_with_marked_text(engine: Engine, clock: ManualClock) -> None:
    """Take a case through Stages 1-4 and a restart, every free-text field marked."""
    cid = "case-0001"
    engine.open_case(sample_intake(cid), actor=OFFICER)
    engine.execute(cid, NoticeNeed(what=_text(10)), actor=POLICE)
    engine.execute(cid, InformNetwork(meeting_at=clock.now() + timedelta(days=1)), actor=OFFICER)
    clock.advance(days=1)
    everyone = ("m-po", "m-pol", "m-vs", "m-cp")
    engine.execute(cid, HoldMeeting(participants=everyone), actor=OFFICER)
    for n, actor in enumerate((OFFICER, POLICE, VICTIM_SUPPORT, CHILD_PROTECTION)):
        engine.execute(
            cid,
            ShareInformation(
                information=_text(20 + n),
                evaluation=_text(30 + n),
                classification=Classification.VICTIM_CONFIDENTIAL,
            ),
            actor=actor,
        )
    assessment = CommonAssessment(
        who_is_under_threat=_text(40),
        probability_of_harm=HarmProbability.HIGH,
        threat_and_conditions=_text(41),
        risk_modifiers=_text(42),
        client_needs_and_motivation=_text(43),
        protective_factors=_text(44),
    )
    engine.execute(cid, RecordCommonAssessment(assessment=assessment), actor=OFFICER)
    engine.execute(
        cid, DecideCooperationNeeded(situation=_text(50), risks=(_text(51),)), actor=OFFICER
    )
    engine.execute(
        cid,
        DraftPlan(
            crisis=False,
            communication=_text(60),
            next_meeting_at=clock.now() + timedelta(days=7),
        ),
        actor=OFFICER,
    )
    engine.execute(
        cid,
        AssignTask(
            task_id="t-1",
            description=_text(61),
            area="victim_safety",
            owner="m-vs",
            due_on=clock.now().date() + timedelta(days=5),
        ),
        actor=OFFICER,
    )
    engine.execute(cid, DistributePlan(), actor=OFFICER)
    engine.execute(cid, BeginCaseManagement(), actor=OFFICER)
    engine.execute(
        cid,
        RecordPartnerCommunication(to_members=("m-po",), information=_text(70)),
        actor=VICTIM_SUPPORT,
    )
    engine.execute(
        cid,
        RecordTaskProgress(task_id="t-1", status=TaskStatus.DONE, note=_text(71)),
        actor=VICTIM_SUPPORT,
    )
    # a refusal and an invalid command carrying free text, too
    with pytest.raises(CommandRefused):
        engine.execute(cid, CloseCase(summary=_text(72)), actor=POLICE)
    with pytest.raises(ValidationError):
        engine.execute(
            cid, RecordPartnerCommunication(to_members=(), information=_text(73)), actor=POLICE
        )
    clock.advance(days=7)
    engine.execute(
        cid,
        HoldReviewMeeting(participants=everyone, needs_remain=False, risks_reduced=True),
        actor=OFFICER,
    )
    engine.execute(cid, CloseCase(summary=_text(80)), actor=OFFICER)
    engine.execute(cid, NoticeNeed(what=_text(90)), actor=CHILD_PROTECTION)


def test_logs_carry_no_free_text_and_no_person_refs(engine: Engine, clock: ManualClock) -> None:
    """Across a whole case, no log entry holds the commands' free text or a client/victim ref."""
    with capture_logs() as logs:
        _run_with_marked_text(engine, clock)
        engine.check_deadlines()
    assert len(_entries(logs, "command_accepted")) == 19  # every accepted command above
    assert _entries(logs, "command_refused")
    assert _entries(logs, "command_invalid")
    assert [e for e in logs if e["log_level"] == "info"] == logs
    dumped = repr(logs)
    assert MARK not in dumped
    for ref in PEOPLE_REFS:
        assert ref not in dumped


def test_logged_values_are_plain_data(engine: Engine, clock: ManualClock) -> None:
    """Log entries hold strings, numbers and lists of strings, never domain objects."""
    with capture_logs() as logs:
        drive_to(engine, clock, "case-0001", "closed")
    allowed = (str, int, list)
    for entry in logs:
        for key, value in entry.items():
            assert isinstance(value, allowed), (key, value)
            if isinstance(value, list):
                assert all(isinstance(v, str) for v in value), (key, value)
