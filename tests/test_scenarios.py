"""Scenario files: the shipped ones pass, differences are said in words, bad files name the line."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
from test_protocol import REVIEW, SEED_TEXT, SHARED, _words

import tuko_flow.scenarios as scenarios
from tuko_flow import (
    MARAC,
    TUKO,
    ActionOutcome,
    ActionReview,
    Actor,
    Command,
    Engine,
    HoldConference,
    MaracAction,
    Protocol,
    ReferToMarac,
    ReferToService,
    ReviewActions,
    Service,
    VictimNotice,
)
from tuko_flow._cli import main
from tuko_flow.rules.dash import SAFELIVES_DASH, Checklist, Instrument, Question
from tuko_flow.scenarios import Scenario, ScenarioError, load, loads, run

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "examples" / "scenarios").glob("*.toml"))
#: The MARAC scenarios (``marac_*.toml``, protocol marac@1); the others are TUKO's.
MARAC_SCENARIOS = [p for p in SCENARIOS if p.name.startswith("marac_")]
TUKO_SCENARIOS = [p for p in SCENARIOS if p not in MARAC_SCENARIOS]
#: The sources MARAC scenarios quote: seed 001 (TACTICS, Estonia) and the domain facts.
MARAC_SOURCES = [*sorted((SHARED / "seeds").glob("001_*.txt")), SHARED / "DOMAIN.md"]

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

#: The passages of seed 001 and shared/DOMAIN.md that MARAC scenarios encode, by file.
MARAC_PASSAGES = {
    "marac_below_threshold.toml": "is decided by a DASH risk assessment",
    "marac_high_risk_conference.toml": "Minutes separate incomplete actions that "
    "circumstances prevented from actions the agency did not do",
    "marac_professional_judgement.toml": "allowed on its own, but the reasons must be written",
    "marac_returned_referral.toml": "Victim Support will include the case in the MARAC model "
    "if justified",
    "marac_repeat_within_12_months.toml": "Any agency that learns of it must refer back "
    "whatever the threshold",
    "marac_repeat_after_12_months.toml": "After 12 months it is a new referral",
    "marac_consent_refusals.toml": "If the consent is not given, the data will not be passed",
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
    assert result.protocol == ("marac@1" if path in MARAC_SCENARIOS else "tuko@1")


def test_every_seed_passage_has_a_scenario() -> None:
    """Stages 1-4, always-assume-need, closing at Stage 2, crisis, restart and refusals ship."""
    names = {p.name for p in SCENARIOS}
    assert set(PASSAGES) <= names
    for name, passage in PASSAGES.items():
        quoted = " ".join(_comment_quotes((ROOT / "examples" / "scenarios" / name).read_text()))
        assert _words(passage) in _words(quoted), (name, passage)


def test_every_marac_passage_has_a_scenario() -> None:
    """Below and above the threshold, judgement, a returned referral, repeats, consent."""
    assert {p.name for p in MARAC_SCENARIOS} == set(MARAC_PASSAGES)
    for name, passage in MARAC_PASSAGES.items():
        quoted = " ".join(_comment_quotes((ROOT / "examples" / "scenarios" / name).read_text()))
        assert _words(passage) in _words(quoted), (name, passage)


def _source_words(path: Path) -> str:
    if path in MARAC_SCENARIOS:
        return _words(" ".join(f.read_text(encoding="utf-8") for f in MARAC_SOURCES))
    return _words(SEED_TEXT)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenario_quotes_the_seed(path: Path) -> None:
    """Each file's comment quotes its sources verbatim: TUKO files seed 000, MARAC files
    seed 001 or shared/DOMAIN.md ("..." between parts of one passage)."""
    quotes = _comment_quotes(path.read_text(encoding="utf-8"))
    assert quotes, f"{path.name} quotes no seed passage"
    source = _source_words(path)
    for quote in quotes:
        for part in re.split(r"\.\.\.|\u2026", quote):
            if part.strip():
                assert _words(part) in source, part


@pytest.mark.parametrize(
    ("files", "protocol"), [(TUKO_SCENARIOS, TUKO), (MARAC_SCENARIOS, MARAC)], ids=["tuko", "marac"]
)
def test_shipped_scenarios_visit_every_state_and_refuse_somewhere(
    files: list[Path], protocol: Protocol
) -> None:
    """Together each protocol's files reach every one of its states and expect refusals."""
    reached: set[str] = set()
    refusals = 0
    for path in files:
        result = run(load(path))
        reached |= {s.state for s in result.steps if s.state is not None}
        refusals += sum(s.outcome == "refused" for s in result.steps)
    assert reached == {s.name for s in protocol.states}
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


