"""Domain events: the facts a case's history is made of.

Every accepted command emits one or more events. Events are frozen attrs classes with
past-tense names. Each carries the same envelope — ``case_id``, ``version`` (its position
in the case's history, from 1), ``occurred_at`` (from the engine's clock), ``actor`` (agency
and person) and ``command_id`` — and a class-level ``schema_version``.

A case's state is rebuilt by replaying its events (:func:`tuko_flow.replay`), and events
round-trip to JSON through :data:`codec`::

    data = codec.to_json(event)
    assert codec.from_json(data) == event

When an event's shape changes, bump its ``schema_version`` and register an upcaster that
turns the old payload into the new one (:meth:`EventCodec.register_upcaster`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

import attrs
import cattrs
from cattrs.preconf.json import make_converter

from ._marac_values import (
    ActionLeftOut,
    ActionReview,
    AnswerRecord,
    Consent,
    MaracAction,
    RepeatAnchor,
    Service,
    VictimNotice,
)
from ._values import (
    Actor,
    Client,
    CommonAssessment,
    Information,
    NetworkMember,
    PersonAtRisk,
    PlanTask,
    TaskStatus,
)
from .errors import SerializationError, TukoFlowError
from .rules.dash import Finding, Thresholds

__all__ = [
    "ActionPlanAgreed",
    "ActionsReviewed",
    "AdvocateOffered",
    "CaseClosed",
    "CaseOpened",
    "CommonAssessmentRecorded",
    "ConferenceHeld",
    "ConferenceOverdue",
    "CooperationNeedDecided",
    "CycleStarted",
    "Event",
    "EventCodec",
    "IncidentReported",
    "InformationShared",
    "MaracActionsTaken",
    "MaracCaseClosed",
    "MaracCaseLinked",
    "MaracCaseOpened",
    "MaracInformationShared",
    "MaracOutcomeShared",
    "MaracReferralMade",
    "MeetingHeld",
    "MeetingMissed",
    "MeetingScheduled",
    "MinutesCirculated",
    "MinutesOverdue",
    "NeedAssumed",
    "NeedNoticed",
    "NetworkInformed",
    "NetworkMemberAdded",
    "NoCooperationNeedDecided",
    "NotReferredDecided",
    "PartnerCommunicationRecorded",
    "PlanDistributed",
    "PlanDrafted",
    "ProtocolMigrated",
    "ReferralAccepted",
    "ReferralReceived",
    "ReferralReturned",
    "ReferralRoundStarted",
    "RiskAssessed",
    "ServiceReferralMade",
    "SituationReassessed",
    "StageChanged",
    "TaskAssigned",
    "TaskOverdue",
    "TaskProgressRecorded",
    "codec",
]


@attrs.frozen(kw_only=True)
class Event:
    """Base of every domain event: the envelope every event carries."""

    schema_version: ClassVar[int] = 1

    case_id: str
    version: int
    occurred_at: datetime
    actor: Actor
    command_id: str


# --- case lifecycle -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CaseOpened(Event):
    """A case was opened: client, people at risk, network and risk-need matrix cell."""

    protocol: str
    protocol_version: str
    initial_state: str
    client: Client
    people_at_risk: tuple[PersonAtRisk, ...]
    network: tuple[NetworkMember, ...]
    offence: str
    matrix_cell: str
    need: str
    always_assume_need: bool


@attrs.frozen(kw_only=True)
class StageChanged(Event):
    """The case moved from one state of its protocol to another."""

    from_state: str
    to_state: str
    command: str


@attrs.frozen(kw_only=True)
class CycleStarted(Event):
    """Need re-emerged after closure: a new TUKO cycle began; earlier cycles stay in history."""

    cycle: int


@attrs.frozen(kw_only=True)
class ProtocolMigrated(Event):
    """The case was moved to another version of its protocol; its state was mapped explicitly.

    From this event on the case runs under ``protocol`` version ``to_version``, in
    ``to_state`` (see :mod:`tuko_flow.versions`).
    """

    protocol: str
    from_version: str
    to_version: str
    from_state: str
    to_state: str
    reason: str


# --- Stage 1: notice and inform -------------------------------------------------------


@attrs.frozen(kw_only=True)
class NeedAssumed(Event):
    """The case's matrix cell is marked *always assume need*: Stage 1 began without a notice."""

    matrix_cell: str


