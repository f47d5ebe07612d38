"""The store commands of the CLI: demo into a file, cases, history, verify."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tuko_flow._cli import main
from tuko_flow.events import codec


@pytest.fixture
def demo_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A SQLite store filled by ``tuko-flow demo --store``."""
    path = tmp_path / "demo.sqlite3"
    assert main(["demo", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"stored in {path}" in out
    return path


def test_demo_refuses_to_overwrite_an_existing_store(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo writes a new store; an existing file is refused with a message, exit 2."""
    assert main(["demo", "--store", str(demo_store)]) == 2
    assert "exists already" in capsys.readouterr().err


def test_cases_lists_every_demo_case(demo_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`cases --json` lists each case with its protocol, state, cycle and version."""
    assert main(["cases", "--store", str(demo_store), "--json"]) == 0
    rows = {r["case_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"case-0001", "case-0002", "marac-0001"}
    first = rows["case-0001"]
    assert (first["protocol"], first["state"], first["cycle"]) == ("tuko@1", "stage1_notice", 2)
    assert rows["case-0002"]["state"] == "stage2_evaluate"
    assert (rows["marac-0001"]["protocol"], rows["marac-0001"]["state"]) == ("marac@1", "referred")


def test_history_json_reads_back_as_events(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`history --json` prints the case's events in order, readable by the codec."""
    assert main(["history", "case-0002", "--store", str(demo_store), "--json"]) == 0
    events = [codec.from_dict(d) for d in json.loads(capsys.readouterr().out)]
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert type(events[0]).__name__ == "CaseOpened"


def test_history_of_an_unknown_case_fails_clearly(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown case id exits 2 and names the case."""
    assert main(["history", "case-9999", "--store", str(demo_store)]) == 2
    assert "case-9999" in capsys.readouterr().err


def test_verify_passes_then_finds_an_altered_event(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify` exits 0 on an intact store and 1 naming case and version once a row is altered."""
    assert main(["verify", "--store", str(demo_store)]) == 0
    assert "ok: 3 case(s)" in capsys.readouterr().out
    with sqlite3.connect(demo_store) as conn:
        conn.execute(
            "UPDATE tuko_events SET payload = replace(payload, 'po-101', 'po-999') "
            "WHERE case_id = 'case-0002' AND version = 2"
        )
    assert main(["verify", "--store", str(demo_store), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert {(p["case_id"], p["version"]) for p in report["problems"]} >= {("case-0002", 2)}


def test_reading_a_missing_store_is_an_error_not_a_new_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cases` on a path that does not exist exits 2 and creates nothing."""
    missing = tmp_path / "nope.sqlite3"
    assert main(["cases", "--store", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_reading_commands_leave_an_unrelated_database_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cases`/`verify` on a SQLite file that is not a tuko_flow store fail and change nothing."""
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE inventory (item TEXT)")
    before = other.read_bytes()
    for command in ("cases", "verify"):
        assert main([command, "--store", str(other)]) == 2
        assert "not a tuko_flow store" in capsys.readouterr().err
    assert other.read_bytes() == before


def test_demo_output_is_the_same_on_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    """With its manual clock and numbered commands, the demo's JSON is reproducible."""
    runs = []
    for _ in range(2):
        assert main(["demo", "--json", "--memory"]) == 0
        runs.append(capsys.readouterr().out)
    assert runs[0] == runs[1]
    ids = [json.loads(line)["command_id"] for line in runs[0].splitlines()]
    assert ids[0] == "case-0001-v001"
