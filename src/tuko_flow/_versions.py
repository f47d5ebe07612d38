"""Protocol versions and the cases in flight: diff, stranded cases, migration, replay check.

Everything here reads protocols as data (their states, transitions and rules) and cases
as their stored events. Only :func:`migrate_cases` writes, and only through the engine:
one :class:`~tuko_flow.events.ProtocolMigrated` event per case, appended with the
version the case was planned against, under a command id that makes a retry harmless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._case import Applier, Case, fold, replace_case
from ._config import TukoConfig
from ._engine import engine_wrote
from ._machine import evaluate
from ._protocol import Protocol, TransitionSpec, appliers_of
from ._store import EventStore
from ._values import Actor, FieldProblem
from .errors import (
    CaseNotFound,
    ConcurrencyError,
    MigrationRefused,
    RuleFailure,
    TukoFlowError,
    ValidationError,
)
from .events import (
    Event,
    ProtocolMigrated,
    StageChanged,
)
from .rules._base import Rule, RuleContext

if TYPE_CHECKING:
    from ._engine import Engine


_MIGRATION_ATTEMPTS = 3


def label(protocol: Protocol) -> str:
    """``name@version``, as protocol specs and messages spell a protocol version."""
    return f"{protocol.name}@{protocol.version}"


def _dest(t: TransitionSpec) -> str:
    return t.dest if t.dest is not None else "(stays)"


def _qualname(obj: object) -> str:
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"


# --- diff -----------------------------------------------------------------------------


@attrs.frozen
class StateChange:
    """A state both versions have, declared differently: ``changes`` says how, in words."""

    name: str
    changes: tuple[str, ...]


@attrs.frozen
class TransitionChange:
    """A transition (``trigger`` from ``source``) both versions have, declared differently.

    ``changes`` says how, in words: another destination, other rules, automatic or not,
    another command class.
    """

    trigger: str
    source: str
    changes: tuple[str, ...]


@attrs.frozen
class RuleChange:
    """A rule both versions have by name, with another reason, check function or seed."""

    name: str
    changes: tuple[str, ...]


@attrs.frozen(kw_only=True)
class ProtocolDiff:
    """What changed from protocol version ``old`` to ``new``.

    Transitions are keyed by ``(trigger, source state)``: a transition declared for three
    source states is three keys. Build one with :func:`diff`.
    """

    old: Protocol = attrs.field(repr=False)
    new: Protocol = attrs.field(repr=False)
    states_added: tuple[str, ...] = ()
    states_removed: tuple[str, ...] = ()
    states_changed: tuple[StateChange, ...] = ()
    transitions_added: tuple[tuple[str, str], ...] = ()
    transitions_removed: tuple[tuple[str, str], ...] = ()
    transitions_changed: tuple[TransitionChange, ...] = ()
    rules_added: tuple[str, ...] = ()
    rules_removed: tuple[str, ...] = ()
    rules_changed: tuple[RuleChange, ...] = ()

    @property
    def old_label(self) -> str:
        return label(self.old)

    @property
    def new_label(self) -> str:
        return label(self.new)

    @property
    def empty(self) -> bool:
        """True when states, transitions and rules are all the same."""
        return not any(
            (
                self.states_added,
                self.states_removed,
                self.states_changed,
                self.transitions_added,
                self.transitions_removed,
                self.transitions_changed,
                self.rules_added,
                self.rules_removed,
                self.rules_changed,
            )
        )

    def lost_from(self, state: str) -> tuple[str, ...]:
        """The triggers ``state`` had in ``old`` and no longer has in ``new``."""
        return tuple(trigger for trigger, source in self.transitions_removed if source == state)

    def explain(self) -> str:
        """The differences in plain words, for a person."""
        head = f"{self.old_label} -> {self.new_label}"
        if self.empty:
            return f"{head}: no differences in states, transitions or rules"
        lines = [head + ":"]

        def section(title: str, items: Sequence[str]) -> None:
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  {item}" for item in items)

        section("states added", [f"+ {s}" for s in self.states_added])
        section("states removed", [f"- {s}" for s in self.states_removed])
        section(
            "states changed", [f"~ {c.name}: {'; '.join(c.changes)}" for c in self.states_changed]
        )
        section("transitions added", [f"+ {t} from {s}" for t, s in self.transitions_added])
        section("transitions removed", [f"- {t} from {s}" for t, s in self.transitions_removed])
        section(
            "transitions changed",
            [
                f"~ {c.trigger} from {c.source}: {'; '.join(c.changes)}"
                for c in self.transitions_changed
            ],
        )
        section("rules added", [f"+ {r}" for r in self.rules_added])
        section("rules removed", [f"- {r}" for r in self.rules_removed])
        section(
            "rules changed", [f"~ {c.name}: {'; '.join(c.changes)}" for c in self.rules_changed]
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The differences as plain JSON-compatible data."""
        return {
            "old": self.old_label,
            "new": self.new_label,
            "empty": self.empty,
            "states": {
                "added": list(self.states_added),
                "removed": list(self.states_removed),
                "changed": [
                    {"name": c.name, "changes": list(c.changes)} for c in self.states_changed
                ],
            },
            "transitions": {
                "added": [{"trigger": t, "source": s} for t, s in self.transitions_added],
                "removed": [{"trigger": t, "source": s} for t, s in self.transitions_removed],
                "changed": [
                    {"trigger": c.trigger, "source": c.source, "changes": list(c.changes)}
                    for c in self.transitions_changed
                ],
            },
            "rules": {
                "added": list(self.rules_added),
                "removed": list(self.rules_removed),
                "changed": [
                    {"name": c.name, "changes": list(c.changes)} for c in self.rules_changed
                ],
            },
        }


