"""Generated test paths (tuko_flow.paths) and their pytest and hypothesis helpers.

The TUKO paths themselves run as parametrized tests through ``tuko_flow.testing``'s
helper, so a change to TUKO or its input cases is tested here automatically.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache

import attrs
import pytest
from hypothesis import HealthCheck, settings
from path_fixtures import BROKEN_INPUTS, EDITED, STRICTER_INPUTS, UNFIT

from tuko_flow import TUKO, Case, InformNetwork, ManualClock
from tuko_flow._cli import main
from tuko_flow._cli_paths import inputs_for
from tuko_flow.errors import ConfigurationError, TukoFlowError, ValidationError
from tuko_flow.paths import (
    TUKO_INPUTS,
    Goal,
    InputCase,
    InputCases,
    Path,
    PathSet,
    Step,
    all_goals,
    by,
    covering_paths,
    generate,
    run_path,
    shortest_paths,
    simple_paths,
)
from tuko_flow.testing import (
    OFFICER,
    PathFailed,
    WalkFailed,
    check_path,
    check_random_walk,
    path_test,
)


@cache
def tuko(kind: str) -> PathSet:
    """The TUKO path set of ``kind``, generated once per test session."""
    return generate(TUKO_INPUTS, kind)


def commands_until(path: Path, state: str) -> int | None:
    """How many commands (after the intake) the path fires before first reaching ``state``."""
    count = 0
    for i, step in enumerate(path.steps):
        if i > 0 and step.outcome != "automatic":
            count += 1
        if step.dest == state:
            return count
    return None


# --- the generated TUKO paths, run on the real engine -----------------------------------

test_tuko_shortest_path = path_test(TUKO_INPUTS, "shortest")
test_tuko_simple_path = path_test(TUKO_INPUTS, "simple")
test_tuko_covering_path = path_test(TUKO_INPUTS, "cover")


# --- shortest paths -----------------------------------------------------------------------


def test_shortest_paths_reach_every_state() -> None:
    """Every TUKO state has a shortest path ending in it, and nothing is uncovered."""
    found = tuko("shortest")
    assert {p.target for p in found.paths} == {s.name for s in TUKO.states}
    assert found.complete, found.explain()


def test_no_generated_path_reaches_a_state_sooner_than_its_shortest_path() -> None:
    """No covering or simple path reaches a state in fewer commands than its shortest path."""
    shortest = {p.target: commands_until(p, p.target) for p in tuko("shortest").paths}
    for path in (*tuko("cover").paths, *tuko("simple").paths):
        for state, best in shortest.items():
            reached = commands_until(path, state)
            assert reached is None or best is None or reached >= best, (path.name, state)


def test_the_always_assume_need_intake_starts_stage1_by_an_automatic_step() -> None:
    """The shortest way to Stage 1 is an always-assume-need intake and the automatic step."""
    path = next(p for p in tuko("shortest").paths if p.target == "stage1_notice")
    assert path.intake == "always_assume_need"
    assert [s.outcome for s in path.steps] == ["accepted", "automatic"]
    assert path.steps[1].trigger == "assume_need"


# --- simple paths -------------------------------------------------------------------------


def test_simple_paths_never_revisit_a_state() -> None:
    """Every simple path changes into each state at most once."""
    for path in tuko("simple").paths:
        changes = [s.dest for s in path.steps if s.dest != s.source and s.source]
        assert len(changes) == len(set(changes)), path.name
        assert TUKO.initial not in changes


def test_simple_paths_respect_the_length_limit() -> None:
    """With max_length=2 no path changes state more than twice, and longer ones are absent."""
    found = simple_paths(TUKO_INPUTS, max_length=2)
    assert found.paths
    for path in found.paths:
        assert sum(1 for s in path.steps if s.source and s.dest != s.source) <= 2
    assert len(found.paths) < len(tuko("simple").paths)


def test_an_impossible_simple_path_is_reported_with_a_reason() -> None:
    """Always-assume-need cases never close at Stage 2: that simple path is reported."""
    uncovered = [u for u in tuko("simple").uncovered if u.what == "path"]
    assert any(
        "assume_need" in u.description and "closed_no_need" in u.description for u in uncovered
    )
    assert tuko("simple").goals == len(tuko("simple").paths) + len(uncovered)


# --- covering paths -----------------------------------------------------------------------


def observed_goals(paths: tuple[Path, ...]) -> set[Goal]:
    """The goals the paths really cover, read from what the engine did when they ran."""
    seen: set[Goal] = set()
    for path in paths:
        run = run_path(path, TUKO_INPUTS)
        assert run.ok, run.explain()
        steps = run.actual
        for step in steps:
            if not step.source:  # the intake
                continue
            t = TUKO.transition(step.trigger, step.source)
            assert t is not None
            if step.outcome == "refused":
                seen.update(Goal(t.trigger, step.source, r, r not in step.failed) for r in t.rules)
            else:
                seen.add(Goal(t.trigger, step.source))
                seen.update(Goal(t.trigger, step.source, r, True) for r in t.rules)
        for i, step in enumerate(steps):
            # a case resting where an automatic transition starts: its only rule failed
            rests = i + 1 == len(steps) or steps[i + 1].outcome != "automatic"
            if step.outcome != "refused" and rests:
                for t in TUKO.transitions_from(step.dest, auto=True):
                    assert len(t.rules) == 1
                    seen.add(Goal(t.trigger, step.dest, t.rules[0], False))
    return seen


def test_covering_paths_cover_every_transition_and_both_outcomes_of_every_rule() -> None:
    """Run on the engine, the covering paths fire every (transition, source) and see every
    rule pass and fail, except the goals the inputs declare unreachable by design."""
    seen = observed_goals(tuko("cover").paths)
    expected = set(all_goals(TUKO)) - set(TUKO_INPUTS.unreachable)
    assert expected - seen == set()
    assert set(TUKO_INPUTS.unreachable) & seen == set()
    assert tuko("cover").complete, tuko("cover").explain()


def test_unreachable_goals_are_listed_as_excused_with_their_reason() -> None:
    """Goals declared unreachable appear in the report's excused list, not silently dropped."""
    excused = {u.goal: u.why for u in tuko("cover").excused}
    assert excused == dict(TUKO_INPUTS.unreachable)
    assert "unreachable by design" in tuko("cover").explain()


