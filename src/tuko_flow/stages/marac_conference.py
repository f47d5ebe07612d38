"""MARAC — the conference: discussion, the action plan, minutes, reviews, closure, and the
information the agencies share on the legal basis of high-risk cases.

shared/DOMAIN.md ("MARAC process"): "Referral -> coordinator -> agenda -> agencies research
their records -> conference -> action plan -> minutes -> actions reviewed at the next
conference. Minutes separate incomplete actions that circumstances prevented from actions
the agency did not do. Each action belongs to one agency; responsibility never passes to
the MARAC. The victim does not attend; every high-risk victim is offered an independent
advocate (IDVA)." Seed 001, Data ix: "In high-risk cases, the MARAC model is used, where
the right and the way of exchanging information is regulated by law, even if the victim
does not consent" (Victim Support Act § 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

import attrs

from .._case import Applier, Case, CaseDraft
from .._config import TukoConfig
from .._machine import Firing
from .._marac_values import ActionReview, MaracAction
from .._protocol import Command, Fact, TransitionSpec
from .._values import Classification, Information, Problems, _classification, _str_tuple, _to_tuple
from ..events import (
    ActionPlanAgreed,
    ActionsReviewed,
    ConferenceHeld,
    ConferenceOverdue,
    Event,
    MaracCaseClosed,
    MaracCaseLinked,
    MaracCaseOpened,
    MaracInformationShared,
    MaracOutcomeShared,
    MinutesCirculated,
    MinutesOverdue,
)
from ._common import not_in_future
from ._marac_common import ACTIVE, DISCUSSED, LISTED, MARAC_CLOSED, marac_file, settings
from .marac_referral import _file_of, replace_file, set_round

# --- commands ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class HoldConference(Command):
    """A MARAC conference discussed the case and agreed its action plan.

    ``agencies_present``: the agencies at the conference (the coordinator's among them);
    ``victim_represented_by``: the network member — the victim's independent advocate —
    who represented the victim, who does not attend; ``actions``: the action plan, each
    action owned by one agency present and competent for its area.
    """

    name = "hold_conference"

    held_at: datetime
    agencies_present: tuple[str, ...] = attrs.field(converter=_str_tuple)
    victim_represented_by: str
    actions: tuple[MaracAction, ...] = attrs.field(converter=_to_tuple)


@attrs.frozen(kw_only=True)
class CirculateMinutes(Command):
    """The coordinator sends the minutes of the latest conference to the agencies present."""

    name = "circulate_minutes"


@attrs.frozen(kw_only=True)
class ReviewActions(Command):
    """The next conference reviews every open action (done, prevented by circumstances,
    not done, or still in progress) and may agree new actions."""

    name = "review_actions"

    held_at: datetime
    agencies_present: tuple[str, ...] = attrs.field(converter=_str_tuple)
    victim_represented_by: str
    reviews: tuple[ActionReview, ...] = attrs.field(converter=_to_tuple)
    new_actions: tuple[MaracAction, ...] = attrs.field(default=(), converter=_to_tuple)


@attrs.frozen(kw_only=True)
class CloseMaracCase(Command):
    """The coordinator closes the case from MARAC, with the reason."""

    name = "close_marac_case"

    reason: str


@attrs.frozen(kw_only=True)
class ShareMaracInformation(Command):
    """An agency shares information with MARAC agencies, on the legal basis of high-risk
    cases rather than on consent; it never goes to the perpetrator's side."""

    name = "share_marac_information"

    information: str
    to_agencies: tuple[str, ...] = attrs.field(converter=_str_tuple)
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )


# --- handlers ---------------------------------------------------------------------------


