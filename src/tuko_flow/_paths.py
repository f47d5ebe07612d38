"""Test paths as plain values, and the input cases a protocol author declares for them.

A *path* is what a test does to one case: open it with a named intake variant, then fire
named inputs one after another, each step saying what it expects (the state it leads to,
or the refusal and the rules that refuse it). Paths are frozen attrs values that read as
text and turn into JSON, so they can be printed, diffed and replayed.

Guards depend on the case's data, so a protocol's author supplies the data as *input
cases* (:class:`InputCases`): named intake variants (:class:`IntakeCase`) and, for each
trigger, named builders (:class:`InputCase`) that return the command and the actor for the
case as it is now. An input meant to make a rule fail says so in ``breaks``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._protocol import Command, Protocol
from ._values import Actor, _to_tuple
from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._case import Case
    from ._clock import Clock
    from ._config import TukoConfig
    from ._engine import Engine

#: What a step expects: the command is accepted, refused by its rules, or the engine fires
#: an automatic transition by itself.
Outcome = Literal["accepted", "refused", "automatic"]

#: Builds one input for the case as it is now: the command and who issues it, or ``None``
#: when the input does not apply to this case (say, every participant has been heard).
Builder = Callable[["Case", datetime], "tuple[Command, Actor] | None"]

#: Builds an intake command for a new case with the given id.
IntakeBuilder = Callable[[str], Command]

#: Makes one command for the case as it is now (``None``: it does not apply); see :func:`by`.
Maker = Callable[["Case", datetime], "Command | None"]


def by(make: Maker, actor: Actor | Callable[[Case], Actor]) -> Builder:
    """A :data:`Builder` from a command maker and who issues it.

    ``actor`` is an :class:`~tuko_flow.Actor`, or a function of the case (say, its case
    leader). ``by(lambda case, now: CloseCase(summary="Done."), leader_of)``.
    """

    def build(case: Case, now: datetime) -> tuple[Command, Actor] | None:
        command = make(case, now)
        if command is None:
            return None
        return command, actor if isinstance(actor, Actor) else actor(case)

    build.__qualname__ = f"by({getattr(make, '__name__', 'make')})"
    return build


def _str_rules(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(order=True)
class Goal:
    """Something a covering set of paths must do once.

    A transition goal (``rule`` is ``None``): fire ``trigger`` from ``source``. A rule
    goal: see rule ``rule`` of that transition pass (``passed``) or fail.
    """

    trigger: str
    source: str
    rule: str | None = None
    passed: bool | None = None

    def __str__(self) -> str:
        if self.rule is None:
            return f"transition {self.trigger} from {self.source}"
        verb = "passes" if self.passed else "fails"
        return f"rule {self.rule} {verb} on {self.trigger} from {self.source}"


# --- the author's input cases -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class IntakeCase:
    """A named way to open a case (``"normal"``, ``"always_assume_need"``, ...).

    ``build(case_id)`` returns the protocol's intake command; ``actor`` opens the case.
    """

    name: str
    build: IntakeBuilder = attrs.field(repr=False)
    actor: Actor
    description: str = ""


@attrs.frozen(kw_only=True)
class InputCase:
    """A named way to fire one trigger: ``build(case, now)`` returns the command and actor.

    ``breaks`` names the rules this input is meant to make fail (a non-leader for
    ``actor_is_case_leader``); the generator reports an input whose declared rule never
    failed. ``wait`` moves the clock forward before the command is built (deadlines).
    """

    trigger: str
    name: str
    build: Builder = attrs.field(repr=False)
    breaks: tuple[str, ...] = attrs.field(default=(), converter=_str_rules)
    wait: timedelta = timedelta(0)
    description: str = ""

    @property
    def label(self) -> str:
        """``trigger (name)``, as the input appears in a path."""
        return f"{self.trigger} ({self.name})"


@functools.cache
def _default_config() -> TukoConfig:
    """One ``TukoConfig()`` for every default engine (it is frozen): not one per path."""
    from ._config import TukoConfig

    return TukoConfig()


def _right_and_wrong(
    trigger: str,
    make: Maker,
    right: tuple[str, Actor | Callable[[Case], Actor]],
    wrong: tuple[str, Actor | Callable[[Case], Actor]],
    breaks: Iterable[str] | str,
    *,
    wait: timedelta = timedelta(0),
) -> tuple[InputCase, InputCase]:
    """The input ``make`` by the ``right`` actor (its name, who; after ``wait``), and the
    same command by the ``wrong`` one, which breaks ``breaks`` (the shipped inputs' pairs)."""
    (right_name, right_actor), (wrong_name, wrong_actor) = right, wrong
    return (
        InputCase(trigger=trigger, name=right_name, build=by(make, right_actor), wait=wait),
        InputCase(trigger=trigger, name=wrong_name, build=by(make, wrong_actor), breaks=breaks),
    )


def _check_inputs(inputs: InputCases) -> list[str]:
    protocol = inputs.protocol
    problems: list[str] = []
    names = [i.name for i in inputs.intakes]
    if not names:
        problems.append("there is no intake case: declare at least one IntakeCase")
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"intake case {dup!r} is declared twice")
    command_triggers = {t.trigger for t in protocol.transitions if not t.auto}
    auto_triggers = {t.trigger for t in protocol.transitions if t.auto}
    seen: set[tuple[str, str]] = set()
    for i in inputs.inputs:
        if (i.trigger, i.name) in seen:
            problems.append(f"input {i.label!r} is declared twice")
        seen.add((i.trigger, i.name))
        if i.trigger in auto_triggers:
            problems.append(
                f"input {i.label!r}: {i.trigger!r} is automatic; the engine fires it, "
                "no input can (drive its rules through the inputs before it)"
            )
        elif i.trigger not in command_triggers:
            problems.append(
                f"input {i.label!r}: {protocol.name!r} has no command {i.trigger!r} "
                f"(its commands: {', '.join(sorted(command_triggers))})"
            )
            continue
        guarding = {r for t in protocol.transitions if t.trigger == i.trigger for r in t.rules}
        for r in i.breaks:
            if r not in guarding:
                problems.append(
                    f"input {i.label!r} breaks {r!r}, which does not guard {i.trigger!r} "
                    f"(its rules: {', '.join(sorted(guarding)) or 'none'})"
                )
        if i.wait < timedelta(0):
            problems.append(f"input {i.label!r} waits {i.wait}; a wait cannot be negative")
    transitions = {(t.trigger, s): t for t in protocol.transitions for s in t.source}
    for goal in inputs.unreachable:
        t = transitions.get((goal.trigger, goal.source))
        if t is None:
            problems.append(f"unreachable goal {goal}: there is no such transition")
        elif goal.rule is not None and goal.rule not in t.rules:
            problems.append(f"unreachable goal {goal}: {goal.rule!r} does not guard it")
    if inputs.start.tzinfo is None:
        problems.append(f"start {inputs.start.isoformat()} is naive; give it a time zone")
    return problems