def test_every_goal_counts_both_rule_outcomes() -> None:
    """all_goals has one transition goal per source and a pass and a fail per guarding rule."""
    goals = all_goals(TUKO)
    edges = [(t, s) for t in TUKO.transitions for s in t.source]
    assert sum(1 for g in goals if g.rule is None) == len(edges)
    assert sum(1 for g in goals if g.rule is not None) == 2 * sum(len(t.rules) for t, _ in edges)


def test_a_broken_protocol_shows_the_uncovered_report() -> None:
    """A transition without inputs and a rule no input breaks are reported, each with why."""
    found = covering_paths(BROKEN_INPUTS)
    assert not found.complete
    by_goal = {u.goal: u.why for u in found.uncovered if u.goal is not None}
    assert "no input is declared for 'escalate'" in by_goal[Goal("escalate", "stage2_evaluate")]
    missing = Goal("close_case", "stage4_manage", "actor_is_case_leader", False)
    assert "breaks=('actor_is_case_leader',)" in by_goal[missing]
    assert "escalate from stage2_evaluate" in found.explain()


def test_an_invalid_input_is_reported_not_skipped() -> None:
    """An input whose command the handler rejects shows up as an uncovered input."""
    past = InputCase(
        trigger="inform_network",
        name="meeting yesterday",
        build=by(lambda case, now: InformNetwork(meeting_at=now - timedelta(days=1)), OFFICER),
    )
    inputs = attrs.evolve(TUKO_INPUTS, inputs=(*TUKO_INPUTS.inputs, past))
    found = covering_paths(inputs)
    problems = [u for u in found.uncovered if u.what == "input"]
    assert any("meeting yesterday" in u.description and "meeting_at" in u.why for u in problems)


def test_an_input_that_never_breaks_its_rule_is_reported() -> None:
    """An input declaring it breaks a rule that it never breaks is named in the report."""
    fake = InputCase(
        trigger="close_case",
        name="pretends to be an outsider",
        build=TUKO_INPUTS.input("close_case", "as case leader").build,
        breaks=("actor_is_case_leader",),
    )
    inputs = attrs.evolve(TUKO_INPUTS, inputs=(*TUKO_INPUTS.inputs, fake))
    found = covering_paths(inputs)
    assert any("pretends to be an outsider" in u.description for u in found.uncovered)


# --- paths as values ----------------------------------------------------------------------