def _state_changes(old: Protocol, new: Protocol) -> list[StateChange]:
    changed = []
    new_states = {s.name: s for s in new.states}
    for s in old.states:
        n = new_states.get(s.name)
        if n is None:
            continue
        changes = []
        if s.stage != n.stage:
            changes.append(f"stage {s.stage} -> {n.stage}")
        for flag in ("closed", "final"):
            before, after = getattr(s, flag), getattr(n, flag)
            if before != after:
                changes.append(f"now {flag}" if after else f"no longer {flag}")
        if s.description != n.description:
            changes.append("description changed")
        if changes:
            changed.append(StateChange(s.name, tuple(changes)))
    return changed


def _by_key(protocol: Protocol) -> dict[tuple[str, str], TransitionSpec]:
    return {(t.trigger, src): t for t in protocol.transitions for src in t.source}


def _transition_changes(a: TransitionSpec, b: TransitionSpec) -> list[str]:
    changes = []
    if a.dest != b.dest:
        changes.append(f"goes to {_dest(b)} instead of {_dest(a)}")
    added = [r for r in b.rules if r not in a.rules]
    removed = [r for r in a.rules if r not in b.rules]
    if added:
        changes.append(f"now also needs {', '.join(added)}")
    if removed:
        changes.append(f"no longer needs {', '.join(removed)}")
    if a.auto != b.auto:
        changes.append("now automatic" if b.auto else "no longer automatic (fired by a command)")
    if a.command is not b.command and not (a.auto and b.auto):
        before = a.command.__qualname__ if a.command is not None else "none"
        after = b.command.__qualname__ if b.command is not None else "none"
        changes.append(f"fired by command {after} instead of {before}")
    return changes


def _rule_changes(a: Rule, b: Rule) -> list[str]:
    changes = []
    if a.reason != b.reason:
        changes.append(f"reason {a.reason!r} -> {b.reason!r}")
    if a.check is not b.check:
        changes.append(f"check function {_qualname(a.check)} -> {_qualname(b.check)}")
    if a.source != b.source:
        changes.append("seed passage changed")
    return changes


def diff(old: Protocol, new: Protocol) -> ProtocolDiff:
    """What changed from ``old`` to ``new``: states, transitions and guard rules."""
    for name, p in (("old", old), ("new", new)):
        if not isinstance(p, Protocol):
            raise ValidationError(
                [FieldProblem(name, f"{p!r} is not a Protocol", "a tuko_flow.Protocol")],
                subject="diff",
            )
    old_names = [s.name for s in old.states]
    new_names = [s.name for s in new.states]
    old_keys, new_keys = _by_key(old), _by_key(new)
    changed_transitions = []
    for key, a in old_keys.items():
        b = new_keys.get(key)
        if b is not None:
            changes = _transition_changes(a, b)
            if changes:
                changed_transitions.append(TransitionChange(key[0], key[1], tuple(changes)))
    changed_rules = []
    for name, a_rule in old.rules.items():
        b_rule = new.rules.get(name)
        if b_rule is not None:
            changes = _rule_changes(a_rule, b_rule)
            if changes:
                changed_rules.append(RuleChange(name, tuple(changes)))
    return ProtocolDiff(
        old=old,
        new=new,
        states_added=tuple(n for n in new_names if n not in old_names),
        states_removed=tuple(n for n in old_names if n not in new_names),
        states_changed=tuple(_state_changes(old, new)),
        transitions_added=tuple(k for k in new_keys if k not in old_keys),
        transitions_removed=tuple(k for k in old_keys if k not in new_keys),
        transitions_changed=tuple(changed_transitions),
        rules_added=tuple(r for r in new.rules if r not in old.rules),
        rules_removed=tuple(r for r in old.rules if r not in new.rules),
        rules_changed=tuple(changed_rules),
    )


# --- reading cases from an engine or a store ------------------------------------------


