"""tuko_flow.versions: diffs, stranded cases, migrations as events, and the replay check."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_variants import TUKO_V1_1, TUKO_V2, every_member_shared

from tuko_flow import (
    TUKO,
    Actor,
    DecideCooperationNeeded,
    DraftPlan,
    Engine,
    HoldMeeting,
    InMemoryEventStore,
    ManualClock,
    RecordCommonAssessment,
    ShareInformation,
    replay,
)
from tuko_flow._cli import main
from tuko_flow._demo import run_demo
from tuko_flow.errors import (
    CommandRefused,
    MigrationRefused,
    TukoFlowError,
    ValidationError,
)
from tuko_flow.events import Event, ProtocolMigrated
from tuko_flow.stages import AWAITING_NOTICE, STAGE2, STAGE3, STAGE4
from tuko_flow.stores import SQLiteEventStore
from tuko_flow.testing import (
    CHILD_PROTECTION,
    OFFICER,
    POLICE,
    START,
    VICTIM_SUPPORT,
    drive_to,
    sample_assessment,
)
from tuko_flow.versions import (
    MigrationResult,
    ProtocolDiff,
    diff,
    plan_migration,
    replay_check,
    stranded_cases,
)

V2_MAP = {STAGE3: "stage3_planning"}
OPERATOR = Actor(agency="probation", person="po-900")


def _v1_cases(engine: Engine, clock: ManualClock) -> None:
    """Four TUKO v1 cases: awaiting notice, Stage 2, Stage 3 and Stage 4."""
    drive_to(engine, clock, "case-aw", AWAITING_NOTICE)
    drive_to(engine, clock, "case-s2", STAGE2)
    drive_to(engine, clock, "case-s3", STAGE3)
    drive_to(engine, clock, "case-s4", STAGE4)


@pytest.fixture
def v1_store(clock: ManualClock) -> InMemoryEventStore:
    """A store with four cases opened and worked under TUKO version 1."""
    store = InMemoryEventStore()
    _v1_cases(Engine(store, clock=clock), clock)
    return store


@pytest.fixture
def both(v1_store: InMemoryEventStore, clock: ManualClock) -> Engine:
    """An engine that runs version 1 and version 2 on the v1 cases' store."""
    return Engine(v1_store, clock=clock, protocols=[TUKO, TUKO_V2])


def _versions(store: InMemoryEventStore) -> dict[str, int]:
    return {cid: store.version(cid) for cid in store.case_ids()}


# --- diff -----------------------------------------------------------------------------


def test_a_protocol_does_not_differ_from_itself() -> None:
    """diff(TUKO, TUKO) is empty and says so."""
    change = diff(TUKO, TUKO)
    assert change.empty
    assert change.explain() == "tuko@1 -> tuko@1: no differences in states, transitions or rules"


def test_diff_lists_states_transitions_and_rules() -> None:
    """A renamed state, a lost transition and a new guard show up where they belong."""
    change = diff(TUKO, TUKO_V2)
    assert isinstance(change, ProtocolDiff)
    assert (change.old_label, change.new_label) == ("tuko@1", "tuko@2")
    assert change.states_added == ("stage3_planning",)
    assert change.states_removed == (STAGE3,)
    assert ("add_network_member", AWAITING_NOTICE) in change.transitions_removed
    assert ("draft_plan", STAGE3) in change.transitions_removed
    assert ("draft_plan", "stage3_planning") in change.transitions_added
    changed = {(c.trigger, c.source): c.changes for c in change.transitions_changed}
    assert changed[("record_common_assessment", STAGE2)] == ("now also needs every_member_shared",)
    assert changed[("decide_cooperation_needed", STAGE2)] == (
        "goes to stage3_planning instead of stage3_plan",
    )
    assert change.rules_added == ("every_member_shared",)
    assert change.rules_removed == ()
    text = change.explain()
    assert "- stage3_plan" in text
    assert "~ record_common_assessment from stage2_evaluate: now also needs" in text


def test_diff_in_the_other_direction_says_what_is_no_longer_needed() -> None:
    """Going back from version 2, the guard is removed, not added."""
    change = diff(TUKO_V2, TUKO)
    changed = {(c.trigger, c.source): c.changes for c in change.transitions_changed}
    assert changed[("record_common_assessment", STAGE2)] == ("no longer needs every_member_shared",)
    assert change.rules_removed == ("every_member_shared",)