def _assert_error_at_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    base: str,
    change: tuple[str, str],
    needle: str,
    message: str,
) -> None:
    """``base`` with ``change`` made is a file error (exit 2) naming the file, the line of
    ``needle`` and ``message``."""
    text = base.replace(*change)
    assert text != base
    path = _write(tmp_path, text)
    err = _error(capsys, str(path))
    line = _line_of(text, needle)
    assert f"{path}, line {line}: " in err
    assert message in err


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
    _assert_error_at_line(tmp_path, capsys, MINIMAL, change, needle, message)


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


# --- MARAC values: a DASH checklist, actions, reviews, notices, consent -------------------

MARAC_MINIMAL = """\
title = "marac minimal"
protocol = "marac@1"

[case]
at = 2026-02-02T09:00:00Z
by = "m-pol"
case_id = "marac-m1"
area = "area-north"
victim = { ref = "victim-b2", relation = "victim" }
perpetrator = "client-c3"
network = [
  { member_id = "m-pol", agency = "police", person = "pol-4a1" },
  { member_id = "m-coord", agency = "victim_support", person = "vs-7c2", case_leader = true },
]

[case.checklist]
instrument = "safelives-dash@2009"
victim_ref = "victim-b2"
children_in_household = false
incidents = 1
yes = ["q1", "q2", "q3"]

[[steps]]
command = "refer_to_marac"
by = "m-pol"
at = 2026-02-02T10:00:00Z
victim_notice = { safe = true, how = "In person." }
expect = { refused = ["referral_criteria_met"] }

[[steps]]
command = "record_risk_assessment"
by = "m-coord"
at = 2026-02-02T11:00:00Z
expect = { invalid = ["checklist.answers"] }

[steps.checklist]
instrument = "safelives-dash@2009"
victim_ref = "victim-b2"
children_in_household = false
incidents = 1
answers = { q1 = "yes" }
"""


class _RecordingEngine(Engine):
    """The engine, keeping every command it is given (to see the values a file made)."""

    commands: ClassVar[list[Command]] = []

    def open_case(self, command: Command, **kwargs: object) -> object:  # type: ignore[override]
        self.commands.append(command)
        return super().open_case(command, **kwargs)  # type: ignore[arg-type]

    def execute(self, case_id: str, command: Command, **kwargs: object) -> object:  # type: ignore[override]
        self.commands.append(command)
        return super().execute(case_id, command, **kwargs)  # type: ignore[arg-type]


def _checklists(monkeypatch: pytest.MonkeyPatch, text: str) -> list[Checklist]:
    """The checklists of the commands a scenario ran (the scenario must pass)."""
    _RecordingEngine.commands = []
    monkeypatch.setattr(scenarios, "Engine", _RecordingEngine)
    result = run(loads(text, source="dash.toml"))
    assert result.ok, result.report()
    found = [getattr(c, "checklist", None) for c in _RecordingEngine.commands]
    return [c for c in found if isinstance(c, Checklist)]


def test_a_dash_in_toml_takes_who_asked_and_when_from_its_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`yes = [...]` answers the rest no; asked_by/asked_at default to the step's by and at."""
    (checklist,) = _checklists(monkeypatch, MARAC_MINIMAL)
    assert checklist.instrument is SAFELIVES_DASH
    assert set(checklist.answers) == set(SAFELIVES_DASH.ids)
    yes = sorted(q for q, a in checklist.answers.items() if a.value == "yes")
    assert yes == ["q1", "q2", "q3"]
    assert {a.asked_by for a in checklist.answers.values()} == {Actor("police", "pol-4a1")}
    assert {a.asked_at for a in checklist.answers.values()} == {
        datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    }
    assert all(a.by_victim for a in checklist.answers.values())


