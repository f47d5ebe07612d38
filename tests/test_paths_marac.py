"""Generated test paths for the MARAC protocol (``tuko_flow.paths.MARAC_INPUTS``).

The covering paths run as parametrized tests through ``tuko_flow.testing``'s helper, so a
change to MARAC or to its input cases is tested here automatically; a short random walk
checks the built-in invariants (replay equals live state, refusals write nothing).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from hypothesis import HealthCheck, settings

from tuko_flow import Case, Engine, ManualClock
from tuko_flow._cli_paths import inputs_for
from tuko_flow._registry import resolve_protocol
from tuko_flow.paths import MARAC_INPUTS, TUKO_INPUTS, Goal, Path, PathSet, all_goals, run_path
from tuko_flow.stages.marac import MARAC
from tuko_flow.testing import check_random_walk, path_test


@cache
def cover() -> PathSet:
    """MARAC's covering paths, generated once per test session."""
    from tuko_flow.paths import covering_paths

    return covering_paths(MARAC_INPUTS)


# --- the generated MARAC paths, run on the real engine ----------------------------------

test_marac_covering_path = path_test(MARAC_INPUTS, "cover")


# --- coverage -----------------------------------------------------------------------------


def observed_goals(paths: tuple[Path, ...]) -> set[Goal]:
    """The goals the paths really cover, read from what the engine did when they ran."""
    seen: set[Goal] = set()
    for path in paths:
        run = run_path(path, MARAC_INPUTS)
        assert run.ok, run.explain()
        for step in run.actual:
            if not step.source:  # the intake
                continue
            t = MARAC.transition(step.trigger, step.source)
            assert t is not None
            assert not t.auto  # MARAC has no automatic transitions
            if step.outcome == "refused":
                seen.update(Goal(t.trigger, step.source, r, r not in step.failed) for r in t.rules)
            else:
                seen.add(Goal(t.trigger, step.source))
                seen.update(Goal(t.trigger, step.source, r, True) for r in t.rules)
    return seen


def test_covering_paths_cover_every_marac_goal_but_the_excused_one() -> None:
    """Run on the engine, the covering paths fire every (transition, source) and see every
    rule pass and fail, except the goal the inputs declare unreachable by design."""
    found = cover()
    assert found.complete, found.explain()
    assert not found.truncated
    seen = observed_goals(found.paths)
    expected = set(all_goals(MARAC)) - set(MARAC_INPUTS.unreachable)
    assert expected - seen == set()
    assert set(MARAC_INPUTS.unreachable) & seen == set()
    assert found.goals == len(all_goals(MARAC))


def test_the_excused_goal_is_the_child_safeguarding_check_at_closure() -> None:
    """Only child_safeguarding_referred failing at closure is excused, with its reason."""
    excused = {u.goal: u.why for u in cover().excused}
    assert excused == dict(MARAC_INPUTS.unreachable)
    assert list(excused) == [
        Goal("close_marac_case", "discussed", "child_safeguarding_referred", False)
    ]
    assert "hold_conference checks it" in cover().explain()


def test_every_state_is_reached_and_every_intake_used() -> None:
    """The covering paths end in or pass through every MARAC state, and open cases with
    each intake variant."""
    found = cover()
    visited = {s for p in found.paths for s in p.states if s}
    assert visited == {s.name for s in MARAC.states}
    intakes = {i.name for i in MARAC_INPUTS.intakes}
    assert intakes >= {p.intake for p in found.paths}
    assert {"visible_high_risk", "children_in_household", "not_assessed"} <= {
        p.intake for p in found.paths
    }


# --- what the inputs mean -----------------------------------------------------------------


def fire(engine: Engine, clock: ManualClock, trigger: str, name: str) -> Case:
    """Fire the declared input ``trigger (name)`` on the path case, after its wait."""
    inp = MARAC_INPUTS.input(trigger, name)
    clock.advance(seconds=inp.wait.total_seconds())
    case = engine.case(MARAC_INPUTS.case_id)
    built = inp.build(case, clock.now())
    assert built is not None, inp.label
    command, actor = built
    return engine.execute(case.case_id, command, actor=actor)