@attrs.frozen(kw_only=True)
class InputCases:
    """Everything needed to drive a protocol's guards: intake variants and trigger inputs.

    ``config`` is the engine's configuration (default: ``TukoConfig()``), ``start`` the
    clock's time when a case opens, ``case_id`` the id of the case each path opens.
    ``engine_factory(clock)`` builds the engine a path runs on (default: an in-memory
    engine running only ``protocol``); its engine brings its own configuration, so
    ``config`` is ignored when ``engine_factory`` is given. ``unreachable`` maps coverage
    goals that no input can reach, by the protocol's design, to the reason (say, a rule
    that always holds in Stage 4); they are reported as excused, and reported as a problem
    if a path covers one after all. Checked when built: every problem at once, in a
    :class:`~tuko_flow.errors.ConfigurationError`.
    """

    protocol: Protocol
    intakes: tuple[IntakeCase, ...] = attrs.field(converter=_to_tuple)
    inputs: tuple[InputCase, ...] = attrs.field(converter=_to_tuple)
    config: TukoConfig | None = None
    start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    case_id: str = "path-case-01"
    engine_factory: Callable[[Clock], Engine] | None = attrs.field(default=None, repr=False)
    unreachable: Mapping[Goal, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        problems = _check_inputs(self)
        if problems:
            raise ConfigurationError(
                [
                    f"input cases for {self.protocol.name}@{self.protocol.version}: {p}"
                    for p in problems
                ]
            )

    def intake(self, name: str) -> IntakeCase:
        """The intake case called ``name``."""
        for i in self.intakes:
            if i.name == name:
                return i
        known = ", ".join(i.name for i in self.intakes)
        raise ConfigurationError([f"no intake case {name!r} (declared: {known})"])

    def input(self, trigger: str, name: str) -> InputCase:
        """The input called ``name`` for ``trigger``."""
        for i in self.inputs:
            if i.trigger == trigger and i.name == name:
                return i
        known = ", ".join(repr(i.name) for i in self.inputs if i.trigger == trigger) or "none"
        raise ConfigurationError([f"no input {name!r} for {trigger!r} (declared: {known})"])

    def for_trigger(self, trigger: str) -> tuple[InputCase, ...]:
        """The inputs declared for ``trigger``, in declaration order."""
        return tuple(i for i in self.inputs if i.trigger == trigger)

    def engine(self, clock: Clock) -> Engine:
        """A new engine for one path: ``engine_factory(clock)``, or in memory and quiet."""
        if self.engine_factory is not None:
            return self.engine_factory(clock)
        import structlog

        from ._engine import Engine
        from .stores import InMemoryEventStore

        return Engine(
            InMemoryEventStore(),
            clock=clock,
            config=self.config if self.config is not None else _default_config(),
            protocols=(self.protocol,),
            logger=structlog.ReturnLogger(),
            snapshot_every=None,
        )


# --- paths --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Step:
    """One step of a path: ``trigger`` fired by ``input`` from ``source``, expecting ``outcome``.

    ``dest`` is the state the case is in afterwards (the source again for a refusal or a
    command that keeps the state); ``failed`` the rules a refusal names. The intake is a
    step too (its trigger is the intake command's name). ``actor`` is ``agency/person``;
    automatic steps have no input and the actor of the command that caused them.
    """

    trigger: str
    source: str
    dest: str
    outcome: Outcome
    input: str = ""
    actor: str = ""
    failed: tuple[str, ...] = attrs.field(default=(), converter=_str_rules)
    wait: timedelta = timedelta(0)

    def __str__(self) -> str:
        who = " (automatic)" if self.outcome == "automatic" else f" ({self.input})"
        waited = f"after {_duration(self.wait)}: " if self.wait else ""
        if self.outcome == "refused":
            return f"{waited}{self.trigger}{who} refused [{', '.join(self.failed)}]"
        return f"{waited}{self.trigger}{who} -> {self.dest}"

    def to_dict(self) -> dict[str, Any]:
        """The step as JSON-ready data."""
        return {
            "trigger": self.trigger,
            "input": self.input,
            "actor": self.actor,
            "from": self.source,
            "to": self.dest,
            "outcome": self.outcome,
            "failed": list(self.failed),
            "wait_seconds": self.wait.total_seconds(),
        }


def _duration(wait: timedelta) -> str:
    if wait % timedelta(days=1) == timedelta(0):
        return f"{wait.days}d"
    if wait % timedelta(hours=1) == timedelta(0):
        return f"{int(wait.total_seconds() // 3600)}h"
    return str(wait)


@attrs.frozen(kw_only=True)
class Path:
    """A named sequence of steps for one case, from its intake on.

    ``str(path)`` is the steps on one line; :meth:`describe` numbers them, one a line.
    """

    name: str
    kind: str
    protocol: str
    intake: str
    steps: tuple[Step, ...] = attrs.field(converter=_to_tuple)

    def __str__(self) -> str:
        return "; ".join(str(s) for s in self.steps)

    @property
    def target(self) -> str:
        """The state the case is in at the end of the path."""
        return self.steps[-1].dest

    @property
    def states(self) -> tuple[str, ...]:
        """The states the path passes through, in order (repeats removed)."""
        seen: list[str] = []
        for s in self.steps:
            for state in (s.source, s.dest):
                if not seen or seen[-1] != state:
                    seen.append(state)
        return tuple(seen)

    def describe(self) -> str:
        """The path as numbered steps, one a line."""
        lines = [f"path {self.name} ({self.protocol}, intake {self.intake!r}):"]
        lines.extend(f"  {n}. {s}" for n, s in enumerate(self.steps, start=1))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The path as JSON-ready data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "protocol": self.protocol,
            "intake": self.intake,
            "target": self.target,
            "text": str(self),
            "steps": [s.to_dict() for s in self.steps],
        }