@attrs.frozen(kw_only=True)
class NeedNoticed(Event):
    """A network partner noticed a need for cooperation (who, what, when)."""

    noticed_by: str
    noticed_at: datetime
    information: Information


@attrs.frozen(kw_only=True)
class NetworkMemberAdded(Event):
    """The case leader added a partner to the case's network."""

    member: NetworkMember


@attrs.frozen(kw_only=True)
class NetworkInformed(Event):
    """The case leader gathered and informed the network."""

    recipients: tuple[str, ...]


@attrs.frozen(kw_only=True)
class MeetingScheduled(Event):
    """A network meeting was agreed for a time."""

    meeting_at: datetime


# --- Stage 2: share information and evaluate ------------------------------------------


@attrs.frozen(kw_only=True)
class MeetingHeld(Event):
    """A network meeting led by the case leader took place (``purpose``: evaluation or review)."""

    purpose: str
    held_at: datetime
    participants: tuple[str, ...]


@attrs.frozen(kw_only=True)
class InformationShared(Event):
    """A participant shared information and gave an evaluation of risks, needs and ways forward."""

    member_id: str
    information: Information
    evaluation: Information


@attrs.frozen(kw_only=True)
class CommonAssessmentRecorded(Event):
    """The network's common assessment answered the six questions."""

    assessment: CommonAssessment


@attrs.frozen(kw_only=True)
class CooperationNeedDecided(Event):
    """The network found a need for interagency cooperation; situation and risks described."""

    situation: Information
    risks: tuple[str, ...]


@attrs.frozen(kw_only=True)
class NoCooperationNeedDecided(Event):
    """The network found no need for further coordinated action; the case closes."""

    reason: Information


# --- Stage 3: make a plan -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PlanDrafted(Event):
    """A written risk-reduction plan was started: crisis or not, in-between communication."""

    crisis: bool
    communication: str


@attrs.frozen(kw_only=True)
class TaskAssigned(Event):
    """A network member took responsibility for a task of the risk-reduction plan."""

    task: PlanTask
    revision: int


@attrs.frozen(kw_only=True)
class PlanDistributed(Event):
    """The risk-reduction plan (at ``revision``) was sent to every participant.

    ``withheld`` lists the tasks left out of the copy for the client's side (members of
    the client agency): tasks taken from a MARAC action plan, which was shared on the
    legal basis of high-risk cases and never reaches the perpetrator.
    """

    revision: int
    recipients: tuple[str, ...]
    withheld: tuple[str, ...] = ()


# --- Stage 4: coordinated case management ---------------------------------------------


@attrs.frozen(kw_only=True)
class TaskProgressRecorded(Event):
    """Progress on a plan task was recorded by its owner or the case leader."""

    task_id: str
    status: TaskStatus
    note: str


@attrs.frozen(kw_only=True)
class PartnerCommunicationRecorded(Event):
    """Partners kept each other informed between meetings."""

    from_member: str
    to_members: tuple[str, ...]
    information: Information


@attrs.frozen(kw_only=True)
class SituationReassessed(Event):
    """At a review meeting the network reassessed needs and risks."""

    needs_remain: bool
    risks_reduced: bool


@attrs.frozen(kw_only=True)
class CaseClosed(Event):
    """The case leader documented the situation in writing and let every partner know."""

    summary: Information
    informed: tuple[str, ...]


# --- time -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TaskOverdue(Event):
    """A plan task passed its due date without being done."""

    task_id: str
    due_on: date


@attrs.frozen(kw_only=True)
class MeetingMissed(Event):
    """An agreed network meeting time passed (plus the grace period) with no meeting held."""

    meeting_at: datetime


