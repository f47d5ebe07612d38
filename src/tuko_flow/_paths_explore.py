"""Generating paths: explore a protocol with its input cases on a real engine; run a path.

The explorer opens a case with every intake variant and, breadth first, fires every
declared input that applies in the case's state. An input whose rules fail is recorded as
a *probe* (a refusal writes nothing, so the case can go on from there); an accepted one
leads to a new case, unless an equivalent one was seen before. Two cases are equivalent
when they are in the same state, the same inputs apply, and every rule of the protocol
gives the same result (with the same reason) for every actor those inputs use — so
progress a rule can see (participants heard, plan revisions) keeps cases apart, and
repeating a command that changes nothing a rule sees does not.

From that exploration come the shortest path to every state, the covering paths (chosen
greedily: each adds the most transitions and rule outcomes not covered yet), and — from
an exploration that also keeps apart cases with different state histories — one
realisation of every simple path of the protocol's state graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from ._case import Case
from ._clock import ManualClock
from ._config import TukoConfig
from ._engine import Engine
from ._machine import Firing
from ._paths import (
    Goal,
    InputCase,
    InputCases,
    Path,
    PathRun,
    PathSet,
    Step,
    Uncovered,
    _default_config,
)
from ._protocol import Command, Protocol, TransitionSpec
from ._values import Actor, FieldProblem
from .errors import CommandRefused, TukoFlowError, ValidationError
from .events import Event, StageChanged
from .rules._base import RuleContext

#: The kinds of path set :func:`generate` makes.
KINDS = ("shortest", "simple", "cover")

DEFAULT_MAX_STEPS = 40
DEFAULT_MAX_CASES = 4000
DEFAULT_MAX_LENGTH = 8

Edge = tuple[str, str, str]  # (trigger, from, to): one change of state


def _label(p: Protocol) -> str:
    return f"{p.name}@{p.version}"


def _who(actor: Actor) -> str:
    return f"{actor.agency}/{actor.person}"


def _command_id(case_id: str, version: int) -> str:
    return f"{case_id}-v{version + 1:03d}"


def _with_id(command: Command, case_id: str, version: int) -> Command:
    """The command with a reproducible id: the case and the version its first event gets."""
    return attrs.evolve(command, command_id=_command_id(case_id, version))


def _intake_step(protocol: Protocol, name: str, actor: Actor) -> Step:
    """The intake ``name`` opening a case of ``protocol`` (before its events are read)."""
    return Step(
        trigger=protocol.intake.name,
        source="",
        dest=protocol.initial,
        outcome="accepted",
        input=name,
        actor=_who(actor),
    )


def _accepted_step(
    inp: InputCase, state: str, actor: Actor, wait: timedelta = timedelta(0)
) -> Step:
    """``inp`` accepted in ``state``; :func:`observed_steps` reads its destination."""
    return Step(
        trigger=inp.trigger,
        source=state,
        dest=state,
        outcome="accepted",
        input=inp.name,
        actor=_who(actor),
        wait=wait,
    )


def observed_steps(
    protocol: Protocol,
    first: Step,
    events: Sequence[Event],
    actor: Actor,
) -> list[Step]:
    """``first`` (an accepted command or the intake) with its destination read from the
    events, followed by the automatic transitions the engine fired after it."""
    changes = [e for e in events if isinstance(e, StageChanged)]
    dest = first.dest
    autos: list[Step] = []
    for e in changes:
        t = protocol.transition(e.command, e.from_state)
        if t is not None and t.auto:
            autos.append(
                Step(
                    trigger=e.command,
                    source=e.from_state,
                    dest=e.to_state,
                    outcome="automatic",
                    actor=_who(actor),
                )
            )
        elif e.command == first.trigger:
            dest = e.to_state
    return [attrs.evolve(first, dest=dest), *autos]


# --- exploration --------------------------------------------------------------------------


@attrs.define(eq=False)
class _Probe:
    """A step tried at a node that leads to no new node: a refusal, or an accepted command
    whose case is equivalent to one seen before. ``terminal``: only a path's last step."""

    steps: tuple[Step, ...]
    goals: frozenset[Goal]
    terminal: bool


