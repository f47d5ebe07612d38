"""The bridge to ``transitions``: one shared machine per protocol, one light model per command.

Building a ``transitions.Machine`` per case costs about 80 µs and 17 KB (transitions
issues #146 and #434). tuko_flow builds one machine per protocol and never adds models to
it: each command gets a short-lived :class:`Firing` whose ``state`` attribute is the
case's state, and fires the trigger with ``machine.events[trigger].trigger(firing)``.
The transition's condition is a :class:`RuleGate` that evaluates **every** rule (so a
refusal can list them all), and its after-callback runs the transition's handler, which
emits the domain events. The case itself is never touched: it changes only when the
emitted events are applied, after they are stored.
"""

from __future__ import annotations

import threading
import typing
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from transitions import Machine

from ._values import Actor, FieldProblem, Problems
from .errors import RuleFailure, TukoFlowError, ValidationError
from .events import Event
from .rules._base import Rule, RuleContext

if TYPE_CHECKING:
    from ._case import Case
    from ._config import TukoConfig
    from ._protocol import Command, Handler, Protocol

E = TypeVar("E", bound=Event)


class CaseReader(typing.Protocol):
    """What a handler may read beyond its own case (the :class:`~tuko_flow.Engine`)."""

    def case(self, case_id: str) -> Case: ...

    def marac_case_for(self, victim_ref: str, perpetrator_ref: str) -> str | None: ...


class Firing(RuleContext):
    """The model ``transitions`` moves while one command is decided.

    Handlers read ``case``, ``command``, ``actor``, ``now`` and ``config``, check input
    with :meth:`problems` / :meth:`reject`, and add events with :meth:`emit`.
    """

    __slots__ = (
        "base_version",
        "case_id",
        "command",
        "command_id",
        "events",
        "failures",
        "protocol",
        "reader",
        "state",
        "trigger",
    )

    def __init__(
        self,
        case: Case | None,
        command: Command | None,
        actor: Actor,
        now: datetime,
        config: TukoConfig,
        command_id: str,
        trigger: str,
        *,
        case_id: str = "",
        state: str = "",
        protocol: Protocol | None = None,
    ) -> None:
        self.protocol = protocol
        # ``case`` is None only while a case is being opened (the intake handler).
        self.case: Case = case  # type: ignore[assignment]
        self.case_id = case.case_id if case is not None else case_id
        self.base_version = case.version if case is not None else 0
        self.state = case.state if case is not None else state
        self.command = command
        self.actor = actor
        self.now = now
        self.config = config
        self.command_id = command_id
        self.trigger = trigger
        self.events: list[Event] = []
        self.failures: tuple[RuleFailure, ...] = ()
        #: How handlers read other cases (the engine sets itself here).
        self.reader: CaseReader | None = None

    def emit(self, event_type: type[E], **fields: Any) -> E:
        """Create an event with the envelope filled in and add it to this command's batch."""
        event = event_type(
            case_id=self.case_id,
            version=self.base_version + len(self.events) + 1,
            occurred_at=self.now,
            actor=self.actor,
            command_id=self.command_id,
            **fields,
        )
        self.events.append(event)
        return event

    def related(self, case_id: str) -> Case:
        """Another case, as it is now (raises :class:`~tuko_flow.errors.CaseNotFound`)."""
        return self._reader().case(case_id)

    def marac_case_for(self, victim_ref: str, perpetrator_ref: str) -> str | None:
        """The id of the MARAC case about these two people, or ``None``."""
        return self._reader().marac_case_for(victim_ref, perpetrator_ref)

    def _reader(self) -> CaseReader:
        if self.reader is None:
            raise TukoFlowError(f"command {self.trigger!r} cannot read other cases here")
        return self.reader

    def problems(self) -> Problems:
        """A fresh problem collector for this command's input."""
        return Problems()

    def reject(self, problems: Problems | list[FieldProblem]) -> None:
        """Raise :class:`ValidationError` naming the case and command, if there are problems."""
        items = problems.items if isinstance(problems, Problems) else problems
        if items:
            raise ValidationError(items, subject=f"command {self.trigger!r}", case_id=self.case_id)

    def rule_context(self) -> RuleContext:
        """What the rules see (the firing itself: it has the case, actor, time and config)."""
        return self


def passes(rules: tuple[Rule, ...], ctx: RuleContext) -> bool:
    """True when every rule passes (stops at the first failure; for quick pre-checks)."""
    return all(r.check(ctx) is True for r in rules)


def evaluate(rules: tuple[Rule, ...], ctx: RuleContext) -> tuple[RuleFailure, ...]:
    """Every failure among ``rules`` (all are evaluated; none is skipped)."""
    failures = []
    for r in rules:
        failure = r.evaluate(ctx)
        if failure is not None:
            failures.append(failure)
    return tuple(failures)


class RuleGate:
    """A ``transitions`` condition that evaluates all of a transition's rules."""

    __slots__ = ("__name__", "rules")

    def __init__(self, name: str, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.__name__ = name

    def __call__(self, event_data: Any) -> bool:
        firing: Firing = event_data.model
        for r in self.rules:
            if r.check(firing) is not True:
                firing.failures = evaluate(self.rules, firing)  # now collect every failure
                return False
        return True


class HandlerCall:
    """A ``transitions`` after-callback that runs a transition's handler."""

    __slots__ = ("__name__", "handler")

    def __init__(self, name: str, handler: Handler) -> None:
        self.handler = handler
        self.__name__ = name

    def __call__(self, event_data: Any) -> None:
        self.handler(event_data.model)


_machines: dict[int, tuple[Protocol, Any]] = {}
_lock = threading.Lock()


def machine_for(protocol: Protocol) -> Any:
    """The shared ``transitions.Machine`` of ``protocol`` (built on first use)."""
    entry = _machines.get(id(protocol))
    if entry is not None and entry[0] is protocol:
        return entry[1]
    return _build(protocol)


def _build(protocol: Protocol) -> Any:
    with _lock:
        machine = Machine(
            model=None,
            states=[s.name for s in protocol.states],
            initial=protocol.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
            name=f"{protocol.name}@{protocol.version}",
        )
        for t in protocol.transitions:
            rules = protocol.rules_of(t)
            machine.add_transition(
                t.trigger,
                list(t.source),
                t.dest,
                conditions=[RuleGate(f"rules_of_{t.trigger}", rules)],
                after=[HandlerCall(f"handle_{t.trigger}", t.handler)],
            )
        _machines[id(protocol)] = (protocol, machine)
        return machine


def fire(protocol: Protocol, firing: Firing) -> bool:
    """Fire ``firing.trigger`` on the protocol's machine; ``False`` when rules refused it."""
    triggers: dict[str, Callable[[Firing], bool]] | None = protocol._index.get("triggers")
    if triggers is None:
        machine = machine_for(protocol)
        triggers = {name: event.trigger for name, event in machine.events.items()}
        protocol._index["triggers"] = triggers
    return triggers[firing.trigger](firing)