def test_diff_sees_a_new_reason_and_a_new_check_function() -> None:
    """A rule with the same name but another reason or check function is a changed rule."""
    assert [(c.name, c.changes) for c in diff(TUKO, TUKO_V1_1).rules_changed] == [
        (
            "actor_in_network",
            (
                'reason "only a member of the case\'s network may do this" -> '
                '"only members of the case\'s network may act"',
            ),
        )
    ]
    strict = attrs.evolve(TUKO.rules["actor_in_network"], check=lambda ctx: True)
    other = attrs.evolve(TUKO, version="1.2", rules={**TUKO.rules, "actor_in_network": strict})
    (change,) = diff(TUKO, other).rules_changed
    assert change.name == "actor_in_network"
    assert change.changes[0].startswith("check function ")


def test_diff_sees_a_transition_become_automatic() -> None:
    """Auto-ness and the command class are part of a transition's identity."""
    transitions = [
        attrs.evolve(t, auto=True, command=None) if t.trigger == "begin_case_management" else t
        for t in TUKO.transitions
    ]
    other = attrs.evolve(TUKO, version="1.3", transitions=transitions)
    (change,) = diff(TUKO, other).transitions_changed
    assert (change.trigger, change.source) == ("begin_case_management", STAGE3)
    assert change.changes == (
        "now automatic",
        "fired by command none instead of BeginCaseManagement",
    )


def test_diff_as_json_data() -> None:
    """to_dict() is plain JSON data with the same content."""
    data = json.loads(json.dumps(diff(TUKO, TUKO_V2).to_dict()))
    assert data["old"] == "tuko@1"
    assert data["states"]["removed"] == [STAGE3]
    assert {"trigger": "add_network_member", "source": AWAITING_NOTICE} in data["transitions"][
        "removed"
    ]
    assert data["rules"]["added"] == ["every_member_shared"]


def test_diff_refuses_what_is_not_a_protocol() -> None:
    """diff() names the argument that is not a Protocol."""
    with pytest.raises(ValidationError) as info:
        diff(TUKO, "tuko@2")  # type: ignore[arg-type]
    assert info.value.fields == ("new",)


# --- stranded cases -------------------------------------------------------------------


def test_stranded_cases_are_named_with_their_state(both: Engine) -> None:
    """A removed state and a lost transition each strand the cases that rest there."""
    stranded = stranded_cases(both, diff(TUKO, TUKO_V2))
    assert [(s.case_id, s.state) for s in stranded] == [
        ("case-aw", AWAITING_NOTICE),
        ("case-s3", STAGE3),
    ]
    lost, gone = stranded
    assert lost.lost == ("add_network_member",)
    assert lost.reason == "tuko@2 no longer has add_network_member from 'awaiting_notice'"
    assert gone.reason == "state 'stage3_plan' does not exist in tuko@2"
    assert "draft_plan" in gone.lost


def test_stranded_cases_read_from_a_store_too(v1_store: InMemoryEventStore) -> None:
    """Given a bare store, the same cases are found."""
    found = [s.case_id for s in stranded_cases(v1_store, diff(TUKO, TUKO_V2))]
    assert found == ["case-aw", "case-s3"]


def test_cases_under_another_version_are_not_stranded(both: Engine) -> None:
    """Once migrated, a case no longer counts as in flight under the old version."""
    both.migrate(
        None, to=TUKO_V2, state_map=V2_MAP, keep_unmapped=True, actor=OPERATOR, reason="v2"
    )
    assert stranded_cases(both, diff(TUKO, TUKO_V2)) == ()


# --- migration refused ----------------------------------------------------------------


def test_migration_refuses_naming_every_uncovered_case_and_writes_nothing(
    both: Engine, v1_store: InMemoryEventStore
) -> None:
    """Without a state map, the Stage 3 case has nowhere to go: nothing moves at all."""
    before = _versions(v1_store)
    with pytest.raises(MigrationRefused) as info:
        both.migrate(None, to=TUKO_V2, actor=OPERATOR, reason="v2 goes live")
    refused = info.value
    assert refused.target == "tuko@2"
    assert refused.case_ids == ("case-s3",)
    assert "'stage3_plan'" in refused.cases["case-s3"]
    assert "case 'case-s3'" in str(refused)
    assert "nothing was written" in str(refused)
    assert _versions(v1_store) == before
    assert {both.case(cid).protocol_version for cid in before} == {"1"}


def test_an_explicit_map_must_cover_every_selected_case(both: Engine) -> None:
    """With a map and no keep_unmapped, every case whose state is not listed is named."""
    with pytest.raises(MigrationRefused) as info:
        both.migrate(None, to=TUKO_V2, state_map=V2_MAP, actor=OPERATOR, reason="v2")
    assert set(info.value.case_ids) == {"case-aw", "case-s2", "case-s4"}
    assert "which the state map does not cover" in info.value.cases["case-s2"]