@attrs.define(eq=False)
class _Node:
    intake: str
    parent: _Node | None
    via: tuple[Step, ...]
    batches: tuple[tuple[Event, ...], ...]
    case: Case
    now: datetime
    depth: int
    goals: frozenset[Goal]
    history: tuple[Edge, ...]
    builds: list[tuple[InputCase, tuple[Command, Actor]]] = attrs.Factory(list)
    probes: list[_Probe] = attrs.Factory(list)

    def chain(self) -> list[_Node]:
        nodes: list[_Node] = []
        node: _Node | None = self
        while node is not None:
            nodes.append(node)
            node = node.parent
        return nodes[::-1]


def _rule_result(check: Any, ctx: RuleContext) -> Hashable:
    try:
        result = check(ctx)
    except Exception as exc:  # a rule read data this state does not have
        return f"raised {type(exc).__name__}"
    return result if isinstance(result, str) else bool(result)


@attrs.define(eq=False)
class _Explorer:
    inputs: InputCases
    simple: bool = False
    max_length: int = DEFAULT_MAX_LENGTH
    max_steps: int = DEFAULT_MAX_STEPS
    max_cases: int = DEFAULT_MAX_CASES

    nodes: list[_Node] = attrs.Factory(list)
    seen: set[Hashable] = attrs.Factory(set)
    truncated: bool = False
    reached: set[str] = attrs.Factory(set)
    problems: dict[str, Uncovered] = attrs.Factory(dict)
    broke: dict[tuple[str, str], set[str]] = attrs.Factory(dict)
    tried: set[tuple[str, str]] = attrs.Factory(set)
    config: TukoConfig = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        inputs = self.inputs
        if inputs.engine_factory is not None:  # its engine brings its own configuration
            self.config = inputs.engine(ManualClock(inputs.start)).config
        else:
            self.config = inputs.config if inputs.config is not None else _default_config()

    @property
    def protocol(self) -> Protocol:
        return self.inputs.protocol

    # --- running commands on a copy of a node's case -------------------------------------

    def _fork(self, node: _Node | None, now: datetime) -> Engine:
        engine = self.inputs.engine(ManualClock(now))
        version = 0
        for batch in node.batches if node is not None else ():
            engine.store.append(self.inputs.case_id, batch, version)
            version += len(batch)
        return engine

    def _builds(self, case: Case, now: datetime) -> list[tuple[InputCase, tuple[Command, Actor]]]:
        found = []
        for t in self.protocol.transitions_from(case.state):
            for inp in self.inputs.for_trigger(t.trigger):
                try:
                    built = inp.build(case, now + inp.wait)
                except Exception as exc:
                    raise TukoFlowError(
                        f"input {inp.label!r} raised {type(exc).__name__} in state "
                        f"{case.state!r}: {exc} (a builder returns (command, actor), or None "
                        "when the input does not apply)"
                    ) from exc
                if built is not None:
                    found.append((inp, _checked(inp, built)))
        return found

    def _key(self, node: _Node, intake_actor: Actor) -> Hashable:
        actors = {intake_actor, *(a for _, (_, a) in node.builds)}
        ordered = sorted(actors, key=lambda a: (a.agency, a.person))
        rules = tuple(self.protocol.rules.values())
        vector = tuple(
            tuple(
                _rule_result(
                    r.check, RuleContext(case=node.case, actor=a, now=node.now, config=self.config)
                )
                for r in rules
            )
            for a in ordered
        )
        applies = tuple((i.trigger, i.name) for i, _ in node.builds)
        key = (node.case.state, applies, tuple(_who(a) for a in ordered), vector)
        return (*key, node.history) if self.simple else key

    def _goals_of_arrival(
        self, steps: Sequence[Step], case: Case, actor: Actor, now: datetime
    ) -> frozenset[Goal]:
        goals: set[Goal] = set()
        for s in steps:
            if s.outcome == "refused" or not s.source:
                continue
            t = self.protocol.transition(s.trigger, s.source)
            if t is None:  # pragma: no cover - steps come from the engine
                continue
            goals.add(Goal(t.trigger, s.source))
            goals.update(Goal(t.trigger, s.source, r, True) for r in t.rules)
        # The engine checked the automatic transitions of the state the case rests in.
        ctx = RuleContext(case=case, actor=actor, now=now, config=self.config)
        for t in self.protocol.transitions_from(case.state, auto=True):
            for r in self.protocol.rules_of(t):
                goals.add(Goal(t.trigger, case.state, r.name, r.check(ctx) is True))
        return frozenset(goals)

    def _add(self, node: _Node, intake_actor: Actor, queue: deque[_Node]) -> bool:
        """Keep ``node`` if no equivalent case was seen; True when it was kept."""
        node.builds = self._builds(node.case, node.now)
        key = self._key(node, intake_actor)
        if key in self.seen:
            return False
        if len(self.nodes) >= self.max_cases:
            self.truncated = True
            return False
        self.seen.add(key)
        self.nodes.append(node)
        self.reached.add(node.case.state)
        queue.append(node)
        return True

    def run(self) -> _Explorer:
        queue: deque[_Node] = deque()
        intake_actors: dict[str, Actor] = {}
        for intake in self.inputs.intakes:
            root = self._open(intake.name)
            if root is not None:
                intake_actors[intake.name] = intake.actor
                self._add(root, intake.actor, queue)
        while queue:
            node = queue.popleft()
            if node.depth >= self.max_steps:
                if node.builds:
                    self.truncated = True
                continue
            for inp, built in node.builds:
                self._expand(node, inp, built, intake_actors[node.intake], queue)
        return self

    def _open(self, name: str) -> _Node | None:
        intake = self.inputs.intake(name)
        case_id = self.inputs.case_id
        engine = self._fork(None, self.inputs.start)
        try:
            command = intake.build(case_id)
            case = engine.open_case(_with_id(command, case_id, 0), actor=intake.actor)
        except (ValidationError, CommandRefused) as exc:
            self.problems[f"intake {name}"] = Uncovered(
                what="input",
                description=f"intake {name!r}",
                why=f"the case could not be opened: {_first_line(exc)}",
            )
            return None
        events = tuple(engine.store.load(case_id))
        first = _intake_step(self.protocol, name, intake.actor)
        steps = observed_steps(self.protocol, first, events, intake.actor)
        history = tuple((s.trigger, s.source, s.dest) for s in steps[1:])
        return _Node(
            intake=name,
            parent=None,
            via=tuple(steps),
            batches=(events,),
            case=case,
            now=self.inputs.start,
            depth=0,
            goals=self._goals_of_arrival(steps, case, intake.actor, self.inputs.start),
            history=history,
        )

    def _expand(
        self,
        node: _Node,
        inp: InputCase,
        built: tuple[Command, Actor],
        intake_actor: Actor,
        queue: deque[_Node],
    ) -> None:
        command, actor = built
        case = node.case
        t = self.protocol.transition(inp.trigger, case.state)
        assert t is not None  # builds are made only for transitions from the state
        now = node.now + inp.wait
        self.tried.add((inp.trigger, inp.name))
        # What the engine's rule gate sees: the case, the command, the actor, the time.
        firing = Firing(
            case, command, actor, now, self.config, "", inp.trigger, protocol=self.protocol
        )
        failed = tuple(r.name for r in self.protocol.rules_of(t) if r.check(firing) is not True)
        if failed:
            self._refusal(node, inp, actor, t, failed)
            return
        engine = self._fork(node, now)
        try:
            new_case = engine.execute(
                self.inputs.case_id, _with_id(command, case.case_id, case.version), actor=actor
            )
        except CommandRefused as exc:  # pragma: no cover - the rules were checked above
            self._refusal(node, inp, actor, t, exc.rules)
            return
        except ValidationError as exc:
            self.problems.setdefault(
                inp.label,
                Uncovered(
                    what="input",
                    description=f"input {inp.label!r}",
                    why=f"its command was invalid in state {case.state!r}: {_first_line(exc)}",
                ),
            )
            return
        events = tuple(engine.store.load(self.inputs.case_id, after=case.version))
        first = _accepted_step(inp, case.state, actor, inp.wait)
        steps = observed_steps(self.protocol, first, events, actor)
        goals = self._goals_of_arrival(steps, new_case, actor, now)
        history = node.history + tuple(
            (s.trigger, s.source, s.dest) for s in steps if s.dest != s.source
        )
        if self.simple:
            visited = [self.protocol.initial] + [to for _, _, to in node.history]
            new = [to for _, _, to in history[len(node.history) :]]
            if len(history) > self.max_length or any(
                to in visited or new.count(to) > 1 for to in new
            ):
                return
        child = _Node(
            intake=node.intake,
            parent=node,
            via=tuple(steps),
            batches=(*node.batches, events),
            case=new_case,
            now=now,
            depth=node.depth + 1,
            goals=goals,
            history=history,
        )
        if not self._add(child, intake_actor, queue):
            # an equivalent case was seen: this step can still end a path
            node.probes.append(_Probe(tuple(steps), goals, terminal=True))

    def _refusal(
        self,
        node: _Node,
        inp: InputCase,
        actor: Actor,
        t: TransitionSpec,
        failed: Sequence[str],
    ) -> None:
        self.broke.setdefault((inp.trigger, inp.name), set()).update(failed)
        step = Step(
            trigger=inp.trigger,
            source=node.case.state,
            dest=node.case.state,
            outcome="refused",
            input=inp.name,
            actor=_who(actor),
            failed=tuple(failed),
            wait=inp.wait,
        )
        goals = frozenset(Goal(t.trigger, node.case.state, r, r not in failed) for r in t.rules)
        node.probes.append(_Probe((step,), goals, terminal=bool(inp.wait)))

    # --- reading the exploration ---------------------------------------------------------

    def path_steps(
        self, node: _Node, probes_at: dict[int, list[_Probe]], last: _Probe | None
    ) -> list[Step]:
        steps: list[Step] = []
        for n in node.chain():
            steps.extend(n.via)
            for p in probes_at.get(id(n), ()):
                steps.extend(p.steps)
        if last is not None:
            steps.extend(last.steps)
        return steps