def test_a_path_reads_as_its_steps() -> None:
    """str(path) joins the steps: intake, commands with their input, automatic steps, refusals."""
    path = tuko("cover").paths[0]
    assert str(path) == "; ".join(str(s) for s in path.steps)
    assert str(path).startswith(f"open_case ({path.intake}) -> {TUKO.initial}")
    auto = Step(trigger="assume_need", source="a", dest="stage1_notice", outcome="automatic")
    assert str(auto) == "assume_need (automatic) -> stage1_notice"
    refused = Step(
        trigger="inform_network",
        source="stage1_notice",
        dest="stage1_notice",
        outcome="refused",
        input="as police",
        failed=("actor_is_case_leader",),
    )
    assert str(refused) == "inform_network (as police) refused [actor_is_case_leader]"


def test_path_sets_are_json_ready() -> None:
    """A path set's to_dict survives json round trip with every path and step."""
    data = json.loads(json.dumps(tuko("shortest").to_dict()))
    assert len(data["paths"]) == len(tuko("shortest").paths)
    assert data["paths"][0]["steps"][0]["trigger"] == "open_case"


def test_generate_rejects_an_unknown_kind_and_bad_limits() -> None:
    """An unknown kind or a limit below 1 is a ValidationError naming the field."""
    with pytest.raises(ValidationError) as info:
        generate(TUKO_INPUTS, "longest")
    assert info.value.fields == ("kind",)
    with pytest.raises(ValidationError) as info:
        shortest_paths(TUKO_INPUTS, max_steps=0)
    assert info.value.fields == ("max_steps",)


def test_input_cases_report_every_problem_when_built() -> None:
    """Unknown triggers, automatic triggers, foreign rules and duplicates are all listed."""
    leader = TUKO_INPUTS.input("close_case", "as case leader").build
    with pytest.raises(ConfigurationError) as info:
        InputCases(
            protocol=TUKO,
            intakes=(),
            inputs=(
                InputCase(trigger="fly_away", name="x", build=leader),
                InputCase(trigger="assume_need", name="x", build=leader),
                InputCase(trigger="close_case", name="x", build=leader, breaks=("no_plan_yet",)),
                InputCase(trigger="close_case", name="x", build=leader),
            ),
        )
    text = "\n".join(info.value.problems)
    for fragment in ("no intake case", "fly_away", "automatic", "no_plan_yet", "declared twice"):
        assert fragment in text


# --- running paths: failures show the steps -------------------------------------------------


def test_a_changed_protocol_fails_the_old_paths_at_the_changed_step() -> None:
    """TUKO's paths run against a stricter inform_network differ exactly where it is fired."""
    path = next(p for p in tuko("shortest").paths if p.intake == "normal" and len(p.steps) > 3)
    run = run_path(path, STRICTER_INPUTS)
    assert not run.ok
    assert run.differs_at is not None
    assert path.steps[run.differs_at].trigger == "inform_network"
    assert run.actual[run.differs_at].failed == ("always_assume_need",)
    with pytest.raises(PathFailed) as info:
        check_path(path, STRICTER_INPUTS)
    text = str(info.value)
    assert f">> {run.differs_at + 1}. inform_network" in text
    assert "expected: inform_network accepted, case in stage2_evaluate" in text
    assert "actual:   refused in stage1_notice by [always_assume_need]" in text


def test_a_wrong_expectation_names_the_step_that_differed() -> None:
    """A path expecting another state fails at that step; earlier steps matched."""
    path = tuko("shortest").paths[-1]
    index = len(path.steps) - 1
    wrong = attrs.evolve(
        path, steps=(*path.steps[:index], attrs.evolve(path.steps[index], dest="stage2_evaluate"))
    )
    run = run_path(wrong, TUKO_INPUTS)
    assert run.differs_at == index
    assert run.actual[:index] == path.steps[:index]


def test_check_path_returns_the_case_at_the_end() -> None:
    """check_path gives back the final case, in the path's target state."""
    for path in tuko("shortest").paths:
        case = check_path(path, TUKO_INPUTS)
        assert isinstance(case, Case)
        assert case.state == path.target


# --- the random walk ------------------------------------------------------------------------

WALK = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def never_rests_if_need_is_assumed(case: Case) -> bool | str:
    """Seed 000: an always-assume-need case is never closed as 'no need'."""
    return not (case.always_assume_need and case.state == "closed_no_need")


def test_a_random_walk_keeps_the_invariants() -> None:
    """Long random walks over TUKO's inputs keep the built-in and the declared invariants."""
    check_random_walk(TUKO_INPUTS, [never_rests_if_need_is_assumed], settings=WALK)