def closed_case(engine: Engine, clock: ManualClock) -> Case:
    """A visible-high-risk case taken through conference and review to closure."""
    intake = MARAC_INPUTS.intake("visible_high_risk")
    engine.open_case(intake.build(MARAC_INPUTS.case_id), actor=intake.actor)
    fire(engine, clock, "refer_to_marac", "as the police officer")
    for trigger in (
        "receive_referral",
        "accept_referral",
        "offer_advocate",
        "hold_conference",
        "circulate_minutes",
        "review_actions",
    ):
        fire(engine, clock, trigger, "as the coordinator")
    case = fire(engine, clock, "close_marac_case", "as the coordinator")
    assert case.state == "closed"
    return case


def test_an_incident_within_the_window_is_a_repeat_referred_back() -> None:
    """After closure, a new incident the same day is a repeat: the new round is referred."""
    clock = ManualClock(MARAC_INPUTS.start)
    engine = MARAC_INPUTS.engine(clock)
    closed_case(engine, clock)
    case = fire(engine, clock, "report_incident", "as the police officer")
    assert case.state == "assessment"
    assert case.marac is not None
    assert case.marac.current.repeat
    assert fire(engine, clock, "refer_to_marac", "as the police officer").state == "referred"


def test_an_incident_after_the_window_is_a_new_referral() -> None:
    """400 days after closure an incident is no repeat; alone it meets no criterion."""
    clock = ManualClock(MARAC_INPUTS.start)
    engine = MARAC_INPUTS.engine(clock)
    closed_case(engine, clock)
    case = fire(engine, clock, "report_incident", "after the repeat window")
    assert clock.now() - MARAC_INPUTS.start > timedelta(days=365)
    assert case.state == "assessment"
    assert case.marac is not None
    assert not case.marac.current.repeat
    assert fire(engine, clock, "decide_not_to_refer", "as the police officer").state == (
        "not_referred"
    )


# --- the command line finds them -----------------------------------------------------------


def test_the_cli_finds_the_shipped_marac_inputs() -> None:
    """tuko-flow paths --protocol marac uses MARAC_INPUTS; tuko still gets TUKO_INPUTS."""
    assert inputs_for(resolve_protocol("marac"), "marac") is MARAC_INPUTS
    assert inputs_for(resolve_protocol("marac@1"), "marac@1") is MARAC_INPUTS
    assert inputs_for(resolve_protocol("tuko"), "tuko") is TUKO_INPUTS


# --- the random walk ------------------------------------------------------------------------

WALK = settings(
    max_examples=50,
    stateful_step_count=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def discussed_only_with_advocate_and_child_referral(case: Case) -> bool | str:
    """A discussed (or closed) round had a conference, the victim was offered an advocate,
    and the child-welfare referral its assessments require was made."""
    if case.state not in ("discussed", "closed"):
        return True
    assert case.marac is not None
    current = case.marac.current
    if not current.conferences:
        return "no conference discussed the round"
    if case.marac.advocate is None:
        return "the victim was never offered an advocate"
    if current.child_safeguarding_required and not any(
        r.service == "child_welfare" for r in case.service_referrals
    ):
        return "children in the household, but no child-welfare referral"
    return True


def test_a_random_walk_keeps_the_invariants() -> None:
    """Random walks over MARAC's inputs (with waits up to past the repeat window): the
    history replays to the live case, refusals write nothing, states are MARAC's, and no
    round is discussed without the advocate offer and the child-welfare referral."""
    check_random_walk(
        MARAC_INPUTS,
        [discussed_only_with_advocate_and_child_referral],
        settings=WALK,
        waits=(1, 24 * 8, 24 * 30, 24 * 400),
    )
