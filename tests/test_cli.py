"""The ``tuko-flow`` command line: demo and protocol, readable and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator

import pytest
import structlog

from tuko_flow import TUKO, replay
from tuko_flow._cli import main
from tuko_flow.events import CaseOpened, Event, codec


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    """main() configures structlog for the process; put the previous configuration back."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_demo_prints_stage_changes_and_events(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable demo shows every stage change of a case through Stages 1-4 and back."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for change in (
        "stage: awaiting_notice -> stage1_notice",
        "stage: stage1_notice -> stage2_evaluate",
        "stage: stage2_evaluate -> stage3_plan",
        "stage: stage3_plan -> stage4_manage",
        "stage: stage4_manage -> closed",
        "stage: closed -> stage1_notice",
    ):
        assert change in out
    for event in ("CaseOpened", "NeedNoticed", "PlanDistributed", "CaseClosed", "CycleStarted"):
        assert event in out


def test_demo_shows_the_always_assume_need_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo explains why an always-assume-need case cannot be closed as 'no need'."""
    main(["demo"])
    out = capsys.readouterr().out
    assert "NeedAssumed" in out
    assert "need_not_always_assumed" in out
    assert "decide_no_cooperation_needed" in out


def test_demo_hides_shared_information(capsys: pytest.CaptureFixture[str]) -> None:
    """Information recorded in the demo is shown by classification and source, not its text."""
    main(["demo"])
    out = capsys.readouterr().out
    assert "Victim reports renewed threats by phone." not in out
    assert "Two call-outs in the last month." not in out
    assert "<need_to_know information from police>" in out


def _json_events(text: str) -> list[Event]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict)
    return [codec.from_json(line) for line in lines]


def test_demo_json_is_one_readable_event_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Each line is a JSON object the codec reads back; each case's events replay to a case."""
    assert main(["demo", "--json"]) == 0
    events = _json_events(capsys.readouterr().out)
    by_case: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_case[event.case_id].append(event)
    assert set(by_case) == {"case-0001", "case-0002", "marac-0001"}
    for case_id, history in by_case.items():
        assert isinstance(history[0], CaseOpened)
        assert [e.version for e in history] == list(range(1, len(history) + 1))
        case = replay(history)
        assert case.case_id == case_id
        assert case.version == len(history)
    first = replay(by_case["case-0001"])
    assert first.state == "stage1_notice"
    assert first.cycle.number == 2
    assert [link.marac_case_id for link in first.marac_links] == ["marac-0001"]
    assert first.marac_outcomes[-1].marac_state == "closed"
    marac = replay(by_case["marac-0001"])
    assert marac.protocol == "marac"
    assert marac.state == "referred"
    assert marac.marac is not None
    assert [r.number for r in marac.marac.rounds] == [1, 2]
    assert marac.marac.current.referral is not None
    assert marac.marac.current.referral.criteria == ("repeat",)
    second = replay(by_case["case-0002"])
    assert second.always_assume_need is True
    assert second.state == "stage2_evaluate"


def test_demo_json_round_trips_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    """Re-serialising each read-back event gives the very line that was printed."""
    main(["demo", "--json"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    for line in lines:
        assert codec.to_json(codec.from_json(line)) == line


def test_protocol_prints_states_transitions_and_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable protocol names every state, every transition and every rule with its source."""
    assert main(["protocol"]) == 0
    out = capsys.readouterr().out
    for state in TUKO.states:
        assert state.name in out
    for transition in TUKO.transitions:
        assert transition.trigger in out
    for rule in TUKO.rules.values():
        assert f"{rule.name}: {rule.reason}" in out
        assert f"seed: {rule.source}" in out


def test_protocol_json_describes_tuko(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON protocol has TUKO's name, states, transitions and rules."""
    assert main(["protocol", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["name"], data["version"], data["initial"]) == (
        TUKO.name,
        TUKO.version,
        TUKO.initial,
    )
    assert [s["name"] for s in data["states"]] == [s.name for s in TUKO.states]
    assert [t["trigger"] for t in data["transitions"]] == [t.trigger for t in TUKO.transitions]
    for spec, t in zip(TUKO.transitions, data["transitions"], strict=True):
        assert t["source"] == list(spec.source)
        assert t["dest"] == spec.dest
        assert t["rules"] == list(spec.rules)
        assert t["auto"] is spec.auto
    assert set(data["rules"]) == set(TUKO.rules)
    for name, r in data["rules"].items():
        assert r == {"reason": TUKO.rules[name].reason, "source": TUKO.rules[name].source}


@pytest.mark.parametrize("argv", [["nonsense"], [], ["demo", "--yaml"], ["protocol", "extra"]])
def test_bad_arguments_exit_non_zero(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand, none at all, or an unknown option exits with an error."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code not in (0, None)
    assert "usage: tuko-flow" in capsys.readouterr().err


def test_verbose_demo_logs_commands_without_free_text(capsys: pytest.CaptureFixture[str]) -> None:
    """-v logs each accepted command to stderr, and no shared information text."""
    assert main(["-v", "demo"]) == 0
    err = capsys.readouterr().err
    assert "command_accepted" in err
    assert "command_refused" in err
    assert "Victim reports renewed threats by phone." not in err
    assert "client-7f3a" not in err


def test_python_m_tuko_flow_runs_the_demo() -> None:
    """The real entry point runs in a fresh process and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "tuko_flow", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "stage: stage4_manage -> closed" in result.stdout
    assert result.stderr == ""


def test_python_m_tuko_flow_rejects_a_bad_subcommand() -> None:
    """A bad subcommand exits non-zero in a fresh process, with usage on stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "tuko_flow", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "usage: tuko-flow" in result.stderr