def test_a_dash_may_say_who_asked_when_and_the_source_of_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """asked_by / asked_at / source for the whole checklist, or per answer in a table."""
    text = MARAC_MINIMAL.replace(
        'yes = ["q1", "q2", "q3"]',
        'yes = ["q1", "q2"]\ndont_know = ["q4"]\nasked_by = "m-coord"\n'
        "asked_at = 2026-02-01T15:00:00Z\n"
        'answers = { q3 = { value = "yes", source = "police-record-9", asked_by = "m-pol" } }',
    )
    (checklist,) = _checklists(monkeypatch, text)
    answers = checklist.answers
    assert (answers["q3"].value, answers["q4"].value, answers["q5"].value) == (
        "yes",
        "dont_know",
        "no",
    )
    assert answers["q3"].source == "police-record-9"
    assert answers["q3"].asked_by == Actor("police", "pol-4a1")
    assert answers["q1"].asked_by == Actor("victim_support", "vs-7c2")
    assert answers["q1"].asked_at == datetime(2026, 2, 1, 15, 0, tzinfo=UTC)


def test_marac_checklist_problems_are_the_librarys_fields() -> None:
    """An incomplete checklist, an unknown question id, a bad value: invalid input naming
    the library's fields (a step may expect it), said at the line of the step."""
    result = run(loads(MARAC_MINIMAL, source="m.toml"))
    assert result.ok, result.report()
    incomplete = result.steps[2]
    assert incomplete.fields == ("checklist.answers",)
    assert "the checklist is incomplete" in incomplete.problems[0].problem
    for change, field, words in [
        ('yes = ["q1", "q25"]', "checklist.answers", "unknown question ids: 'q25'"),
        ('answers = { q1 = "maybe" }', "checklist.answers['q1'].value", "'maybe' is not one of"),
    ]:
        text = MARAC_MINIMAL.replace('yes = ["q1", "q2", "q3"]', change)
        intake, refer, _ = run(loads(text, source="bad.toml")).steps
        assert (intake.outcome, intake.fields) == ("invalid", (field,))
        assert intake.explain()[0].startswith(
            f"bad.toml, line {_line_of(text, '[case]')}: the case (open_marac_case by m-pol "
            "at 2026-02-02 09:00): expected the command to be accepted, got invalid input: "
            f"{field}: {words}"
        )
        # the steps after an intake that opened no case cannot run, and say why
        assert refer.outcome == "error"
        assert refer.error == "there is no case 'marac-m1': the [case] step did not open it"


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (
            ('instrument = "safelives-dash@2009"', 'instrument = "safelives-dash@2010"'),
            "[case.checklist]",
            "the case (checklist.instrument): unknown instrument 'safelives-dash@2010'; did you "
            "mean 'safelives-dash@2009'? (known: safelives-dash@2009)",
        ),
        (
            ('instrument = "safelives-dash@2009"\n', ""),
            "[case.checklist]",
            "the case (checklist): Checklist needs 'instrument' (name@version; known: "
            "safelives-dash@2009)",
        ),
        (
            ('yes = ["q1", "q2", "q3"]', 'yess = ["q1"]'),
            "[case.checklist]",
            "Checklist has no field 'yess'; did you mean 'yes'?",
        ),
        (
            ('yes = ["q1", "q2", "q3"]', 'yes = ["q1", "q1"]'),
            "[case.checklist]",
            "the case (checklist.yes): question 'q1' is answered twice",
        ),
        (
            ("incidents = 1\n", ""),
            "[case.checklist]",
            "the case (checklist): Checklist needs 'incidents'",
        ),
        (
            ('answers = { q1 = "yes" }', 'answers = { q1 = "yes" }\nasked_by = "m-idva"'),
            "[steps.checklist]",
            "step 2: 'checklist.asked_by' names 'm-idva', who is not in the case's network",
        ),
    ],
    ids=["unknown-instrument", "no-instrument", "unknown-key", "twice", "missing", "asked-by"],
)
def test_marac_checklist_mistakes_name_file_and_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    needle: str,
    message: str,
) -> None:
    """A checklist the runner cannot read is a file error (exit 2) at its line."""
    _assert_error_at_line(tmp_path, capsys, MARAC_MINIMAL, change, needle, message)


