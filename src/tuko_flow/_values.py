"""Domain values: who acts, who is in the network, who is at risk, what was recorded.

Values are frozen attrs classes validated where they enter: building one with bad data
raises :class:`~tuko_flow.errors.ValidationError` listing every bad field. Identifiers
are pseudonymous references chosen by the host application (``"client-0042"``), never
names: tuko_flow has no field for a person's name and logs no free text at info level.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs

from .errors import FieldProblem, ValidationError

__all__ = ["FieldProblem", "Problems"]

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
REF_RULE = "1-64 characters: letters, digits, '.', '_', ':' or '-', starting with a letter or digit"


class Problems:
    """Collects field problems so that a caller sees every problem at once."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field: str, problem: str, allowed: str | None = None) -> None:
        self.items.append(FieldProblem(field, problem, allowed))

    def ref(self, field: str, value: object) -> None:
        if not isinstance(value, str) or not _REF.fullmatch(value):
            self.add(field, f"{value!r} is not a valid reference", REF_RULE)

    def text(self, field: str, value: object, *, max_len: int = 10_000) -> None:
        if not isinstance(value, str) or not value.strip():
            self.add(field, "must be non-empty text", "any text of 1 to 10000 characters")
        elif len(value) > max_len:
            self.add(field, f"is {len(value)} characters long", f"at most {max_len} characters")

    def aware(self, field: str, value: object) -> None:
        if not isinstance(value, datetime):
            self.add(field, f"{value!r} is not a datetime", "a timezone-aware datetime")
        elif value.tzinfo is None or value.utcoffset() is None:
            self.add(field, "is a naive datetime", "a timezone-aware datetime")

    def member(self, field: str, value: object, enum_type: type[enum.Enum]) -> None:
        if not isinstance(value, enum_type):
            allowed = ", ".join(repr(m.value) for m in enum_type)
            self.add(field, f"{value!r} is not one of the {enum_type.__name__} values", allowed)

    def sequence(self, field: str, value: object, what: str) -> bool:
        """``value`` must be a list (converted to a tuple); True when it is."""
        if isinstance(value, tuple):
            return True
        kind = "one text" if isinstance(value, str) else repr(value)
        self.add(field, f"is {kind}, not a list", f"a list of {what}")
        return False

    def raise_if_any(self, subject: str, case_id: str | None = None) -> None:
        if self.items:
            raise ValidationError(self.items, subject=subject, case_id=case_id)