def _known_protocols(
    source: Engine | EventStore, extra: Iterable[Protocol]
) -> dict[tuple[str, str], Protocol]:
    from ._engine import Engine
    from ._registry import shipped_protocols

    known: dict[tuple[str, str], Protocol] = dict(shipped_protocols())
    if isinstance(source, Engine):
        known.update(source._protocols)
    for p in extra:
        known[(p.name, p.version)] = p
    return known


def _store_of(source: Engine | EventStore) -> EventStore:
    from ._engine import Engine

    if isinstance(source, Engine):
        return source.store
    if isinstance(source, EventStore):
        return source
    raise ValidationError(
        [FieldProblem("source", f"{source!r} is neither an Engine nor an event store", "either")],
        subject="reading cases",
    )


def _current_cases(source: Engine | EventStore, extra: Iterable[Protocol]) -> Iterator[Case]:
    """Every case in the source's store as it is now."""
    from ._engine import Engine

    if isinstance(source, Engine):
        appliers: dict[type[Event], Applier] | None = None
        for case_id in list(source.case_ids()):
            try:
                yield source.case(case_id)
            except TukoFlowError:
                # a case of a protocol this engine does not run: read it with every
                # protocol known, so that it can be recognised (and left alone)
                if appliers is None:
                    appliers = appliers_of(_known_protocols(source, extra).values())
                case = fold(None, source.store.load(case_id), appliers)
                if case is not None:
                    yield case
        return
    store = _store_of(source)
    appliers = appliers_of(_known_protocols(source, extra).values())
    for case_id in list(store.case_ids()):
        case = fold(None, store.load(case_id), appliers)
        if case is not None:
            yield case


# --- stranded cases -------------------------------------------------------------------


@attrs.frozen
class StrandedCase:
    """An in-flight case that ``new`` would strand: its ``state`` is gone, or lost exits.

    ``lost`` names the triggers the state had under the old version and no longer has.
    """

    case_id: str
    state: str
    reason: str
    lost: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"case {self.case_id!r} in state {self.state!r}: {self.reason}"


def stranded_cases(source: Engine | EventStore, change: ProtocolDiff) -> tuple[StrandedCase, ...]:
    """The cases under ``change.old`` that ``change.new`` would strand, by current state.

    A case is stranded when its state does not exist in the new version, or when its state
    no longer has a transition it had (commands the case's users may be waiting to give).
    ``source`` is an :class:`~tuko_flow.Engine` or an event store.
    """
    removed = set(change.states_removed)
    found = []
    for case in _current_cases(source, (change.old, change.new)):
        if (case.protocol, case.protocol_version) != (change.old.name, change.old.version):
            continue
        if case.state in removed:
            found.append(
                StrandedCase(
                    case.case_id,
                    case.state,
                    f"state {case.state!r} does not exist in {change.new_label}",
                    tuple(t.trigger for t in change.old.transitions if case.state in t.source),
                )
            )
            continue
        lost = change.lost_from(case.state)
        if lost:
            found.append(
                StrandedCase(
                    case.case_id,
                    case.state,
                    f"{change.new_label} no longer has {', '.join(lost)} from {case.state!r}",
                    lost,
                )
            )
    return tuple(found)


# --- migration ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MigrationStep:
    """One case to move: from its version and state, to the target's; planned at ``at_version``."""

    case_id: str
    from_version: str
    to_version: str
    from_state: str
    to_state: str
    at_version: int


@attrs.frozen
class MigrationProblem:
    """Why one case cannot be migrated (its state is ``""`` when the case does not exist)."""

    case_id: str
    state: str
    reason: str

    def __str__(self) -> str:
        return f"case {self.case_id!r}: {self.reason}"


def _steps_json(steps: Sequence[MigrationStep]) -> list[dict[str, Any]]:
    return [attrs.asdict(s) for s in steps]


def _problems_json(problems: Sequence[MigrationProblem]) -> list[dict[str, Any]]:
    return [attrs.asdict(p) for p in problems]


@attrs.frozen(kw_only=True)
class MigrationPlan:
    """What a migration would do: the ``steps``, the cases ``unchanged`` (already under the
    target version), and every ``problems`` entry that makes the migration refuse.

    ``map_problems`` are entries of the state map itself that cannot work (a target state
    the new version lacks). Build one with :func:`plan_migration`.
    """

    target: str
    steps: tuple[MigrationStep, ...] = ()
    unchanged: tuple[str, ...] = ()
    problems: tuple[MigrationProblem, ...] = ()
    map_problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing blocks the migration."""
        return not self.problems and not self.map_problems

    def explain(self) -> str:
        lines = [f"migration to {self.target}:"]
        if self.ok:
            lines[0] += f" {len(self.steps)} case(s) to migrate"
        else:
            lines[0] += f" refused ({len(self.problems) + len(self.map_problems)} problem(s))"
        lines.extend(f"  ! {p}" for p in self.map_problems)
        lines.extend(f"  ! {p}" for p in self.problems)
        lines.extend(
            f"  {s.case_id}: {s.from_state} ({s.from_version}) -> {s.to_state} ({s.to_version})"
            for s in self.steps
        )
        if self.unchanged:
            lines.append(f"  already under {self.target}: {', '.join(self.unchanged)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "steps": _steps_json(self.steps),
            "unchanged": list(self.unchanged),
            "problems": _problems_json(self.problems),
            "map_problems": list(self.map_problems),
        }

    def refusal(self) -> MigrationRefused:
        """The error a migration raises for this plan's problems."""
        cases = {p.case_id: p.reason for p in self.problems}
        reasons = list(self.map_problems)
        if self.problems:
            reasons.append(f"{len(self.problems)} case(s) cannot be moved")
        return MigrationRefused(
            self.target,
            reason="; ".join(reasons),
            cases=cases,
            allowed="a state map that covers the state of every selected case "
            f"(old state -> new state), each mapped to a state {self.target} has",
        )