# --- referrals to services (TUKO and MARAC) --------------------------------------------


@attrs.frozen(kw_only=True)
class ServiceReferralMade(Event):
    """A person was referred to a service: with their ``consent``, or without it on a
    ``legal_basis`` (children always go to the child-welfare specialist)."""

    service: Service
    person_ref: str
    referred_by: str
    consent: Consent | None
    legal_basis: str | None


# --- MARAC: risk identification and referral --------------------------------------------


@attrs.frozen(kw_only=True)
class MaracCaseOpened(Event):
    """A MARAC case was opened for one victim and one perpetrator, in one MARAC ``area``;
    ``linked_case`` is the TUKO case it was raised from, if any."""

    area: str
    victim_ref: str
    perpetrator_ref: str
    linked_case: str | None


@attrs.frozen(kw_only=True)
class ReferralRoundStarted(Event):
    """A new round began on a resting MARAC case (a new incident or a new assessment);
    earlier rounds stay in the history."""

    round: int


@attrs.frozen(kw_only=True)
class RiskAssessed(Event):
    """A risk assessment was recorded: a checklist's answers and its scoring, or a TUKO
    common assessment's finding (``instrument`` says which). ``findings`` holds one
    finding per referral criterion, met or not, with the reason."""

    instrument: str
    instrument_version: str
    answers: tuple[AnswerRecord, ...]
    question_count: int
    yes_count: int
    findings: tuple[Finding, ...]
    thresholds: Thresholds
    incidents: int
    children_in_household: bool
    professional_judgement: str | None
    from_case: str | None


@attrs.frozen(kw_only=True)
class IncidentReported(Event):
    """A new incident between the same victim and perpetrator was reported.

    ``repeat`` flags it as a repeat (within ``window_days`` of ``anchor_at``, the last
    referral or discussion): it must be referred back whatever the threshold. ``reason``
    says why it is, or is not, a repeat.
    """

    occurred_on: date
    kind: str
    criminal: bool
    repeat: bool
    window_days: int
    anchor: RepeatAnchor
    anchor_at: datetime | None
    reason: str


@attrs.frozen(kw_only=True)
class NotReferredDecided(Event):
    """The assessing professional decided not to refer the case to MARAC, with reasons."""

    reason: str


@attrs.frozen(kw_only=True)
class MaracReferralMade(Event):
    """The case was referred to MARAC by ``referring_agency``, on ``criteria``, with the
    latest risk assessment attached; the victim was told where safe (``victim_notice``).
    ``legal_basis`` is the basis on which the information travels without consent."""

    round: int
    referring_agency: str
    criteria: tuple[str, ...]
    repeat: bool
    assessment_version: int | None
    victim_notice: VictimNotice
    legal_basis: str


@attrs.frozen(kw_only=True)
class ReferralReceived(Event):
    """The MARAC coordinator received the referral."""

    round: int


@attrs.frozen(kw_only=True)
class ReferralAccepted(Event):
    """The coordinator put the case on the list for the conference at ``conference_at``."""

    round: int
    conference_at: datetime


@attrs.frozen(kw_only=True)
class ReferralReturned(Event):
    """The coordinator returned the referral to the referring agency, with the reason."""

    round: int
    reason: str


@attrs.frozen(kw_only=True)
class AdvocateOffered(Event):
    """The high-risk victim was offered an independent advocate (``advocate``: the network
    member who is the advocate); ``accepted`` records the victim's answer."""

    advocate: str
    accepted: bool


# --- MARAC: conferences and action plans ---------------------------------------------------


@attrs.frozen(kw_only=True)
class ConferenceHeld(Event):
    """A MARAC conference discussed the case: when, which agencies were present, and who
    represented the victim (their advocate; the victim is not present). ``review`` is true
    for a conference that reviewed the actions of an earlier one."""

    round: int
    held_at: datetime
    agencies_present: tuple[str, ...]
    victim_represented_by: str
    review: bool
    legal_basis: str