def _coerce(enum_type: type[enum.Enum], value: object) -> object:
    """Accept the enum or its value; anything else is left for validation to report."""
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(value)
    except ValueError:
        return value


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """attrs converter for list fields: any iterable becomes a tuple.

    A single text (or anything that is not a collection) is left as it is, so validation
    reports it as "one text, not a list" instead of splitting it into letters.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value  # type: ignore[return-value]  # reported by Problems.sequence
    return tuple(value)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return _to_tuple(value)


class Relation(enum.StrEnum):
    """How a person at risk relates to the probation client."""

    VICTIM = "victim"
    CHILD = "child"
    OTHER = "other"


class Classification(enum.StrEnum):
    """How widely a recorded piece of information may travel.

    * ``network``: any member of the case's network may see it.
    * ``need_to_know``: only members who need it for their task.
    * ``victim_confidential``: given by or about the victim in confidence; it must never
      reach the client (WWP recommendations, seed 002: "never telling the perpetrator what
      the victim's support service shared").
    """

    NETWORK = "network"
    NEED_TO_KNOW = "need_to_know"
    VICTIM_CONFIDENTIAL = "victim_confidential"


class HarmProbability(enum.StrEnum):
    """The common assessment's answer to "probability of damage to someone's health or life"."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class TaskStatus(enum.StrEnum):
    """Progress of a risk-reduction plan task."""

    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"


def _relation(value: Any) -> Any:
    return _coerce(Relation, value)


def _classification(value: Any) -> Any:
    return _coerce(Classification, value)


def _harm(value: Any) -> Any:
    return _coerce(HarmProbability, value)


def _task_status(value: Any) -> Any:
    return _coerce(TaskStatus, value)


@attrs.frozen
class Actor:
    """Who issues a command: the agency and a pseudonymous staff reference."""

    agency: str
    person: str

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("agency", self.agency)
        p.ref("person", self.person)
        p.raise_if_any("Actor")


@attrs.frozen
class Client:
    """The probation client, by a pseudonymous reference."""

    ref: str

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("ref", self.ref)
        p.raise_if_any("Client")


@attrs.frozen(kw_only=True)
class PersonAtRisk:
    """A victim, a child or another person at risk from the client."""

    ref: str
    relation: Relation = attrs.field(converter=_relation)
    lives_with_client: bool = False

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("ref", self.ref)
        p.member("relation", self.relation, Relation)
        if not isinstance(self.lives_with_client, bool):
            p.add("lives_with_client", f"{self.lives_with_client!r} is not a bool", "True or False")
        p.raise_if_any("PersonAtRisk")


@attrs.frozen(kw_only=True)
class NetworkMember:
    """A member of the network tailored to the case.

    ``agency`` is one of the configured agencies (see :class:`tuko_flow.TukoConfig`);
    ``person`` is a pseudonymous staff reference. The probation officer is the
    **case leader** (seed 000: "Probation officer (case leader)").
    """

    member_id: str
    agency: str
    person: str
    case_leader: bool = False

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("member_id", self.member_id)
        p.ref("agency", self.agency)
        p.ref("person", self.person)
        if not isinstance(self.case_leader, bool):
            p.add("case_leader", f"{self.case_leader!r} is not a bool", "True or False")
        p.raise_if_any("NetworkMember")

    def acts_as(self, actor: Actor) -> bool:
        """True when ``actor`` is this member (same agency and person)."""
        return self.agency == actor.agency and self.person == actor.person


@attrs.frozen(kw_only=True)
class Information:
    """A recorded piece of information: the text, its source agency and its classification."""

    text: str
    source_agency: str
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.text("text", self.text)
        p.ref("source_agency", self.source_agency)
        p.member("classification", self.classification, Classification)
        p.raise_if_any("Information")


#: The six questions of the common assessment, as the seed words them (seed 000, Stage 2).
ASSESSMENT_QUESTIONS: dict[str, str] = {
    "who_is_under_threat": "Who is in threat?",
    "probability_of_harm": "What is the probability of damage to someone's health or life?",
    "threat_and_conditions": (
        "What is the threat about? In which conditions it is more likely present itself?"
    ),
    "risk_modifiers": "What can increase or decrease the risk?",
    "client_needs_and_motivation": (
        "What are the needs and motivation of the client? What motivates the client?"
    ),
    "protective_factors": "What are the known protective factors?",
}


@attrs.frozen(kw_only=True)
class CommonAssessment:
    """The network's common assessment: an answer to each of the seed's six questions.

    Every answer is required; a missing one is reported with the seed's question.
    """

    who_is_under_threat: str = ""
    probability_of_harm: HarmProbability | None = attrs.field(default=None, converter=_harm)
    threat_and_conditions: str = ""
    risk_modifiers: str = ""
    client_needs_and_motivation: str = ""
    protective_factors: str = ""
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )

    def __attrs_post_init__(self) -> None:
        p = Problems()
        for name, question in ASSESSMENT_QUESTIONS.items():
            value = getattr(self, name)
            if name == "probability_of_harm":
                if value is None:
                    p.add(
                        name,
                        f"no answer to {question!r}",
                        ", ".join(m.value for m in HarmProbability),
                    )
                else:
                    p.member(name, value, HarmProbability)
            elif not isinstance(value, str) or not value.strip():
                p.add(name, f"no answer to {question!r}", "a non-empty answer")
        p.member("classification", self.classification, Classification)
        p.raise_if_any("CommonAssessment")


@attrs.frozen(kw_only=True)
class PlanTask:
    """A task of the risk-reduction plan, owned by one network member."""

    task_id: str
    description: str
    area: str
    owner: str
    due_on: date

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("task_id", self.task_id)
        p.text("description", self.description, max_len=2_000)
        p.ref("area", self.area)
        p.ref("owner", self.owner)
        if not isinstance(self.due_on, date) or isinstance(self.due_on, datetime):
            p.add("due_on", f"{self.due_on!r} is not a date", "a datetime.date")
        p.raise_if_any("PlanTask")
