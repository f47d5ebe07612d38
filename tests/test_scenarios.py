"""Scenario files: the shipped ones pass, differences are said in words, bad files name the line."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_protocol import REVIEW, SEED_TEXT, _words

from tuko_flow import TUKO
from tuko_flow._cli import main
from tuko_flow.scenarios import Scenario, ScenarioError, load, loads, run

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "examples" / "scenarios").glob("*.toml"))

#: The seed passages of TUKO (seed 000) and the shipped file that encodes each.
PASSAGES = {
    "stage1_notice_and_inform.toml": "at least one network partner notices the need",
    "stage2_share_and_evaluate.toml": "Every participant shares relevant information",
    "stage3_plan.toml": "The plan is sent to all participants after the meeting",
    "crisis_timeframe.toml": "In the crisis situation the timeframe is in days",
    "stage4_manage_and_close.toml": "documents the situation in written form",
    "always_assume_need.toml": "always assume the need",
    "closing_at_stage2.toml": "If there is no need for further coordinated action",
    "restart_when_need_reemerges.toml": "If risks and need reemerge",
    "refusals.toml": "Probation officer as a case manager gathers/informs the network",
}

MINIMAL = """\
title = "minimal"

[case]
at = 2026-01-05T09:00:00Z
case_id = "case-m1"
client = "client-7f3a"
offence = "domestic_violence"
people_at_risk = [{ ref = "victim-91c2", relation = "victim" }]
network = [
  { member_id = "m-po", agency = "probation", person = "po-101", case_leader = true },
  { member_id = "m-pol", agency = "police", person = "pol-202" },
]

[[steps]]
command = "notice_need"
by = "m-pol"
at = 2026-01-06T10:00:00Z
what = "Call-out after threats."
expect = { state = "stage1_notice" }

[[steps]]  # inform the network
command = "inform_network"
by = "m-po"
meeting_at = 2026-01-08T10:00:00Z
expect = { state = "stage2_evaluate" }
"""


def _comment_quotes(text: str) -> list[str]:
    """The passages quoted in the file's comments ("..."), joined across comment lines."""
    comments = " ".join(
        line.strip().lstrip("#").strip() for line in text.splitlines() if line.startswith("#")
    )
    return re.findall(r'"([^"]+)"', comments)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return found[occurrence - 1]