def test_a_team_instrument_is_named_by_name_and_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """run(instruments=...) adds instruments a checklist may name (here two questions)."""
    short = Instrument(
        name="team-check",
        version="1",
        questions=(Question("a", "fear", "Afraid?"), Question("b", "threats", "Threats?")),
    )
    text = MARAC_MINIMAL.replace("safelives-dash@2009", "team-check@1", 1).replace(
        'yes = ["q1", "q2", "q3"]', 'yes = ["a", "b"]'
    )
    with pytest.raises(ScenarioError, match="unknown instrument 'team-check@1'"):
        run(loads(text, source="team.toml"))
    # the team's instrument has 2 questions: the area's default threshold of 14 cannot be met
    result = run(loads(text, source="team.toml"), instruments=[SAFELIVES_DASH, short])
    intake = result.steps[0]
    assert intake.outcome == "error"
    assert "cannot score team-check 1" in (intake.error or "")


def test_marac_values_from_plain_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Actions with due dates, reviews, victim notices, consent and services are tables."""
    path = ROOT / "examples" / "scenarios" / "marac_high_risk_conference.toml"
    _RecordingEngine.commands = []
    monkeypatch.setattr(scenarios, "Engine", _RecordingEngine)
    assert run(load(path)).ok
    commands = _RecordingEngine.commands
    conference = [c for c in commands if isinstance(c, HoldConference)][-1]
    assert conference.actions[0] == MaracAction(
        action_id="a-1",
        agency="police",
        description="Flag the address for an urgent response.",
        area="policing",
        due_on=date(2026, 2, 19),
    )
    (review,) = [c for c in commands if isinstance(c, ReviewActions)]
    assert review.reviews[0] == ActionReview(action_id="a-1", outcome=ActionOutcome.DONE)
    (refer,) = [c for c in commands if isinstance(c, ReferToMarac)]
    assert refer.victim_notice == VictimNotice(
        safe=True,
        how="In person at the station, the perpetrator not present.",
        perpetrator_aware=False,
    )
    (child,) = [c for c in commands if isinstance(c, ReferToService)]
    assert (child.service, child.person_ref, child.consent) == (
        Service.CHILD_WELFARE,
        "child-9a06",
        None,
    )


def test_a_misspelt_name_in_expect_gets_a_hint() -> None:
    """A state or rule the protocol does not know is said beside the difference, with the
    nearest name (a typo, or a name from another version)."""
    text = MINIMAL.replace(
        'what = "Call-out after threats."\nexpect = { state = "stage1_notice" }',
        'what = "Call-out after threats."\nexpect = { state = "stage1_notise" }',
    ).replace(
        'meeting_at = 2026-01-08T10:00:00Z\nexpect = { state = "stage2_evaluate" }',
        'meeting_at = 2026-01-08T10:00:00Z\nexpect = { refused = ["actor_is_case_leadr"] }',
    )
    result = run(loads(text, source="typo.toml"))
    first, second = result.failed
    assert "note: 'stage1_notise' is not a state of tuko@1; did you mean 'stage1_notice'?" in (
        first.differences
    )
    assert any(
        d.startswith("note: 'actor_is_case_leadr' is not a rule of tuko@1; did you mean")
        for d in second.differences
    )


def test_an_invalid_network_is_the_intakes_invalid_input() -> None:
    """A bad network member makes the intake invalid input naming the field (a step may
    expect it), not a missing 'by' or a 'by' outside the network: an invalid intake is
    never executed, so no one is looked up to open the case."""
    leader_bad = MINIMAL.replace('member_id = "m-po"', 'member_id = "m po"')
    intake, notice, _ = run(loads(leader_bad, source="net.toml")).steps
    assert (intake.outcome, intake.fields) == ("invalid", ("network[0].member_id",))
    assert intake.label == "the case (open_case by the case leader at 2026-01-05 09:00)"
    assert notice.error == "there is no case 'case-m1': the [case] step did not open it"
    # 'by' names a member whose entry is invalid: still the field, not "not in the network"
    named = MINIMAL.replace('member_id = "m-pol"', 'member_id = "m pol"').replace(
        "[case]\n", '[case]\nby = "m-pol"\n'
    )
    (intake, *_) = run(loads(named)).steps
    assert (intake.outcome, intake.fields) == ("invalid", ("network[1].member_id",))
    assert "by m-pol at" in intake.label
    # the network is sound, another value is not: its case leader names the step
    (intake, *_) = run(loads(MINIMAL.replace('"domestic_violence"', '"nonsense"'))).steps
    assert (intake.outcome, intake.fields) == ("invalid", ("offence",))
    assert intake.label.startswith("the case (open_case by m-po at")
    # the file may expect it
    expected = leader_bad.replace(
        'people_at_risk = [{ ref = "victim-91c2", relation = "victim" }]\n',
        'people_at_risk = [{ ref = "victim-91c2", relation = "victim" }]\n'
        'expect = { invalid = ["network[0].member_id"] }\n',
    )
    result = run(loads(expected))
    assert result.steps[0].ok, result.report()


def test_an_intake_with_no_by_and_no_case_leader_says_what_to_write() -> None:
    """An intake that names no 'by' and whose network has no case leader is a file error
    saying so and what to write."""
    text = """\
