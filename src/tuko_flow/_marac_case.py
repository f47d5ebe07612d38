"""A MARAC case as its events make it: :class:`MaracFile` and its :class:`MaracRound` s.

A MARAC case is kept per victim and perpetrator, so that a new incident between the same
two people is recognised as a repeat. Each referral is a *round*: risk identification,
referral, the coordinator's decision, conferences with their action plan and reviews,
closure. A new incident or assessment after closure starts the next round; earlier
rounds stay, because the repeat window is counted from them.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from ._marac_values import ActionOutcome, ActionReview, MaracAction
from .events import (
    AdvocateOffered,
    ConferenceHeld,
    ConferenceOverdue,
    IncidentReported,
    MaracCaseClosed,
    MaracInformationShared,
    MaracReferralMade,
    MinutesCirculated,
    NotReferredDecided,
    ReferralAccepted,
    ReferralReturned,
    RiskAssessed,
)
from .rules.dash import Thresholds


@attrs.frozen(kw_only=True)
class MaracRound:
    """One pass from risk identification to closure (or return) of a MARAC case."""

    number: int
    started_at: datetime
    assessments: tuple[RiskAssessed, ...] = ()
    incidents: tuple[IncidentReported, ...] = ()
    not_referred: NotReferredDecided | None = None
    referral: MaracReferralMade | None = None
    received_at: datetime | None = None
    accepted: ReferralAccepted | None = None
    returned: ReferralReturned | None = None
    conferences: tuple[ConferenceHeld, ...] = ()
    actions: tuple[MaracAction, ...] = ()
    reviews: tuple[ActionReview, ...] = ()
    minutes: tuple[MinutesCirculated, ...] = ()
    closure: MaracCaseClosed | None = None
    conference_overdue: ConferenceOverdue | None = None
    minutes_overdue: tuple[datetime, ...] = ()

    @property
    def assessment(self) -> RiskAssessed | None:
        """The latest risk assessment of this round, or ``None``."""
        return self.assessments[-1] if self.assessments else None

    @property
    def repeat(self) -> bool:
        """True when an incident of this round was flagged as a repeat."""
        return any(i.repeat for i in self.incidents)

    @property
    def criteria_met(self) -> tuple[str, ...]:
        """The criteria this round's own records meet: the latest assessment's, and
        ``repeat``. The referral is decided by :meth:`MaracFile.criteria`, which also counts
        potential escalation from the incidents reported to the case."""
        met: list[str] = []
        if self.assessment is not None:
            met.extend(f.criterion.value for f in self.assessment.findings if f.met)
        if self.repeat:
            met.append("repeat")
        return tuple(met)

    @property
    def child_safeguarding_required(self) -> bool:
        """True when an assessment of this round found children in the household."""
        return any(a.children_in_household for a in self.assessments)

    def outcome(self, action_id: str) -> ActionOutcome | None:
        """The latest review outcome of an action (``None``: not reviewed yet)."""
        for review in reversed(self.reviews):
            if review.action_id == action_id:
                return review.outcome
        return None

    @property
    def open_actions(self) -> tuple[MaracAction, ...]:
        """Actions with no final outcome yet (never reviewed, or still in progress)."""
        return tuple(
            a for a in self.actions if (o := self.outcome(a.action_id)) is None or not o.final
        )

    @property
    def last_conference(self) -> ConferenceHeld | None:
        return self.conferences[-1] if self.conferences else None


@attrs.frozen(kw_only=True)
class MaracFile:
    """What a MARAC case holds beyond the common case fields.

    ``area`` names the MARAC (its configuration: :meth:`tuko_flow.TukoConfig.marac_for`);
    ``victim_ref`` and ``perpetrator_ref`` the two people it is about; ``linked_case`` the
    TUKO case it was raised from. ``rounds`` are oldest first; the last is the current one.
    """

    area: str
    victim_ref: str
    perpetrator_ref: str
    linked_case: str | None
    rounds: tuple[MaracRound, ...]
    advocate: AdvocateOffered | None = None
    shared: tuple[MaracInformationShared, ...] = ()

    @property
    def current(self) -> MaracRound:
        """The current round."""
        return self.rounds[-1]

    def recent_incidents(self, today: date, window_days: int) -> int:
        """How many reported incidents (any round) happened in the ``window_days`` to ``today``."""
        return sum(
            1
            for r in self.rounds
            for i in r.incidents
            if 0 <= (today - i.occurred_on).days <= window_days
        )

    def criteria(self, thresholds: Thresholds, today: date) -> tuple[str, ...]:
        """The referral criteria the current round meets on ``today``: its latest
        assessment's, potential escalation counted from the incidents reported to the case
        (``thresholds.escalation_incidents`` within ``escalation_window_days``), and repeat."""
        own = self.current.criteria_met  # the assessment's criteria, then repeat
        escalation = "potential_escalation"
        if escalation in own or (
            self.recent_incidents(today, thresholds.escalation_window_days)
            < thresholds.escalation_incidents
        ):
            return own
        assessed = tuple(c for c in own if c != "repeat")
        return (*assessed, escalation, *own[len(assessed) :])

    @property
    def last_referral_at(self) -> datetime | None:
        """When the case was last referred to MARAC (any round), or ``None``.

        A referral the coordinator returned does not count: the case never went to the
        MARAC, so no repeat window runs from it.
        """
        for r in reversed(self.rounds):
            if r.referral is not None and r.returned is None:
                return r.referral.occurred_at
        return None

    @property
    def last_discussion_at(self) -> datetime | None:
        """When a conference last discussed the case (any round, review conferences
        included), or ``None``."""
        for r in reversed(self.rounds):
            if r.conferences:
                return r.conferences[-1].held_at
        return None
