"""The case as its events make it: :class:`Case`, its current :class:`Cycle` and plan.

A case is never changed in place. Each event is applied by a pure function
(``Case, Event -> Case``), so a case rebuilt from its history equals the live case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from types import MemberDescriptorType
from typing import Any, TypeVar

import attrs

from ._marac_case import MaracFile
from ._values import (
    Actor,
    Client,
    CommonAssessment,
    NetworkMember,
    PersonAtRisk,
    PlanTask,
    TaskStatus,
)
from .errors import CorruptEventError, TukoFlowError
from .events import (
    CaseClosed,
    CaseOpened,
    CooperationNeedDecided,
    CycleStarted,
    Event,
    InformationShared,
    MaracActionsTaken,
    MaracCaseLinked,
    MaracOutcomeShared,
    MeetingHeld,
    MeetingMissed,
    MeetingScheduled,
    NeedNoticed,
    NoCooperationNeedDecided,
    PartnerCommunicationRecorded,
    ProtocolMigrated,
    ServiceReferralMade,
    SituationReassessed,
    StageChanged,
    TaskOverdue,
    TaskProgressRecorded,
)


@attrs.frozen(kw_only=True)
class RiskReductionPlan:
    """The written risk-reduction plan of one cycle.

    ``revision`` grows with every change; ``distributed_revision`` and ``distributed_to``
    say which revision was last sent, and to whom.
    """

    crisis: bool
    communication: str
    drafted_at: datetime
    tasks: tuple[PlanTask, ...] = ()
    revision: int = 1
    distributed_revision: int = 0
    distributed_to: tuple[str, ...] = ()

    def task(self, task_id: str) -> PlanTask | None:
        """The task with this id, or ``None``."""
        for task in self.tasks:
            if task.task_id == task_id:
                return task
        return None


@attrs.frozen(kw_only=True)
class Cycle:
    """One pass through TUKO Stages 1-4. A restart begins a new cycle; old ones are kept."""

    number: int
    need_assumed: bool = False
    notices: tuple[NeedNoticed, ...] = ()
    informed: tuple[str, ...] = ()
    meetings: tuple[MeetingHeld, ...] = ()
    shared: tuple[InformationShared, ...] = ()
    assessment: CommonAssessment | None = None
    decision: CooperationNeedDecided | NoCooperationNeedDecided | None = None
    plan: RiskReductionPlan | None = None
    progress: tuple[TaskProgressRecorded, ...] = ()
    communications: tuple[PartnerCommunicationRecorded, ...] = ()
    reassessments: tuple[SituationReassessed, ...] = ()
    closure: CaseClosed | None = None
    overdue_tasks: tuple[tuple[str, date], ...] = ()

    def task_status(self, task_id: str) -> TaskStatus:
        """The latest recorded status of a plan task (``assigned`` when none recorded)."""
        for record in reversed(self.progress):
            if record.task_id == task_id:
                return record.status
        return TaskStatus.ASSIGNED

    @property
    def latest_reassessment(self) -> SituationReassessed | None:
        return self.reassessments[-1] if self.reassessments else None


@attrs.frozen(kw_only=True)
class Case:
    """A case's current state, rebuilt from its events.

    ``state`` is the protocol state (``stage2_evaluate`` …), ``version`` the number of
    events so far, ``cycle`` the current TUKO cycle and ``past_cycles`` the earlier ones.

    ``service_referrals`` lists the referrals to services made on the case (with consent
    or on a legal basis). On a TUKO case, ``marac_links`` names the MARAC cases raised from
    it and ``marac_outcomes`` the outcomes they shared with the network
    (``marac_actions_taken``: which of their actions went into the plan).

    A MARAC case (``protocol == "marac"``) uses the same fields for what they mean there:
    ``client`` is the perpetrator, ``people_at_risk`` the victim (and children),
    ``network`` the professionals working the MARAC case with the coordinator as its case
    leader; ``marac`` holds its rounds of referral, conference and review
    (:class:`~tuko_flow.MaracFile`). The TUKO-only fields keep their empty defaults.
    """

    case_id: str
    protocol: str
    protocol_version: str
    state: str
    version: int
    opened_at: datetime
    opened_by: Actor
    client: Client
    people_at_risk: tuple[PersonAtRisk, ...]
    network: tuple[NetworkMember, ...]
    offence: str
    matrix_cell: str
    need: str
    always_assume_need: bool
    cycle: Cycle
    past_cycles: tuple[Cycle, ...] = ()
    next_meeting_at: datetime | None = None
    missed_meetings: tuple[datetime, ...] = ()
    service_referrals: tuple[ServiceReferralMade, ...] = ()
    marac_links: tuple[MaracCaseLinked, ...] = ()
    marac_outcomes: tuple[MaracOutcomeShared, ...] = ()
    marac_actions_taken: tuple[MaracActionsTaken, ...] = ()
    marac: MaracFile | None = None

    def marac_outcome(self, marac_case_id: str) -> MaracOutcomeShared | None:
        """The latest outcome a linked MARAC case shared with this case, or ``None``."""
        for outcome in reversed(self.marac_outcomes):
            if outcome.marac_case_id == marac_case_id:
                return outcome
        return None

    def member(self, member_id: str) -> NetworkMember | None:
        """The network member with this id, or ``None``."""
        for m in self.network:
            if m.member_id == member_id:
                return m
        return None

    def member_for(self, actor: Actor) -> NetworkMember | None:
        """The network member ``actor`` acts as, or ``None`` when not in the network."""
        for m in self.network:
            if m.agency == actor.agency and m.person == actor.person:
                return m
        return None

    @property
    def case_leader(self) -> NetworkMember:
        """The network member who leads the case (the probation officer)."""
        for m in self.network:
            if m.case_leader:
                return m
        raise TukoFlowError(f"case {self.case_id!r} has no case leader")  # pragma: no cover

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(m.member_id for m in self.network)


T = TypeVar("T")


def _make_replace(cls: type[T]) -> Callable[..., T]:
    """A fast ``attrs.evolve`` for the internal state classes (no validators to re-run).

    ``attrs.evolve`` introspects the class on every call (about 4 µs for a case); state
    changes on every event, so this generated function sets the slots directly.
    """
    names = [a.name for a in attrs.fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = ["def replace(inst, changes):", "    new = _new(_cls)"]
    for i, name in enumerate(names):
        # A slot's own setter (its member descriptor's ``__set__``) skips the attribute
        # lookup ``object.__setattr__`` does on every call (a quarter faster per field);
        # like ``object.__setattr__`` it bypasses the frozen class's ``__setattr__``.
        slot = getattr(cls, name, None)
        setter = slot.__set__ if isinstance(slot, MemberDescriptorType) else None
        namespace[f"_set{i}"] = setter
        target = f"_set{i}(new, " if setter is not None else f"_setattr(new, {name!r}, "
        lines.append(f"    {target}changes[{name!r}] if {name!r} in changes else inst.{name})")
    lines.append("    return new")
    namespace["_setattr"] = object.__setattr__
    exec("\n".join(lines), namespace)
    fn: Callable[[T, dict[str, Any]], T] = namespace["replace"]

    def replace(inst: T, **changes: Any) -> T:
        return fn(inst, changes)

    replace.apply = fn  # type: ignore[attr-defined]
    return replace


replace_case = _make_replace(Case)
replace_cycle = _make_replace(Cycle)
replace_plan = _make_replace(RiskReductionPlan)
_apply_case: Callable[[Case, dict[str, Any]], Case] = replace_case.apply  # type: ignore[attr-defined]
_apply_cycle: Callable[[Cycle, dict[str, Any]], Cycle] = replace_cycle.apply  # type: ignore[attr-defined]


class CaseDraft:
    """A case while a batch of events is applied to it; frozen into a new :class:`Case` once.

    Appliers read with :meth:`get` / :meth:`cycle` and write with :meth:`set` /
    :meth:`set_cycle`; however many events a command emits, the case is copied once.
    """

    __slots__ = ("_base", "_changes", "_cycle", "_cycle_changes")

    def __init__(self, base: Case | None) -> None:
        self._base = base
        self._changes: dict[str, Any] = {}
        self._cycle: Cycle | None = base.cycle if base is not None else None
        self._cycle_changes: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        """A case field as changed so far."""
        if name in self._changes:
            return self._changes[name]
        if self._base is None:
            raise TukoFlowError("the first event of a case must be the one that opens it")
        return getattr(self._base, name)

    def set(self, **changes: Any) -> None:
        """Change case fields (not ``cycle``: use :meth:`set_cycle` / :meth:`start_cycle`)."""
        self._changes.update(changes)

    def cycle(self, name: str) -> Any:
        """A field of the current cycle as changed so far."""
        if name in self._cycle_changes:
            return self._cycle_changes[name]
        return getattr(self._cycle, name)

    def set_cycle(self, **changes: Any) -> None:
        """Change fields of the current cycle."""
        self._cycle_changes.update(changes)

    def open(self, case: Case) -> None:
        """Start from a newly opened case (the applier of the opening event)."""
        self._base = case
        self._changes = {}
        self._cycle = case.cycle
        self._cycle_changes = {}

    def start_cycle(self, number: int) -> None:
        """Close the current cycle into ``past_cycles`` and begin cycle ``number``."""
        finished = self._frozen_cycle()
        self.set(past_cycles=(*self.get("past_cycles"), finished))
        self._cycle = Cycle(number=number)
        self._cycle_changes = {}

    def _frozen_cycle(self) -> Cycle:
        assert self._cycle is not None
        if self._cycle_changes:
            return _apply_cycle(self._cycle, self._cycle_changes)
        return self._cycle

    def freeze(self) -> Case:
        """The case with every change applied."""
        if self._base is None:
            raise TukoFlowError("no event opened the case")
        cycle = self._frozen_cycle()
        if cycle is not self._base.cycle:
            self._changes["cycle"] = cycle
        return _apply_case(self._base, self._changes) if self._changes else self._base


#: Applies one event to a case draft.
Applier = Callable[[CaseDraft, Any], None]


def _opened(d: CaseDraft, e: CaseOpened) -> None:
    d.open(
        Case(
            case_id=e.case_id,
            protocol=e.protocol,
            protocol_version=e.protocol_version,
            state=e.initial_state,
            version=e.version,
            opened_at=e.occurred_at,
            opened_by=e.actor,
            client=e.client,
            people_at_risk=e.people_at_risk,
            network=e.network,
            offence=e.offence,
            matrix_cell=e.matrix_cell,
            need=e.need,
            always_assume_need=e.always_assume_need,
            cycle=Cycle(number=1),
        )
    )


def _stage_changed(d: CaseDraft, e: StageChanged) -> None:
    d.set(state=e.to_state)


def _cycle_started(d: CaseDraft, e: CycleStarted) -> None:
    d.start_cycle(e.cycle)
    d.set(next_meeting_at=None)


def _meeting_scheduled(d: CaseDraft, e: MeetingScheduled) -> None:
    d.set(next_meeting_at=e.meeting_at)


def _meeting_held(d: CaseDraft, e: MeetingHeld) -> None:
    d.set_cycle(meetings=(*d.cycle("meetings"), e))
    d.set(next_meeting_at=None)


def _meeting_missed(d: CaseDraft, e: MeetingMissed) -> None:
    d.set(missed_meetings=(*d.get("missed_meetings"), e.meeting_at))


def _task_overdue(d: CaseDraft, e: TaskOverdue) -> None:
    d.set_cycle(overdue_tasks=(*d.cycle("overdue_tasks"), (e.task_id, e.due_on)))


def _service_referral_made(d: CaseDraft, e: ServiceReferralMade) -> None:
    d.set(service_referrals=(*d.get("service_referrals"), e))


def _marac_case_linked(d: CaseDraft, e: MaracCaseLinked) -> None:
    d.set(marac_links=(*d.get("marac_links"), e))


def _marac_outcome_shared(d: CaseDraft, e: MaracOutcomeShared) -> None:
    d.set(marac_outcomes=(*d.get("marac_outcomes"), e))


def _marac_actions_taken(d: CaseDraft, e: MaracActionsTaken) -> None:
    d.set(marac_actions_taken=(*d.get("marac_actions_taken"), e))


def _protocol_migrated(d: CaseDraft, e: ProtocolMigrated) -> None:
    d.set(protocol_version=e.to_version, state=e.to_state)


#: Appliers for the events every protocol shares.
CORE_APPLIERS: Mapping[type[Event], Applier] = {
    CaseOpened: _opened,
    StageChanged: _stage_changed,
    CycleStarted: _cycle_started,
    MeetingScheduled: _meeting_scheduled,
    MeetingHeld: _meeting_held,
    MeetingMissed: _meeting_missed,
    TaskOverdue: _task_overdue,
    ProtocolMigrated: _protocol_migrated,
    # referrals to services, and the facts one case tells another (TUKO <-> MARAC)
    ServiceReferralMade: _service_referral_made,
    MaracCaseLinked: _marac_case_linked,
    MaracOutcomeShared: _marac_outcome_shared,
    MaracActionsTaken: _marac_actions_taken,
}


def fold(
    case: Case | None, events: Iterable[Event], appliers: Mapping[type[Event], Applier]
) -> Case | None:
    """Apply ``events`` in order to ``case`` (``None`` before the case was opened)."""
    draft = CaseDraft(case)
    version = case.version if case is not None else 0
    applied = False
    for event in events:
        applier = appliers.get(type(event))
        if applier is None:
            raise TukoFlowError(
                f"case {event.case_id!r}: no applier for event {type(event).__name__} "
                f"(version {event.version}); is it registered with the protocol?"
            )
        if event.version != version + 1:
            raise CorruptEventError(
                event.case_id,
                version + 1,
                None,
                f"found {type(event).__name__} version {event.version} instead: the history "
                "has a gap or is out of order; run verify()",
            )
        applier(draft, event)
        version = event.version
        applied = True
    if not applied:
        return case
    if draft.get("version") != version:
        draft.set(version=version)
    return draft.freeze()