def _meeting_problems(
    f: Firing, p: Problems, held_at: object, agencies: object, represented_by: object
) -> None:
    """Checks shared by a conference and a review conference."""
    not_in_future(p, "held_at", held_at, f.now)
    current = marac_file(f.case).current
    last = current.last_conference
    if (
        isinstance(held_at, datetime)
        and held_at.tzinfo is not None
        and last is not None
        and held_at <= last.held_at
    ):
        p.add("held_at", "is not after the last conference", f"after {last.held_at.isoformat()}")
    referral = current.referral
    if (
        isinstance(held_at, datetime)
        and held_at.tzinfo is not None
        and referral is not None
        and held_at < referral.occurred_at
    ):
        p.add(
            "held_at",
            "is before the referral was made",
            f"from {referral.occurred_at.isoformat()} (the referral) to now",
        )
    if p.sequence("agencies_present", agencies, "agency names"):
        assert isinstance(agencies, tuple)
        unknown = [a for a in agencies if a not in f.config.agency_set]
        if unknown:
            p.add(
                "agencies_present",
                f"unknown agencies: {', '.join(unknown)}",
                ", ".join(f.config.agencies),
            )
        if not agencies:
            p.add("agencies_present", "is empty", "the agencies at the conference")
        coordinator = settings(f).coordinator_agency
        if agencies and coordinator not in agencies:
            p.add(
                "agencies_present", f"does not include {coordinator!r}", "the coordinator's agency"
            )
        if f.config.client_agency in agencies:
            p.add(
                "agencies_present",
                f"includes {f.config.client_agency!r}",
                "professionals only: the perpetrator takes no part in a MARAC",
            )
    p.ref("victim_represented_by", represented_by)
    member = f.case.member(represented_by) if isinstance(represented_by, str) else None
    advocates = settings(f).advocate_agencies
    able = [m.member_id for m in f.case.network if m.agency in advocates]
    if isinstance(represented_by, str) and member is None:
        p.add(
            "victim_represented_by",
            f"{represented_by!r} is not in the case's network",
            f"the victim's advocate: {', '.join(able) or 'none in this network'}",
        )
    elif member is not None and member.agency not in advocates:
        p.add(
            "victim_represented_by",
            f"{represented_by!r} ({member.agency}) is not an independent advocate",
            f"a member of {', '.join(advocates)}: {', '.join(able) or 'none in this network'}",
        )


def _action_problems(
    f: Firing, p: Problems, field: str, actions: object, agencies: object, held_at: object
) -> None:
    if not p.sequence(field, actions, "MaracAction values"):
        return
    assert isinstance(actions, tuple)
    known_ids = {a.action_id for r in marac_file(f.case).rounds for a in r.actions}
    seen: set[str] = set()
    present = agencies if isinstance(agencies, tuple) else ()
    for i, a in enumerate(actions):
        where = f"{field}[{i}]"
        if not isinstance(a, MaracAction):
            p.add(where, f"{a!r} is not a MaracAction", "tuko_flow.MaracAction")
            continue
        if a.action_id in seen or a.action_id in known_ids:
            p.add(f"{where}.action_id", f"{a.action_id!r} is used already", "a new action id")
        seen.add(a.action_id)
        if a.agency not in present:
            p.add(
                f"{where}.agency",
                f"{a.agency!r} was not at the conference",
                f"one of the agencies present: {', '.join(present) or 'none'}",
            )
        competent = f.config.competence.agencies_for(a.area)
        if competent is None:
            p.add(
                f"{where}.area",
                f"{a.area!r} is not a task area",
                ", ".join(f.config.competence.areas),
            )
        elif a.agency not in competent:
            p.add(
                f"{where}.agency",
                f"{a.agency!r} has no competence for {a.area!r}",
                ", ".join(competent),
            )
        if isinstance(held_at, datetime) and a.due_on < held_at.date():
            p.add(
                f"{where}.due_on",
                f"{a.due_on.isoformat()} is before the conference",
                f"from {held_at.date()}",
            )


def _hold_conference(f: Firing) -> None:
    cmd = cast(HoldConference, f.command)
    p = f.problems()
    _meeting_problems(f, p, cmd.held_at, cmd.agencies_present, cmd.victim_represented_by)
    _action_problems(f, p, "actions", cmd.actions, cmd.agencies_present, cmd.held_at)
    f.reject(p)
    number = marac_file(f.case).current.number
    f.emit(
        ConferenceHeld,
        round=number,
        held_at=cmd.held_at,
        agencies_present=cmd.agencies_present,
        victim_represented_by=cmd.victim_represented_by,
        review=False,
        legal_basis=settings(f).legal_basis,
    )
    f.emit(ActionPlanAgreed, round=number, actions=cmd.actions)


def _circulate_minutes(f: Firing) -> None:
    current = marac_file(f.case).current
    last = current.last_conference
    assert last is not None  # guaranteed by the minutes_pending rule
    f.emit(
        MinutesCirculated,
        round=current.number,
        conference_at=last.held_at,
        recipients=last.agencies_present,
    )