[case]
at = 2026-01-05T09:00:00Z
case_id = "rev-0002"
leader = { member_id = "m-po", agency = "probation", person = "po-101", case_leader = true }
"""
    with pytest.raises(ScenarioError) as caught:
        run(loads(text, source="review.toml"), protocol=REVIEW)
    assert str(caught.value) == (
        "review.toml, line 1: the case has no 'by' and its network names no case leader to "
        "open it: write by = a member id or agency/person"
    )


def test_a_step_names_itself_and_finds_the_line_of_its_keys() -> None:
    """Step.what names the step in messages; Step.line_of finds the line of an argument,
    also of a value inside one, and falls back to the step's line."""
    scenario = loads(MINIMAL)
    intake, notice, _ = (scenario.intake, *scenario.steps)
    assert (intake.what, notice.what) == ("the case", "step 1")
    assert intake.line_of("people_at_risk[0].relation") == _line_of(MINIMAL, "people_at_risk")
    assert intake.line_of("network.member_id") == _line_of(MINIMAL, "network = [")
    assert notice.line_of("by") == _line_of(MINIMAL, 'by = "m-pol"')
    assert notice.line_of("nothing") == notice.line == _line_of(MINIMAL, "[[steps]]")
    assert notice.line_of("") == notice.line


def test_by_written_as_a_table_must_be_texts() -> None:
    """`by` and a checklist's `asked_by` read someone the same way: a table of agency and
    person must hold texts."""
    bad = MINIMAL.replace('by = "m-pol"', "by = { agency = 1, person = 2 }")
    with pytest.raises(ScenarioError, match=r"step 1: 'by' is \{'agency': 1, 'person': 2\}; "):
        loads(bad)
    asked = MARAC_MINIMAL.replace(
        'yes = ["q1", "q2", "q3"]',
        'yes = ["q1", "q2", "q3"]\nasked_by = { agency = 1, person = 2 }',
    )
    with pytest.raises(ScenarioError, match=r"\{'agency': 1, 'person': 2\} is not someone: name"):
        run(loads(asked))


def test_hints_are_made_only_for_a_step_that_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names in an expectation are checked against the protocol only when the step
    differs from it."""
    asked: list[object] = []
    real = scenarios._unknown_names

    def recording(expect: scenarios.Expectation, protocol: Protocol) -> list[str]:
        asked.append(expect)
        return real(expect, protocol)

    monkeypatch.setattr(scenarios, "_unknown_names", recording)
    assert run(loads(MINIMAL)).ok
    assert asked == []
    wrong = MINIMAL.replace('expect = { state = "stage1_notice" }', 'expect = { state = "x" }')
    result = run(loads(wrong))
    assert len(asked) == 1
    assert "note: 'x' is not a state of tuko@1" in result.steps[1].differences