def _write(tmp_path: Path, text: str, name: str = "case.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped scenario files ----------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenario_passes(path: Path) -> None:
    """Every step of every shipped scenario does what the file expects."""
    result = run(load(path))
    assert result.ok, result.report()
    assert result.protocol == "tuko@1"


def test_every_seed_passage_has_a_scenario() -> None:
    """Stages 1-4, always-assume-need, closing at Stage 2, crisis, restart and refusals ship."""
    names = {p.name for p in SCENARIOS}
    assert set(PASSAGES) <= names
    for name, passage in PASSAGES.items():
        quoted = " ".join(_comment_quotes((ROOT / "examples" / "scenarios" / name).read_text()))
        assert _words(passage) in _words(quoted), (name, passage)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenario_quotes_the_seed(path: Path) -> None:
    """Each file's comment quotes seed 000, and every quotation is in the seed's words."""
    quotes = _comment_quotes(path.read_text(encoding="utf-8"))
    assert quotes, f"{path.name} quotes no seed passage"
    for quote in quotes:
        assert _words(quote) in _words(SEED_TEXT), quote


def test_shipped_scenarios_visit_every_tuko_state_and_refuse_somewhere() -> None:
    """Together the files reach every TUKO state and expect at least one refusal."""
    reached: set[str] = set()
    refusals = 0
    for path in SCENARIOS:
        result = run(load(path))
        reached |= {s.state for s in result.steps if s.state is not None}
        refusals += sum(s.outcome == "refused" for s in result.steps)
    assert reached == {s.name for s in TUKO.states}
    assert refusals > 0


def test_cli_check_passes_every_shipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    """`tuko-flow check examples/scenarios/*.toml` exits 0 and prints a PASS per file."""
    assert main(["check", *map(str, SCENARIOS)]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS ") == len(SCENARIOS)
    assert f"{len(SCENARIOS)} scenario file(s): {len(SCENARIOS)} passed, 0 failed" in out


# --- differences in plain words -------------------------------------------------------------


def test_wrong_expectation_is_reported_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Expecting closure of an always-assume-need case reports the refusal and its rule; exit 1."""
    text = (ROOT / "examples" / "scenarios" / "always_assume_need.toml").read_text()
    wrong = text.replace(
        'expect = { refused = ["need_not_always_assumed"], state = "stage2_evaluate" }',
        'expect = { state = "closed_no_need" }',
    )
    assert wrong != text
    path = _write(tmp_path, wrong)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    header = _line_of(wrong, "[[steps]]", occurrence=6)
    assert f"FAIL {path}" in out
    assert (
        f"{path}, line {header}: step 6 (decide_no_cooperation_needed by m-po at "
        "2026-01-06 11:00): expected state closed_no_need, got a refusal: "
        "need_not_always_assumed: this case's risk-need matrix cell" in out
    )
    assert "1 scenario file(s): 0 passed, 1 failed" in out


def test_each_kind_of_difference_is_named() -> None:
    """Wrong state, wrong events, wrong rules, a refusal expected but none, invalid fields."""
    text = MINIMAL.replace(
        'what = "Call-out after threats."\nexpect = { state = "stage1_notice" }',
        'what = "Call-out after threats."\nexpect = { state = "stage2_evaluate", '
        'events = ["NeedNoticed"] }',
    ).replace(
        'meeting_at = 2026-01-08T10:00:00Z\nexpect = { state = "stage2_evaluate" }',
        'meeting_at = 2026-01-08T10:00:00Z\nexpect = { refused = ["network_has_partners"] }',
    )
    result = run(loads(text, source="diff.toml"))
    assert not result.ok
    first, second = result.failed
    assert first.differences == (
        "expected state stage2_evaluate, got state stage1_notice",
        "expected events NeedNoticed, got events NeedNoticed, StageChanged",
    )
    assert second.differences == (
        "expected a refusal by network_has_partners, got the command accepted (state "
        "stage2_evaluate; events NetworkInformed, MeetingScheduled, StageChanged)",
    )
    refused = run(
        loads(text.replace('by = "m-po"\nmeeting', 'by = "m-pol"\nmeeting'), source="rules.toml")
    )
    assert refused.failed[-1].differences == (
        "expected a refusal by network_has_partners, got a refusal: actor_is_case_leader: only "
        "the case leader (the probation officer leading this case) may do this",
    )
    invalid = run(
        loads(
            MINIMAL.replace(
                'meeting_at = 2026-01-08T10:00:00Z\nexpect = { state = "stage2_evaluate" }',
                'meeting_at = 2026-01-01T10:00:00Z\nexpect = { invalid = ["held_at"] }',
            ),
            source="invalid.toml",
        )
    )
    (step,) = invalid.failed
    assert step.outcome == "invalid"
    assert step.fields == ("meeting_at",)
    assert step.differences[0].startswith(
        "expected invalid input in held_at, got invalid input: meeting_at: "
        "2026-01-01T10:00:00+00:00 is not in the future"
    )


def test_result_records_each_step() -> None:
    """The result holds the intake and every step: outcome, state, events, rules, time."""
    result = run(loads(MINIMAL, source="m.toml"))
    assert result.ok
    assert [s.step.number for s in result.steps] == [0, 1, 2]
    intake, notice, inform = result.steps
    assert (intake.outcome, intake.state, intake.events) == (
        "accepted",
        "awaiting_notice",
        ("CaseOpened",),
    )
    assert intake.label == "the case (open_case by m-po at 2026-01-05 09:00)"
    assert notice.at == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    assert inform.at == notice.at  # a step without 'at' happens when the one before did
    assert inform.events == ("NetworkInformed", "MeetingScheduled", "StageChanged")
    assert result.to_dict()["steps"][2]["state"] == "stage2_evaluate"


def test_cli_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints every step's outcome and the differences, for machines."""
    path = _write(tmp_path, MINIMAL.replace('state = "stage1_notice"', 'state = "closed"'))
    assert main(["check", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    (result,) = data["results"]
    assert result["path"] == str(path)
    assert [s["outcome"] for s in result["steps"]] == ["accepted", "accepted", "accepted"]
    assert result["steps"][1]["differences"] == ["expected state closed, got state stage1_notice"]
    assert data["errors"] == []


# --- values from plain data ----------------------------------------------------------------


def test_local_times_take_the_scenario_time_zone() -> None:
    """Times without an offset are read in the file's `timezone` (default UTC)."""
    text = MINIMAL.replace('title = "minimal"', 'title = "minimal"\ntimezone = "Europe/Tallinn"')
    text = text.replace("2026-01-05T09:00:00Z", "2026-01-05T11:00:00")
    scenario = loads(text, source="tz.toml")
    assert scenario.intake.at == datetime(2026, 1, 5, 11, 0, tzinfo=ZoneInfo("Europe/Tallinn"))
    result = run(scenario)
    assert result.ok
    assert result.steps[0].label.endswith("at 2026-01-05 11:00)")


def test_config_table_is_the_engine_configuration() -> None:
    """A [config] table configures the engine: here a crisis timeframe of 3 days."""
    text = (ROOT / "examples" / "scenarios" / "crisis_timeframe.toml").read_text()
    strict = text.replace(
        'protocol = "tuko@1"', 'protocol = "tuko@1"\n\n[config.timeframes]\ncrisis_max_days = 3'
    )
    result = run(loads(strict, source="strict.toml"))
    # the plan's meeting a week away is now beyond the crisis timeframe (and so the steps
    # that need the plan differ too)
    first = result.failed[0]
    assert first.step.number == 10
    assert first.fields == ("next_meeting_at",)
    assert "beyond the plan's timeframe of 3 days (crisis plan)" in first.differences[0]


def test_a_scenario_runs_against_a_team_protocol(tmp_path: Path) -> None:
    """Commands are built generically from any protocol's command classes."""
    text = """\
[case]
at = 2026-01-05T09:00:00Z
case_id = "rev-0001"
by = "probation/po-101"
leader = { member_id = "m-po", agency = "probation", person = "po-101", case_leader = true }
expect = { state = "pending" }

[[steps]]
command = "approve"
by = "probation/po-999"
decision = "approved"
expect = { refused = ["actor_leads_review"] }

[[steps]]
command = "approve"
by = "m-po"
decision = "approved"
expect = { state = "approved", events = ["ReviewApproved", "StageChanged"] }
"""
    result = run(loads(text, source="review.toml"), protocol=REVIEW)
    assert result.ok, result.report()
    assert result.protocol == "review@1"
    path = _write(tmp_path, text)
    assert main(["check", str(path), "--protocol", "test_protocol:REVIEW"]) == 0


# --- files that cannot be run: exit 2, file and line ---------------------------------------


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["check", *argv]) == 2
    return capsys.readouterr().err


def test_toml_syntax_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A TOML mistake is reported with the file and the line tomllib found it on."""
    path = _write(tmp_path, MINIMAL.replace('by = "m-pol"', "by = m-pol"))
    err = _error(capsys, str(path))
    line = _line_of(MINIMAL, 'by = "m-pol"')
    assert f"{path}, line {line}: not valid TOML" in err


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (
            ('command = "inform_network"', 'command = "inform_netwrk"'),
            'command = "inform_netwrk"',
            "step 2: unknown command 'inform_netwrk'; did you mean 'inform_network'?",
        ),
        (
            ("meeting_at = 2026", "meeting_att = 2026"),
            "meeting_att",
            "step 2: InformNetwork has no field 'meeting_att'; did you mean 'meeting_at'?",
        ),
        (
            ('relation = "victim" }', 'relation = "victim", live_with_client = true }'),
            "people_at_risk",
            "the case (people_at_risk[0]): PersonAtRisk has no field 'live_with_client'",
        ),
        (
            ("meeting_at = 2026-01-08T10:00:00Z\n", ""),
            "# inform the network",
            "step 2: InformNetwork needs 'meeting_at'",
        ),
        (
            ('by = "m-pol"', 'by = "m-nobody"'),
            'by = "m-nobody"',
            "step 1: 'by' names 'm-nobody', who is not in the case's network",
        ),
        (
            ("at = 2026-01-06T10:00:00Z", "at = 2026-01-04T10:00:00Z"),
            "at = 2026-01-04",
            "step 1: at 2026-01-04 10:00 is before the case's opening",
        ),
        (
            ('expect = { state = "stage1_notice" }', 'expect = { stat = "stage1_notice" }'),
            "expect = { stat",
            "step 1: unknown key(s) in 'expect': stat",
        ),
        (
            ('title = "minimal"', 'title = "minimal"\nprotocol = "tuko@9"'),
            'protocol = "tuko@9"',
            "protocol 'tuko' has no version '9' (known versions: 1)",
        ),
        (
            ('title = "minimal"', 'titel = "minimal"'),
            "titel",
            "unknown key 'titel'",
        ),
    ],
    ids=[
        "unknown-command",
        "unknown-argument",
        "unknown-nested-field",
        "missing-argument",
        "unknown-member",
        "time-goes-back",
        "unknown-expect-key",
        "unknown-version",
        "unknown-top-key",
    ],
)
def test_semantic_errors_name_the_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    needle: str,
    message: str,
) -> None:
    """Each mistake is reported with the file and the line of the step or key at fault."""
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    path = _write(tmp_path, text)
    err = _error(capsys, str(path))
    line = _line_of(text, needle)
    assert f"{path}, line {line}: " in err
    assert message in err


def test_missing_file_and_unknown_cli_protocol_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file is named; an unknown --protocol is an error before anything runs."""
    good = _write(tmp_path, MINIMAL)
    missing = tmp_path / "nope.toml"
    assert main(["check", str(good), str(missing)]) == 2
    captured = capsys.readouterr()
    assert f"{missing}: no such file" in captured.err
    assert f"PASS {good}" in captured.out
    assert "1 could not be run" in captured.out
    err = _error(capsys, str(good), "--protocol", "marac@7")
    assert "unknown protocol 'marac'" in err or "no version '7'" in err


def test_cli_protocol_overrides_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--protocol wins over the file's own `protocol` key."""
    path = _write(tmp_path, MINIMAL.replace('title = "minimal"', 'protocol = "tuko@9"'))
    assert main(["check", str(path), "--protocol", "tuko@1"]) == 0
    capsys.readouterr()


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    """Two unknown commands in one file: one ScenarioError naming both lines."""
    text = MINIMAL.replace('"notice_need"', '"notice"').replace('"inform_network"', '"inform"')
    scenario: Scenario = loads(text, source="two.toml")
    with pytest.raises(ScenarioError) as exc:
        run(scenario)
    lines = [p.line for p in exc.value.problems]
    assert lines == [_line_of(text, '"notice"'), _line_of(text, '"inform"')]
    assert "2 problems" in str(exc.value)