def _checked(inp: InputCase, built: object) -> tuple[Command, Actor]:
    if (
        not isinstance(built, tuple)
        or len(built) != 2
        or not isinstance(built[0], Command)
        or not isinstance(built[1], Actor)
    ):
        raise TukoFlowError(
            f"input {inp.label!r} built {built!r}; a builder returns (command, actor) or None"
        )
    command, actor = built
    if command.name != inp.trigger:
        raise TukoFlowError(
            f"input {inp.label!r} built a {type(command).__name__}, which fires "
            f"{command.name!r}, not {inp.trigger!r}"
        )
    return command, actor


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --- the protocol's own graph ----------------------------------------------------------------


def all_goals(protocol: Protocol) -> tuple[Goal, ...]:
    """Every coverage goal of ``protocol``: each transition from each source state, and both
    outcomes of each of its rules (automatic transitions included)."""
    goals: list[Goal] = []
    for t in protocol.transitions:
        for s in t.source:
            goals.append(Goal(t.trigger, s))
            for r in t.rules:
                goals.extend((Goal(t.trigger, s, r, True), Goal(t.trigger, s, r, False)))
    return tuple(goals)


def graph_simple_paths(protocol: Protocol, max_length: int) -> list[tuple[Edge, ...]]:
    """Every simple path of the protocol's state graph from its initial state (each state
    at most once; commands that keep the state are not part of the graph), of 1 to
    ``max_length`` changes of state, in depth-first order."""
    out: list[tuple[Edge, ...]] = []
    edges: dict[str, list[Edge]] = {}
    for t in protocol.transitions:
        for s in t.source:
            if t.dest is not None and t.dest != s:
                edges.setdefault(s, []).append((t.trigger, s, t.dest))

    def walk(state: str, path: tuple[Edge, ...], visited: frozenset[str]) -> None:
        if len(path) >= max_length:
            return
        for edge in edges.get(state, ()):
            if edge[2] not in visited:
                longer = (*path, edge)
                out.append(longer)
                walk(edge[2], longer, visited | {edge[2]})

    walk(protocol.initial, (), frozenset({protocol.initial}))
    return out


