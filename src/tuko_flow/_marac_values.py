"""Values of the MARAC protocol and of consent-based referrals, validated where they enter.

* :class:`MaracAction` — one action of a MARAC action plan, owned by one agency.
* :class:`ActionReview`, :class:`ActionOutcome` — what the next conference found for an
  action: done, prevented by circumstances, not done, or still in progress.
* :class:`VictimNotice` — whether it was safe to tell the victim about the referral, and
  how they were told.
* :class:`Consent`, :class:`Service` — consent to a referral to a service: who gave it,
  when, for what.
* :class:`AnswerRecord` — one DASH answer as it is kept in a case's history.

As everywhere in tuko_flow, people are pseudonymous references, never names.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import attrs

from ._values import Problems, _coerce


class Service(enum.StrEnum):
    """The services a person can be referred to (seed 001, TACTICS "Data", vi-viii).

    * ``victim_support``: the victim's contact details go to victim support — with the
      victim's consent.
    * ``perpetrator_services``: the perpetrator's details go to a perpetrator programme —
      with the perpetrator's consent ("At this stage, it is a voluntary service").
    * ``social_work``: information goes to the social worker — with the victim's consent.
    * ``child_welfare``: when children are involved, the case goes to the child-welfare
      specialist without asking consent, on a legal basis.
    """

    VICTIM_SUPPORT = "victim_support"
    PERPETRATOR_SERVICES = "perpetrator_services"
    SOCIAL_WORK = "social_work"
    CHILD_WELFARE = "child_welfare"


class ActionOutcome(enum.StrEnum):
    """What a review conference found for one MARAC action.

    The minutes separate actions that circumstances prevented from actions the agency
    did not do (shared/DOMAIN.md, "MARAC process"). ``in_progress`` carries the action to
    the next conference.
    """

    DONE = "done"
    PREVENTED = "prevented"
    NOT_DONE = "not_done"
    IN_PROGRESS = "in_progress"

    @property
    def final(self) -> bool:
        """True when the action needs no further review."""
        return self is not ActionOutcome.IN_PROGRESS


class RepeatAnchor(enum.StrEnum):
    """From when the repeat window is counted: the last referral, or the last discussion."""

    LAST_REFERRAL = "last_referral"
    LAST_DISCUSSION = "last_discussion"


def _service(value: Any) -> Any:
    return _coerce(Service, value)


def _outcome(value: Any) -> Any:
    return _coerce(ActionOutcome, value)


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


@attrs.frozen(kw_only=True)
class MaracAction:
    """One action of a MARAC action plan.

    ``agency`` owns it and keeps the responsibility: it never passes to the MARAC
    (shared/DOMAIN.md: "Each action belongs to one agency; responsibility never passes to
    the MARAC"). ``area`` is a task area of the competence table, so a TUKO network can
    take the action into its risk-reduction plan; ``due_on`` is when it is due.
    """

    action_id: str
    agency: str
    description: str
    area: str
    due_on: date

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("action_id", self.action_id)
        p.ref("agency", self.agency)
        p.text("description", self.description, max_len=2_000)
        p.ref("area", self.area)
        if not _is_date(self.due_on):
            p.add("due_on", f"{self.due_on!r} is not a date", "a datetime.date")
        p.raise_if_any("MaracAction")


@attrs.frozen(kw_only=True)
class ActionReview:
    """A review conference's finding for one action (``note`` is optional free text)."""

    action_id: str
    outcome: ActionOutcome = attrs.field(converter=_outcome)
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("action_id", self.action_id)
        p.member("outcome", self.outcome, ActionOutcome)
        if self.note is not None:
            p.text("note", self.note, max_len=2_000)
        p.raise_if_any("ActionReview")


@attrs.frozen(kw_only=True)
class VictimNotice:
    """How the referring agency told the victim about the MARAC referral — or why it did not.

    ``safe``: whether it was safe to tell the victim. When it was, ``how`` says how they
    were told (say, "in person, at the police station, without the perpetrator present");
    when it was not, ``reason`` says why. ``perpetrator_aware`` records whether the
    perpetrator knows help was sought (``None``: unknown), which decides how a victim can
    safely be contacted.
    """

    safe: bool
    how: str | None = None
    reason: str | None = None
    perpetrator_aware: bool | None = None

    def __attrs_post_init__(self) -> None:
        p = Problems()
        if not isinstance(self.safe, bool):
            p.add("safe", f"{self.safe!r} is not a bool", "True or False")
        elif self.safe:
            if self.how is None:
                p.add("how", "is missing: the victim was told, so say how", "non-empty text")
            else:
                p.text("how", self.how, max_len=2_000)
        elif self.reason is None:
            p.add(
                "reason",
                "is missing: it was not safe to tell the victim, so say why",
                "non-empty text",
            )
        else:
            p.text("reason", self.reason, max_len=2_000)
        if self.perpetrator_aware is not None and not isinstance(self.perpetrator_aware, bool):
            p.add(
                "perpetrator_aware",
                f"{self.perpetrator_aware!r} is not a bool",
                "True, False or None",
            )
        p.raise_if_any("VictimNotice")


@attrs.frozen(kw_only=True)
class Consent:
    """A person's consent to a referral: who gave it, when, and for what.

    ``given_by`` is the pseudonymous reference of the person who consented (the victim,
    or the perpetrator for perpetrator services); ``purpose`` says what the consent
    covers (say, "pass contact details to victim support"). ``granted=False`` records a
    refusal: the referral is then refused.
    """

    given_by: str
    given_at: datetime
    purpose: str
    granted: bool = True

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("given_by", self.given_by)
        p.aware("given_at", self.given_at)
        p.text("purpose", self.purpose, max_len=2_000)
        if not isinstance(self.granted, bool):
            p.add("granted", f"{self.granted!r} is not a bool", "True or False")
        p.raise_if_any("Consent")


@attrs.frozen(kw_only=True)
class ActionLeftOut:
    """A MARAC action a TUKO case did not take into its plan, and why."""

    action_id: str
    reason: str


@attrs.frozen(kw_only=True)
class AnswerRecord:
    """One checklist answer as kept in the case's history: the question id, the value,
    who asked (``"agency/person"`` or a staff reference) and when, and the source when it
    was not the victim."""

    question: str
    value: str
    asked_by: str
    asked_at: datetime
    source: str | None = None
