"""The engine: opens cases, decides commands, stores events, tells subscribers.

One :class:`Engine` serves many cases and any number of protocols. For each command it
loads the case (its cached state plus any newer events from the store), fires the
command's trigger on the protocol's shared ``transitions`` machine, and — only if every
guard rule passed and the input is valid — appends the emitted events to the store with
the version it expects. The case changes only by applying those stored events.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from ._case import Case, fold
from ._clock import Clock, SystemClock
from ._config import TukoConfig
from ._machine import Firing, evaluate, fire, passes
from ._protocol import Command, Protocol, appliers_of
from ._snapshots import from_snapshot, to_snapshot
from ._store import ChainProblem, EventStore
from ._values import Actor, FieldProblem
from .errors import (
    CaseAlreadyExists,
    CaseNotFound,
    CommandNotAllowedInState,
    CommandRefused,
    ConcurrencyError,
    CorruptEventError,
    RuleFailure,
    SubscriberFailed,
    TukoFlowError,
    ValidationError,
)
from .events import Event, MaracCaseOpened, StageChanged
from .rules._base import RuleContext
from .stages import TUKO
from .stages.marac import MARAC
from .stores import InMemoryEventStore, SQLiteEventStore

if TYPE_CHECKING:
    from ._versions import MigrationResult

# structlog's lazy proxy is private: if a structlog moves it, the engine keeps the proxy.
_LazyProxy: type | None = getattr(getattr(structlog, "_config", None), "BoundLoggerLazyProxy", None)

#: The actor recorded on events the engine emits by itself (deadline checks).
SYSTEM_ACTOR = Actor(agency="tuko_flow", person="deadline-check")

#: The rule a refusal names when the command has no transition from the case's state.
ALLOWED_IN_STATE = "allowed_in_state"

_DEADLINE_CHECK = "check_deadlines:"
_FACT_ID = re.compile(r">[^>]+#\d+\Z")


def _deadline_command_id(case_id: str, version: int, now: datetime) -> str:
    # The id says what was checked, so two schedulers checking the same case version are
    # recognised as one command, and the history is reproducible.
    return f"{_DEADLINE_CHECK}{case_id}:v{version}:{now.isoformat()}"


def _fact_command_id(command_id: str, source: str, n: int) -> str:
    return f"{command_id}>{source}#{n}"


def engine_wrote(batch: Sequence[Event], protocol: Protocol) -> bool:
    """True when the engine wrote ``batch`` itself, not a command of ``protocol``: a
    deadline check (by :data:`SYSTEM_ACTOR`), or a fact another case told this one (one
    event no transition of ``protocol`` emits, under a command id derived from the source
    command's). Tools that read histories (the replay check) skip such batches."""
    if not batch:
        return False
    first = batch[0]
    if first.command_id.startswith(_DEADLINE_CHECK) and all(e.actor == SYSTEM_ACTOR for e in batch):
        return True
    emitted = {t for spec in protocol.transitions for t in spec.emits} | set(protocol.intake_emits)
    return (
        len(batch) == 1
        and _FACT_ID.search(first.command_id) is not None
        and type(first) not in emitted
    )


Subscriber = Callable[[Event], None]

_MAX_AUTO_STEPS = 16

_PORT_METHODS = (
    "append",
    "load",
    "version",
    "command_version",
    "case_ids",
    "read_all",
    "verify",
    "save_snapshot",
    "load_snapshot",
)


@attrs.frozen
class NextSteps:
    """What can happen next for a case, and what blocks the rest.

    ``allowed``: commands whose rules pass now for the actor. ``blocked``: the other
    commands possible from this state, each with every rule that blocks it.
    """

    case_id: str
    state: str
    allowed: tuple[str, ...]
    blocked: Mapping[str, tuple[RuleFailure, ...]]

    def explain(self) -> str:
        """A plain-language summary, for a person."""
        lines = [f"case {self.case_id!r} is in state {self.state!r}"]
        lines.append("can do now: " + (", ".join(self.allowed) or "nothing"))
        for command, failures in self.blocked.items():
            lines.append(f"blocked: {command}")
            lines.extend(f"  - {f}" for f in failures)
        return "\n".join(lines)


class Engine:
    """Runs protocols over cases kept in an event store.

    :param store: where events are kept: an :class:`EventStore`, or a file path for a
        :class:`~tuko_flow.stores.SQLiteEventStore` (default: a new in-memory store).
    :param clock: the only source of time (default: :class:`SystemClock`).
    :param config: agencies, risk-need matrix, competence table, timeframes.
    :param protocols: the protocols this engine runs (default: TUKO and MARAC; a case
        can be in both at once, as a TUKO case and the MARAC case raised from it).
    :param logger: a structlog logger (default: ``structlog.get_logger("tuko_flow")``).
    :param snapshot_every: save a snapshot of a case each time its history grows past a
        multiple of this many events (``None``: never), so long histories load fast.

    Commands are idempotent by ``command_id``: re-sending a command that was already stored
    (say, after a lost acknowledgement) returns the case as that command left it and
    stores nothing twice.
    """

    def __init__(
        self,
        store: EventStore | str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        config: TukoConfig | None = None,
        protocols: Iterable[Protocol] = (TUKO, MARAC),
        logger: Any = None,
        snapshot_every: int | None = 100,
    ) -> None:
        if store is None:
            store = InMemoryEventStore()
        elif isinstance(store, str | os.PathLike):
            store = SQLiteEventStore(store)  # a file path: the embedded durable store
        elif not isinstance(store, EventStore):
            missing = [m for m in _PORT_METHODS if not callable(getattr(store, m, None))]
            raise TukoFlowError(
                f"{store!r} is not an event store: it lacks {', '.join(missing)} "
                "(see tuko_flow.EventStore; or pass a SQLite file path)"
            )
        self.store: EventStore = store
        if clock is not None and not callable(getattr(clock, "now", None)):
            raise TukoFlowError(
                f"{clock!r} is not a clock: it has no now() (see tuko_flow.Clock; "
                "e.g. tuko_flow.SystemClock() or tuko_flow.ManualClock(start))"
            )
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.config = config if config is not None else TukoConfig()
        self._protocols = {(p.name, p.version): p for p in protocols}
        if not self._protocols:
            raise TukoFlowError("an engine needs at least one protocol")
        self._by_intake = {p.intake: p for p in self._protocols.values()}
        self._appliers = appliers_of(self._protocols.values())
        self._log = logger if logger is not None else structlog.get_logger("tuko_flow")
        #: True once ``_log`` is known to drop INFO lines without doing anything.
        self._info_dropped = False
        self._cases: dict[str, Case] = {}
        if snapshot_every is not None and snapshot_every < 1:
            raise TukoFlowError(f"snapshot_every must be at least 1 or None, not {snapshot_every}")
        self.snapshot_every = snapshot_every
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._marac_index: dict[tuple[str, str], str] = {}
        self._marac_position = 0

    # --- reading -----------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """The case's current state. Raises :class:`~tuko_flow.errors.CaseNotFound`."""
        cached = self._cases.get(case_id)
        if cached is None and self.snapshot_every is not None:
            from_snap = self._from_snapshot(case_id)
            if from_snap is not None:
                self._cases[case_id] = from_snap
                return from_snap
        newer = self.store.load(case_id, after=cached.version if cached is not None else 0)
        if not newer:
            if cached is None:
                raise CaseNotFound(case_id)
            return cached
        case = fold(cached, newer, self._appliers)
        assert case is not None
        self._cases[case_id] = case
        return case

    def case_at(self, case_id: str, version: int) -> Case:
        """The case as it was right after its event number ``version``."""
        events = tuple(self.store.load(case_id))
        if not events:
            raise CaseNotFound(case_id)
        if (
            not isinstance(version, int)
            or isinstance(version, bool)
            or not (1 <= version <= len(events))
        ):
            raise ValidationError(
                [
                    FieldProblem(
                        "version", f"{version!r} is not in the history", f"1 to {len(events)}"
                    )
                ],
                subject="case_at",
                case_id=case_id,
            )
        case = fold(None, events[:version], self._appliers)
        assert case is not None
        return case

    def verify(self, case_id: str | None = None) -> list[ChainProblem]:
        """Every problem in the stored histories (or one case's): broken hash chains, and
        snapshots that do not match the history they claim to summarise."""
        problems = list(self.store.verify(case_id))
        ids = [case_id] if case_id is not None else list(self.store.case_ids())
        for cid in ids:
            snapshot = self.store.load_snapshot(cid)
            if snapshot is None:
                continue
            events = tuple(self.store.load(cid))
            at = events[snapshot.version - 1] if 0 < snapshot.version <= len(events) else None
            from_snap = from_snapshot(snapshot, case_id=cid, event=at)
            replayed = fold(None, events[: snapshot.version], self._appliers) if at else None
            if from_snap is None or from_snap != replayed:
                problems.append(
                    ChainProblem(
                        cid,
                        snapshot.version,
                        None,
                        "the snapshot does not match the stored history (it is ignored; "
                        "the case is replayed from its events)",
                    )
                )
        return problems

    def history(self, case_id: str) -> tuple[Event, ...]:
        """Every event of the case, oldest first."""
        events = tuple(self.store.load(case_id))
        if not events:
            raise CaseNotFound(case_id)
        for expected, event in enumerate(events, start=1):
            if event.version != expected:
                raise CorruptEventError(
                    case_id,
                    expected,
                    None,
                    f"the stored history jumps from version {expected - 1} to "
                    f"{event.version}: an event is missing; run verify()",
                )
        return events

    def case_ids(self) -> Iterator[str]:
        """The ids of every case in the store."""
        return self.store.case_ids()

    def marac_case_for(self, victim_ref: str, perpetrator_ref: str) -> str | None:
        """The id of the MARAC case about this victim and perpetrator, or ``None``.

        A MARAC case is kept per victim and perpetrator, so that a new incident between the
        same two people is recognised as a repeat. Who a case is about never changes, so
        the engine keeps an index, fed from the store's commit-ordered log: each call reads
        only the events stored since the last (by this engine or another sharing the store).
        """
        key = (victim_ref, perpetrator_ref)
        with self._lock:
            found = self._marac_index.get(key)
            if found is not None:
                return found
            while True:
                page = self.store.read_all(after=self._marac_position, limit=1000)
                if not page:
                    break
                for stored in page:
                    e = stored.event
                    if isinstance(e, MaracCaseOpened):
                        self._marac_index.setdefault((e.victim_ref, e.perpetrator_ref), e.case_id)
                self._marac_position = page[-1].position
            return self._marac_index.get(key)

    def protocol_of(self, case: Case) -> Protocol:
        """The protocol (name and version) the case runs under."""
        try:
            return self._protocols[(case.protocol, case.protocol_version)]
        except KeyError:
            known = ", ".join(f"{n}@{v}" for n, v in self._protocols)
            raise TukoFlowError(
                f"case {case.case_id!r} runs under protocol {case.protocol}@"
                f"{case.protocol_version}, which this engine does not run (it runs: {known})"
            ) from None

    def next_steps(self, case_id: str, actor: Actor) -> NextSteps:
        """What ``actor`` can do next on the case, and every rule blocking the rest."""
        _check_actor(actor, "next_steps", case_id)
        case = self.case(case_id)
        protocol = self.protocol_of(case)
        allowed, blocked = self._evaluate_all(protocol, case, actor)
        return NextSteps(case_id=case_id, state=case.state, allowed=allowed, blocked=blocked)

    # --- writing -----------------------------------------------------------------------

    def open_case(self, command: Command, *, actor: Actor) -> Case:
        """Open a new case from an intake command (for TUKO: :class:`~tuko_flow.OpenCase`)."""
        _check_command(command, "open_case", None)
        _check_actor(actor, "open_case", getattr(command, "case_id", None))
        protocol = self._by_intake.get(type(command))
        if protocol is None:
            allowed = ", ".join(t.__name__ for t in self._by_intake)
            raise ValidationError(
                [FieldProblem("command", f"{type(command).__name__} opens no case", allowed)],
                subject="open_case",
            )
        case_id: str = getattr(command, "case_id", "")
        if self.store.version(case_id) > 0:
            done = self.store.command_version(case_id, command.command_id)
            if done is not None:
                return self._repeated(case_id, command.name, command.command_id, done, actor)
            raise CaseAlreadyExists(case_id)
        now = self._now()
        firing = Firing(
            None,
            command,
            actor,
            now,
            self.config,
            command.command_id,
            command.name,
            case_id=case_id,
            state=protocol.initial,
            protocol=protocol,
        )
        firing.reader = self
        try:
            protocol.intake_handler(firing)
        except ValidationError as exc:
            self._log.info(
                "command_invalid", case_id=case_id, command=command.name, fields=list(exc.fields)
            )
            raise
        case = fold(None, firing.events, self._appliers)
        assert case is not None
        events = list(firing.events)
        case = self._run_automatic(protocol, case, actor, command.command_id, now, events)
        return self._commit(case_id, events, 0, case, command.name, command.command_id, "")

    def execute(self, case_id: str, command: Command, *, actor: Actor) -> Case:
        """Decide ``command`` for the case; store and return the new state.

        Raises :class:`~tuko_flow.errors.CommandRefused` (listing every failed rule),
        :class:`~tuko_flow.errors.ValidationError` (bad input) or
        :class:`~tuko_flow.errors.ConcurrencyError`; in each case nothing is written.
        """
        _check_command(command, "execute", case_id)
        _check_actor(actor, "execute", case_id)
        done = self.store.command_version(case_id, command.command_id)
        if done is not None:
            return self._repeated(case_id, command.name, command.command_id, done, actor)
        case = self.case(case_id)
        protocol = self.protocol_of(case)
        name = command.name
        if protocol.commands.get(name) is not type(command):
            allowed = ", ".join(protocol.commands)
            raise ValidationError(
                [
                    FieldProblem(
                        "command",
                        f"{type(command).__name__} is not a command of protocol {protocol.name!r}",
                        allowed,
                    )
                ],
                subject="execute",
                case_id=case_id,
            )
        now = self._now()
        if protocol.transition(name, case.state) is None:
            allowed_now, _ = self._evaluate_all(protocol, case, actor)
            sources = ", ".join(protocol.sources_of(name))
            failure = RuleFailure(
                ALLOWED_IN_STATE,
                f"{name!r} is not possible in state {case.state!r}; it is possible in: {sources}",
            )
            self._refused(case, name, command.command_id, (failure,))
            raise CommandNotAllowedInState(
                case_id=case_id,
                state=case.state,
                command=name,
                failures=(failure,),
                allowed=allowed_now,
            )
        firing = Firing(
            case, command, actor, now, self.config, command.command_id, name, protocol=protocol
        )
        firing.reader = self
        try:
            accepted = fire(protocol, firing)
        except ValidationError as exc:
            self._log.info(
                "command_invalid",
                case_id=case_id,
                command=name,
                command_id=command.command_id,
                state=case.state,
                fields=list(exc.fields),
            )
            raise
        if not accepted:
            allowed_now, _ = self._evaluate_all(protocol, case, actor)
            self._refused(case, name, command.command_id, firing.failures)
            raise CommandRefused(
                case_id=case_id,
                state=case.state,
                command=name,
                failures=firing.failures,
                allowed=allowed_now,
            )
        if firing.state != case.state:
            firing.emit(StageChanged, from_state=case.state, to_state=firing.state, command=name)
        events = firing.events
        new_case = fold(case, events, self._appliers)
        assert new_case is not None
        if protocol.transitions_from(new_case.state, auto=True):
            new_case = self._run_automatic(
                protocol, new_case, actor, command.command_id, now, events
            )
        return self._commit(
            case_id,
            events,
            case.version,
            new_case,
            name,
            command.command_id,
            case.state,
            protocol=protocol,
        )

    def check_deadlines(self, case_id: str | None = None) -> tuple[Event, ...]:
        """Record overdue plan tasks and missed meetings, as of the clock's time.

        Checks one case, or every case in the store that is not closed. Each overdue task
        and missed meeting is reported once. Returns the events recorded.
        """
        now = self._now()
        recorded: list[Event] = []
        ids = [case_id] if case_id is not None else list(self.store.case_ids())
        for cid in ids:
            for attempt in range(3):
                try:
                    recorded.extend(self._check_case_deadlines(cid, now))
                    break
                except ConcurrencyError:
                    # another scheduler (or a caseworker) wrote first: look again
                    if attempt == 2:
                        raise
        return tuple(recorded)

    def _check_case_deadlines(self, case_id: str, now: Any) -> Sequence[Event]:
        case = self.case(case_id)
        protocol = self.protocol_of(case)
        if protocol.state(case.state).closed:
            return ()
        command_id = _deadline_command_id(case_id, case.version, now)
        firing = Firing(
            case,
            None,
            SYSTEM_ACTOR,
            now,
            self.config,
            command_id,
            "check_deadlines",
            protocol=protocol,
        )
        if protocol.deadlines is not None:
            protocol.deadlines(firing)
        if not firing.events:
            return ()
        new_case = fold(case, firing.events, self._appliers)
        assert new_case is not None
        self._commit(
            case_id,
            firing.events,
            case.version,
            new_case,
            "check_deadlines",
            command_id,
            case.state,
        )
        return firing.events

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(event)`` for every event stored from now on; returns an unsubscribe."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    # --- internals ---------------------------------------------------------------------

    def _now(self) -> Any:
        clock = self.clock
        if type(clock) is SystemClock:  # always aware (UTC): no need to check
            return clock.now()
        now = clock.now()
        if now.tzinfo is None or now.utcoffset() is None:
            raise TukoFlowError(
                f"the engine's clock returned {now!r}, a naive datetime; clocks must return "
                "timezone-aware datetimes (e.g. datetime.now(UTC))"
            )
        return now

    def _evaluate_all(
        self, protocol: Protocol, case: Case, actor: Actor
    ) -> tuple[tuple[str, ...], dict[str, tuple[RuleFailure, ...]]]:
        firing = Firing(case, None, actor, self.clock.now(), self.config, "", "", protocol=protocol)
        ctx = firing.rule_context()
        allowed: list[str] = []
        blocked: dict[str, tuple[RuleFailure, ...]] = {}
        for t in protocol.transitions_from(case.state):
            failures = evaluate(protocol.rules_of(t), ctx)
            if failures:
                blocked[t.trigger] = failures
            else:
                allowed.append(t.trigger)
        return tuple(allowed), blocked

    def _run_automatic(
        self,
        protocol: Protocol,
        case: Case,
        actor: Actor,
        command_id: str,
        now: Any,
        events: list[Event],
    ) -> Case:
        for _ in range(_MAX_AUTO_STEPS):
            autos = protocol.transitions_from(case.state, auto=True)
            ctx = RuleContext(case=case, actor=actor, now=now, config=self.config)
            for t in autos:
                # Most automatic transitions do not apply; asking the rules first spares a
                # trip through the machine. The machine still checks them when it fires.
                if not passes(protocol.rules_of(t), ctx):
                    continue
                firing = Firing(
                    case, None, actor, now, self.config, command_id, t.trigger, protocol=protocol
                )
                if fire(protocol, firing):
                    if firing.state != case.state:
                        firing.emit(
                            StageChanged,
                            from_state=case.state,
                            to_state=firing.state,
                            command=t.trigger,
                        )
                    events.extend(firing.events)
                    folded = fold(case, firing.events, self._appliers)
                    assert folded is not None
                    case = folded
                    break
            else:
                return case
        raise TukoFlowError(  # pragma: no cover - protocol validation prevents loops
            f"case {case.case_id!r}: automatic transitions did not settle after "
            f"{_MAX_AUTO_STEPS} steps"
        )

    def _react(
        self,
        case_id: str,
        command_id: str,
        events: Sequence[Event],
        case: Case,
        protocol: Protocol | None = None,
    ) -> None:
        """Record on other cases what the protocol says a stored batch tells them.

        ``Protocol.reactions`` derives the facts from the stored events and the case they
        made, so a retried command (or a process that died before telling) tells them
        again. Each fact gets a command id derived from the source command's, so it is
        recorded once however often it is told; a target changed concurrently is reloaded
        and the fact appended again. Facts told are not reacted to in turn.
        """
        if protocol is None:
            protocol = self.protocol_of(case)
        reactions = protocol.reactions
        if reactions is None or not events:
            return
        facts = reactions(case, events, self.config)
        for n, (target, event_type, fields) in enumerate(facts, start=1):
            derived = _fact_command_id(command_id, case_id, n)
            for attempt in range(5):
                if self.store.command_version(target, derived) is not None:
                    break
                told = self.case(target)
                event = event_type(
                    case_id=target,
                    version=told.version + 1,
                    occurred_at=events[-1].occurred_at,
                    actor=events[0].actor,
                    command_id=derived,
                    **fields,
                )
                new_case = fold(told, (event,), self._appliers)
                assert new_case is not None
                try:
                    self._commit(
                        target,
                        (event,),
                        told.version,
                        new_case,
                        f"record_{_snake(event_type.__name__)}",
                        derived,
                        told.state,
                        react=False,
                    )
                    break
                except ConcurrencyError:
                    if attempt == 4:
                        raise

    def _commit(
        self,
        case_id: str,
        events: Sequence[Event],
        expected: int,
        new_case: Case,
        command: str,
        command_id: str,
        from_state: str,
        *,
        react: bool = True,
        protocol: Protocol | None = None,
    ) -> Case:
        try:
            result = self.store.append(case_id, events, expected)
        except ConcurrencyError:
            self._cases.pop(case_id, None)
            done = self.store.command_version(case_id, command_id)
            if done is not None:  # our own earlier attempt won the race
                return self._repeated(
                    case_id, command, command_id, done, events[0].actor, react=react
                )
            self._log.info("command_conflict", case_id=case_id, command=command, expected=expected)
            raise
        if result.duplicate:
            return self._repeated(
                case_id, command, command_id, result.last_version, events[0].actor, react=react
            )
        self._cases[case_id] = new_case
        if self.snapshot_every is not None and (
            new_case.version // self.snapshot_every > expected // self.snapshot_every
        ):
            self._save_snapshot(new_case)
        log = self._logger()
        if not self._info_dropped:  # else the line (and its events list) would be dropped
            log.info(
                "command_accepted",
                case_id=case_id,
                command=command,
                command_id=command_id,
                from_state=from_state,
                to_state=new_case.state,
                version=new_case.version,
                events=[type(e).__name__ for e in events],
            )
        failed: SubscriberFailed | None = None
        if self._subscribers:
            try:
                self._publish(case_id, events)
            except SubscriberFailed as exc:  # the events are stored: tell the others anyway
                failed = exc
        if react:
            self._react(case_id, command_id, events, new_case, protocol)
        if failed is not None:
            raise failed
        return new_case

    def _logger(self) -> Any:
        """The engine's logger, resolved once structlog has fixed it.

        ``structlog.get_logger()`` returns a lazy proxy that assembles a logger on every
        call, unless ``cache_logger_on_first_use`` is on: then, after its first use, the
        proxy hands every call to one cached logger for good (its ``bind`` is replaced on
        the instance). From then on the engine calls that logger directly, sparing the
        proxy's ``__getattr__`` on every line. If it is structlog's own filtering logger
        (``make_filtering_bound_logger``) filtering out INFO, its ``info`` does nothing at
        all, so ``_info_dropped`` lets the hot path skip building the line.
        """
        log = self._log
        if _LazyProxy is not None and type(log) is _LazyProxy and "bind" in vars(log):
            log = self._log = self._log.bind()
            level = getattr(log, "get_effective_level", None)  # structlog 25.1+
            if callable(level):
                effective = level()
                self._info_dropped = effective > logging.INFO and type(
                    log
                ) is structlog.make_filtering_bound_logger(effective)
        return log

    def _repeated(
        self,
        case_id: str,
        command: str,
        command_id: str,
        version: int,
        actor: Actor,
        *,
        react: bool = True,
    ) -> Case:
        """A command that was stored before: return the case as it left it; store nothing.

        A command id reused by someone else is a mistake in the host application, not a
        retry: it is refused instead of silently answered with another command's result.
        """
        stored = self.store.load(case_id, after=version - 1)
        if stored and stored[0].actor != actor:
            raise ValidationError(
                [
                    FieldProblem(
                        "command_id",
                        f"{command_id!r} was used for an earlier command by "
                        f"{stored[0].actor.agency}/{stored[0].actor.person}",
                        "a new command id for every new command (only a retry of the same "
                        "command, by the same actor, reuses one)",
                    )
                ],
                subject=f"command {command!r}",
                case_id=case_id,
            )
        self._log.info(
            "command_repeated",
            case_id=case_id,
            command=command,
            command_id=command_id,
            version=version,
        )
        case = self.case_at(case_id, version)
        if react and self.protocol_of(case).reactions is not None:
            # tell again what the stored batch tells others; each fact is recorded once
            history = self.store.load(case_id)[:version]
            self._react(
                case_id, command_id, [e for e in history if e.command_id == command_id], case
            )
        return case

    def _from_snapshot(self, case_id: str) -> Case | None:
        """The case from its snapshot and the events after it, or None to replay instead."""
        snapshot = self.store.load_snapshot(case_id)
        if snapshot is None:
            return None
        events = self.store.load(case_id, after=max(snapshot.version - 1, 0))
        at = events[0] if events and events[0].version == snapshot.version else None
        case = from_snapshot(snapshot, case_id=case_id, event=at)
        if case is None:
            self._log.warning(
                "snapshot_ignored",
                case_id=case_id,
                version=snapshot.version,
                schema_version=snapshot.schema_version,
            )
            return None
        return fold(case, events[1:], self._appliers)

    def _save_snapshot(self, case: Case) -> None:
        try:
            event = self.store.load(case.case_id, after=case.version - 1)[0]
            self.store.save_snapshot(to_snapshot(case, event))
        except TukoFlowError as exc:  # the events are stored; a snapshot is only a shortcut
            self._log.warning(
                "snapshot_not_saved", case_id=case.case_id, version=case.version, error=str(exc)
            )

    def _publish(self, case_id: str, events: Sequence[Event]) -> None:
        errors: list[BaseException] = []
        for event in events:
            for subscriber in tuple(self._subscribers):
                try:
                    subscriber(event)
                except Exception as exc:
                    errors.append(exc)
                    self._log.error(
                        "subscriber_failed",
                        case_id=case_id,
                        event_type=type(event).__name__,
                        version=event.version,
                        error=type(exc).__name__,
                    )
        if errors:
            raise SubscriberFailed(case_id, errors)

    def _refused(
        self, case: Case, command: str, command_id: str, failures: Sequence[RuleFailure]
    ) -> None:
        self._log.info(
            "command_refused",
            case_id=case.case_id,
            command=command,
            command_id=command_id,
            state=case.state,
            rules=[f.rule for f in failures],
        )

    # --- protocol versions -------------------------------------------------------------

    def migrate(
        self,
        case_ids: Iterable[str] | None,
        *,
        to: Protocol,
        state_map: Mapping[str, str] | None = None,
        keep_unmapped: bool = False,
        actor: Actor,
        reason: str,
        command_id: str | None = None,
    ) -> MigrationResult:
        """Move cases to version ``to`` of their protocol; each gets a ``ProtocolMigrated``.

        ``case_ids=None`` selects every case of the protocol under another version.
        ``state_map`` maps old states to new ones (``None``: every state keeps its name);
        with a map, ``keep_unmapped=True`` keeps the names of states it does not list.
        This engine must run ``to`` already. Raises
        :class:`~tuko_flow.errors.MigrationRefused`, naming every case and its state,
        when a selected case's state is not covered or maps to a state ``to`` lacks; then
        nothing is written. Each case is appended with the version it was planned at; a
        case changed meanwhile is planned again (see :mod:`tuko_flow.versions`).
        """
        from ._versions import migrate_cases

        return migrate_cases(
            self,
            case_ids,
            to=to,
            state_map=state_map,
            keep_unmapped=keep_unmapped,
            actor=actor,
            reason=reason,
            command_id=command_id,
        )


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _check_actor(actor: object, subject: str, case_id: str | None) -> None:
    if not isinstance(actor, Actor):
        raise ValidationError(
            [
                FieldProblem(
                    "actor",
                    f"{actor!r} is not an Actor",
                    "tuko_flow.Actor(agency=..., person=...): who issues the command",
                )
            ],
            subject=subject,
            case_id=case_id if isinstance(case_id, str) else None,
        )


def _check_command(command: object, subject: str, case_id: str | None) -> None:
    if not isinstance(command, Command):
        raise ValidationError(
            [
                FieldProblem(
                    "command",
                    f"{command!r} is not a command",
                    "a command object such as tuko_flow.NoticeNeed(...) (see TUKO.commands)",
                )
            ],
            subject=subject,
            case_id=case_id,
        )


def replay(events: Iterable[Event], protocols: Iterable[Protocol] = (TUKO, MARAC)) -> Case:
    """Rebuild a case from its events alone (no store, no engine)."""
    case = fold(None, events, appliers_of(protocols))
    if case is None:
        raise TukoFlowError("replay needs at least the event that opened the case")
    return case