# --- the three kinds ------------------------------------------------------------------------


def _check_limits(max_length: int, max_steps: int, max_cases: int) -> None:
    problems = [
        FieldProblem(name, f"{value!r} is not a positive whole number", "1 or more")
        for name, value in (
            ("max_length", max_length),
            ("max_steps", max_steps),
            ("max_cases", max_cases),
        )
        if not isinstance(value, int) or isinstance(value, bool) or value < 1
    ]
    if problems:
        raise ValidationError(problems, subject="path generation")


def _never_reached(state: str) -> str:
    return f"state {state!r} is never reached with the declared inputs"


def shortest_paths(
    inputs: InputCases, *, max_steps: int = DEFAULT_MAX_STEPS, max_cases: int = DEFAULT_MAX_CASES
) -> PathSet:
    """The shortest path (fewest commands) to every state of the protocol.

    States no declared input reaches are listed in the set's ``uncovered``.
    """
    _check_limits(DEFAULT_MAX_LENGTH, max_steps, max_cases)
    ex = _Explorer(inputs, max_steps=max_steps, max_cases=max_cases).run()
    return _shortest(ex)


def _shortest(ex: _Explorer) -> PathSet:
    protocol = ex.protocol
    first: dict[str, _Node] = {}
    for each in ex.nodes:
        first.setdefault(each.case.state, each)
    paths: list[Path] = []
    uncovered: list[Uncovered] = []
    for s in protocol.states:
        node = first.get(s.name)
        if node is None:
            uncovered.append(
                Uncovered(what="state", description=f"state {s.name!r}", why=_never_reached(s.name))
            )
            continue
        paths.append(
            _path(ex, f"shortest-to-{s.name}", "shortest", ex.path_steps(node, {}, None), node)
        )
    return PathSet(
        kind="shortest",
        protocol=_label(protocol),
        paths=paths,
        goals=len(protocol.states),
        uncovered=(*uncovered, *ex.problems.values()),
        truncated=ex.truncated,
    )