def _review_actions(f: Firing) -> None:
    cmd = cast(ReviewActions, f.command)
    current = marac_file(f.case).current
    p = f.problems()
    _meeting_problems(f, p, cmd.held_at, cmd.agencies_present, cmd.victim_represented_by)
    if p.sequence("reviews", cmd.reviews, "ActionReview values"):
        open_ids = [a.action_id for a in current.open_actions]
        given: list[str] = []
        for i, r in enumerate(cmd.reviews):
            if not isinstance(r, ActionReview):
                p.add(f"reviews[{i}]", f"{r!r} is not an ActionReview", "tuko_flow.ActionReview")
                continue
            if r.action_id not in open_ids:
                p.add(
                    f"reviews[{i}].action_id",
                    f"{r.action_id!r} is not an open action",
                    ", ".join(open_ids) or "none",
                )
            if r.action_id in given:
                p.add(f"reviews[{i}].action_id", f"{r.action_id!r} is reviewed twice", "each once")
            given.append(r.action_id)
        missing = [a for a in open_ids if a not in given]
        if missing:
            p.add(
                "reviews", f"no finding for {', '.join(missing)}", "a finding for every open action"
            )
    _action_problems(f, p, "new_actions", cmd.new_actions, cmd.agencies_present, cmd.held_at)
    f.reject(p)
    f.emit(
        ConferenceHeld,
        round=current.number,
        held_at=cmd.held_at,
        agencies_present=cmd.agencies_present,
        victim_represented_by=cmd.victim_represented_by,
        review=True,
        legal_basis=settings(f).legal_basis,
    )
    f.emit(ActionsReviewed, round=current.number, reviews=cmd.reviews)
    if cmd.new_actions:
        f.emit(ActionPlanAgreed, round=current.number, actions=cmd.new_actions)


def _close_marac_case(f: Firing) -> None:
    cmd = cast(CloseMaracCase, f.command)
    p = f.problems()
    p.text("reason", cmd.reason, max_len=2_000)
    f.reject(p)
    f.emit(MaracCaseClosed, round=marac_file(f.case).current.number, reason=cmd.reason)


def _share_marac_information(f: Firing) -> None:
    cmd = cast(ShareMaracInformation, f.command)
    p = f.problems()
    p.text("information", cmd.information)
    p.member("classification", cmd.classification, Classification)
    if p.sequence("to_agencies", cmd.to_agencies, "agency names"):
        if not cmd.to_agencies:
            p.add("to_agencies", "is empty", "one or more agencies")
        unknown = [a for a in cmd.to_agencies if a not in f.config.agency_set]
        if unknown:
            p.add(
                "to_agencies",
                f"unknown agencies: {', '.join(unknown)}",
                ", ".join(f.config.agencies),
            )
        if f.config.client_agency in cmd.to_agencies:
            p.add(
                "to_agencies",
                f"includes {f.config.client_agency!r}",
                "professionals only: what the MARAC shares never reaches the perpetrator",
            )
    f.reject(p)
    f.emit(
        MaracInformationShared,
        from_agency=f.actor.agency,
        to_agencies=cmd.to_agencies,
        information=Information(
            text=cmd.information, source_agency=f.actor.agency, classification=cmd.classification
        ),
        legal_basis=settings(f).legal_basis,
        consent=False,
    )


# --- what a MARAC case tells the TUKO case it was raised from ----------------------------


def marac_reactions(case: Case, events: Sequence[Event], config: TukoConfig) -> list[Fact]:
    """MARAC's reactions (``Protocol.reactions``): a MARAC case raised from a TUKO case
    tells it that they are linked (when opened) and, after a conference, a review or the
    closure, the outcome: the state, the latest conference, the action plan and the review
    findings, shared on the legal basis of high-risk cases.

    Derived from the stored events and the case they made, so telling again (after a
    retried command) records the same facts, once.
    """
    file = case.marac
    if file is None or file.linked_case is None:
        return []
    facts: list[Fact] = []
    if any(isinstance(e, MaracCaseOpened) for e in events):
        facts.append(
            (
                file.linked_case,
                MaracCaseLinked,
                {"marac_case_id": case.case_id, "area": file.area, "victim_ref": file.victim_ref},
            )
        )
    if any(isinstance(e, ConferenceHeld | MaracCaseClosed) for e in events):
        current = file.current
        last = current.last_conference
        facts.append(
            (
                file.linked_case,
                MaracOutcomeShared,
                {
                    "marac_case_id": case.case_id,
                    "round": current.number,
                    "marac_state": case.state,
                    "conference_at": last.held_at if last is not None else None,
                    "actions": current.actions,
                    "reviews": current.reviews,
                    "legal_basis": config.marac_for(file.area).legal_basis,
                },
            )
        )
    return facts


# --- deadlines --------------------------------------------------------------------------


