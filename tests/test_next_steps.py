"""Engine.next_steps, and refusals that agree with it and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tuko_flow import (
    Actor,
    CloseCase,
    Command,
    DecideCooperationNeeded,
    DecideNoCooperationNeeded,
    Engine,
    HoldMeeting,
    InformNetwork,
    ManualClock,
    NextSteps,
    RecordCommonAssessment,
    ShareInformation,
)
from tuko_flow.errors import (
    CommandNotAllowedInState,
    CommandRefused,
    TukoFlowError,
    ValidationError,
)
from tuko_flow.testing import (
    CHILD_PROTECTION,
    OFFICER,
    POLICE,
    VICTIM_SUPPORT,
    RecordingSubscriber,
    drive_to,
    sample_assessment,
)

CASE = "case-ns"
OUTSIDER = Actor(agency="police", person="pol-999")
EVERYONE = ("m-po", "m-pol", "m-vs", "m-cp")
LEADER = "actor_is_case_leader"
IN_NETWORK = "actor_in_network"
MARAC_OUTCOME = "marac_outcome_received"


def blocked(steps: NextSteps) -> dict[str, tuple[str, ...]]:
    """Blocked command -> names of the rules blocking it."""
    return {command: tuple(f.rule for f in fs) for command, fs in steps.blocked.items()}


def ready_to_decide(engine: Engine, clock: ManualClock, *, always_assume_need: bool) -> None:
    """Stage 2 with the meeting held, everyone heard and the assessment recorded."""
    drive_to(engine, clock, CASE, "stage2_evaluate", always_assume_need=always_assume_need)
    engine.execute(CASE, HoldMeeting(participants=EVERYONE), actor=OFFICER)
    for actor in (OFFICER, POLICE, VICTIM_SUPPORT, CHILD_PROTECTION):
        engine.execute(CASE, ShareInformation(information="Info.", evaluation="Eval."), actor=actor)
    engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)


# --- what next_steps says -------------------------------------------------------------


def test_awaiting_notice_for_leader_partner_and_outsider(
    engine: Engine, clock: ManualClock
) -> None:
    """Any member may notice the need; only the leader gathers the network; outsiders nothing."""
    drive_to(engine, clock, CASE, "awaiting_notice")
    leader = engine.next_steps(CASE, OFFICER)
    assert leader.state == "awaiting_notice"
    assert leader.case_id == CASE
    assert set(leader.allowed) == {"notice_need", "add_network_member", "refer_to_service"}
    assert blocked(leader) == {}
    partner = engine.next_steps(CASE, POLICE)
    assert set(partner.allowed) == {"notice_need", "refer_to_service"}
    assert blocked(partner) == {"add_network_member": (LEADER,)}
    outsider = engine.next_steps(CASE, OUTSIDER)
    assert outsider.allowed == ()
    assert blocked(outsider) == {
        "notice_need": (IN_NETWORK,),
        "add_network_member": (LEADER,),
        "refer_to_service": (IN_NETWORK,),
    }


def test_stage2_before_the_meeting(engine: Engine, clock: ManualClock) -> None:
    """Before the meeting, sharing and deciding are blocked by every missing step."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    leader = engine.next_steps(CASE, OFFICER)
    assert set(leader.allowed) == {
        "add_network_member",
        "notice_need",
        "refer_to_service",
        "schedule_meeting",
        "hold_meeting",
    }
    deciding = ("evaluation_meeting_held", "common_assessment_complete")
    assert blocked(leader) == {
        "share_information": ("evaluation_meeting_held",),
        "record_common_assessment": ("evaluation_meeting_held",),
        "decide_cooperation_needed": deciding,
        "decide_no_cooperation_needed": deciding,
    }
    partner = engine.next_steps(CASE, POLICE)
    assert set(partner.allowed) == {
        "notice_need",
        "refer_to_service",
    }  # a partner may still record what it noticed
    assert blocked(partner) == {
        "add_network_member": (LEADER,),
        "schedule_meeting": (LEADER,),
        "hold_meeting": (LEADER,),
        "share_information": ("evaluation_meeting_held",),
        "record_common_assessment": (LEADER, "evaluation_meeting_held"),
        "decide_cooperation_needed": (LEADER, *deciding),
        "decide_no_cooperation_needed": (LEADER, *deciding),
    }