@attrs.frozen(kw_only=True)
class MigrationResult:
    """What a migration did: ``migrated`` (each step written as one event), ``unchanged``
    (already under the target), ``failed`` (changed by others while being migrated)."""

    target: str
    migrated: tuple[MigrationStep, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[MigrationProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    def explain(self) -> str:
        lines = [f"migrated {len(self.migrated)} case(s) to {self.target}"]
        lines.extend(
            f"  {s.case_id}: {s.from_state} ({s.from_version}) -> {s.to_state} ({s.to_version})"
            for s in self.migrated
        )
        if self.unchanged:
            lines.append(f"  already under {self.target}: {', '.join(self.unchanged)}")
        lines.extend(f"  ! not migrated: {p}" for p in self.failed)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "migrated": _steps_json(self.migrated),
            "unchanged": list(self.unchanged),
            "failed": _problems_json(self.failed),
        }


class _StateMap:
    """Old state -> new state, as the migration author declared it."""

    def __init__(
        self, target: Protocol, state_map: Mapping[str, str] | None, keep_unmapped: bool
    ) -> None:
        if state_map is not None and (
            not isinstance(state_map, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in state_map.items())
        ):
            raise ValidationError(
                [
                    FieldProblem(
                        "state_map",
                        f"{state_map!r} is not a mapping of state names",
                        "None (keep every state's name) or {'old_state': 'new_state', ...}",
                    )
                ],
                subject="state map",
            )
        self.target = target
        self.explicit = dict(state_map) if state_map is not None else None
        self.keep_unmapped = keep_unmapped or state_map is None
        self.new_states = {s.name for s in target.states}

    def problems(self) -> list[str]:
        return [
            f"the state map sends {old!r} to {new!r}, which {label(self.target)} does not "
            f"have (its states: {', '.join(sorted(self.new_states))})"
            for old, new in (self.explicit or {}).items()
            if new not in self.new_states
        ]

    def get(self, state: str) -> str | None:
        """The new state for ``state``, or None when the map does not cover it."""
        if self.explicit is not None and state in self.explicit:
            return self.explicit[state]
        return state if self.keep_unmapped else None

    def problem(self, state: str) -> str | None:
        """Why ``state`` cannot be moved, or None."""
        target = label(self.target)
        new = self.get(state)
        if new is None:
            return f"is in state {state!r}, which the state map does not cover"
        if new not in self.new_states:
            if new == state:
                return f"is in state {state!r}, which {target} does not have (map it to one)"
            return f"is in state {state!r}, mapped to {new!r}, which {target} does not have"
        return None


def _plan_case(
    case: Case, to: Protocol, states: _StateMap
) -> MigrationStep | MigrationProblem | None:
    """The step for one case, its problem, or None when it is under the target already."""
    if case.protocol != to.name:
        return MigrationProblem(
            case.case_id,
            case.state,
            f"runs under protocol {case.protocol}@{case.protocol_version}; a migration moves "
            f"a case to another version of its own protocol, not to {to.name!r}",
        )
    if case.protocol_version == to.version:
        return None
    problem = states.problem(case.state)
    if problem is not None:
        return MigrationProblem(case.case_id, case.state, problem)
    to_state = states.get(case.state)
    assert to_state is not None
    return MigrationStep(
        case_id=case.case_id,
        from_version=case.protocol_version,
        to_version=to.version,
        from_state=case.state,
        to_state=to_state,
        at_version=case.version,
    )


def _check_target(engine: Engine, to: object) -> Protocol:
    if not isinstance(to, Protocol):
        raise ValidationError(
            [FieldProblem("to", f"{to!r} is not a Protocol", "a tuko_flow.Protocol")],
            subject="migration",
        )
    known = engine._protocols.get((to.name, to.version))
    if known is None or known != to:
        runs = ", ".join(f"{n}@{v}" for n, v in engine._protocols)
        what = "does not run" if known is None else "runs a different protocol declared as"
        raise MigrationRefused(
            label(to),
            reason=f"this engine {what} {label(to)} (it runs: {runs})",
            cases={},
            allowed=f"an engine created with the target, e.g. Engine(store, protocols=[..., "
            f"{to.name}_{to.version}])",
        )
    return to


def plan_migration(
    engine: Engine,
    to: Protocol,
    *,
    case_ids: Iterable[str] | None = None,
    state_map: Mapping[str, str] | None = None,
    keep_unmapped: bool = False,
) -> MigrationPlan:
    """What :meth:`Engine.migrate <tuko_flow.Engine.migrate>` would do; writes nothing.

    ``case_ids=None`` selects every case of ``to``'s protocol that runs under another
    version. ``state_map`` maps old states to new ones; ``None`` keeps every state's name.
    With a map, ``keep_unmapped=True`` keeps the name of states the map does not list.
    """
    to = _check_target(engine, to)
    states = _StateMap(to, state_map, keep_unmapped)
    if isinstance(case_ids, str):
        raise ValidationError(
            [FieldProblem("case_ids", f"{case_ids!r} is one text", "a list of case ids, or None")],
            subject="migration",
        )
    selected = list(dict.fromkeys(case_ids)) if case_ids is not None else None
    steps: list[MigrationStep] = []
    unchanged: list[str] = []
    problems: list[MigrationProblem] = []
    if selected is None:
        cases: Iterable[Case] = (c for c in _current_cases(engine, ()) if c.protocol == to.name)
    else:
        cases = []
        for case_id in selected:
            try:
                cases.append(engine.case(case_id))
            except CaseNotFound:
                problems.append(MigrationProblem(case_id, "", "does not exist in this store"))
    cases = list(cases)
    sources: dict[str, Protocol] = {}
    for case in cases:
        if (case.protocol, case.protocol_version) == (to.name, to.version):
            continue  # already there: the map is not applied to it
        try:
            from_protocol = engine.protocol_of(case)
        except TukoFlowError:
            continue  # _plan_case says why such a case cannot move
        sources[label(from_protocol)] = from_protocol
    old_states = {s.name for p in sources.values() for s in p.states}
    stray = [
        f"the state map names {old!r}, which is not a state of "
        f"{' or '.join(sorted(sources))} (its states: {', '.join(sorted(old_states))})"
        for old in (states.explicit or {})
        if sources and old not in old_states
    ]
    for case in cases:
        planned = _plan_case(case, to, states)
        if planned is None:
            unchanged.append(case.case_id)
        elif isinstance(planned, MigrationProblem):
            problems.append(planned)
        else:
            steps.append(planned)
    return MigrationPlan(
        target=label(to),
        steps=tuple(steps),
        unchanged=tuple(unchanged),
        problems=tuple(problems),
        map_problems=(*states.problems(), *stray),
    )


def _actor_tag(actor: Actor) -> str:
    # command ids are logged: tell actors apart without writing their references
    return hashlib.sha256(f"{actor.agency}/{actor.person}".encode()).hexdigest()[:12]


def migrate_cases(
    engine: Engine,
    case_ids: Iterable[str] | None,
    *,
    to: Protocol,
    state_map: Mapping[str, str] | None,
    keep_unmapped: bool,
    actor: Actor,
    reason: str,
    command_id: str | None,
) -> MigrationResult:
    """The implementation of :meth:`tuko_flow.Engine.migrate`."""
    problems = []
    if not isinstance(actor, Actor):
        problems.append(FieldProblem("actor", f"{actor!r} is not an Actor", "a tuko_flow.Actor"))
    if not isinstance(reason, str) or not reason.strip():
        problems.append(
            FieldProblem("reason", f"{reason!r} says nothing", "why the cases are migrated")
        )
    if command_id is not None and (not isinstance(command_id, str) or not command_id):
        problems.append(FieldProblem("command_id", f"{command_id!r} is not an id", "a text"))
    if problems:
        raise ValidationError(problems, subject="migration")
    plan = plan_migration(
        engine, to, case_ids=case_ids, state_map=state_map, keep_unmapped=keep_unmapped
    )
    if not plan.ok:
        raise plan.refusal()
    for step in plan.steps:  # a reused command id is refused before anything is written
        _stored_before(engine, step.case_id, _migration_id(step, to, actor, command_id), to, actor)
    states = _StateMap(to, state_map, keep_unmapped)
    migrated: list[MigrationStep] = []
    unchanged = list(plan.unchanged)
    failed: list[MigrationProblem] = []
    for step in plan.steps:
        outcome = _migrate_one(engine, step, to, states, actor, reason, command_id)
        if isinstance(outcome, MigrationStep):
            migrated.append(outcome)
        elif isinstance(outcome, MigrationProblem):
            failed.append(outcome)
        else:
            unchanged.append(step.case_id)
    return MigrationResult(
        target=plan.target,
        migrated=tuple(migrated),
        unchanged=tuple(unchanged),
        failed=tuple(failed),
    )


def _migration_id(step: MigrationStep, to: Protocol, actor: Actor, command_id: str | None) -> str:
    return command_id or (
        f"migrate:{label(to)}:{step.case_id}:v{step.at_version}:{_actor_tag(actor)}"
    )


def _stored_before(engine: Engine, case_id: str, cid: str, to: Protocol, actor: Actor) -> bool:
    """True when ``cid`` already migrated the case to ``to`` (a retry); a command id used
    for anything else is refused, naming it, before anything is written."""
    done = engine.store.command_version(case_id, cid)
    if done is None:
        return False
    stored = engine.store.load(case_id, after=done - 1)[0]
    if (
        isinstance(stored, ProtocolMigrated)
        and stored.to_version == to.version
        and stored.actor == actor
    ):
        return True
    raise ValidationError(
        [
            FieldProblem(
                "command_id",
                f"{cid!r} was used on case {case_id!r} for another command "
                f"({type(stored).__name__} by {stored.actor.agency}/{stored.actor.person})",
                "a new command id for this migration (only a retried migration, by the "
                "same actor, reuses one)",
            )
        ],
        subject="migration",
        case_id=case_id,
    )


def _migrate_one(
    engine: Engine,
    step: MigrationStep,
    to: Protocol,
    states: _StateMap,
    actor: Actor,
    reason: str,
    command_id: str | None,
) -> MigrationStep | MigrationProblem | None:
    """Write one case's migration; re-plan it when another writer got there first."""
    planned: MigrationStep | MigrationProblem | None = step
    for _ in range(_MIGRATION_ATTEMPTS):
        if not isinstance(planned, MigrationStep):
            return planned
        cid = _migration_id(planned, to, actor, command_id)
        if _stored_before(engine, planned.case_id, cid, to, actor):
            return None  # this very migration was stored before (a retried call)
        case = engine.case(planned.case_id)
        if case.version != planned.at_version:  # changed since planned: decide again
            planned = _plan_case(case, to, states)
            continue
        event = ProtocolMigrated(
            case_id=case.case_id,
            version=case.version + 1,
            occurred_at=engine._now(),
            actor=actor,
            command_id=cid,
            protocol=case.protocol,
            from_version=planned.from_version,
            to_version=planned.to_version,
            from_state=planned.from_state,
            to_state=planned.to_state,
            reason=reason.strip(),
        )
        new_case = fold(case, (event,), engine._appliers)
        assert new_case is not None
        try:
            engine._commit(
                case.case_id, (event,), case.version, new_case, "migrate", cid, case.state
            )
        except ConcurrencyError:
            planned = _plan_case(engine.case(planned.case_id), to, states)
            continue
        return planned
    if not isinstance(planned, MigrationStep):
        return planned
    return MigrationProblem(
        step.case_id,
        step.from_state,
        f"was changed by other writers {_MIGRATION_ATTEMPTS} times while being migrated; "
        "nothing was written for it: run the migration again",
    )


# --- replay check ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CaseReplay:
    """One case's history replayed under a protocol version.

    ``ok`` when every command batch would have happened the same way; otherwise
    ``version`` is the first diverging event's version, ``trigger`` the command (when
    known) and ``reason`` says in plain words what the new version would have done.
    """

    case_id: str
    ok: bool
    version: int | None = None
    trigger: str | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"case {self.case_id!r}: ok"
        return f"case {self.case_id!r}: diverges at event {self.version}: {self.reason}"


@attrs.frozen(kw_only=True)
class ReplayReport:
    """Every stored case of the protocol, replayed under version ``target``."""

    target: str
    cases: tuple[CaseReplay, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    @property
    def diverged(self) -> tuple[CaseReplay, ...]:
        return tuple(c for c in self.cases if not c.ok)

    def explain(self) -> str:
        count = len(self.cases)
        if self.ok:
            return f"replay under {self.target}: ok, {count} case(s), no history diverges"
        lines = [f"replay under {self.target}: {len(self.diverged)} of {count} case(s) diverge"]
        lines.extend(f"  {c}" for c in self.cases)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "cases": [attrs.asdict(c) for c in self.cases],
        }


class _Diverged(Exception):
    def __init__(self, version: int, trigger: str | None, reason: str) -> None:
        self.version = version
        self.trigger = trigger
        self.reason = reason


def _batches(events: Sequence[Event]) -> list[list[Event]]:
    batches: list[list[Event]] = []
    for event in events:
        if batches and batches[-1][-1].command_id == event.command_id:
            batches[-1].append(event)
        else:
            batches.append([event])
    return batches


def _segments(batch: Sequence[Event]) -> list[list[Event]]:
    """A batch split after each StageChanged: the command's step, then automatic ones."""
    segments: list[list[Event]] = [[]]
    for event in batch:
        segments[-1].append(event)
        if isinstance(event, StageChanged):
            segments.append([])
    return [s for s in segments if s]


def _infer_trigger(
    payload: Sequence[Event], candidates: Iterable[tuple[Protocol, str]]
) -> str | None:
    """The trigger whose declared ``emits`` explain ``payload``, from the given states."""
    types = [type(e) for e in payload]
    for protocol, state in candidates:
        found = [
            t
            for t in (
                *protocol.transitions_from(state),
                *protocol.transitions_from(state, auto=True),
            )
            if t.emits and types[0] in t.emits and all(x in t.emits for x in types)
        ]
        # the best explanation first: exactly these event types, then the same first event
        exact = [t for t in found if set(t.emits) == set(types)]
        first = [t for t in found if t.emits[0] is types[0]]
        for group in (exact, first, found):
            if len({t.trigger for t in group}) == 1:
                return group[0].trigger
    return None


def _evaluate(rules: tuple[Rule, ...], ctx: RuleContext) -> tuple[RuleFailure, ...]:
    try:
        return evaluate(rules, ctx)
    except Exception:  # a new rule meeting an old case it cannot read: say which
        failures = []
        for r in rules:
            try:
                failure = r.evaluate(ctx)
            except Exception as exc:
                failure = RuleFailure(r.name, f"the rule raised {type(exc).__name__}: {exc}")
            if failure is not None:
                failures.append(failure)
        return tuple(failures)


class _Replayer:
    def __init__(
        self,
        target: Protocol,
        states: _StateMap,
        known: Mapping[tuple[str, str], Protocol],
        config: TukoConfig,
    ) -> None:
        self.target = target
        self.label = label(target)
        self.states = states
        self.known = known
        self.appliers = appliers_of(known.values())
        self.config = config

    def mapped(self, case_version: str, state: str) -> str | None:
        if case_version == self.target.version:
            return state
        return self.states.get(state)

    def check_case(self, case_id: str, events: Sequence[Event]) -> CaseReplay:
        case: Case | None = None
        try:
            for batch in _batches(events):
                case = self.check_batch(case, batch)
        except _Diverged as d:
            return CaseReplay(
                case_id=case_id, ok=False, version=d.version, trigger=d.trigger, reason=d.reason
            )
        return CaseReplay(case_id=case_id, ok=True)

    def check_batch(self, case: Case | None, batch: Sequence[Event]) -> Case | None:
        rest = list(batch)
        if case is None:  # the batch that opened the case: its first event opens it
            case = fold(None, rest[:1], self.appliers)
            assert case is not None
            opened = rest.pop(0)
            ran_under = self.known.get((case.protocol, case.protocol_version), self.target)
            intake = rest[: len(ran_under.intake_emits)]
            taken = 0
            for e in intake:  # the intake's own events after the opening one
                if type(e) not in ran_under.intake_emits:
                    break
                taken += 1
            if taken:
                folded = fold(case, rest[:taken], self.appliers)
                assert folded is not None
                case = folded
                rest = rest[taken:]
            start = self.mapped(case.protocol_version, case.state)
            if start is None:
                raise _Diverged(
                    opened.version,
                    None,
                    f"the case was opened in state {case.state!r}, which the state map does "
                    "not cover",
                )
            if start != self.target.initial:
                raise _Diverged(
                    opened.version,
                    None,
                    f"the case was opened in {start!r}; {self.label} opens cases in "
                    f"{self.target.initial!r}",
                )
        ran_under = self.known.get((case.protocol, case.protocol_version), self.target)
        if engine_wrote(rest, ran_under):
            # deadline checks and facts told by other cases are the engine's batches
            folded = fold(case, rest, self.appliers)
            assert folded is not None
            return folded
        fired = False
        for segment in _segments(rest):
            payload = [e for e in segment if not isinstance(e, StageChanged)]
            if (
                payload
                and len(payload) == len(segment)
                and all(isinstance(e, ProtocolMigrated) for e in payload)
            ):
                # migrations are the engine's, not a transition's
                folded = fold(case, segment, self.appliers)
                assert folded is not None
                case = folded
                continue
            self.check_segment(case, segment, payload)
            fired = True
            folded = fold(case, segment, self.appliers)
            assert folded is not None
            case = folded
        if fired:
            self.check_settled(case, batch[-1])
        return case

    def check_segment(self, case: Case, segment: Sequence[Event], payload: Sequence[Event]) -> None:
        first = segment[0]
        changed = segment[-1] if isinstance(segment[-1], StageChanged) else None
        from_state = self.mapped(case.protocol_version, case.state)
        if from_state is None:
            raise _Diverged(
                first.version,
                changed.command if changed else None,
                f"the case was in state {case.state!r}, which the state map does not cover",
            )
        if changed is not None:
            trigger: str | None = changed.command
        else:
            ran_under = self.known.get((case.protocol, case.protocol_version))
            candidates = [(self.target, from_state)]
            if ran_under is not None:
                candidates.insert(0, (ran_under, case.state))
            trigger = _infer_trigger(payload, candidates)
        if trigger is None:
            names = ", ".join(type(e).__name__ for e in payload)
            raise _Diverged(
                first.version,
                None,
                f"cannot tell which command recorded {names} in state {case.state!r}; "
                "declare emits=(...) on the transition whose handler emits them",
            )
        to_state = self.mapped(case.protocol_version, changed.to_state if changed else case.state)
        if to_state is None:
            assert changed is not None
            raise _Diverged(
                changed.version,
                trigger,
                f"the case went to state {changed.to_state!r}, which the state map does not cover",
            )
        for state, what in ((from_state, "was in"), (to_state, "went to")):
            if state not in self.states.new_states:
                raise _Diverged(
                    first.version if what == "was in" else segment[-1].version,
                    trigger,
                    f"the case {what} state {state!r}, which {self.label} does not have "
                    "(a state map can name its counterpart)",
                )
        t = self.target.transition(trigger, from_state)
        if t is None:
            sources = self.target.sources_of(trigger)
            where = (
                f"it is possible from: {', '.join(sources)}"
                if sources
                else f"{self.label} has no {trigger!r} at all"
            )
            raise _Diverged(
                first.version,
                trigger,
                f"{trigger!r} is not possible from {from_state!r} in {self.label} ({where})",
            )
        dest = t.dest if t.dest is not None else from_state
        if dest != to_state:
            raise _Diverged(
                first.version,
                trigger,
                f"in {self.label} {trigger!r} from {from_state!r} goes to {dest!r}; the case "
                f"went to {to_state!r}",
            )
        failures = _evaluate(self.target.rules_of(t), self.context(case, from_state, first))
        if failures:
            who = f"{first.actor.agency}/{first.actor.person}"
            raise _Diverged(
                first.version,
                trigger,
                f"{self.label} would have refused {trigger!r} by {who} on "
                f"{first.occurred_at.isoformat()}: " + "; ".join(str(f) for f in failures),
            )

    def check_settled(self, case: Case, last: Event) -> None:
        """After a command the new version's automatic transitions must have nothing to do."""
        state = self.mapped(case.protocol_version, case.state)
        if state is None or state not in self.states.new_states:
            return  # the next batch, if any, reports the uncovered state
        ctx = self.context(case, state, last)
        for t in self.target.transitions_from(state, auto=True):
            if not _evaluate(self.target.rules_of(t), ctx):
                raise _Diverged(
                    last.version,
                    t.trigger,
                    f"after this command {self.label} would have fired the automatic "
                    f"{t.trigger!r} from {state!r}, which the history does not record",
                )

    def context(self, case: Case, state: str, at: Event) -> RuleContext:
        as_new = replace_case(case, state=state, protocol_version=self.target.version)
        return RuleContext(case=as_new, actor=at.actor, now=at.occurred_at, config=self.config)


def replay_check(
    source: Engine | EventStore,
    protocol: Protocol,
    *,
    state_map: Mapping[str, str] | None = None,
    keep_unmapped: bool = False,
    protocols: Iterable[Protocol] = (),
    config: TukoConfig | None = None,
    case_ids: Iterable[str] | None = None,
) -> ReplayReport:
    """Replay every stored case of ``protocol``'s name under ``protocol``; report divergence.

    For each command batch of a history (its events share a ``command_id``), the case is
    rebuilt as it was before the batch, and ``protocol`` must have a transition for the
    batch's trigger from that (mapped) state to the same (mapped) destination, whose guard
    rules pass for that actor at that time. The trigger is ``StageChanged.command`` when
    the batch changed state, else the transition whose ``emits`` match the events.

    ``source`` is an :class:`~tuko_flow.Engine` (its config and protocols are used) or an
    event store; ``protocols`` adds protocols the stored cases ran under that are not
    shipped with tuko_flow. ``state_map`` and ``keep_unmapped`` are as for a migration;
    ``case_ids`` limits the check to those cases (a pilot migration's).
    """
    from ._engine import Engine

    if not isinstance(protocol, Protocol):
        raise ValidationError(
            [FieldProblem("protocol", f"{protocol!r} is not a Protocol", "a tuko_flow.Protocol")],
            subject="replay check",
        )
    store = _store_of(source)
    known = _known_protocols(source, (*protocols, protocol))
    if config is None:
        config = source.config if isinstance(source, Engine) else TukoConfig()
    replayer = _Replayer(protocol, _StateMap(protocol, state_map, keep_unmapped), known, config)
    results = []
    selected = list(store.case_ids()) if case_ids is None else list(dict.fromkeys(case_ids))
    for case_id in selected:
        events = store.load(case_id)
        opened = fold(None, events[:1], replayer.appliers) if events else None
        if opened is None or opened.protocol != protocol.name:
            continue
        results.append(replayer.check_case(case_id, events))
    return ReplayReport(target=label(protocol), cases=tuple(results))