def test_a_random_walk_finds_and_shrinks_a_planted_violation() -> None:
    """An invariant that forbids Stage 2 fails, shrunk to about the shortest way there."""

    def never_in_stage2(case: Case) -> bool | str:
        return case.state != "stage2_evaluate" or "the case reached Stage 2"

    planted = settings(WALK, max_examples=200)
    with pytest.raises(WalkFailed) as info:
        check_random_walk(TUKO_INPUTS, [never_in_stage2], settings=planted)
    failure = info.value
    assert failure.invariant == "never_in_stage2"
    assert failure.steps[-1].dest == "stage2_evaluate"
    fired = sum(1 for s in failure.steps[1:] if s.outcome != "automatic")
    best = commands_until(
        next(p for p in tuko("shortest").paths if p.target == "stage2_evaluate"), "stage2_evaluate"
    )
    assert best is not None
    assert fired <= best + 1
    assert "1. open_case" in str(failure)


# --- the command line -----------------------------------------------------------------------


def test_cli_cover_of_tuko_exits_0_and_lists_paths(capsys: pytest.CaptureFixture[str]) -> None:
    """tuko-flow paths prints the covering paths and exits 0 when nothing is uncovered."""
    assert main(["paths"]) == 0
    out = capsys.readouterr().out
    assert "cover-01" in out
    assert "covered" in out


def test_cli_shortest_json_has_a_path_per_state(capsys: pytest.CaptureFixture[str]) -> None:
    """--kind shortest --json prints one path per state."""
    assert main(["paths", "--kind", "shortest", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["target"] for p in data["paths"]} == {s.name for s in TUKO.states}


def test_cli_exits_1_when_cover_misses_goals(capsys: pytest.CaptureFixture[str]) -> None:
    """The broken fixture's covering paths miss goals: exit 1, the report in the JSON."""
    assert main(["paths", "--protocol", "path_fixtures:BROKEN", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert not data["complete"]
    assert any("escalate" in u["description"] for u in data["uncovered"])


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--protocol", "nope"], "unknown protocol 'nope'"),
        (["--protocol", "path_fixtures:LONELY"], "no input cases are declared"),
        (["--inputs", "path_fixtures:BROKEN_INPUTS"], "not for tuko@1"),
        (["--max-length", "0", "--kind", "simple"], "max_length"),
    ],
)
def test_cli_errors_exit_2_and_say_what(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown protocols, missing or mismatched input cases and bad limits exit 2."""
    assert main(["paths", *argv]) == 2
    assert fragment in capsys.readouterr().err


def test_an_edited_protocol_of_the_same_name_is_explored_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A team's edited TUKO that still says tuko@1 gets the shipped input cases re-targeted
    to it, with or without --inputs: its stricter rule shows in the paths (and leaves
    the no-need decision out of reach, so exit 1)."""
    assert inputs_for(EDITED, "path_fixtures:EDITED").protocol is EDITED
    explicit = inputs_for(EDITED, "path_fixtures:EDITED", "tuko_flow.paths:TUKO_INPUTS")
    assert explicit.protocol is EDITED
    assert inputs_for(TUKO, "tuko", "tuko_flow.paths:TUKO_INPUTS") is TUKO_INPUTS
    assert main(["paths", "--protocol", "path_fixtures:EDITED", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert any(
        s["trigger"] == "inform_network" and "always_assume_need" in s["failed"]
        for p in data["paths"]
        for s in p["steps"]
    )


def test_shipped_inputs_that_do_not_fit_an_edited_protocol_are_refused() -> None:
    """An edited tuko@1 without a command TUKO_INPUTS drive: a clear error naming --inputs."""
    with pytest.raises(TukoFlowError, match="another tuko@1") as caught:
        inputs_for(UNFIT, "path_fixtures:UNFIT")
    assert "record_partner_communication" in str(caught.value)
    assert "--inputs" in str(caught.value)


def test_paths_run_with_their_own_clock_and_store() -> None:
    """An engine_factory decides where a path runs; the path still replays."""
    made: list[ManualClock] = []

    def factory(clock: ManualClock) -> object:
        made.append(clock)
        return TUKO_INPUTS.engine(clock)

    inputs = attrs.evolve(TUKO_INPUTS, engine_factory=factory)
    path = tuko("shortest").paths[0]
    assert run_path(path, inputs).ok
    assert made