# --- coverage -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Uncovered:
    """Something the declared inputs could not do, and why.

    ``what`` is ``"state"``, ``"path"``, ``"transition"``, ``"rule"`` or ``"input"`` (an
    input that was invalid, or never broke the rule it declares it breaks).
    """

    what: str
    description: str
    why: str
    goal: Goal | None = None

    def __str__(self) -> str:
        return f"{self.description}: {self.why}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"what": self.what, "description": self.description, "why": self.why}


@attrs.frozen(kw_only=True)
class PathSet:
    """Generated paths of one ``kind``, and the report of what they could not reach.

    ``goals`` counts what the kind aims at (states, simple paths or coverage goals);
    ``uncovered`` lists every one missed, with the reason; ``excused`` the goals the input
    cases declare unreachable, with theirs; ``truncated`` says the exploration stopped at
    its step or case limit before it had seen everything.
    """

    kind: str
    protocol: str
    paths: tuple[Path, ...] = attrs.field(converter=_to_tuple)
    goals: int
    uncovered: tuple[Uncovered, ...] = attrs.field(default=(), converter=_to_tuple)
    truncated: bool = False
    excused: tuple[Uncovered, ...] = attrs.field(default=(), converter=_to_tuple)

    @property
    def complete(self) -> bool:
        """True when nothing is uncovered."""
        return not self.uncovered

    def explain(self) -> str:
        """Every path as one line, then the uncovered report, for a person."""
        lines = [f"{len(self.paths)} {self.kind} path(s) for {self.protocol}:"]
        lines.extend(f"  {p.name}: {p}" for p in self.paths)
        missed = sum(1 for u in self.uncovered if u.what != "input") + len(self.excused)
        lines.append(f"covered {self.goals - missed} of {self.goals} {_GOAL_WORDS[self.kind]}")
        if self.excused:
            lines.append(f"unreachable by design ({len(self.excused)}):")
            lines.extend(f"  - {u}" for u in self.excused)
        if self.truncated:
            lines.append("the exploration stopped at its limit; raise max_steps or max_cases")
        if self.uncovered:
            lines.append(f"uncovered ({len(self.uncovered)}):")
            lines.extend(f"  - {u}" for u in self.uncovered)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "protocol": self.protocol,
            "kind": self.kind,
            "goals": self.goals,
            "complete": self.complete,
            "truncated": self.truncated,
            "paths": [p.to_dict() for p in self.paths],
            "uncovered": [u.to_dict() for u in self.uncovered],
            "excused": [u.to_dict() for u in self.excused],
        }