@attrs.frozen(kw_only=True)
class ActionPlanAgreed(Event):
    """The conference agreed actions, each owned by one agency."""

    round: int
    actions: tuple[MaracAction, ...]


@attrs.frozen(kw_only=True)
class ActionsReviewed(Event):
    """A conference reviewed earlier actions: done, prevented by circumstances, not done,
    or still in progress."""

    round: int
    reviews: tuple[ActionReview, ...]


@attrs.frozen(kw_only=True)
class MinutesCirculated(Event):
    """The minutes of the conference held at ``conference_at`` went to ``recipients``
    (agencies)."""

    round: int
    conference_at: datetime
    recipients: tuple[str, ...]


@attrs.frozen(kw_only=True)
class MaracInformationShared(Event):
    """An agency shared information with the MARAC's agencies; high-risk information
    travels on ``legal_basis`` (Victim Support Act § 10), not on consent."""

    from_agency: str
    to_agencies: tuple[str, ...]
    information: Information
    legal_basis: str
    consent: bool


@attrs.frozen(kw_only=True)
class MaracCaseClosed(Event):
    """The case was closed from MARAC, with the reason."""

    round: int
    reason: str


@attrs.frozen(kw_only=True)
class ConferenceOverdue(Event):
    """The referral was not discussed at a conference within the MARAC's timescale."""

    round: int
    due_by: datetime


@attrs.frozen(kw_only=True)
class MinutesOverdue(Event):
    """The minutes of a conference were not circulated within the MARAC's timescale."""

    round: int
    conference_at: datetime
    due_on: date


# --- TUKO and MARAC linked --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MaracCaseLinked(Event):
    """A MARAC case was raised from this TUKO case."""

    marac_case_id: str
    area: str
    victim_ref: str


@attrs.frozen(kw_only=True)
class MaracOutcomeShared(Event):
    """A linked MARAC case's outcome reached this TUKO case's network: its state, the
    latest conference and the action plan with the review findings, shared on
    ``legal_basis`` (never with the client)."""

    marac_case_id: str
    round: int
    marac_state: str
    conference_at: datetime | None
    actions: tuple[MaracAction, ...]
    reviews: tuple[ActionReview, ...]
    legal_basis: str


@attrs.frozen(kw_only=True)
class MaracActionsTaken(Event):
    """The case leader took a MARAC case's actions owned by network agencies into the
    risk-reduction plan: ``taken`` lists the action ids taken (each became the plan task
    ``marac:<action id>``); ``not_taken`` the actions left out and why (their agency is not
    in the network, or they were reviewed to an outcome already)."""

    marac_case_id: str
    taken: tuple[str, ...]
    not_taken: tuple[ActionLeftOut, ...]


# --- serialization --------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