def _path(ex: _Explorer, name: str, kind: str, steps: list[Step], node: _Node) -> Path:
    return Path(name=name, kind=kind, protocol=_label(ex.protocol), intake=node.intake, steps=steps)


def simple_paths(
    inputs: InputCases,
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_cases: int = DEFAULT_MAX_CASES,
) -> PathSet:
    """One path for every simple path of the state graph with 1 to ``max_length`` changes
    of state (each state at most once; commands that keep the state may come in between).

    Simple paths of the graph that no declared input realises are listed as uncovered.
    """
    _check_limits(max_length, max_steps, max_cases)
    ex = _Explorer(
        inputs, simple=True, max_length=max_length, max_steps=max_steps, max_cases=max_cases
    ).run()
    realised: dict[tuple[Edge, ...], _Node] = {}
    for each in ex.nodes:
        realised.setdefault(each.history, each)
    paths: list[Path] = []
    uncovered: list[Uncovered] = []
    for n, graph_path in enumerate(graph_simple_paths(ex.protocol, max_length), start=1):
        node = realised.get(graph_path)
        text = " -> ".join(
            [graph_path[0][1], *(f"{to} ({trigger})" for trigger, _, to in graph_path)]
        )
        if node is None:
            source = graph_path[-1][1]
            why = (
                _never_reached(source)
                if source not in ex.reached
                else "no declared input takes a case along it"
            )
            uncovered.append(Uncovered(what="path", description=f"simple path {text}", why=why))
            continue
        target = graph_path[-1][2]
        paths.append(
            _path(ex, f"simple-{n:02d}-to-{target}", "simple", ex.path_steps(node, {}, None), node)
        )
    return PathSet(
        kind="simple",
        protocol=_label(ex.protocol),
        paths=paths,
        goals=len(paths) + len(uncovered),
        uncovered=(*uncovered, *ex.problems.values()),
        truncated=ex.truncated,
    )


def covering_paths(
    inputs: InputCases, *, max_steps: int = DEFAULT_MAX_STEPS, max_cases: int = DEFAULT_MAX_CASES
) -> PathSet:
    """Paths that together fire every transition from every source state and see every rule
    of every transition both pass and fail (a refused command), chosen greedily.

    What the declared inputs cannot do is listed in ``uncovered``, each with the reason:
    a state never reached, no input for a trigger, no input that makes a rule fail, an
    input that was invalid, an input that never broke the rule it says it breaks.
    """
    _check_limits(DEFAULT_MAX_LENGTH, max_steps, max_cases)
    ex = _Explorer(inputs, max_steps=max_steps, max_cases=max_cases).run()
    return _cover(ex)