_GOAL_WORDS = {
    "shortest": "states",
    "simple": "simple paths",
    "cover": "transitions and rule outcomes",
}


# --- running a path -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PathRun:
    """What happened when a path ran on a real engine.

    ``actual`` holds the steps as they happened (as many as ran); ``differs_at`` is the
    index of the first step that differed from the path (``None``: every step matched);
    ``problem`` says how, and ``case`` is the case at the end.
    """

    path: Path
    actual: tuple[Step, ...]
    differs_at: int | None = None
    problem: str = ""
    case: Case | None = None

    @property
    def ok(self) -> bool:
        """True when every step happened as the path expects."""
        return self.differs_at is None

    def explain(self) -> str:
        """The path as numbered steps, the differing one marked with expected and actual."""
        head = "matched" if self.ok else f"differed at step {self.differs_at + 1}"  # type: ignore[operator]
        lines = [f"path {self.path.name} ({self.path.protocol}) {head}:"]
        for n, expected in enumerate(self.path.steps):
            mark = "   "
            if self.differs_at is not None and n == self.differs_at:
                mark = ">> "
            elif self.differs_at is not None and n > self.differs_at:
                mark = " - "
            lines.append(f"{mark}{n + 1}. {expected}")
            if n == self.differs_at:
                got = self.actual[n] if n < len(self.actual) else None
                lines.append(f"       expected: {_outcome_text(expected)}")
                lines.append(f"       actual:   {_outcome_text(got) if got else self.problem}")
                if got is not None and self.problem:
                    lines.append(f"       ({self.problem})")
        return "\n".join(lines)


def _outcome_text(step: Step) -> str:
    if step.outcome == "refused":
        return f"refused in {step.source} by [{', '.join(step.failed)}]"
    return f"{step.trigger} {step.outcome}, case in {step.dest}"