def test_always_assume_need_case_ready_to_decide(engine: Engine, clock: ManualClock) -> None:
    """When everything is in place, only 'no need' stays blocked for a high-need case."""
    ready_to_decide(engine, clock, always_assume_need=True)
    leader = engine.next_steps(CASE, OFFICER)
    assert "decide_cooperation_needed" in leader.allowed
    assert blocked(leader) == {"decide_no_cooperation_needed": ("need_not_always_assumed",)}


def test_standard_case_ready_to_decide_may_go_either_way(
    engine: Engine, clock: ManualClock
) -> None:
    """A standard-need case may be found to need cooperation or not."""
    ready_to_decide(engine, clock, always_assume_need=False)
    leader = engine.next_steps(CASE, OFFICER)
    assert {"decide_cooperation_needed", "decide_no_cooperation_needed"} <= set(leader.allowed)
    assert blocked(leader) == {}


def test_stage3_before_the_plan(engine: Engine, clock: ManualClock) -> None:
    """At the start of Stage 3 the leader can draft; tasks, sending and Stage 4 wait."""
    drive_to(engine, clock, CASE, "stage3_plan")
    leader = engine.next_steps(CASE, OFFICER)
    assert set(leader.allowed) == {
        "add_network_member",
        "notice_need",
        "refer_to_service",
        "schedule_meeting",
        "draft_plan",
        "record_partner_communication",
    }
    assert blocked(leader) == {
        "assign_task": ("plan_drafted",),
        "distribute_plan": ("plan_drafted", "plan_has_tasks", "next_meeting_agreed"),
        "begin_case_management": ("plan_sent_to_all_participants",),
        "take_marac_actions": ("plan_drafted", MARAC_OUTCOME),
    }


def test_stage4_for_leader_and_partner(engine: Engine, clock: ManualClock) -> None:
    """In Stage 4 partners report and communicate; closing waits for a reassessment."""
    drive_to(engine, clock, CASE, "stage4_manage")
    closing = ("situation_reassessed",)
    leader = engine.next_steps(CASE, OFFICER)
    assert set(leader.allowed) == {
        "add_network_member",
        "notice_need",
        "refer_to_service",
        "schedule_meeting",
        "assign_task",
        "distribute_plan",
        "record_task_progress",
        "record_partner_communication",
        "hold_review_meeting",
    }
    assert blocked(leader) == {"close_case": closing, "take_marac_actions": (MARAC_OUTCOME,)}
    partner = engine.next_steps(CASE, POLICE)
    assert set(partner.allowed) == {
        "notice_need",
        "refer_to_service",
        "record_task_progress",
        "record_partner_communication",
    }
    assert blocked(partner) == {
        "add_network_member": (LEADER,),
        "schedule_meeting": (LEADER,),
        "assign_task": (LEADER,),
        "distribute_plan": (LEADER,),
        "hold_review_meeting": (LEADER,),
        "close_case": (LEADER, *closing),
        "take_marac_actions": (LEADER, MARAC_OUTCOME),
    }


def test_closed_case_can_only_be_raised_again_by_a_member(
    engine: Engine, clock: ManualClock
) -> None:
    """After closure the only step is noticing the need again, by a network member."""
    drive_to(engine, clock, CASE, "closed")
    assert engine.next_steps(CASE, POLICE).allowed == ("notice_need",)
    assert blocked(engine.next_steps(CASE, POLICE)) == {}
    assert blocked(engine.next_steps(CASE, OUTSIDER)) == {"notice_need": (IN_NETWORK,)}