def test_a_map_naming_a_state_the_old_version_lacks_is_refused(
    both: Engine, v1_store: InMemoryEventStore
) -> None:
    """A misspelt old state in the map is named with the old version's states; nothing is
    written."""
    before = _versions(v1_store)
    with pytest.raises(MigrationRefused) as info:
        both.migrate(
            None,
            to=TUKO_V2,
            state_map={**V2_MAP, "stage3_pln": "stage3_planning"},
            keep_unmapped=True,
            actor=OPERATOR,
            reason="v2",
        )
    assert "names 'stage3_pln', which is not a state of tuko@1" in info.value.reason
    assert _versions(v1_store) == before


def test_a_map_to_a_state_the_new_version_lacks_is_refused(
    both: Engine, v1_store: InMemoryEventStore
) -> None:
    """Mapping to a state that does not exist is refused, naming the entry and the case."""
    before = _versions(v1_store)
    with pytest.raises(MigrationRefused) as info:
        both.migrate(
            ["case-s3"],
            to=TUKO_V2,
            state_map={STAGE3: "stage3_plans"},
            actor=OPERATOR,
            reason="v2",
        )
    assert info.value.case_ids == ("case-s3",)
    assert "mapped to 'stage3_plans', which tuko@2 does not have" in info.value.cases["case-s3"]
    assert "sends 'stage3_plan' to 'stage3_plans'" in info.value.reason
    assert _versions(v1_store) == before


def test_unknown_cases_and_other_protocols_are_named(both: Engine) -> None:
    """A case id that does not exist is a problem of the migration, named like the others."""
    with pytest.raises(MigrationRefused) as info:
        both.migrate(["case-s2", "case-nope"], to=TUKO_V2, actor=OPERATOR, reason="v2")
    assert info.value.cases == {"case-nope": "does not exist in this store"}


def test_the_engine_must_run_the_target_version(
    v1_store: InMemoryEventStore, clock: ManualClock
) -> None:
    """An engine that does not run tuko@2 refuses, saying what it runs."""
    engine = Engine(v1_store, clock=clock)
    with pytest.raises(MigrationRefused) as info:
        engine.migrate(None, to=TUKO_V2, actor=OPERATOR, reason="v2")
    assert "this engine does not run tuko@2 (it runs: tuko@1" in str(info.value)
    assert info.value.case_ids == ()


def test_a_migration_needs_a_reason_and_an_actor(both: Engine) -> None:
    """Blank reasons and non-actors are refused as input, before anything is looked at."""
    with pytest.raises(ValidationError) as info:
        both.migrate(None, to=TUKO_V2, actor="po-900", reason=" ")  # type: ignore[arg-type]
    assert info.value.fields == ("actor", "reason")


# --- migration done -------------------------------------------------------------------


