"""Bad input at the API's edges, forged snapshots, gaps, and concurrent deadline checks."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest

from tuko_flow import (
    Client,
    DecideCooperationNeeded,
    Engine,
    HoldMeeting,
    ManualClock,
    OpenCase,
    RecordCommonAssessment,
    RecordPartnerCommunication,
    ShareInformation,
)
from tuko_flow.errors import ConcurrencyError, CorruptEventError, TukoFlowError, ValidationError
from tuko_flow.stores import SQLiteEventStore
from tuko_flow.testing import (
    OFFICER,
    POLICE,
    SAMPLE_NETWORK,
    VICTIM_SUPPORT,
    drive_to,
    sample_assessment,
    sample_intake,
)

CASE = "case-rv"


def _stage2_ready(engine: Engine, clock: ManualClock) -> None:
    """Stage 2 with the meeting held, everyone heard and the assessment recorded."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    engine.execute(CASE, HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    for actor in (OFFICER, POLICE):
        engine.execute(CASE, ShareInformation(information="i", evaluation="e"), actor=actor)
    engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)


@pytest.mark.parametrize(
    "command",
    [
        DecideCooperationNeeded(situation="Escalating threats.", risks="threats"),  # type: ignore[arg-type]
        HoldMeeting(participants="m-po"),  # type: ignore[arg-type]
    ],
    ids=["risks", "participants"],
)
def test_one_text_where_a_list_belongs_is_refused_not_split(
    engine: Engine, clock: ManualClock, command: object
) -> None:
    """A single string given for a list is reported as such, never stored as letters."""
    _stage2_ready(engine, clock)
    before = engine.history(CASE)
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, command, actor=OFFICER)  # type: ignore[arg-type]
    assert "one text, not a list" in str(info.value)
    assert engine.history(CASE) == before


def test_partner_communication_to_a_single_string_is_refused(
    engine: Engine, clock: ManualClock
) -> None:
    """to_members='m-po' is one text, not a list: refused naming the field."""
    drive_to(engine, clock, CASE, "stage4_manage")
    command = RecordPartnerCommunication(to_members="m-po", information="Update.")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, command, actor=POLICE)
    assert info.value.fields == ("to_members",)


@pytest.mark.parametrize("field", ["network", "people_at_risk"])
def test_intake_with_a_non_list_is_a_validation_error(engine: Engine, field: str) -> None:
    """OpenCase with None for a list field names the field instead of a raw TypeError."""
    values = {
        "case_id": CASE,
        "client": Client("client-7f3a"),
        "people_at_risk": sample_intake().people_at_risk,
        "network": SAMPLE_NETWORK,
        "offence": "domestic_violence",
        field: None,
    }
    with pytest.raises(ValidationError) as info:
        engine.open_case(OpenCase(**values), actor=OFFICER)
    assert field in info.value.fields


def test_a_string_is_not_a_command(engine: Engine, clock: ManualClock) -> None:
    """execute('hold_meeting') is a validation error on the command, not an AttributeError."""
    drive_to(engine, clock, CASE, "stage2_evaluate")
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, "hold_meeting", actor=OFFICER)  # type: ignore[arg-type]
    assert info.value.fields == ("command",)


def test_engine_accepts_a_file_path_as_its_store(tmp_path: Path, clock: ManualClock) -> None:
    """Engine(path) stores in SQLite there; a second engine on the path sees the case."""
    path = tmp_path / "cases.sqlite3"
    engine = Engine(path, clock=clock)
    drive_to(engine, clock, CASE, "stage2_evaluate")
    assert isinstance(engine.store, SQLiteEventStore)
    assert Engine(str(path), clock=clock).case(CASE) == engine.case(CASE)


def test_engine_refuses_something_that_is_not_a_store(clock: ManualClock) -> None:
    """A wrong store object is refused at once, naming what it lacks."""
    with pytest.raises(TukoFlowError, match="not an event store"):
        Engine(object(), clock=clock)  # type: ignore[arg-type]