def test_explain_names_every_blocking_rule(engine: Engine, clock: ManualClock) -> None:
    """The plain-language summary lists the state, what is allowed and every blocking rule."""
    drive_to(engine, clock, CASE, "stage4_manage")
    text = engine.next_steps(CASE, OFFICER).explain()
    assert "stage4_manage" in text
    assert "hold_review_meeting" in text
    assert "blocked: close_case" in text
    assert "situation_reassessed" in text


def test_next_steps_writes_nothing(engine: Engine, clock: ManualClock) -> None:
    """Asking what can happen next does not change the case."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    history = engine.history(CASE)
    engine.next_steps(CASE, OFFICER)
    engine.next_steps(CASE, OUTSIDER)
    assert engine.history(CASE) == history


# --- refusals agree with next_steps ---------------------------------------------------


@pytest.mark.parametrize("actor", [OFFICER, POLICE], ids=["leader", "partner"])
def test_refusal_carries_what_next_steps_says(
    engine: Engine, clock: ManualClock, actor: Actor
) -> None:
    """CommandRefused names case, state, command, every failure and the allowed commands."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    steps = engine.next_steps(CASE, actor)
    with pytest.raises(CommandRefused) as info:
        engine.execute(CASE, DecideCooperationNeeded(situation="S.", risks=("r",)), actor=actor)
    exc = info.value
    assert type(exc) is CommandRefused
    assert (exc.case_id, exc.state, exc.command) == (
        CASE,
        "stage2_evaluate",
        "decide_cooperation_needed",
    )
    assert exc.failures == steps.blocked["decide_cooperation_needed"]
    assert exc.allowed == steps.allowed
    for failure in exc.failures:
        assert failure.rule in str(exc)


def test_command_not_allowed_in_state_carries_what_next_steps_says(
    engine: Engine, clock: ManualClock
) -> None:
    """A command with no transition from the state is refused like any other, with details."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    steps = engine.next_steps(CASE, OFFICER)
    with pytest.raises(CommandNotAllowedInState) as info:
        engine.execute(CASE, CloseCase(summary="Done."), actor=OFFICER)
    exc = info.value
    assert isinstance(exc, CommandRefused)
    assert (exc.case_id, exc.state, exc.command) == (CASE, "stage2_evaluate", "close_case")
    (failure,) = exc.failures
    assert failure.rule == "allowed_in_state"
    assert "stage4_manage" in failure.reason
    assert exc.allowed == steps.allowed


def _refused(engine: Engine, clock: ManualClock) -> Command:
    return DecideNoCooperationNeeded(reason="No need.")


def _not_in_state(engine: Engine, clock: ManualClock) -> Command:
    return CloseCase(summary="Done.")


def _invalid(engine: Engine, clock: ManualClock) -> Command:
    return InformNetwork(meeting_at=clock.now() - timedelta(days=1))


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (_refused, CommandRefused),
        (_not_in_state, CommandNotAllowedInState),
        (_invalid, ValidationError),
    ],
    ids=["rule-refused", "not-in-state", "invalid-input"],
)
def test_failed_command_changes_nothing_and_publishes_nothing(
    engine: Engine,
    clock: ManualClock,
    recorder: RecordingSubscriber,
    make: Callable[[Engine, ManualClock], Command],
    error: type[TukoFlowError],
) -> None:
    """A refused or invalid command leaves history and case unchanged and tells no subscriber."""
    if make is _invalid:
        drive_to(engine, clock, CASE, "stage1_notice")
    else:
        ready_to_decide(engine, clock, always_assume_need=True)
    history = engine.history(CASE)
    case = engine.case(CASE)
    recorder.events.clear()
    with pytest.raises(error):
        engine.execute(CASE, make(engine, clock), actor=OFFICER)
    assert engine.history(CASE) == history
    assert engine.case(CASE) == case
    assert recorder.events == []