def marac_deadlines(f: Firing) -> None:
    """MARAC's deadline check: a referral not discussed within the MARAC's timescale, and
    minutes not circulated within their working days. Each is reported once."""
    file = marac_file(f.case)
    current = file.current
    cfg = settings(f)
    if (
        current.referral is not None
        and not current.conferences
        and current.returned is None
        and current.conference_overdue is None
    ):
        due_by = current.referral.occurred_at + timedelta(days=cfg.conference_within_days)
        if f.now > due_by:
            f.emit(ConferenceOverdue, round=current.number, due_by=due_by)
    circulated = {m.conference_at for m in current.minutes}
    today = f.now.date()
    for conference in current.conferences:
        at = conference.held_at
        if at in circulated or at in current.minutes_overdue:
            continue
        due_on = cfg.minutes_due(at)
        if today > due_on:
            f.emit(MinutesOverdue, round=current.number, conference_at=at, due_on=due_on)


# --- transitions ------------------------------------------------------------------------

TRANSITIONS = (
    TransitionSpec(
        trigger=HoldConference.name,
        source=(LISTED,),
        dest=DISCUSSED,
        rules=("actor_is_coordinator", "advocate_offered", "child_safeguarding_referred"),
        handler=_hold_conference,
        command=HoldConference,
        emits=(ConferenceHeld, ActionPlanAgreed),
        description="The conference discusses the case and agrees the action plan.",
    ),
    TransitionSpec(
        trigger=CirculateMinutes.name,
        source=(DISCUSSED,),
        dest=None,
        rules=("actor_is_coordinator", "minutes_pending"),
        handler=_circulate_minutes,
        command=CirculateMinutes,
        emits=(MinutesCirculated,),
        description="The minutes go to the agencies present.",
    ),
    TransitionSpec(
        trigger=ReviewActions.name,
        source=(DISCUSSED,),
        dest=None,
        rules=("actor_is_coordinator", "actions_to_review"),
        handler=_review_actions,
        command=ReviewActions,
        emits=(ConferenceHeld, ActionsReviewed, ActionPlanAgreed),
        description="The next conference reviews the actions.",
    ),
    TransitionSpec(
        trigger=CloseMaracCase.name,
        source=(DISCUSSED,),
        dest=MARAC_CLOSED,
        rules=("actor_is_coordinator", "actions_reviewed", "child_safeguarding_referred"),
        handler=_close_marac_case,
        command=CloseMaracCase,
        emits=(MaracCaseClosed,),
        description="The case is closed from MARAC.",
    ),
    TransitionSpec(
        trigger=ShareMaracInformation.name,
        source=ACTIVE,
        dest=None,
        rules=("actor_in_network",),
        handler=_share_marac_information,
        command=ShareMaracInformation,
        emits=(MaracInformationShared,),
        description="An agency shares information on the legal basis of high-risk cases.",
    ),
)


# --- appliers ---------------------------------------------------------------------------


def _conference(d: CaseDraft, e: ConferenceHeld) -> None:
    set_round(d, conferences=(*_file_of(d).current.conferences, e))


def _plan(d: CaseDraft, e: ActionPlanAgreed) -> None:
    set_round(d, actions=(*_file_of(d).current.actions, *e.actions))


def _reviewed(d: CaseDraft, e: ActionsReviewed) -> None:
    set_round(d, reviews=(*_file_of(d).current.reviews, *e.reviews))


def _minutes(d: CaseDraft, e: MinutesCirculated) -> None:
    set_round(d, minutes=(*_file_of(d).current.minutes, e))


def _closed(d: CaseDraft, e: MaracCaseClosed) -> None:
    set_round(d, closure=e)


def _shared(d: CaseDraft, e: MaracInformationShared) -> None:
    file = _file_of(d)
    d.set(marac=replace_file(file, shared=(*file.shared, e)))


def _conference_overdue(d: CaseDraft, e: ConferenceOverdue) -> None:
    set_round(d, conference_overdue=e)


def _minutes_overdue(d: CaseDraft, e: MinutesOverdue) -> None:
    set_round(d, minutes_overdue=(*_file_of(d).current.minutes_overdue, e.conference_at))


APPLIERS: dict[type[Event], Applier] = {
    ConferenceHeld: _conference,
    ActionPlanAgreed: _plan,
    ActionsReviewed: _reviewed,
    MinutesCirculated: _minutes,
    MaracCaseClosed: _closed,
    MaracInformationShared: _shared,
    ConferenceOverdue: _conference_overdue,
    MinutesOverdue: _minutes_overdue,
}