def test_a_migration_is_an_event_and_the_case_runs_under_the_new_version(
    both: Engine, v1_store: InMemoryEventStore, clock: ManualClock
) -> None:
    """Each case gets one ProtocolMigrated; replay equals the live case; v2 rules apply."""
    result = both.migrate(
        None,
        to=TUKO_V2,
        state_map=V2_MAP,
        keep_unmapped=True,
        actor=OPERATOR,
        reason="TUKO v2 goes live",
    )
    assert isinstance(result, MigrationResult)
    assert result.ok
    assert [s.case_id for s in result.migrated] == ["case-aw", "case-s2", "case-s3", "case-s4"]
    last = both.history("case-s3")[-1]
    assert isinstance(last, ProtocolMigrated)
    assert (last.protocol, last.from_version, last.to_version) == ("tuko", "1", "2")
    assert (last.from_state, last.to_state) == (STAGE3, "stage3_planning")
    assert last.reason == "TUKO v2 goes live"
    assert last.actor == OPERATOR
    fresh = Engine(v1_store, clock=clock, protocols=[TUKO, TUKO_V2])
    for cid in v1_store.case_ids():
        live = both.case(cid)
        assert live.protocol_version == "2"
        assert replay(both.history(cid), protocols=[TUKO, TUKO_V2]) == live
        assert fresh.case(cid) == live
        assert both.protocol_of(live) is TUKO_V2
    assert both.case("case-s3").state == "stage3_planning"
    # the Stage 2 case now obeys version 2's new guard ...
    both.execute("case-s2", HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    both.execute(
        "case-s2",
        ShareInformation(information="Police records.", evaluation="High risk."),
        actor=POLICE,
    )
    with pytest.raises(CommandRefused) as info:
        both.execute(
            "case-s2", RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER
        )
    assert info.value.rules == ("every_member_shared",)
    # ... and cases still under version 1 do not
    old = Engine(v1_store, clock=clock)
    drive_to(old, clock, "case-v1", STAGE2)
    old.execute("case-v1", HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    old.execute("case-v1", RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
    assert old.case("case-v1").cycle.assessment is not None


def test_migrating_twice_writes_nothing_the_second_time(
    both: Engine, v1_store: InMemoryEventStore
) -> None:
    """A repeated migration finds the cases under the target and leaves them alone."""
    kwargs: dict[str, Any] = {
        "to": TUKO_V2,
        "state_map": V2_MAP,
        "keep_unmapped": True,
        "actor": OPERATOR,
        "reason": "v2",
    }
    both.migrate(["case-s3"], **kwargs)
    after = _versions(v1_store)
    again = both.migrate(["case-s3"], **kwargs)
    assert again.migrated == ()
    assert again.unchanged == ("case-s3",)
    assert _versions(v1_store) == after


def test_a_retried_command_id_is_recognised(
    v1_store: InMemoryEventStore, clock: ManualClock
) -> None:
    """The same migration request (command id) against a stale engine stores nothing twice."""
    first = Engine(v1_store, clock=clock, protocols=[TUKO, TUKO_V2])
    stale = Engine(v1_store, clock=clock, protocols=[TUKO, TUKO_V2])
    stale.case("case-s2")  # cached before the migration
    kwargs: dict[str, Any] = {"to": TUKO_V2, "actor": OPERATOR, "reason": "v2"}
    first.migrate(["case-s2"], command_id="req-77", **kwargs)
    version = v1_store.version("case-s2")
    result = stale.migrate(["case-s2"], command_id="req-77", **kwargs)
    assert result.migrated == ()
    assert v1_store.version("case-s2") == version


def test_a_command_id_used_for_another_command_is_refused_before_anything_is_written(
    v1_store: InMemoryEventStore, clock: ManualClock
) -> None:
    """Reusing the id of a command that was no migration is named, and no case moves."""
    engine = Engine(v1_store, clock=clock, protocols=[TUKO, TUKO_V2])
    used = engine.history("case-s2")[0].command_id
    before = _versions(v1_store)
    with pytest.raises(ValidationError) as invalid:
        engine.migrate(
            ["case-aw", "case-s2"], to=TUKO_V2, actor=OPERATOR, reason="v2", command_id=used
        )
    assert invalid.value.fields == ("command_id",)
    assert "case-s2" in str(invalid.value)
    assert _versions(v1_store) == before


def test_a_host_id_shaped_like_an_engine_id_is_still_checked() -> None:
    """A command whose id looks like a deadline check's is replayed like any command: the
    replay check is not fooled into skipping it."""
    engine, _ = _demo_store()
    store = InMemoryEventStore()
    for cid in engine.store.case_ids():
        batches: list[list[Any]] = []
        for e in engine.store.load(cid):
            if batches and batches[-1][-1].command_id == e.command_id:
                batches[-1].append(e)
            else:
                batches.append([e])
        version = 0
        for batch in batches:
            if any(type(e).__name__ == "CommonAssessmentRecorded" for e in batch):
                batch = [
                    attrs.evolve(e, command_id="check_deadlines:" + e.command_id) for e in batch
                ]
            store.append(cid, batch, version)
            version += len(batch)
    honest = {c.case_id: c.ok for c in replay_check(engine, TUKO_V2).cases}
    disguised = {c.case_id: c.ok for c in replay_check(store, TUKO_V2).cases}
    assert disguised == honest
    assert not all(honest.values())


class RacingStore(InMemoryEventStore):
    """An in-memory store that lets another writer in just before a migration's append."""

    def __init__(self) -> None:
        super().__init__()
        self.before_migration: Callable[[], None] | None = None

    def append(self, case_id: str, events: Any, expected_version: int) -> Any:
        events = list(events)
        hook = self.before_migration
        if hook is not None and any(isinstance(e, ProtocolMigrated) for e in events):
            self.before_migration = None
            hook()
        return super().append(case_id, events, expected_version)


def _racing(clock: ManualClock) -> tuple[RacingStore, Engine, Engine]:
    store = RacingStore()
    drive_to(Engine(store, clock=clock), clock, "case-r", STAGE2)
    Engine(store, clock=clock).execute(
        "case-r", HoldMeeting(participants=("m-po", "m-pol", "m-vs", "m-cp")), actor=OFFICER
    )
    ours = Engine(store, clock=clock, protocols=[TUKO, TUKO_V2])
    theirs = Engine(store, clock=clock, protocols=[TUKO, TUKO_V2])
    return store, ours, theirs


def test_a_case_changed_meanwhile_is_planned_again(clock: ManualClock) -> None:
    """Another writer's command lands first: the migration reloads and goes after it."""
    store, ours, theirs = _racing(clock)
    store.before_migration = lambda: theirs.execute(
        "case-r",
        ShareInformation(information="Late information.", evaluation="An evaluation."),
        actor=POLICE,
    )
    result = ours.migrate(["case-r"], to=TUKO_V2, actor=OPERATOR, reason="v2")
    assert result.ok
    (step,) = result.migrated
    history = ours.history("case-r")
    assert [type(e).__name__ for e in history[-2:]] == ["InformationShared", "ProtocolMigrated"]
    assert step.at_version == history[-1].version - 1
    assert ours.case("case-r").protocol_version == "2"


def test_two_operators_migrating_at_once_migrate_once(clock: ManualClock) -> None:
    """A concurrent migration by someone else wins; ours then finds nothing left to do."""
    store, ours, theirs = _racing(clock)
    other = Actor(agency="probation", person="po-901")
    store.before_migration = lambda: theirs.migrate(
        ["case-r"], to=TUKO_V2, actor=other, reason="v2 by the other operator"
    )
    result = ours.migrate(["case-r"], to=TUKO_V2, actor=OPERATOR, reason="v2")
    assert result.migrated == ()
    assert result.unchanged == ("case-r",)
    migrations = [e for e in ours.history("case-r") if isinstance(e, ProtocolMigrated)]
    assert [m.actor for m in migrations] == [other]


def test_a_case_moved_meanwhile_out_of_the_map_is_reported_not_written(
    clock: ManualClock,
) -> None:
    """If a concurrent command takes the case to a state the map does not cover, it says so."""
    store, ours, theirs = _racing(clock)

    def go_to_stage3() -> None:
        for actor, cmd in (
            (OFFICER, RecordCommonAssessment(assessment=sample_assessment())),
            (OFFICER, DecideCooperationNeeded(situation="Threats.", risks=("threats",))),
        ):
            theirs.execute("case-r", cmd, actor=actor)

    # share everything first so that the decision is possible
    for actor in (OFFICER, POLICE, VICTIM_SUPPORT, CHILD_PROTECTION):
        ours.execute(
            "case-r", ShareInformation(information="Info.", evaluation="Eval."), actor=actor
        )
    store.before_migration = go_to_stage3
    result = ours.migrate(["case-r"], to=TUKO_V2, actor=OPERATOR, reason="v2")
    assert not result.ok
    (failed,) = result.failed
    assert (failed.case_id, failed.state) == ("case-r", STAGE3)
    assert "does not have" in failed.reason
    assert ours.case("case-r").protocol_version == "1"
    assert "not migrated" in result.explain()


def test_snapshots_survive_a_migration(clock: ManualClock) -> None:
    """A case snapshotted after its migration loads equal to its replay; verify is clean."""
    store = InMemoryEventStore()
    drive_to(Engine(store, clock=clock), clock, "case-snap", STAGE3)
    engine = Engine(store, clock=clock, protocols=[TUKO, TUKO_V2], snapshot_every=1)
    engine.migrate(None, to=TUKO_V2, state_map=V2_MAP, actor=OPERATOR, reason="v2")
    snapshot = store.load_snapshot("case-snap")
    assert snapshot is not None
    assert snapshot.version == store.version("case-snap")
    fresh = Engine(store, clock=clock, protocols=[TUKO, TUKO_V2], snapshot_every=1)
    assert fresh.case("case-snap") == replay(store.load("case-snap"), [TUKO, TUKO_V2])
    assert fresh.case("case-snap").state == "stage3_planning"
    assert fresh.verify() == []


def test_plan_migration_writes_nothing_and_explains(
    both: Engine, v1_store: InMemoryEventStore
) -> None:
    """A plan lists the steps and problems without touching the store."""
    before = _versions(v1_store)
    plan = plan_migration(both, TUKO_V2, state_map=V2_MAP, keep_unmapped=True)
    assert plan.ok
    assert {s.case_id: s.to_state for s in plan.steps}["case-s3"] == "stage3_planning"
    assert "case-s3: stage3_plan (1) -> stage3_planning (2)" in plan.explain()
    refused = plan_migration(both, TUKO_V2)
    assert not refused.ok
    assert [p.case_id for p in refused.problems] == ["case-s3"]
    assert _versions(v1_store) == before


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    state=st.sampled_from([AWAITING_NOTICE, "stage1_notice", STAGE2, STAGE3, STAGE4, "closed"]),
    crisis=st.booleans(),
)
def test_migrate_then_replay_equals_the_live_case(state: str, crisis: bool) -> None:
    """Whatever state a case is in, after migrating it its replay is the live case."""
    clock = ManualClock(START)
    store = InMemoryEventStore()
    drive_to(Engine(store, clock=clock), clock, "case-h", state, crisis=crisis)
    engine = Engine(store, clock=clock, protocols=[TUKO, TUKO_V2])
    result = engine.migrate(
        None, to=TUKO_V2, state_map=V2_MAP, keep_unmapped=True, actor=OPERATOR, reason="v2"
    )
    assert [s.case_id for s in result.migrated] == ["case-h"]
    live = engine.case("case-h")
    assert live == replay(store.load("case-h"), [TUKO, TUKO_V2])
    assert live.state == V2_MAP.get(state, state)
    assert live.protocol_version == "2"


# --- replay check ---------------------------------------------------------------------


def _demo_store(path: Path | None = None) -> tuple[Engine, ManualClock]:
    clock = ManualClock(START)
    store = SQLiteEventStore(path) if path is not None else InMemoryEventStore()
    engine = Engine(store, clock=clock)
    run_demo(engine, clock, out=lambda _line: None)
    return engine, clock


def test_every_history_replays_cleanly_under_its_own_version(both: Engine) -> None:
    """No false alarms: the demo's and the test cases' histories replay under TUKO itself."""
    engine, clock = _demo_store()
    drive_to(engine, clock, "case-crisis", STAGE4, crisis=True)
    drive_to(engine, clock, "case-no-need", "closed_no_need")
    drive_to(engine, clock, "case-assumed", STAGE3, always_assume_need=True)
    clock.advance(days=60)
    assert engine.check_deadlines()  # deadline events are the engine's, not a transition's
    report = replay_check(engine, TUKO)
    assert report.ok, report.explain()
    assert len(report.cases) == 5
    assert replay_check(both, TUKO).ok


def test_marac_histories_replay_cleanly_under_marac() -> None:
    """The intake's own events (MaracCaseOpened, the first RiskAssessed) are the intake's:
    the demo's MARAC case, through conference, review, closure and a repeat, replays clean."""
    from tuko_flow import MARAC

    engine, clock = _demo_store()
    clock.advance(days=60)
    engine.check_deadlines()
    report = replay_check(engine, MARAC)
    assert report.ok, report.explain()
    assert [c.case_id for c in report.cases] == ["marac-0001"]


def test_a_guard_that_would_have_refused_is_reported_at_its_event() -> None:
    """case-0002 recorded its assessment before every member shared: v2 would refuse."""
    engine, _ = _demo_store()
    report = replay_check(engine, TUKO_V2, state_map=V2_MAP, keep_unmapped=True)
    assert not report.ok
    by_case = {c.case_id: c for c in report.cases}
    assert by_case["case-0001"].ok
    diverged = by_case["case-0002"]
    (event,) = [
        e for e in engine.history("case-0002") if type(e).__name__ == "CommonAssessmentRecorded"
    ]
    assert diverged.version == event.version
    assert diverged.trigger == "record_common_assessment"
    assert "would have refused 'record_common_assessment'" in diverged.reason
    assert every_member_shared.name in diverged.reason
    assert "m-vs, m-cp" in diverged.reason
    assert report.diverged == (diverged,)
    assert f"diverges at event {event.version}" in report.explain()


def test_without_a_map_a_renamed_state_diverges() -> None:
    """The history went through stage3_plan; version 2 has no such state."""
    engine, _ = _demo_store()
    report = replay_check(engine, TUKO_V2)
    first = {c.case_id: c for c in report.cases}["case-0001"]
    assert not first.ok
    assert first.trigger == "decide_cooperation_needed"
    assert "went to state 'stage3_plan', which tuko@2 does not have" in first.reason


def test_histories_after_a_migration_replay_under_the_new_names(both: Engine) -> None:
    """After its ProtocolMigrated, a case's events are checked under v2's own state names."""
    both.migrate(
        None, to=TUKO_V2, state_map=V2_MAP, keep_unmapped=True, actor=OPERATOR, reason="v2"
    )
    both.execute(
        "case-s3",
        DraftPlan(
            crisis=False,
            communication="Weekly calls.",
            next_meeting_at=both.clock.now() + timedelta(weeks=2),
        ),
        actor=OFFICER,
    )
    report = replay_check(both, TUKO_V2, state_map=V2_MAP, keep_unmapped=True)
    assert report.ok, report.explain()


def test_a_batch_no_transition_declares_is_reported_not_guessed() -> None:
    """Without emits=, the check cannot tell which command recorded the events, and says so."""
    silent = attrs.evolve(
        TUKO,
        transitions=[
            attrs.evolve(t, emits=()) if t.trigger == "share_information" else t
            for t in TUKO.transitions
        ],
    )
    engine, _ = _demo_store()
    report = replay_check(engine, silent)
    first = {c.case_id: c for c in report.cases}["case-0001"]
    assert not first.ok
    assert first.trigger is None
    assert "cannot tell which command recorded InformationShared" in first.reason
    assert "emits=" in first.reason


def test_replay_check_as_json_data() -> None:
    """to_dict() is plain JSON data."""
    engine, _ = _demo_store()
    data = json.loads(json.dumps(replay_check(engine, TUKO_V2, state_map=V2_MAP).to_dict()))
    assert data["target"] == "tuko@2"
    assert data["ok"] is False
    assert {c["case_id"] for c in data["cases"]} == {"case-0001", "case-0002"}


# --- command line ---------------------------------------------------------------------

V2_SPEC = "protocol_variants:TUKO_V2"


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    """A SQLite store file with the demo's two cases and a case in Stage 3."""
    path = tmp_path / "cases.sqlite3"
    engine, clock = _demo_store(path)
    drive_to(engine, clock, "case-s3", STAGE3)
    engine.store.close()  # type: ignore[attr-defined]
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what fixtures printed is not the command's output
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _store_versions(path: Path) -> dict[str, int]:
    store = SQLiteEventStore(path)
    try:
        return {cid: store.version(cid) for cid in store.case_ids()}
    finally:
        store.close()


def test_cli_diff_without_a_store(capsys: pytest.CaptureFixture[str]) -> None:
    """tuko-flow diff prints the differences and exits 0."""
    code, out, _ = _run(capsys, "diff", "tuko@1", V2_SPEC)
    assert code == 0
    assert out.startswith("tuko@1 -> tuko@2:")
    assert "- stage3_plan" in out


def test_cli_diff_names_stranded_cases(
    capsys: pytest.CaptureFixture[str], store_file: Path
) -> None:
    """With --store the stranded cases are listed and the exit code is 1."""
    code, out, _ = _run(capsys, "diff", "tuko@1", V2_SPEC, "--store", str(store_file))
    assert code == 1
    assert "1 in-flight case(s) under tuko@1 would be stranded:" in out
    assert "case 'case-s3' in state 'stage3_plan'" in out
    code, out, _ = _run(capsys, "diff", "tuko@1", V2_SPEC, "--store", str(store_file), "--json")
    assert code == 1
    data = json.loads(out)
    assert [s["case_id"] for s in data["stranded"]] == ["case-s3"]
    assert data["states"]["added"] == ["stage3_planning"]


def test_cli_dry_run_plans_replays_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], store_file: Path
) -> None:
    """--dry-run shows the plan and the replay check; the divergence makes it exit 1."""
    before = _store_versions(store_file)
    code, out, _ = _run(
        capsys,
        "migrate",
        "--store",
        str(store_file),
        "--to",
        V2_SPEC,
        "--map",
        "stage3_plan=stage3_planning",
        "--keep-unmapped",
        "--dry-run",
        "--json",
    )
    assert code == 1
    data = json.loads(out)
    assert data["dry_run"] is True
    assert data["plan"]["ok"] is True
    assert len(data["plan"]["steps"]) == 3
    assert [c["case_id"] for c in data["replay"]["cases"] if not c["ok"]] == ["case-0002"]
    assert _store_versions(store_file) == before
    code, out, _ = _run(capsys, "migrate", "--store", str(store_file), "--to", V2_SPEC, "--dry-run")
    assert code == 1
    assert "refused" in out
    assert "dry run: nothing was written" in out