def _forge_snapshot(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        (state,) = conn.execute("SELECT state FROM tuko_snapshots").fetchone()
        envelope = json.loads(state)
        envelope["case"] = envelope["case"].replace(
            '"always_assume_need":false', '"always_assume_need":true'
        )
        conn.execute("UPDATE tuko_snapshots SET state = ?", (json.dumps(envelope),))


def test_an_edited_snapshot_is_ignored_and_reported(tmp_path: Path, clock: ManualClock) -> None:
    """A snapshot changed by hand is not trusted: the case is replayed; verify() names it."""
    path = tmp_path / "cases.sqlite3"
    engine = Engine(path, clock=clock, snapshot_every=5)
    truth = drive_to(engine, clock, CASE, "stage4_manage")
    assert engine.verify() == []
    _forge_snapshot(path)
    fresh = Engine(path, clock=clock, snapshot_every=5)
    assert fresh.case(CASE) == truth
    assert fresh.case(CASE).always_assume_need is False
    problems = fresh.verify()
    assert [p.case_id for p in problems] == [CASE]
    assert "snapshot" in problems[0].problem


def test_a_gap_in_the_history_is_a_corrupt_event_error(tmp_path: Path, clock: ManualClock) -> None:
    """A deleted event makes loading and history raise CorruptEventError naming the version."""
    path = tmp_path / "cases.sqlite3"
    drive_to(Engine(path, clock=clock, snapshot_every=None), clock, CASE, "stage2_evaluate")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM tuko_events WHERE case_id = ? AND version = 3", (CASE,))
    fresh = Engine(path, clock=clock, snapshot_every=None)
    with pytest.raises(CorruptEventError) as info:
        fresh.case(CASE)
    assert (info.value.case_id, info.value.version) == (CASE, 3)
    with pytest.raises(CorruptEventError):
        fresh.history(CASE)


def test_deadline_checks_from_several_servers_record_each_fact_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    """Four engines checking deadlines at once: no error escapes, each overdue task once."""
    path = tmp_path / "cases.sqlite3"
    first = Engine(path, clock=clock)
    for n in range(6):
        drive_to(first, clock, f"case-{n}", "stage4_manage")
    clock.advance(days=30)
    engines = [Engine(path, clock=clock) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def run(engine: Engine) -> None:
        barrier.wait()
        try:
            engine.check_deadlines()
        except (ConcurrencyError, TukoFlowError) as exc:  # pragma: no cover - the bug
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    checker = Engine(path, clock=clock)
    for n in range(6):
        kinds = [type(e).__name__ for e in checker.history(f"case-{n}")]
        assert kinds.count("TaskOverdue") == 1
        assert kinds.count("MeetingMissed") == 1
    assert checker.check_deadlines() == ()
    assert checker.verify() == []


class _NaiveClock:
    """A broken clock: datetimes without a timezone."""

    def now(self) -> datetime:
        return datetime(2026, 1, 5, 9, 0)


def test_a_naive_clock_is_reported_as_the_clock_s_fault() -> None:
    """A clock returning naive datetimes is named as the problem; nothing is stored."""
    engine = Engine(clock=_NaiveClock())
    with pytest.raises(TukoFlowError, match="naive datetime"):
        engine.open_case(sample_intake(CASE), actor=OFFICER)
    assert list(engine.case_ids()) == []


def test_a_command_id_reused_by_another_actor_is_refused(
    engine: Engine, clock: ManualClock
) -> None:
    """Reusing a stored command's id for another actor's command is an error, not a retry."""
    drive_to(engine, clock, CASE, "stage4_manage")
    first = RecordPartnerCommunication(to_members=("m-po",), information="Update.")
    engine.execute(CASE, first, actor=POLICE)
    before = engine.history(CASE)
    reused = RecordPartnerCommunication(
        command_id=first.command_id, to_members=("m-po",), information="Another update."
    )
    with pytest.raises(ValidationError) as info:
        engine.execute(CASE, reused, actor=VICTIM_SUPPORT)
    assert info.value.fields == ("command_id",)
    assert engine.history(CASE) == before
    assert engine.execute(CASE, first, actor=POLICE).version == before[-1].version