def _cover(ex: _Explorer) -> PathSet:
    protocol = ex.protocol
    goals = all_goals(protocol)
    # Goals as bits of an int: unions and "how many not covered yet" stay cheap.
    bits: dict[Goal, int] = {}

    def mask(of: Iterable[Goal]) -> int:
        m = 0
        for g in of:
            m |= bits.setdefault(g, 1 << len(bits))
        return m

    mask(goals)

    node_mask: dict[int, int] = {}
    probe_mask: dict[int, int] = {}
    cum: dict[int, int] = {}
    at: dict[int, int] = {}
    candidates: list[tuple[_Node, _Probe | None, int]] = []
    for node in ex.nodes:  # parents come before children (breadth first)
        node_mask[id(node)] = mask(node.goals)
        here = 0
        for p in node.probes:
            probe_mask[id(p)] = mask(p.goals)
            if not p.terminal:
                here |= probe_mask[id(p)]
        at[id(node)] = here
        parent = node.parent
        before = cum[id(parent)] | at[id(parent)] if parent is not None else 0
        cum[id(node)] = before | node_mask[id(node)]
        base = cum[id(node)] | here
        candidates.append((node, None, base))
        candidates.extend((node, p, base | probe_mask[id(p)]) for p in node.probes if p.terminal)

    covered = 0
    paths: list[Path] = []
    while True:
        best: tuple[int, int, int] | None = None
        choice: tuple[_Node, _Probe | None] | None = None
        for order, (node, last, reach) in enumerate(candidates):
            gain = (reach & ~covered).bit_count()
            if gain == 0:
                continue
            score = (gain, -node.depth, -order)
            if best is None or score > best:
                best, choice = score, (node, last)
        if choice is None:
            break
        node, last = choice
        probes_at: dict[int, list[_Probe]] = {}
        for n in node.chain():
            covered |= node_mask[id(n)]
            for p in n.probes:
                if not p.terminal and probe_mask[id(p)] & ~covered:
                    probes_at.setdefault(id(n), []).append(p)
                    covered |= probe_mask[id(p)]
        if last is not None:
            covered |= probe_mask[id(last)]
        steps = ex.path_steps(node, probes_at, last)
        name = f"cover-{len(paths) + 1:02d}-to-{steps[-1].dest}"
        paths.append(_path(ex, name, "cover", steps, node))
    covered_goals = {g for g, bit in bits.items() if covered & bit}
    excused = ex.inputs.unreachable
    uncovered = [
        Uncovered(
            what="rule" if g.rule else "transition", description=str(g), why=_why(ex, g), goal=g
        )
        for g in goals
        if g not in covered_goals and g not in excused
    ]
    for g, reason in excused.items():
        if g in covered_goals:
            uncovered.append(
                Uncovered(
                    what="input",
                    description=f"{g} is declared unreachable ({reason})",
                    why="a path covers it after all; remove it from unreachable",
                    goal=g,
                )
            )
    for (trigger, name), declared in sorted(_declared_breaks(ex.inputs).items()):
        missing = sorted(declared - ex.broke.get((trigger, name), set()))
        if missing:
            why = (
                "it was never tried (no case reached a state where it applies)"
                if (trigger, name) not in ex.tried
                else f"it never made {', '.join(missing)} fail"
            )
            uncovered.append(
                Uncovered(
                    what="input",
                    description=f"input '{trigger} ({name})' declares it breaks "
                    + ", ".join(missing),
                    why=why,
                )
            )
    return PathSet(
        kind="cover",
        protocol=_label(protocol),
        paths=paths,
        goals=len(goals),
        excused=tuple(
            Uncovered(what="rule" if g.rule else "transition", description=str(g), why=r, goal=g)
            for g, r in excused.items()
            if g not in covered_goals
        ),
        uncovered=(*uncovered, *ex.problems.values()),
        truncated=ex.truncated,
    )


def _declared_breaks(inputs: InputCases) -> dict[tuple[str, str], set[str]]:
    return {(i.trigger, i.name): set(i.breaks) for i in inputs.inputs if i.breaks}


def _why(ex: _Explorer, g: Goal) -> str:
    t = ex.protocol.transition(g.trigger, g.source)
    assert t is not None
    if g.source not in ex.reached:
        return _never_reached(g.source)
    if t.auto:
        if g.rule is None or g.passed:
            return (
                f"the engine fires it only when {', '.join(t.rules)} pass as a case arrives "
                f"in {g.source!r}; no declared input brings such a case there"
            )
        return f"no case arrived in {g.source!r} with {g.rule} failing"
    declared = ex.inputs.for_trigger(g.trigger)
    if not declared:
        return f"no input is declared for {g.trigger!r}"
    if g.rule is None or g.passed:
        rules = ", ".join(t.rules) or "none"
        return f"no declared input for {g.trigger!r} passed its rules ({rules}) in {g.source!r}"
    return (
        f"no declared input for {g.trigger!r} makes {g.rule} fail in {g.source!r} "
        f"(declare one with breaks=({g.rule!r},))"
    )