def test_cli_refused_migration_names_the_case_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], store_file: Path
) -> None:
    """Without a map the Stage 3 case blocks the migration: exit 1, nothing written."""
    before = _store_versions(store_file)
    code, out, _ = _run(
        capsys, "migrate", "--store", str(store_file), "--to", V2_SPEC, "--reason", "v2"
    )
    assert code == 1
    assert "case 'case-s3': is in state 'stage3_plan'" in out
    code, out, _ = _run(
        capsys, "migrate", "--store", str(store_file), "--to", V2_SPEC, "--reason", "v2", "--json"
    )
    assert code == 1
    assert list(json.loads(out)["refused"]["cases"]) == ["case-s3"]
    assert _store_versions(store_file) == before


def test_cli_migrates_and_the_cases_show_the_new_version(
    capsys: pytest.CaptureFixture[str], store_file: Path
) -> None:
    """A migration with a map is recorded; `tuko-flow cases` then shows tuko@2."""
    code, out, _ = _run(
        capsys,
        "migrate",
        "--store",
        str(store_file),
        "--to",
        V2_SPEC,
        "--map",
        "stage3_plan=stage3_planning",
        "--keep-unmapped",
        "--reason",
        "TUKO v2 goes live",
        "--actor",
        "probation/po-900",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert {s["case_id"] for s in data["result"]["migrated"]} == {
        "case-0001",
        "case-0002",
        "case-s3",
    }
    code, out, _ = _run(capsys, "cases", "--store", str(store_file), "--json")
    tuko_cases = [r for r in json.loads(out) if r["protocol"].startswith("tuko@")]
    assert {r["protocol"] for r in tuko_cases} == {"tuko@2"}
    code, out, _ = _run(capsys, "history", "case-s3", "--store", str(store_file), "--json")
    last = json.loads(out)[-1]
    assert last["type"] == "ProtocolMigrated"
    assert last["actor"] == {"agency": "probation", "person": "po-900"}
    code, out, _ = _run(
        capsys,
        "migrate",
        "--store",
        str(store_file),
        "--to",
        V2_SPEC,
        "--reason",
        "again",
        "--case",
        "case-s3",
    )
    assert code == 0
    assert "migrated 0 case(s) to tuko@2" in out
    assert "already under tuko@2: case-s3" in out


def test_cli_replay_check(capsys: pytest.CaptureFixture[str], store_file: Path) -> None:
    """replay-check exits 0 under TUKO itself and 1 under v2, naming the case."""
    code, out, _ = _run(capsys, "replay-check", "--store", str(store_file), "--protocol", "tuko")
    assert code == 0
    assert "no history diverges" in out
    code, out, _ = _run(
        capsys,
        "replay-check",
        "--store",
        str(store_file),
        "--protocol",
        V2_SPEC,
        "--map",
        "stage3_plan=stage3_planning",
        "--keep-unmapped",
        "--json",
    )
    assert code == 1
    diverged = [c for c in json.loads(out)["cases"] if not c["ok"]]
    assert [c["case_id"] for c in diverged] == ["case-0002"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "tuko@1", "tuko@9"], "protocol 'tuko' has no version '9'"),
        (["migrate", "--to", V2_SPEC, "--map", "stage3_plan"], "is not OLD=NEW"),
        (["migrate", "--to", V2_SPEC], "--reason is required"),
        (["migrate", "--to", V2_SPEC, "--reason", "x", "--actor", "po-1"], "is not AGENCY/PERSON"),
        (["replay-check", "--protocol", "no_such_module:X"], "cannot be imported"),
    ],
)
def test_cli_errors_exit_2_and_say_what(
    capsys: pytest.CaptureFixture[str], store_file: Path, argv: list[str], message: str
) -> None:
    """Unknown protocols, malformed maps and missing reasons are errors (exit 2)."""
    if argv[0] != "diff":
        argv = [argv[0], "--store", str(store_file), *argv[1:]]
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("command", ["diff", "migrate", "replay-check"])
def test_cli_help_shows_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    """Each command's --help ends with examples."""
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"tuko-flow {command}" in out


