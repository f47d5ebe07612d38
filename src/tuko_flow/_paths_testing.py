"""Generated paths as pytest tests, and a hypothesis random walk over the declared inputs.

Both are re-exported by :mod:`tuko_flow.testing`. pytest and hypothesis are imported only
inside the functions that need them, so tuko_flow itself depends on neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._case import Case
from ._clock import ManualClock
from ._engine import replay
from ._paths import InputCases, Path, PathRun, Step
from ._paths_explore import (
    DEFAULT_MAX_CASES,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_STEPS,
    _accepted_step,
    _checked,
    _intake_step,
    _with_id,
    generate,
    observed_steps,
    run_path,
)
from .errors import CommandRefused, ValidationError

if TYPE_CHECKING:
    import pytest
    from hypothesis import settings as Settings
    from hypothesis.stateful import RuleBasedStateMachine

#: An invariant of a case: ``True`` holds; ``False`` or a string (saying what is wrong)
#: is a violation.
Invariant = Callable[[Case], "bool | str"]


class PathFailed(AssertionError):  # shown as tuko_flow.testing.PathFailed (set below)
    """A generated path did not run as expected; ``run`` holds what happened.

    The message is the path as numbered steps, with the step that differed marked and its
    expected and actual outcome.
    """

    def __init__(self, run: PathRun) -> None:
        super().__init__(run.explain())
        self.run = run


def check_path(path: Path, inputs: InputCases) -> Case:
    """Run ``path`` on a real engine; raise :class:`PathFailed` at the first difference.

    Returns the case at the end of the path.
    """
    run = run_path(path, inputs)
    if not run.ok:
        raise PathFailed(run)
    assert run.case is not None
    return run.case


def path_cases(
    inputs: InputCases,
    kind: str = "cover",
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_cases: int = DEFAULT_MAX_CASES,
    argname: str = "path",
) -> pytest.MarkDecorator:
    """``@pytest.mark.parametrize`` over the generated paths of ``kind``, ids = path names.

    The paths are generated when the test module is collected, so a protocol change
    changes the tests::

        @path_cases(TUKO_INPUTS, "shortest")
        def test_shortest(path):
            check_path(path, TUKO_INPUTS)
    """
    import pytest

    paths = generate(
        inputs, kind, max_length=max_length, max_steps=max_steps, max_cases=max_cases
    ).paths
    return pytest.mark.parametrize(argname, paths, ids=[p.name for p in paths])


def path_test(
    inputs: InputCases,
    kind: str = "cover",
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_cases: int = DEFAULT_MAX_CASES,
) -> Callable[[Path], None]:
    """A ready parametrized test: assign it to a ``test_*`` name in a test module::

    test_tuko_paths = path_test(TUKO_INPUTS, "cover")
    """

    @path_cases(inputs, kind, max_length=max_length, max_steps=max_steps, max_cases=max_cases)
    def test_generated_path(path: Path) -> None:
        check_path(path, inputs)

    test_generated_path.__doc__ = f"The generated {kind} path runs on the real engine as expected."
    return test_generated_path


# --- the random walk --------------------------------------------------------------------------


class WalkFailed(AssertionError):
    """An invariant failed during a random walk; ``steps`` are the steps up to the failure.

    Raised from the example hypothesis shrank last, so ``steps`` is a minimal sequence.
    """

    def __init__(self, invariant: str, problem: str, steps: Sequence[Step]) -> None:
        self.invariant = invariant
        self.problem = problem
        self.steps = tuple(steps)
        lines = [f"invariant {invariant!r} failed after {len(self.steps)} step(s): {problem}"]
        lines.extend(f"  {n}. {s}" for n, s in enumerate(self.steps, start=1))
        super().__init__("\n".join(lines))


def _name_of(check: Invariant) -> str:
    return getattr(check, "__name__", repr(check))


def random_walk_machine(
    inputs: InputCases,
    invariants: Iterable[Invariant] = (),
    *,
    waits: Sequence[float] = (1, 24, 24 * 8),
) -> type[RuleBasedStateMachine]:
    """A ``hypothesis.stateful.RuleBasedStateMachine`` class walking one case at random.

    It opens the case with a drawn intake variant, then fires drawn inputs that apply in
    the case's state (allowed or blocked by their rules) and moves the clock by drawn
    ``waits`` (hours). After every step it checks the built-in invariants — the history
    replays to the live case, a refused or invalid command writes nothing, the case is in
    a state of the protocol — and each of ``invariants``. A failure raises
    :class:`WalkFailed`, which hypothesis shrinks to a minimal sequence. Run it with
    ``TestCase = random_walk_machine(...).TestCase`` or :func:`check_random_walk`.
    """
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

    protocol = inputs.protocol
    checks = tuple(invariants)
    names = tuple(i.name for i in inputs.intakes)
    states = {s.name for s in protocol.states}
    case_id = inputs.case_id

    class ProtocolWalk(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = ManualClock(inputs.start)
            self.engine = inputs.engine(self.clock)
            self.steps: list[Step] = []
            self.opened = False

        def fail(self, invariant: str, problem: str) -> None:
            raise WalkFailed(invariant, problem, self.steps)

        @initialize(intake=st.sampled_from(names))
        def open_case(self, intake: str) -> None:
            chosen = inputs.intake(intake)
            try:
                self.engine.open_case(
                    _with_id(chosen.build(case_id), case_id, 0), actor=chosen.actor
                )
            except (ValidationError, CommandRefused) as exc:
                self.fail("intake opens a case", f"intake {intake!r}: {exc}")
            first = _intake_step(protocol, intake, chosen.actor)
            history = self.engine.history(case_id)
            self.steps.extend(observed_steps(protocol, first, history, chosen.actor))
            self.opened = True

        @rule(choice=st.integers(min_value=0, max_value=max(len(inputs.inputs) - 1, 0)))
        def fire(self, choice: int) -> None:
            case = self.engine.case(case_id)
            triggers = {t.trigger for t in protocol.transitions_from(case.state)}
            candidates = [i for i in inputs.inputs if i.trigger in triggers] or list(inputs.inputs)
            if not candidates:
                return
            inp = candidates[choice % len(candidates)]
            built = inp.build(case, self.clock.now())
            if built is None:
                return
            command, actor = _checked(inp, built)
            first = _accepted_step(inp, case.state, actor)
            before = self.engine.store.version(case_id)  # the store only appends
            try:
                self.engine.execute(case_id, _with_id(command, case_id, case.version), actor=actor)
            except (CommandRefused, ValidationError) as exc:
                failed = exc.rules if isinstance(exc, CommandRefused) else ("invalid input",)
                self.steps.append(attrs.evolve(first, outcome="refused", failed=failed))
                if self.engine.store.version(case_id) != before:
                    self.fail("refused commands write nothing", f"{inp.label} wrote events")
                return
            events = self.engine.store.load(case_id, after=case.version)
            self.steps.extend(observed_steps(protocol, first, events, actor))

        @rule(hours=st.sampled_from(tuple(waits)))
        def wait(self, hours: float) -> None:
            self.clock.advance(hours=hours)

        @invariant()
        def invariants_hold(self) -> None:
            if not self.opened:
                return
            case = self.engine.case(case_id)
            if case.state not in states:
                self.fail("no state outside the protocol", f"the case is in {case.state!r}")
            replayed = replay(self.engine.history(case_id), protocols=(protocol,))
            if replayed != case:
                self.fail("replay equals live state", "replaying the history gives another case")
            for check in checks:
                result = check(case)
                if result is not True:
                    problem = result if isinstance(result, str) else "it returned False"
                    self.fail(_name_of(check), problem)

    ProtocolWalk.__name__ = ProtocolWalk.__qualname__ = f"{protocol.name.title()}Walk"
    return ProtocolWalk


def check_random_walk(
    inputs: InputCases,
    invariants: Iterable[Invariant] = (),
    *,
    steps: int = 50,
    examples: int = 100,
    settings: Settings | None = None,
    waits: Sequence[float] = (1, 24, 24 * 8),
) -> None:
    """Run :func:`random_walk_machine` for ``examples`` walks of up to ``steps`` steps.

    Raises :class:`WalkFailed` with the minimal failing sequence hypothesis found.
    ``settings`` replaces the defaults (no deadline, ``examples`` and ``steps``).
    """
    from hypothesis import HealthCheck
    from hypothesis import settings as make_settings
    from hypothesis.stateful import run_state_machine_as_test

    machine = random_walk_machine(inputs, invariants, waits=waits)
    chosen: Any = settings
    if chosen is None:
        chosen = make_settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
    run_state_machine_as_test(machine, settings=chosen)


# Their public home is tuko_flow.testing: say so in tracebacks and reprs.
PathFailed.__module__ = WalkFailed.__module__ = "tuko_flow.testing"