def generate(
    inputs: InputCases,
    kind: str = "cover",
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_cases: int = DEFAULT_MAX_CASES,
) -> PathSet:
    """The path set of ``kind`` (``"shortest"``, ``"simple"`` or ``"cover"``)."""
    if kind == "shortest":
        return shortest_paths(inputs, max_steps=max_steps, max_cases=max_cases)
    if kind == "simple":
        return simple_paths(inputs, max_length=max_length, max_steps=max_steps, max_cases=max_cases)
    if kind == "cover":
        return covering_paths(inputs, max_steps=max_steps, max_cases=max_cases)
    raise ValidationError(
        [FieldProblem("kind", f"{kind!r} is not a kind of path set", ", ".join(KINDS))],
        subject="path generation",
    )


# --- running a path on a real engine ----------------------------------------------------------


def _same(expected: Step, got: Step) -> bool:
    """Every field but ``wait``: the run moves the clock by the path's own waits."""
    return attrs.evolve(got, wait=expected.wait) == expected


class _Differs(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def run_path(path: Path, inputs: InputCases) -> PathRun:
    """Run ``path`` on a new engine built by ``inputs`` and compare every step.

    The inputs are built again for the case as it is at each step, so a protocol change
    shows: the run stops at the first step that differs (another state, a refusal where
    acceptance was expected, other rules refusing, an input that no longer applies).
    """
    protocol = inputs.protocol
    case_id = inputs.case_id
    clock = ManualClock(inputs.start)
    engine = inputs.engine(clock)
    actual: list[Step] = []
    case: Case | None = None
    i = 0
    try:
        while i < len(path.steps):
            expected = path.steps[i]
            if expected.outcome == "automatic":
                raise _Differs("the engine fired no automatic transition here")
            if expected.wait:
                clock.set(clock.now() + expected.wait)
            if i == 0:
                intake = inputs.intake(expected.input)
                try:
                    case = engine.open_case(
                        _with_id(intake.build(case_id), case_id, 0), actor=intake.actor
                    )
                except (ValidationError, CommandRefused) as exc:
                    raise _Differs(f"the case could not be opened: {_first_line(exc)}") from None
                first = attrs.evolve(expected, dest=protocol.initial)
                observed = observed_steps(protocol, first, engine.history(case_id), intake.actor)
            else:
                assert case is not None
                observed = _perform(engine, inputs, case, expected, clock.now())
                case = engine.case(case_id)
            for k, got in enumerate(observed):
                actual.append(got)
                if i + k >= len(path.steps) or not _same(path.steps[i + k], got):
                    extra = "" if i + k < len(path.steps) else "a step the path does not have"
                    return PathRun(
                        path=path,
                        actual=tuple(actual),
                        differs_at=i + k,
                        problem=extra,
                        case=case,
                    )
            i += len(observed)
    except _Differs as exc:
        return PathRun(
            path=path, actual=tuple(actual), differs_at=i, problem=exc.problem, case=case
        )
    return PathRun(path=path, actual=tuple(actual), case=case)


def _perform(
    engine: Engine, inputs: InputCases, case: Case, expected: Step, now: datetime
) -> list[Step]:
    inp = inputs.input(expected.trigger, expected.input)
    built = inp.build(case, now)
    if built is None:
        raise _Differs(f"input {inp.label!r} does not apply to the case in {case.state!r}")
    command, actor = _checked(inp, built)
    first = _accepted_step(inp, case.state, actor, expected.wait)
    try:
        engine.execute(case.case_id, _with_id(command, case.case_id, case.version), actor=actor)
    except CommandRefused as exc:
        return [attrs.evolve(first, outcome="refused", failed=exc.rules)]
    except ValidationError as exc:
        raise _Differs(f"the command was invalid: {_first_line(exc)}") from None
    events = engine.store.load(case.case_id, after=case.version)
    return observed_steps(engine.protocol_of(case), first, events, actor)
