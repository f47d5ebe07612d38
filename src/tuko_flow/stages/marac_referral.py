"""MARAC — risk identification and referral: opening a MARAC case, DASH, incidents, the
referral and the coordinator's decision, the offer of an independent advocate.

Seed 001 ("Legal framework"): "For high-risk domestic violence cases, the MARAC model is
followed ... Whether a case is high-risk and falls under the MARAC model is decided by a
DASH risk assessment. The risk assessment can be carried out by any relevant professional
who will forward the results to the Victim Support Unit. Victim Support will include the
case in the MARAC model if justified."

shared/DOMAIN.md adds the SafeLives referral criteria (visible high risk, professional
judgement, potential escalation, repeat), that a repeat must be referred back whatever the
threshold, that every high-risk victim is offered an independent advocate, and that the
referring agency tells the victim about the referral where safe.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import cast

import attrs

from .._case import Applier, Case, CaseDraft, _make_replace
from .._machine import Firing
from .._marac_case import MaracFile, MaracRound
from .._marac_values import AnswerRecord, RepeatAnchor, VictimNotice
from .._protocol import Command, TransitionSpec
from .._values import (
    Actor,
    Client,
    HarmProbability,
    NetworkMember,
    PersonAtRisk,
    Relation,
    _to_tuple,
)
from ..errors import ConfigurationError, TukoFlowError, ValidationError
from ..events import (
    AdvocateOffered,
    CaseOpened,
    Event,
    IncidentReported,
    MaracCaseOpened,
    MaracReferralMade,
    NotReferredDecided,
    ReferralAccepted,
    ReferralReceived,
    ReferralReturned,
    ReferralRoundStarted,
    RiskAssessed,
)
from ..rules.dash import Checklist, Criterion, Finding, RiskResult, score
from ._common import in_future, network_members
from ._marac_common import (
    ASSESSMENT,
    DISCUSSED,
    LISTED,
    NOT_REFERRED,
    RECEIVED,
    REFERRED,
    RESTING,
    RETURNED,
    marac_file,
    settings,
)

replace_file = _make_replace(MaracFile)
replace_round = _make_replace(MaracRound)

#: The instrument name recorded when a TUKO common assessment, not a checklist, found the risk.
COMMON_ASSESSMENT = "tuko_common_assessment"
_HIGH_HARM = (HarmProbability.HIGH, HarmProbability.VERY_HIGH)


# --- commands ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OpenMaracCase(Command):
    """Open a MARAC case for one victim and one perpetrator in one MARAC ``area``.

    * ``victim``: the adult victim (a :class:`~tuko_flow.PersonAtRisk` with relation
      ``victim``); ``children``: children of the household, if known; ``perpetrator``: a
      :class:`~tuko_flow.Client` reference.
    * ``network``: the professionals working the case, the MARAC coordinator among them as
      its case leader (``case_leader=True``, from the configured coordinator agency); the
      professional opening the case must be a member.
    * ``checklist``: the DASH (or another instrument's) completed checklist, scored with
      the area's thresholds. Without one, a linked TUKO case's Stage 2 common assessment
      that found a high probability of harm counts as a professional judgement.
    * ``tuko_case_id``: the TUKO case this MARAC case is raised from (the victim and the
      perpetrator must be that case's victim and client, and the opener in its network).

    Only one MARAC case is kept per victim and perpetrator: opening a second is refused,
    naming the first, so that repeats are recognised there (``report_incident``).
    """

    name = "open_marac_case"

    case_id: str
    area: str
    victim: PersonAtRisk
    perpetrator: Client
    network: tuple[NetworkMember, ...] = attrs.field(converter=_to_tuple)
    children: tuple[PersonAtRisk, ...] = attrs.field(default=(), converter=_to_tuple)
    checklist: Checklist | None = None
    tuko_case_id: str | None = None


@attrs.frozen(kw_only=True)
class RecordRiskAssessment(Command):
    """Record a completed checklist (a DASH) for the case's victim; after closure it starts a
    new round."""

    name = "record_risk_assessment"

    checklist: Checklist


@attrs.frozen(kw_only=True)
class ReportIncident(Command):
    """Report a new incident between the case's victim and perpetrator.

    It need not be criminal (unwanted contact, a breach of bail or an order, a dispute
    over child contact); ``kind`` is a short reference such as ``"unwanted_contact"``.
    Within the repeat window it is flagged as a repeat and must be referred back whatever
    the threshold. On a resting case it starts a new round.
    """

    name = "report_incident"

    occurred_on: date
    kind: str
    criminal: bool = False


@attrs.frozen(kw_only=True)
class ReferToMarac(Command):
    """Refer the case to MARAC on the criteria its round meets, with the latest assessment
    attached; ``victim_notice`` records whether it was safe to tell the victim and how."""

    name = "refer_to_marac"

    victim_notice: VictimNotice


@attrs.frozen(kw_only=True)
class DecideNotToRefer(Command):
    """Record, with reasons, that the assessment does not justify a MARAC referral."""

    name = "decide_not_to_refer"

    reason: str


@attrs.frozen(kw_only=True)
class ReceiveReferral(Command):
    """The coordinator records that the referral was received."""

    name = "receive_referral"


@attrs.frozen(kw_only=True)
class AcceptReferral(Command):
    """The coordinator puts the case on the list for the conference at ``conference_at``,
    which must fall within the MARAC's timescale from the referral."""

    name = "accept_referral"

    conference_at: datetime


@attrs.frozen(kw_only=True)
class ReturnReferral(Command):
    """The coordinator returns the referral to the referring agency, with the reason."""

    name = "return_referral"

    reason: str


@attrs.frozen(kw_only=True)
class OfferAdvocate(Command):
    """Record that the victim was offered an independent advocate (``advocate``: the network
    member who is the advocate) and whether the victim accepted."""

    name = "offer_advocate"

    advocate: str
    accepted: bool


# --- handlers ---------------------------------------------------------------------------


def _actor_label(actor: Actor | str) -> str:
    return f"{actor.agency}/{actor.person}" if isinstance(actor, Actor) else actor


def _assessment_from_checklist(
    f: Firing, checklist: object, victim_ref: str, area: str
) -> dict[str, object]:
    """The fields of a ``RiskAssessed`` event for ``checklist``, or a ValidationError."""
    field = "checklist"
    p = f.problems()
    if not isinstance(checklist, Checklist):
        p.add(field, f"{checklist!r} is not a Checklist", "a tuko_flow.rules.dash.Checklist")
        f.reject(p)
    assert isinstance(checklist, Checklist)
    if checklist.victim_ref != victim_ref:
        p.add(
            f"{field}.victim_ref",
            f"the checklist is for {checklist.victim_ref!r}, not for the case's victim",
            victim_ref,
        )
    late = [q for q, a in checklist.answers.items() if a.asked_at > f.now]
    if late:
        p.add(f"{field}.answers", f"asked in the future: {', '.join(late)}", "answers asked by now")
    thresholds = f.config.marac_for(area).thresholds_for(checklist.instrument.name)
    result: RiskResult | None = None
    try:
        result = score(checklist, thresholds)
    except ValidationError as exc:  # the checklist's own problems, named under the field
        p.items.extend(attrs.evolve(x, field=f"{field}.{x.field}") for x in exc.problems)
    except ConfigurationError as exc:
        raise ConfigurationError(
            [
                f"case {f.case_id!r}: the thresholds of MARAC area {area!r} cannot score "
                f"{checklist.instrument.label} ({problem}); configure "
                f"instrument_thresholds[{checklist.instrument.name!r}] for it"
                for problem in exc.problems
            ]
        ) from None
    f.reject(p)
    assert result is not None  # scoring failed only with problems, and reject raised
    labels: dict[int, str] = {}  # one label per asker, not per answer
    records = []
    for q in checklist.instrument.ids:
        a = checklist.answers[q]
        label = labels.get(id(a.asked_by))
        if label is None:
            label = labels[id(a.asked_by)] = _actor_label(a.asked_by)
        records.append(
            AnswerRecord(
                question=q,
                value=a.value.value,
                asked_by=label,
                asked_at=a.asked_at,
                source=a.source,
            )
        )
    answers = tuple(records)
    return {
        "instrument": checklist.instrument.name,
        "instrument_version": checklist.instrument.version,
        "answers": answers,
        "question_count": result.question_count,
        "yes_count": result.yes_count,
        "findings": result.findings,
        "thresholds": thresholds,
        "incidents": checklist.incidents,
        "children_in_household": checklist.children_in_household,
        "professional_judgement": checklist.professional_judgement,
        "from_case": None,
    }


def _assessment_from_tuko(f: Firing, tuko: Case, area: str) -> dict[str, object] | None:
    """A ``RiskAssessed`` from a TUKO case's common assessment that found high harm."""
    assessment = tuko.cycle.assessment
    if assessment is None or assessment.probability_of_harm not in _HIGH_HARM:
        return None
    assert assessment.probability_of_harm is not None
    reasons = (
        f"TUKO case {tuko.case_id!r}, Stage 2 common assessment: probability of harm "
        f"{assessment.probability_of_harm.value}. {assessment.threat_and_conditions}"
    )
    thresholds = f.config.marac_for(area).thresholds
    findings = (
        Finding(
            Criterion.VISIBLE_HIGH_RISK,
            False,
            "no checklist was completed; the common assessment replaces it",
        ),
        Finding(
            Criterion.PROFESSIONAL_JUDGEMENT,
            True,
            f"the TUKO network judged the case high risk, with written reasons: {reasons}",
        ),
        Finding(Criterion.POTENTIAL_ESCALATION, False, "no incident count was recorded"),
    )
    return {
        "instrument": COMMON_ASSESSMENT,
        "instrument_version": tuko.protocol_version,
        "answers": (),
        "question_count": 0,
        "yes_count": 0,
        "findings": findings,
        "thresholds": thresholds,
        "incidents": 0,
        "children_in_household": any(x.relation == Relation.CHILD for x in tuko.people_at_risk),
        "professional_judgement": reasons,
        "from_case": tuko.case_id,
    }


def open_marac_case(f: Firing) -> None:
    """Validate the intake, then emit ``CaseOpened``, ``MaracCaseOpened`` and, when there is
    an assessment, ``RiskAssessed`` (MARAC's reactions then tell a linked TUKO case)."""
    cmd = cast(OpenMaracCase, f.command)
    cfg = f.config
    p = f.problems()
    p.ref("case_id", cmd.case_id)
    p.ref("area", cmd.area)
    if cfg.marac_areas and isinstance(cmd.area, str) and cmd.area not in cfg.marac_areas:
        p.add("area", f"{cmd.area!r} is not a configured MARAC area", ", ".join(cfg.marac_areas))
    victim_ok = isinstance(cmd.victim, PersonAtRisk)
    if not victim_ok:
        p.add("victim", f"{cmd.victim!r} is not a PersonAtRisk", "tuko_flow.PersonAtRisk")
    elif cmd.victim.relation != Relation.VICTIM:
        p.add("victim.relation", f"is {cmd.victim.relation.value!r}", "'victim' (an adult victim)")
    if not isinstance(cmd.perpetrator, Client):
        p.add("perpetrator", f"{cmd.perpetrator!r} is not a Client", "tuko_flow.Client")
    children: tuple[PersonAtRisk, ...] = ()
    if p.sequence("children", cmd.children, "PersonAtRisk values with relation 'child'"):
        for i, c in enumerate(cmd.children):
            if not isinstance(c, PersonAtRisk) or c.relation != Relation.CHILD:
                p.add(f"children[{i}]", f"{c!r} is not a child", "PersonAtRisk(relation='child')")
        children = tuple(c for c in cmd.children if isinstance(c, PersonAtRisk))
    refs = [c.ref for c in children] + ([cmd.victim.ref] if victim_ok else [])
    if len(set(refs)) != len(refs):
        p.add("children", "lists a person twice (or the victim)", "each person once")
    network = network_members(p, cmd.network, cfg)
    for i, m in enumerate(network):
        if m.agency == cfg.client_agency:
            p.add(
                f"network[{i}].agency",
                f"{m.agency!r} is the client's side: the perpetrator takes no part in a MARAC",
                "professionals only",
            )
    if victim_ok and isinstance(cmd.perpetrator, Client) and cmd.victim.ref == cmd.perpetrator.ref:
        p.add(
            "victim", "is the perpetrator", "the adult victim, another person than the perpetrator"
        )
    marac_cfg = cfg.marac_for(cmd.area) if isinstance(cmd.area, str) else cfg.marac
    leaders = [m for m in network if m.case_leader]
    if len(leaders) != 1 or leaders[0].agency != marac_cfg.coordinator_agency:
        p.add(
            "network",
            f"has {len(leaders)} case leaders"
            + (f" (from {leaders[0].agency!r})" if len(leaders) == 1 else ""),
            f"exactly one member with case_leader=True from {marac_cfg.coordinator_agency!r}: "
            "the MARAC coordinator",
        )
    if not any(m.acts_as(f.actor) for m in network):
        p.add(
            "network",
            f"does not include {f.actor.agency}/{f.actor.person}, who opens the case",
            "the professional who carries out the risk assessment, as a member",
        )
    if cmd.tuko_case_id is not None:
        p.ref("tuko_case_id", cmd.tuko_case_id)
    f.reject(p)

    victim_ref, perpetrator_ref = cmd.victim.ref, cmd.perpetrator.ref
    existing = f.marac_case_for(victim_ref, perpetrator_ref)
    if existing is not None:
        p.add(
            "case_id",
            f"MARAC case {existing!r} already holds the referrals for this victim and perpetrator",
            f"report the new incident or assessment on {existing!r} (report_incident, "
            "record_risk_assessment), so a repeat is recognised",
        )
    tuko: Case | None = None
    if cmd.tuko_case_id is not None:
        try:
            tuko = f.related(cmd.tuko_case_id)
        except TukoFlowError:
            p.add("tuko_case_id", f"no case {cmd.tuko_case_id!r}", "the id of an open TUKO case")
        else:
            if tuko.marac is not None:
                p.add("tuko_case_id", f"{tuko.case_id!r} is a MARAC case", "a TUKO case")
            else:
                if tuko.client.ref != perpetrator_ref:
                    p.add(
                        "perpetrator",
                        f"{perpetrator_ref!r} is not the client of TUKO case {tuko.case_id!r}",
                        tuko.client.ref,
                    )
                victims = [x.ref for x in tuko.people_at_risk if x.relation == Relation.VICTIM]
                if victim_ref not in victims:
                    p.add(
                        "victim",
                        f"{victim_ref!r} is not a victim in TUKO case {tuko.case_id!r}",
                        ", ".join(victims) or "none recorded",
                    )
                if tuko.member_for(f.actor) is None:
                    p.add(
                        "tuko_case_id",
                        f"{f.actor.agency}/{f.actor.person} is not in the network of "
                        f"TUKO case {tuko.case_id!r}",
                        "a member of that network raises its MARAC referral",
                    )
    if tuko is not None and not children:
        # the TUKO case knows the household's children: the MARAC case is about them too
        children = tuple(x for x in tuko.people_at_risk if x.relation == Relation.CHILD)
    assessment: dict[str, object] | None = None
    if cmd.checklist is not None:
        f.reject(p)
        assessment = _assessment_from_checklist(f, cmd.checklist, victim_ref, cmd.area)
    elif tuko is not None and not p.items:
        assessment = _assessment_from_tuko(f, tuko, cmd.area)
        if assessment is None:
            p.add(
                "checklist",
                f"is missing, and TUKO case {tuko.case_id!r} has no common assessment that "
                "found a high probability of harm",
                "a completed checklist (DASH), or a Stage 2 common assessment with "
                "probability_of_harm high or very_high",
            )
    f.reject(p)
    assert f.protocol is not None
    f.emit(
        CaseOpened,
        protocol=f.protocol.name,
        protocol_version=f.protocol.version,
        initial_state=f.state,
        client=cmd.perpetrator,
        people_at_risk=(cmd.victim, *children),
        network=network,
        offence="domestic_violence",
        matrix_cell="",
        need="",
        always_assume_need=False,
    )
    f.emit(
        MaracCaseOpened,
        area=cmd.area,
        victim_ref=victim_ref,
        perpetrator_ref=perpetrator_ref,
        linked_case=cmd.tuko_case_id,
    )
    if assessment is not None:
        f.emit(RiskAssessed, **assessment)


def _new_round_if_resting(f: Firing) -> None:
    if f.case.state in RESTING:
        f.emit(ReferralRoundStarted, round=marac_file(f.case).current.number + 1)


def _record_risk_assessment(f: Firing) -> None:
    cmd = cast(RecordRiskAssessment, f.command)
    file = marac_file(f.case)
    fields = _assessment_from_checklist(f, cmd.checklist, file.victim_ref, file.area)
    _new_round_if_resting(f)
    f.emit(RiskAssessed, **fields)


def repeat_finding(
    file: MaracFile, occurred_on: date, criminal: bool, f: Firing
) -> tuple[bool, RepeatAnchor, datetime | None, int, str]:
    """Whether an incident on ``occurred_on`` is a repeat, and why (or why not)."""
    cfg = f.config.marac_for(file.area)
    anchor = cfg.repeat_anchor
    window = cfg.repeat_window_days
    at = file.last_referral_at if anchor is RepeatAnchor.LAST_REFERRAL else file.last_discussion_at
    what = "referral" if anchor is RepeatAnchor.LAST_REFERRAL else "discussion at a conference"
    if at is None:
        return False, anchor, None, window, f"there is no earlier MARAC {what}: a new referral"
    days = (occurred_on - at.date()).days
    if days < 0:
        return (
            False,
            anchor,
            at,
            window,
            f"the incident happened before the last {what} ({at.date().isoformat()})",
        )
    if days > window:
        return (
            False,
            anchor,
            at,
            window,
            f"{days} days after the last {what} ({at.date().isoformat()}), beyond the "
            f"{window}-day repeat window: a new referral",
        )
    if cfg.repeat_requires_criminal and not criminal:
        return (
            False,
            anchor,
            at,
            window,
            f"{days} days after the last {what}, but this MARAC counts only criminal "
            "behaviour as a repeat (repeat_requires_criminal)",
        )
    return (
        True,
        anchor,
        at,
        window,
        f"{days} days after the last {what} ({at.date().isoformat()}), within the "
        f"{window}-day repeat window: a repeat, to be referred back whatever the threshold",
    )


def _report_incident(f: Firing) -> None:
    cmd = cast(ReportIncident, f.command)
    p = f.problems()
    if not isinstance(cmd.occurred_on, date) or isinstance(cmd.occurred_on, datetime):
        p.add("occurred_on", f"{cmd.occurred_on!r} is not a date", "a datetime.date")
    elif cmd.occurred_on > f.now.date():
        p.add(
            "occurred_on", f"{cmd.occurred_on.isoformat()} is in the future", f"by {f.now.date()}"
        )
    p.ref("kind", cmd.kind)
    if not isinstance(cmd.criminal, bool):
        p.add("criminal", f"{cmd.criminal!r} is not a bool", "True or False")
    f.reject(p)
    repeat, anchor, at, window, reason = repeat_finding(
        marac_file(f.case), cmd.occurred_on, cmd.criminal, f
    )
    _new_round_if_resting(f)
    f.emit(
        IncidentReported,
        occurred_on=cmd.occurred_on,
        kind=cmd.kind,
        criminal=cmd.criminal,
        repeat=repeat,
        window_days=window,
        anchor=anchor,
        anchor_at=at,
        reason=reason,
    )


def _refer_to_marac(f: Firing) -> None:
    cmd = cast(ReferToMarac, f.command)
    p = f.problems()
    if not isinstance(cmd.victim_notice, VictimNotice):
        p.add(
            "victim_notice",
            f"{cmd.victim_notice!r} is not a VictimNotice",
            "tuko_flow.VictimNotice",
        )
    f.reject(p)
    file = marac_file(f.case)
    current = file.current
    f.emit(
        MaracReferralMade,
        round=current.number,
        referring_agency=f.actor.agency,
        criteria=file.criteria(settings(f).thresholds, f.now.date()),
        repeat=current.repeat,
        assessment_version=current.assessment.version if current.assessment else None,
        victim_notice=cmd.victim_notice,
        legal_basis=settings(f).legal_basis,
    )


def _decide_not_to_refer(f: Firing) -> None:
    cmd = cast(DecideNotToRefer, f.command)
    p = f.problems()
    p.text("reason", cmd.reason, max_len=2_000)
    f.reject(p)
    f.emit(NotReferredDecided, reason=cmd.reason)


def _receive_referral(f: Firing) -> None:
    f.emit(ReferralReceived, round=marac_file(f.case).current.number)


def _accept_referral(f: Firing) -> None:
    cmd = cast(AcceptReferral, f.command)
    current = marac_file(f.case).current
    p = f.problems()
    in_future(p, "conference_at", cmd.conference_at, f.now)
    if not p.items and current.referral is not None:
        days = settings(f).conference_within_days
        latest = current.referral.occurred_at + timedelta(days=days)
        if cmd.conference_at > latest:
            p.add(
                "conference_at",
                f"{cmd.conference_at.isoformat()} is beyond the MARAC's timescale of {days} "
                "days from the referral",
                f"by {latest.isoformat()}",
            )
    f.reject(p)
    f.emit(ReferralAccepted, round=current.number, conference_at=cmd.conference_at)


def _return_referral(f: Firing) -> None:
    cmd = cast(ReturnReferral, f.command)
    p = f.problems()
    p.text("reason", cmd.reason, max_len=2_000)
    f.reject(p)
    f.emit(ReferralReturned, round=marac_file(f.case).current.number, reason=cmd.reason)


def _offer_advocate(f: Firing) -> None:
    cmd = cast(OfferAdvocate, f.command)
    p = f.problems()
    p.ref("advocate", cmd.advocate)
    if not isinstance(cmd.accepted, bool):
        p.add("accepted", f"{cmd.accepted!r} is not a bool", "True or False")
    member = f.case.member(cmd.advocate) if isinstance(cmd.advocate, str) else None
    agencies = settings(f).advocate_agencies
    able = [m.member_id for m in f.case.network if m.agency in agencies]
    if member is None:
        p.add(
            "advocate", f"{cmd.advocate!r} is not in the case's network", ", ".join(able) or "none"
        )
    elif member.agency not in agencies:
        p.add(
            "advocate",
            f"{cmd.advocate!r} ({member.agency}) is not an independent advocate",
            f"a member of {', '.join(agencies)}: {', '.join(able) or 'none in this network'}",
        )
    f.reject(p)
    f.emit(AdvocateOffered, advocate=cmd.advocate, accepted=cmd.accepted)


# --- transitions ------------------------------------------------------------------------

TRANSITIONS = (
    TransitionSpec(
        trigger=RecordRiskAssessment.name,
        source=(ASSESSMENT,),
        dest=None,
        rules=("actor_in_network",),
        handler=_record_risk_assessment,
        command=RecordRiskAssessment,
        emits=(RiskAssessed,),
        description="A professional records a (new) risk assessment.",
    ),
    TransitionSpec(
        trigger=RecordRiskAssessment.name,
        source=RESTING,
        dest=ASSESSMENT,
        rules=("actor_in_network",),
        handler=_record_risk_assessment,
        command=RecordRiskAssessment,
        emits=(ReferralRoundStarted, RiskAssessed),
        description="A new risk assessment on a resting case starts a new round.",
    ),
    TransitionSpec(
        trigger=ReportIncident.name,
        source=(ASSESSMENT, REFERRED, RECEIVED, LISTED, DISCUSSED),
        dest=None,
        rules=("actor_in_network",),
        handler=_report_incident,
        command=ReportIncident,
        emits=(IncidentReported,),
        description="A new incident is recorded for the MARAC (flagged when a repeat).",
    ),
    TransitionSpec(
        trigger=ReportIncident.name,
        source=RESTING,
        dest=ASSESSMENT,
        rules=("actor_in_network",),
        handler=_report_incident,
        command=ReportIncident,
        emits=(ReferralRoundStarted, IncidentReported),
        description="A new incident on a resting case starts a new round.",
    ),
    TransitionSpec(
        trigger=ReferToMarac.name,
        source=(ASSESSMENT,),
        dest=REFERRED,
        rules=("actor_in_network", "risk_assessed", "referral_criteria_met"),
        handler=_refer_to_marac,
        command=ReferToMarac,
        emits=(MaracReferralMade,),
        description="The case is referred to MARAC on the criteria it meets.",
    ),
    TransitionSpec(
        trigger=DecideNotToRefer.name,
        source=(ASSESSMENT,),
        dest=NOT_REFERRED,
        rules=("actor_in_network", "risk_assessed", "no_referral_criterion_met"),
        handler=_decide_not_to_refer,
        command=DecideNotToRefer,
        emits=(NotReferredDecided,),
        description="The assessment meets no criterion: the case is not referred.",
    ),
    TransitionSpec(
        trigger=ReceiveReferral.name,
        source=(REFERRED,),
        dest=RECEIVED,
        rules=("actor_is_coordinator",),
        handler=_receive_referral,
        command=ReceiveReferral,
        emits=(ReferralReceived,),
        description="The coordinator receives the referral.",
    ),
    TransitionSpec(
        trigger=AcceptReferral.name,
        source=(RECEIVED,),
        dest=LISTED,
        rules=("actor_is_coordinator",),
        handler=_accept_referral,
        command=AcceptReferral,
        emits=(ReferralAccepted,),
        description="The coordinator lists the case for a conference.",
    ),
    TransitionSpec(
        trigger=ReturnReferral.name,
        source=(RECEIVED,),
        dest=RETURNED,
        rules=("actor_is_coordinator",),
        handler=_return_referral,
        command=ReturnReferral,
        emits=(ReferralReturned,),
        description="The coordinator returns the referral with a reason.",
    ),
    TransitionSpec(
        trigger=OfferAdvocate.name,
        source=(ASSESSMENT, REFERRED, RECEIVED, LISTED, DISCUSSED),
        dest=None,
        rules=("actor_in_network",),
        handler=_offer_advocate,
        command=OfferAdvocate,
        emits=(AdvocateOffered,),
        description="The victim is offered an independent advocate.",
    ),
)


# --- appliers ---------------------------------------------------------------------------


def _file_of(d: CaseDraft) -> MaracFile:
    file: MaracFile = d.get("marac")
    return file


def set_round(d: CaseDraft, **changes: object) -> None:
    """Change fields of the case's current round."""
    file = _file_of(d)
    current = replace_round(file.current, **changes)
    d.set(marac=replace_file(file, rounds=(*file.rounds[:-1], current)))


def _opened(d: CaseDraft, e: MaracCaseOpened) -> None:
    d.set(
        marac=MaracFile(
            area=e.area,
            victim_ref=e.victim_ref,
            perpetrator_ref=e.perpetrator_ref,
            linked_case=e.linked_case,
            rounds=(MaracRound(number=1, started_at=e.occurred_at),),
        )
    )


def _round_started(d: CaseDraft, e: ReferralRoundStarted) -> None:
    file = _file_of(d)
    d.set(
        marac=replace_file(
            file, rounds=(*file.rounds, MaracRound(number=e.round, started_at=e.occurred_at))
        )
    )


def _assessed(d: CaseDraft, e: RiskAssessed) -> None:
    set_round(d, assessments=(*_file_of(d).current.assessments, e))


def _incident(d: CaseDraft, e: IncidentReported) -> None:
    set_round(d, incidents=(*_file_of(d).current.incidents, e))


def _not_referred(d: CaseDraft, e: NotReferredDecided) -> None:
    set_round(d, not_referred=e)


def _referred(d: CaseDraft, e: MaracReferralMade) -> None:
    set_round(d, referral=e)


def _received(d: CaseDraft, e: ReferralReceived) -> None:
    set_round(d, received_at=e.occurred_at)


def _accepted(d: CaseDraft, e: ReferralAccepted) -> None:
    set_round(d, accepted=e)


def _returned(d: CaseDraft, e: ReferralReturned) -> None:
    set_round(d, returned=e)


def _advocate(d: CaseDraft, e: AdvocateOffered) -> None:
    d.set(marac=replace_file(_file_of(d), advocate=e))


APPLIERS: dict[type[Event], Applier] = {
    MaracCaseOpened: _opened,
    ReferralRoundStarted: _round_started,
    RiskAssessed: _assessed,
    IncidentReported: _incident,
    NotReferredDecided: _not_referred,
    MaracReferralMade: _referred,
    ReferralReceived: _received,
    ReferralAccepted: _accepted,
    ReferralReturned: _returned,
    AdvocateOffered: _advocate,
}
