"""Protocols as data: states, transitions, guard names, commands — declared once.

A :class:`Protocol` is what the engine runs, and what a validator, a diagram or a
simulator reads. It is checked when it is built: every problem is reported at once in a
:class:`~tuko_flow.errors.ProtocolDefinitionError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from ._case import CORE_APPLIERS, Applier, Case
from ._values import _str_tuple, _to_tuple
from .errors import ProtocolDefinitionError
from .events import Event
from .rules._base import Rule

if TYPE_CHECKING:
    from ._config import TukoConfig
    from ._machine import Firing


def _new_command_id() -> str:
    return os.urandom(16).hex()


@attrs.frozen(kw_only=True)
class Command:
    """Base of every command: an imperative request to change a case.

    ``name`` is the trigger the command fires. ``command_id`` identifies one request, so a
    retried request can be recognised; the host may supply its own.
    """

    name: ClassVar[str] = ""

    command_id: str = attrs.field(factory=_new_command_id)


@attrs.frozen(kw_only=True)
class StateSpec:
    """A state of a protocol.

    ``closed`` states are where a case rests when the work is done; a protocol may leave
    them again (TUKO restarts when the need re-emerges). ``final`` states are never left.
    Every other state must be able to reach a closed or final state.
    """

    name: str
    description: str
    stage: int | None = None
    closed: bool = False
    final: bool = False


#: A transition's handler: validates the command's input against the case and emits the
#: transition's domain events through the firing.
Handler = Callable[["Firing"], None]

#: A protocol's deadline check: given the firing of a deadline check, emits the events of
#: everything overdue on ``firing.case`` at ``firing.now`` that was not reported before.
Deadlines = Callable[["Firing"], None]

#: A fact one case tells another: the target case id, the event type and its fields.
Fact = tuple[str, type[Event], dict[str, Any]]

#: A protocol's reactions: given a case as a stored batch of its events left it, the batch
#: and the configuration, the facts to record on other cases (a MARAC case tells the TUKO
#: case it was raised from). Derived from stored facts only, so they can be told again.
Reactions = Callable[["Case", Sequence[Event], "TukoConfig"], Sequence[Fact]]


@attrs.frozen(kw_only=True)
class TransitionSpec:
    """A transition: ``trigger`` from each ``source`` to ``dest`` (``None``: stay), if ``rules``.

    ``command`` is the command class that fires it; automatic transitions (``auto=True``)
    have none and are fired by the engine whenever their rules pass after a command.
    ``emits`` optionally lists the event types its handler emits (besides
    ``StageChanged``), so tools can tell which trigger wrote a stored batch of events
    (:func:`tuko_flow.versions.replay_check`).
    """

    trigger: str
    source: tuple[str, ...] = attrs.field(converter=_str_tuple)
    dest: str | None
    rules: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    handler: Handler = attrs.field(repr=False)
    command: type[Command] | None = None
    auto: bool = False
    description: str = ""
    emits: tuple[type[Event], ...] = attrs.field(default=(), converter=_to_tuple)


def _check_definition(p: Protocol) -> list[str]:
    problems: list[str] = []
    names = [s.name for s in p.states]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"state {dup!r} is declared twice")
    known = set(names)
    if p.initial not in known:
        problems.append(f"initial state {p.initial!r} is not a declared state")
    seen: dict[tuple[str, str], int] = {}
    for i, t in enumerate(p.transitions):
        label = f"transition {t.trigger!r} (#{i})"
        for src in t.source:
            if src not in known:
                problems.append(f"{label} starts from unknown state {src!r}")
            if (t.trigger, src) in seen:
                problems.append(
                    f"{label}: a transition for {t.trigger!r} from {src!r} exists already"
                )
            seen[(t.trigger, src)] = i
        if not t.source:
            problems.append(f"{label} has no source state")
        if t.dest is not None and t.dest not in known:
            problems.append(f"{label} goes to unknown state {t.dest!r}")
        for r in t.rules:
            if r not in p.rules:
                problems.append(f"{label} names unknown rule {r!r}")
        if t.auto and t.command is not None:
            problems.append(f"{label} is automatic and must not have a command")
        if not t.auto and t.command is None:
            problems.append(f"{label} has no command class")
        if t.command is not None and t.command.name != t.trigger:
            problems.append(
                f"{label}: command {t.command.__name__} fires {t.command.name!r}, not {t.trigger!r}"
            )
    appliers = {**CORE_APPLIERS, **p.appliers}
    for i, t in enumerate(p.transitions):
        missing = [e.__name__ for e in t.emits if e not in appliers]
        if missing:
            problems.append(
                f"transition {t.trigger!r} (#{i}) emits events no applier handles: "
                f"{', '.join(missing)} (register them in the protocol's appliers)"
            )
    missing = [e.__name__ for e in p.intake_emits if e not in appliers]
    if missing:
        problems.append(
            f"the intake emits events no applier handles: {', '.join(missing)} (register "
            "them in the protocol's appliers)"
        )
    problems.extend(_automatic_cycles(p))
    problems.extend(_graph_problems(p, known))
    for key, registered in p.rules.items():
        if key != registered.name:
            problems.append(f"rule registered as {key!r} is named {registered.name!r}")
    return problems


def _graph_problems(p: Protocol, known: set[str]) -> list[str]:
    """Unreachable states, traps, final states with exits, and rules no transition uses."""
    problems: list[str] = []
    edges: dict[str, set[str]] = {name: set() for name in known}
    for t in p.transitions:
        for src in t.source:
            if src in known and (t.dest is None or t.dest in known):
                edges[src].add(t.dest if t.dest is not None else src)
    if p.initial in known:
        reached = {p.initial}
        todo = [p.initial]
        while todo:
            for nxt in edges[todo.pop()] - reached:
                reached.add(nxt)
                todo.append(nxt)
        unreachable = sorted(known - reached)
        if unreachable:
            problems.append(
                f"these states cannot be reached from {p.initial!r}: {', '.join(unreachable)}"
            )
    ends = {s.name for s in p.states if s.closed or s.final}
    if ends:
        can_end = set(ends)
        changed = True
        while changed:
            changed = False
            for state, nexts in edges.items():
                if state not in can_end and nexts & can_end:
                    can_end.add(state)
                    changed = True
        traps = sorted(known - can_end)
        if traps:
            problems.append(
                "from these states no closed or final state can be reached (traps): "
                + ", ".join(traps)
            )
    for s in p.states:
        if s.final and any(s.name in t.source for t in p.transitions):
            problems.append(f"final state {s.name!r} has outgoing transitions")
    used = {r for t in p.transitions for r in t.rules}
    unused = sorted(set(p.rules) - used)
    if unused:
        problems.append(f"these rules are defined but no transition uses them: {', '.join(unused)}")
    return problems


def _automatic_cycles(p: Protocol) -> list[str]:
    """Automatic transitions that can fire forever (a cycle of them, or one that stays)."""
    edges: dict[str, list[tuple[str, str]]] = {}
    for t in p.transitions:
        if t.auto:
            for src in t.source:
                edges.setdefault(src, []).append((t.trigger, t.dest if t.dest is not None else src))
    problems: list[str] = []
    reported: set[frozenset[str]] = set()

    def walk(state: str, path: list[tuple[str, str]]) -> None:
        for trigger, dest in edges.get(state, ()):
            step = [*path, (trigger, state)]
            seen = [s for _, s in step]
            if dest in seen:
                loop = step[seen.index(dest) :]
                key = frozenset(t for t, _ in loop)
                if key not in reported:
                    reported.add(key)
                    chain = " -> ".join(f"{s} ({t})" for t, s in loop)
                    problems.append(f"automatic transitions can loop forever: {chain} -> {dest}")
            else:
                walk(dest, step)

    for start in sorted(edges):
        walk(start, [])
    return problems


@attrs.frozen(kw_only=True)
class Protocol:
    """A protocol declared as data. Built once; checked when built."""

    name: str
    version: str
    description: str
    states: tuple[StateSpec, ...] = attrs.field(converter=_to_tuple)
    initial: str
    transitions: tuple[TransitionSpec, ...] = attrs.field(converter=_to_tuple)
    rules: Mapping[str, Rule]
    intake: type[Command]
    intake_handler: Handler = attrs.field(repr=False)
    #: The event types the intake handler emits after the opening event, if any (MARAC:
    #: ``MaracCaseOpened`` and the first ``RiskAssessed``), so tools reading a history
    #: (the replay check) know they belong to the intake.
    intake_emits: tuple[type[Event], ...] = attrs.field(default=(), converter=_to_tuple)
    appliers: Mapping[type[Event], Applier] = attrs.field(factory=dict)
    #: Finds what time has made overdue on a case of this protocol and emits it through
    #: the firing (``Engine.check_deadlines``); ``None``: the protocol has no deadlines.
    deadlines: Deadlines | None = attrs.field(default=None, repr=False)
    #: What a stored batch of this protocol's events tells other cases (see ``Reactions``);
    #: ``None``: nothing.
    reactions: Reactions | None = attrs.field(default=None, repr=False)

    _index: dict[str, Any] = attrs.field(init=False, factory=dict, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        problems = _check_definition(self)
        if problems:
            raise ProtocolDefinitionError(self.name, problems)
        by_key: dict[tuple[str, str], TransitionSpec] = {}
        for t in self.transitions:
            for src in t.source:
                by_key[(t.trigger, src)] = t
        self._index["by_key"] = by_key
        self._index["commands"] = {
            t.command.name: t.command for t in self.transitions if t.command is not None
        }
        self._index["states"] = {s.name: s for s in self.states}
        self._index["appliers"] = {**CORE_APPLIERS, **self.appliers}
        self._index["rules_of"] = {
            id(t): tuple(self.rules[r] for r in t.rules) for t in self.transitions
        }
        for key, auto in (("auto", True), ("manual", False)):
            self._index[key] = {
                s.name: tuple(t for t in self.transitions if s.name in t.source and t.auto == auto)
                for s in self.states
            }

    @property
    def commands(self) -> Mapping[str, type[Command]]:
        """Command name -> command class, for every command of the protocol."""
        commands: dict[str, type[Command]] = self._index["commands"]
        return commands

    @property
    def all_appliers(self) -> Mapping[type[Event], Applier]:
        appliers: dict[type[Event], Applier] = self._index["appliers"]
        return appliers

    def problems(self) -> list[str]:
        """Every problem with this protocol's definition (empty: it is sound).

        The same checks run when a protocol is built, which raises
        :class:`~tuko_flow.errors.ProtocolDefinitionError` listing them all.
        """
        return _check_definition(self)

    def state(self, name: str) -> StateSpec:
        """The state called ``name``."""
        states: dict[str, StateSpec] = self._index["states"]
        return states[name]

    def transition(self, trigger: str, state: str) -> TransitionSpec | None:
        """The transition ``trigger`` fires from ``state``, or ``None``."""
        by_key: dict[tuple[str, str], TransitionSpec] = self._index["by_key"]
        return by_key.get((trigger, state))

    def transitions_from(self, state: str, *, auto: bool = False) -> tuple[TransitionSpec, ...]:
        """Transitions leaving ``state`` (command-fired, or automatic when ``auto``)."""
        by_state: dict[str, tuple[TransitionSpec, ...]] = self._index["auto" if auto else "manual"]
        return by_state.get(state, ())

    def rules_of(self, transition: TransitionSpec) -> tuple[Rule, ...]:
        """The rule objects guarding ``transition``, in declaration order."""
        rules: dict[int, tuple[Rule, ...]] = self._index["rules_of"]
        return rules[id(transition)]

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        """The states from which ``trigger`` can fire."""
        return tuple(s for t in self.transitions if t.trigger == trigger for s in t.source)


def appliers_of(protocols: Iterable[Protocol]) -> dict[type[Event], Applier]:
    """Every event applier of ``protocols`` (core ones included), for folding their cases."""
    appliers: dict[type[Event], Applier] = {}
    for p in protocols:
        appliers.update(p.all_appliers)
    return appliers