def test_the_top_level_help_lists_the_version_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tuko-flow --help shows diff, migrate and replay-check with examples."""
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("diff", "migrate", "replay-check"):
        assert f"tuko-flow {command}" in out


def test_no_event_of_the_case_is_ever_rewritten(both: Engine) -> None:
    """A migration only appends: every earlier event is stored exactly as before."""
    before = {cid: tuple(both.history(cid)) for cid in both.case_ids()}
    both.migrate(
        None, to=TUKO_V2, state_map=V2_MAP, keep_unmapped=True, actor=OPERATOR, reason="v2"
    )
    for cid, events in before.items():
        after: tuple[Event, ...] = both.history(cid)
        assert after[: len(events)] == events
        assert len(after) == len(events) + 1


def test_tuko_flow_error_is_the_base_of_migration_refused() -> None:
    """MigrationRefused is a TukoFlowError, so a host's generic handler catches it."""
    assert issubclass(MigrationRefused, TukoFlowError)


def test_a_replay_check_can_be_limited_to_some_cases() -> None:
    """case_ids limits the check (a pilot migration's dry run checks its own cases)."""
    engine, _ = _demo_store()
    report = replay_check(engine, TUKO, case_ids=["case-0002"])
    assert [c.case_id for c in report.cases] == ["case-0002"]