class EventCodec:
    """Turns events into plain data / JSON and back, upcasting old schema versions.

    The serialized form is a JSON object with ``type`` (the class name),
    ``schema_version`` and the event's fields. Host applications may register their own
    event types (:meth:`register`) and upcasters.
    """

    def __init__(self, types: tuple[type[Event], ...] = ()) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self.converter: cattrs.Converter = make_converter(forbid_extra_keys=True)
        # Reading a long history builds the same few actors again and again: share them
        # (they are frozen and were validated when first built).
        plain_actor = self.converter.get_structure_hook(Actor)

        actor = functools.lru_cache(maxsize=4096)(Actor)

        def structure_actor(data: Any, cls: Any) -> Actor:
            if type(data) is dict and len(data) == 2:
                agency, person = data.get("agency"), data.get("person")
                if type(agency) is str and type(person) is str:
                    shared: Actor = actor(agency, person)
                    return shared
            result: Actor = plain_actor(data, cls)
            return result

        self.converter.register_structure_hook(Actor, structure_actor)
        # cattrs builds a hook per class on first use; keep them, as dispatch costs more
        # than the work. (Register your own converter hooks before the first event is read.)
        self._to: dict[type[Event], Callable[[Event], dict[str, Any]]] = {}
        self._from: dict[type[Event], Callable[[dict[str, Any], type[Event]], Event]] = {}
        for t in types:
            self.register(t)

    @property
    def types(self) -> dict[str, type[Event]]:
        """The registered event types by name."""
        return dict(self._types)

    def register(self, event_type: type[Event]) -> None:
        """Make ``event_type`` readable by this codec."""
        self._types[event_type.__name__] = event_type

    def register_upcaster(self, type_name: str, from_version: int, upcaster: Upcaster) -> None:
        """Register a function that turns a ``from_version`` payload into ``from_version + 1``."""
        self._upcasters[(type_name, from_version)] = upcaster

    def to_dict(self, event: Event) -> dict[str, Any]:
        """The event as plain JSON-compatible data."""
        cls = type(event)
        hook = self._to.get(cls)
        if hook is None:
            hook = self._to[cls] = self.converter.get_unstructure_hook(cls)
        data = hook(event)
        data["type"] = cls.__name__
        data["schema_version"] = event.schema_version
        return data

    def from_dict(self, data: dict[str, Any]) -> Event:
        """Read an event back from :meth:`to_dict` output, upcasting if it is older."""
        payload = dict(data)
        type_name = payload.pop("type", None)
        version = payload.pop("schema_version", None)
        event_type = self._types.get(type_name) if isinstance(type_name, str) else None
        if event_type is None:
            raise SerializationError(
                f"unknown event type {type_name!r}; known: {', '.join(sorted(self._types))}"
            )
        if type(version) is not int or version < 1:
            raise SerializationError(f"{type_name}: schema_version {version!r} is not valid")
        while version < event_type.schema_version:
            upcaster = self._upcasters.get((type_name, version))
            if upcaster is None:
                raise SerializationError(
                    f"{type_name}: no upcaster from schema version {version} "
                    f"(current is {event_type.schema_version})"
                )
            try:
                payload = upcaster(payload)
            except Exception as exc:  # an upcaster meeting a payload it cannot migrate
                raise SerializationError(
                    f"{type_name}: the upcaster from schema version {version} failed on this "
                    f"payload ({type(exc).__name__}: {exc}); the payload is not valid"
                ) from None
            version += 1
        if version > event_type.schema_version:
            raise SerializationError(
                f"{type_name}: schema version {version} is newer than this code knows "
                f"({event_type.schema_version}); upgrade tuko_flow"
            )
        return self._structure(payload, event_type)

    def _structure(self, payload: dict[str, Any], event_type: type[Event]) -> Event:
        hook = self._from.get(event_type)
        if hook is None:
            hook = self._from[event_type] = self.converter.get_structure_hook(event_type)
        try:
            return hook(payload, event_type)
        except (cattrs.BaseValidationError, TukoFlowError, TypeError, ValueError, KeyError) as exc:
            detail = (
                "; ".join(cattrs.transform_error(exc))
                if isinstance(exc, cattrs.BaseValidationError)
                else str(exc)
            )
            raise SerializationError(
                f"{event_type.__name__}: payload is not valid: {detail}"
            ) from None

    def to_json(self, event: Event) -> str:
        """The event as a compact JSON string (sorted keys: the same event, the same text)."""
        return _dumps(self.to_dict(event))

    def from_json(self, text: str | bytes) -> Event:
        """Read an event back from :meth:`to_json` output."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SerializationError(f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise SerializationError("an event must be a JSON object")
        type_name = data.get("type")
        event_type = self._types.get(type_name) if isinstance(type_name, str) else None
        version = data.get("schema_version")
        if event_type is not None and type(version) is int and version == event_type.schema_version:
            del data["type"], data["schema_version"]  # current schema: no upcasting to do
            return self._structure(data, event_type)
        return self.from_dict(data)


def _all_event_types() -> tuple[type[Event], ...]:
    return tuple(
        obj
        for obj in globals().values()
        if isinstance(obj, type) and issubclass(obj, Event) and obj is not Event
    )


#: The codec for every event tuko_flow defines.
codec = EventCodec(_all_event_types())
