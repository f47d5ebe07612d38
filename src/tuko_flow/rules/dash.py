"""Risk checklists as versioned, pluggable instruments, and the MARAC referral criteria.

Seed 001 ("Legal framework"): "Whether a case is high-risk and falls under the MARAC model
is decided by a DASH risk assessment. The risk assessment can be carried out by any
relevant professional who will forward the results to the Victim Support Unit."

* :class:`Question`, :class:`Instrument` — a checklist version is **data**: another
  version or another instrument (the police DASH, DARA, a national variant) is a new
  :class:`Instrument` value, built in code or loaded with :meth:`Instrument.from_dict`,
  never a code change. :data:`SAFELIVES_DASH` is the 24-question SafeLives checklist.
* :class:`AnswerValue`, :class:`Answer`, :func:`answers_from` — one answer (yes / no /
  don't know) with who gave it, who asked and when, and the instrument it was asked from.
* :class:`Checklist` — a completed checklist for one adult victim.
* :class:`Thresholds` — the referral thresholds; they vary between areas, so they are
  configuration with SafeLives' recommendations as defaults.
* :func:`score` — the pure, deterministic scoring: a :class:`RiskResult` with the yes
  count, a :class:`Finding` for each :class:`Criterion` (met or not, and why), whether the
  case is high risk, and whether a separate child-safeguarding referral is required.

The repeat criterion (a new incident within 12 months of the last MARAC referral) depends
on the MARAC history, not on a checklist, so it is not decided here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .._values import Actor, Problems
from ..errors import ConfigurationError, ValidationError

__all__ = [
    "SAFELIVES_DASH",
    "Answer",
    "AnswerValue",
    "Checklist",
    "Criterion",
    "Finding",
    "Instrument",
    "Question",
    "RiskResult",
    "Thresholds",
    "answers_from",
    "score",
]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- instruments ------------------------------------------------------------------------


@attrs.frozen
class Question:
    """One question of an instrument: a stable ``id`` (``"q1"``), a short ``topic``, the ``text``.

    Answers refer to questions by ``id``, so ids never change within an instrument version.
    """

    id: str
    topic: str
    text: str

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("id", self.id)
        p.text("topic", self.topic, max_len=200)
        p.text("text", self.text, max_len=2_000)
        p.raise_if_any("Question")


def _tuple(value: Any) -> Any:
    """Lists and other iterables become tuples; strings and non-iterables are left to report."""
    if isinstance(value, str | bytes | Mapping):
        return value
    try:
        return tuple(value)
    except TypeError:
        return value


def _question_problems(p: Problems, questions: object) -> None:
    """Problems with an instrument's questions: not a list, empty, not questions, dupes."""
    if not isinstance(questions, tuple):
        p.add("questions", f"{questions!r} is not a list of questions", "a non-empty list")
        return
    if not questions:
        p.add("questions", "has no questions", "at least one question")
    for i, q in enumerate(questions):
        if not isinstance(q, Question):
            p.add(f"questions[{i}]", f"{q!r} is not a Question", "a Question(id, topic, text)")
    ids = [q.id for q in questions if isinstance(q, Question)]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        p.add("questions", f"question ids used twice: {', '.join(dupes)}", "unique ids")


_INSTRUMENT_KEYS = ("name", "version", "questions", "source")
_QUESTION_KEYS = ("id", "topic", "text")


@attrs.frozen(kw_only=True)
class Instrument:
    """A risk checklist version: its ``name``, ``version`` and ``questions``, as data.

    Each question is answered yes, no or don't know; the score is the number of yes
    answers. ``source`` says where the questions come from and how sure that is. An
    instrument is checked when it is built: valid name and version references, at least
    one question, every question id unique. A different version of the same checklist is
    a different ``Instrument`` with the same ``name``; answers record the name and version
    they were asked from, so they cannot be scored against another version by mistake.
    """

    name: str
    version: str
    questions: tuple[Question, ...] = attrs.field(converter=_tuple)
    source: str = ""
    _ids: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False, default=())

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.ref("name", self.name)
        p.ref("version", self.version)
        _question_problems(p, self.questions)
        if not isinstance(self.source, str):
            p.add("source", f"{self.source!r} is not text", "any text, or empty")
        p.raise_if_any("Instrument")
        # frozen, so the ids never change: computed once (scoring reads them every time)
        object.__setattr__(self, "_ids", tuple(q.id for q in self.questions))

    @property
    def ids(self) -> tuple[str, ...]:
        """The question ids, in order."""
        return self._ids

    @property
    def label(self) -> str:
        """``name version``, as used in messages (``"safelives-dash 2009"``)."""
        return f"{self.name} {self.version}"

    def question(self, question_id: str) -> Question:
        """The question with this id; :class:`KeyError` when the instrument has none."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"{self.label} has no question {question_id!r}")

    def to_dict(self) -> dict[str, Any]:
        """The instrument as plain data (JSON/TOML-ready); :meth:`from_dict` reads it back."""
        return {
            "name": self.name,
            "version": self.version,
            "questions": [{"id": q.id, "topic": q.topic, "text": q.text} for q in self.questions],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instrument:
        """Build an instrument from plain data (parsed JSON or TOML).

        ``{"name": ..., "version": ..., "questions": [{"id", "topic", "text"}, ...],
        "source": ...}`` (``source`` optional). Raises
        :class:`~tuko_flow.errors.ValidationError` naming every problem at once, with
        fields such as ``questions[3].id``.
        """
        p = Problems()
        if not isinstance(data, Mapping):
            p.add("instrument", f"{data!r} is not a mapping", "a mapping of name, version, ...")
            p.raise_if_any("Instrument")
        for key in sorted(set(data) - set(_INSTRUMENT_KEYS), key=str):
            p.add(str(key), "is not a known key", ", ".join(_INSTRUMENT_KEYS))
        for key in ("name", "version"):
            if key in data:
                p.ref(key, data[key])
            else:
                p.add(key, "is required but missing")
        raw = data.get("questions")
        items: tuple[Any, ...] = ()
        listed = False
        if raw is None:
            p.add("questions", "is required but missing", "a non-empty list of questions")
        elif isinstance(raw, str | bytes | Mapping) or not hasattr(raw, "__iter__"):
            p.add("questions", f"{raw!r} is not a list of questions", "a list of mappings")
        else:
            items, listed = tuple(raw), True
        questions: list[Question] = []
        for i, item in enumerate(items):
            where = f"questions[{i}]"
            if not isinstance(item, Mapping):
                p.add(where, f"{item!r} is not a mapping", "a mapping of id, topic, text")
                continue
            for key in sorted(set(item) - set(_QUESTION_KEYS), key=str):
                p.add(f"{where}.{key}", "is not a known key", ", ".join(_QUESTION_KEYS))
            missing = [k for k in _QUESTION_KEYS if k not in item]
            for key in missing:
                p.add(f"{where}.{key}", "is required but missing")
            if missing:
                continue
            try:
                questions.append(Question(item["id"], item["topic"], item["text"]))
            except ValidationError as exc:
                for fp in exc.problems:
                    p.add(f"{where}.{fp.field}", fp.problem, fp.allowed)
        # When every question was bad, each was reported above: "has no questions" would mislead.
        if listed and (questions or not items):
            _question_problems(p, tuple(questions))
        source = data.get("source", "")
        if not isinstance(source, str):
            p.add("source", f"{source!r} is not text", "any text, or empty")
        p.raise_if_any("Instrument")
        return cls(name=data["name"], version=data["version"], questions=questions, source=source)


_DASH_TOPICS: tuple[tuple[str, str], ...] = (
    ("current injury", "Did the current incident leave the victim injured?"),
    ("very frightened", "Is the victim very frightened?"),
    (
        "what the victim fears",
        "Is the victim afraid of what may happen next: further injury, being killed, "
        "or harm to children or others?",
    ),
    ("isolation", "Does the victim feel cut off from family or friends?"),
    ("depression or suicidal thoughts", "Is the victim depressed or having suicidal thoughts?"),
    ("separation", "Has the victim separated, or tried to separate, in the past year?"),
    ("child contact conflict", "Is there conflict over contact with the children?"),
    (
        "stalking",
        "Does the abuser keep texting, calling, following or stalking the victim? "
        "(A yes leads to the supplementary stalking questions.)",
    ),
    ("pregnancy or new baby", "Is the victim pregnant, or was there a baby in the last 18 months?"),
    ("more frequent", "Is the abuse happening more often?"),
    ("getting worse", "Is the abuse getting worse?"),
    ("control or jealousy", "Is the abuser controlling or excessively jealous?"),
    ("weapons or objects", "Has the abuser used weapons or objects to hurt the victim?"),
    ("threats to kill", "Has the abuser threatened to kill, and does the victim believe it?"),
    (
        "strangling or choking",
        "Has the abuser strangled, choked, suffocated or drowned the victim?",
    ),
    ("sexual abuse", "Does the abuser do or say sexual things that hurt or frighten the victim?"),
    ("other threatening person", "Is another person threatening the victim?"),
    (
        "hurt others",
        "Has the abuser hurt anyone else: children, other family, a previous partner?",
    ),
    ("animal abuse", "Has the abuser mistreated an animal or a pet?"),
    ("financial issues", "Are there financial issues, or is the victim financially dependent?"),
    (
        "drugs, alcohol or mental health",
        "Has the abuser had problems with drugs, alcohol or mental health in the past year?",
    ),
    ("abuser suicidal", "Has the abuser threatened or attempted suicide?"),
    (
        "breach of bail or orders",
        "Has the abuser breached bail, an injunction or a contact agreement?",
    ),
    ("criminal history", "Does the abuser have a criminal history?"),
)

#: The SafeLives DASH risk identification checklist for partner agencies: 24 questions
#: ``q1``..``q24``, each answered yes / no / don't know; the score is the number of yes.
#:
#: **The wording is paraphrased and unverified.** Topics and order follow the domain notes
#: (``shared/DOMAIN.md``); the question texts are short paraphrases, not SafeLives'
#: wording, and the version label ``"2009"`` was seen only in secondary copies. Replace
#: this value (it is data) with a verified copy before the texts are shown to victims.
SAFELIVES_DASH: Instrument = Instrument(
    name="safelives-dash",
    version="2009",
    questions=tuple(
        Question(f"q{n}", topic, text) for n, (topic, text) in enumerate(_DASH_TOPICS, start=1)
    ),
    source=(
        "SafeLives DASH risk identification checklist (partner agencies), 24 questions; "
        "topics paraphrased from shared/DOMAIN.md; exact wording and version unverified"
    ),
)


# --- answers ----------------------------------------------------------------------------


class AnswerValue(enum.StrEnum):
    """An answer to a checklist question. Don't know is an answer, and not a yes."""

    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"


def _answer_value(value: Any) -> Any:
    if isinstance(value, AnswerValue):
        return value
    try:
        return AnswerValue(value)
    except ValueError:
        return value


@attrs.frozen
class Answer:
    """One answer: the ``value``, the ``instrument`` and ``version`` it was asked from,
    who gave it, who asked and when.

    ``source`` is a pseudonymous reference to whoever gave the answer when it was not the
    victim (a police record, another agency); ``None`` means the victim answered.
    ``asked_by`` is an :class:`~tuko_flow.Actor` or a pseudonymous staff reference;
    ``asked_at`` is a timezone-aware datetime.
    """

    value: AnswerValue = attrs.field(converter=_answer_value)
    instrument: str = attrs.field(kw_only=True)
    version: str = attrs.field(kw_only=True)
    asked_by: Actor | str = attrs.field(kw_only=True)
    asked_at: datetime = attrs.field(kw_only=True)
    source: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        p = Problems()
        p.member("value", self.value, AnswerValue)
        p.ref("instrument", self.instrument)
        p.ref("version", self.version)
        if not isinstance(self.asked_by, Actor):
            p.ref("asked_by", self.asked_by)
        p.aware("asked_at", self.asked_at)
        if self.source is not None:
            p.ref("source", self.source)
        p.raise_if_any("Answer")

    @property
    def by_victim(self) -> bool:
        """True when the victim gave the answer (no other ``source`` is recorded)."""
        return self.source is None


def answers_from(
    values: Mapping[str, AnswerValue | str],
    *,
    instrument: Instrument,
    asked_by: Actor | str,
    asked_at: datetime,
    source: str | None = None,
) -> dict[str, Answer]:
    """Answers given at one sitting: question id -> value, all asked by ``asked_by`` at
    ``asked_at`` from ``instrument``.

    Raises one :class:`~tuko_flow.errors.ValidationError` listing every bad answer (fields
    such as ``answers['q3'].value``). Whether the ids belong to the instrument and whether
    every question is answered is checked by :class:`Checklist`.
    """
    p = Problems()
    out: dict[str, Answer] = {}
    if not isinstance(values, Mapping):
        p.add("answers", f"{values!r} is not a mapping", "a mapping of question id to answer")
        p.raise_if_any("Answers")
    for qid, value in values.items():
        try:
            out[qid] = Answer(
                value,
                instrument=instrument.name,
                version=instrument.version,
                asked_by=asked_by,
                asked_at=asked_at,
                source=source,
            )
        except ValidationError as exc:
            for fp in exc.problems:
                p.add(f"answers[{qid!r}].{fp.field}", fp.problem, fp.allowed)
    p.raise_if_any("Answers")
    return out


# --- the checklist ----------------------------------------------------------------------


def _mapping(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value


def _ids(ids: list[str]) -> str:
    return ", ".join(ids)


@attrs.frozen(kw_only=True)
class Checklist:
    """A completed checklist for one adult victim.

    * ``instrument``: the :class:`Instrument` asked; ``answers``: question id ->
      :class:`Answer`, one for **every** question of the instrument, each asked from this
      instrument's name and version.
    * ``victim_ref``: the victim's pseudonymous reference.
    * ``children_in_household``: children live in the household (the checklist is for
      adults; children need their own child-safeguarding referral).
    * ``incidents`` and ``incidents_window_days``: how many incidents there were in the
      period before the assessment, and how long that period is (365 days: "the last 12
      months"). Scoring requires the period to be the one the escalation criterion counts.
    * ``professional_judgement``: ``None``, or the written reasons why a professional
      judges the case high risk. Judgement without written reasons is not accepted.
    * ``other_information``: the free text recorded after the questions, or ``None``.

    Building one with problems raises :class:`~tuko_flow.errors.ValidationError` listing
    them all: missing answers, unknown question ids, answers from another instrument or
    version, negative counts, judgement without reasons.
    """

    instrument: Instrument
    answers: dict[str, Answer] = attrs.field(converter=_mapping, hash=False)
    victim_ref: str
    children_in_household: bool
    incidents: int
    incidents_window_days: int = 365
    professional_judgement: str | None = None
    other_information: str | None = None

    def __attrs_post_init__(self) -> None:
        p = Problems()
        self._answer_problems(p)
        p.ref("victim_ref", self.victim_ref)
        if not isinstance(self.children_in_household, bool):
            p.add(
                "children_in_household",
                f"{self.children_in_household!r} is not a bool",
                "True or False",
            )
        if not _is_int(self.incidents) or self.incidents < 0:
            p.add("incidents", f"{self.incidents!r} is not a count", "a whole number >= 0")
        if not _is_int(self.incidents_window_days) or self.incidents_window_days < 1:
            p.add(
                "incidents_window_days",
                f"{self.incidents_window_days!r} is not a number of days",
                "a whole number >= 1",
            )
        if self.professional_judgement is not None and (
            not isinstance(self.professional_judgement, str)
            or not self.professional_judgement.strip()
        ):
            p.add(
                "professional_judgement",
                "professional judgement was given without written reasons",
                "the written reasons (non-empty text), or None when no judgement is made",
            )
        elif self.professional_judgement is not None:
            p.text("professional_judgement", self.professional_judgement)
        if self.other_information is not None:
            p.text("other_information", self.other_information)
        p.raise_if_any("Checklist")

    def _answer_problems(self, p: Problems) -> None:
        instrument = self.instrument
        if not isinstance(instrument, Instrument):
            p.add("instrument", f"{instrument!r} is not an Instrument", "an Instrument")
        if not isinstance(self.answers, dict):
            p.add("answers", f"{self.answers!r} is not a mapping", "question id -> Answer")
            return
        for qid, answer in self.answers.items():
            if not isinstance(answer, Answer):
                p.add(f"answers[{qid!r}]", f"{answer!r} is not an Answer", "an Answer")
        if not isinstance(instrument, Instrument):
            return
        known = instrument.ids
        allowed = f"the question ids of {instrument.label}: {_ids(list(known))}"
        unknown = [repr(q) for q in self.answers if q not in known]
        if unknown:
            p.add("answers", f"unknown question ids: {_ids(unknown)}", allowed)
        missing = [q for q in known if q not in self.answers]
        if missing:
            p.add(
                "answers",
                f"no answer to {_ids(missing)} ({len(missing)} of {len(known)} questions "
                "unanswered): the checklist is incomplete",
                "an answer to every question: yes, no or dont_know",
            )
        other: dict[tuple[str, str], list[str]] = {}
        for qid, answer in self.answers.items():
            if not isinstance(answer, Answer):
                continue
            if (answer.instrument, answer.version) != (instrument.name, instrument.version):
                other.setdefault((answer.instrument, answer.version), []).append(str(qid))
        for (name, version), qids in sorted(other.items()):
            p.add(
                "answers",
                f"{_ids(qids)} answered from {name} {version}, not from {instrument.label}",
                f"answers asked from {instrument.label}",
            )

    def count(self, value: AnswerValue) -> int:
        """How many answers are ``value``."""
        return sum(1 for a in self.answers.values() if a.value is value)


# --- thresholds -------------------------------------------------------------------------

_THRESHOLD_KEYS = ("visible_high_risk", "escalation_incidents", "escalation_window_days")


@attrs.frozen(kw_only=True)
class Thresholds:
    """The MARAC referral thresholds: configuration, because they vary between areas.

    * ``visible_high_risk``: this many yes answers or more is visible high risk
      (SafeLives: 14 of the 24 DASH questions; Estonia's threshold is unverified).
    * ``escalation_incidents`` within ``escalation_window_days``: potential escalation
      (SafeLives recommends 3 incidents in 12 months; some areas use 5 police call-outs in
      12 months, or 3 in 6 months).

    Every value must be a whole number >= 1; otherwise
    :class:`~tuko_flow.errors.ConfigurationError` lists every bad value.
    """

    visible_high_risk: int = 14
    escalation_incidents: int = 3
    escalation_window_days: int = 365

    def __attrs_post_init__(self) -> None:
        problems = [
            f"thresholds: {key} is {getattr(self, key)!r}; it must be a whole number >= 1"
            for key in _THRESHOLD_KEYS
            if not _is_int(getattr(self, key)) or getattr(self, key) < 1
        ]
        if problems:
            raise ConfigurationError(problems)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        """Thresholds from plain data; keys left out keep their defaults.

        Unknown keys and bad values are reported together in one
        :class:`~tuko_flow.errors.ConfigurationError`.
        """
        problems = [
            f"thresholds: {key!r} is not a known key (allowed: {', '.join(_THRESHOLD_KEYS)})"
            for key in sorted(set(data) - set(_THRESHOLD_KEYS), key=str)
        ]
        known = {k: v for k, v in data.items() if k in _THRESHOLD_KEYS}
        try:
            made = cls(**known)
        except ConfigurationError as exc:
            problems.extend(exc.problems)
        if problems:
            raise ConfigurationError(problems)
        return made


#: SafeLives' recommended thresholds, shared by every call of :func:`score` given none.
_DEFAULT_THRESHOLDS = Thresholds()

# --- scoring ----------------------------------------------------------------------------


class Criterion(enum.StrEnum):
    """The MARAC referral criteria a checklist can meet (SafeLives).

    The fourth, *repeat*, depends on the MARAC history and is decided with it.
    """

    VISIBLE_HIGH_RISK = "visible_high_risk"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"
    POTENTIAL_ESCALATION = "potential_escalation"


@attrs.frozen
class Finding:
    """One criterion, whether it was met, and the plain-language reason why (or why not)."""

    criterion: Criterion
    met: bool
    reason: str

    def __str__(self) -> str:
        return f"{self.criterion.value}: {self.reason}"


#: Why a child-safeguarding referral is separate (shared/DOMAIN.md).
_CHILD_SAFEGUARDING = (
    "Children live in the household: a separate child-safeguarding referral is required "
    "(the checklist is for adult victims, and MARAC never replaces child protection)."
)


@attrs.frozen(kw_only=True)
class RiskResult:
    """What :func:`score` found for one checklist.

    ``findings`` holds one :class:`Finding` per :class:`Criterion`, in that order;
    ``criteria_met`` only those met. ``high_risk`` is true when any criterion is met: the
    case should be referred to MARAC. ``child_safeguarding_referral_required`` is true when
    children live in the household, whatever the risk level.
    """

    instrument: str
    version: str
    victim_ref: str
    question_count: int
    yes_count: int
    dont_know_count: int
    yes_questions: tuple[str, ...]
    findings: tuple[Finding, ...]
    child_safeguarding_referral_required: bool
    thresholds: Thresholds

    @property
    def criteria_met(self) -> tuple[Finding, ...]:
        """The criteria met, each with its reason."""
        return tuple(f for f in self.findings if f.met)

    @property
    def high_risk(self) -> bool:
        """True when at least one referral criterion is met: refer to MARAC."""
        return any(f.met for f in self.findings)

    def met(self, criterion: Criterion | str) -> bool:
        """True when ``criterion`` (a :class:`Criterion` or its name) is met."""
        return any(f.met and f.criterion == criterion for f in self.findings)

    def explain(self) -> str:
        """The result in plain words, for the people deciding on the referral."""
        verdict = (
            "high risk, refer to MARAC"
            if self.high_risk
            else "not high risk on this checklist (no MARAC referral criterion is met)"
        )
        lines = [
            f"{self.instrument} {self.version} for {self.victim_ref}: {verdict}.",
            f"{self.yes_count} of {self.question_count} answers are yes"
            + (f", {self.dont_know_count} don't know." if self.dont_know_count else "."),
        ]
        met = self.criteria_met
        unmet = tuple(f for f in self.findings if not f.met)
        if met:
            lines.append("Criteria met:")
            lines.extend(f"  - {f}" for f in met)
        if unmet:
            lines.append("Criteria not met:")
            lines.extend(f"  - {f}" for f in unmet)
        if self.child_safeguarding_referral_required:
            lines.append(_CHILD_SAFEGUARDING)
        return "\n".join(lines)


def score(checklist: Checklist, thresholds: Thresholds | None = None) -> RiskResult:
    """Score ``checklist`` against ``thresholds`` (SafeLives' defaults when ``None``).

    Pure and deterministic: the result depends only on the two arguments.

    * **visible high risk**: at least ``thresholds.visible_high_risk`` yes answers;
    * **professional judgement**: written reasons were given; allowed below the threshold,
      and it only ever adds a criterion, it never removes one;
    * **potential escalation**: at least ``thresholds.escalation_incidents`` incidents in
      ``thresholds.escalation_window_days`` days.

    Raises :class:`~tuko_flow.errors.ConfigurationError` when the visible-high-risk
    threshold is above the instrument's number of questions (it could never be met), and
    :class:`~tuko_flow.errors.ValidationError` when the checklist counts incidents over a
    different period than the escalation criterion.
    """
    t = _DEFAULT_THRESHOLDS if thresholds is None else thresholds
    instrument = checklist.instrument
    total = len(instrument.questions)
    if t.visible_high_risk > total:
        raise ConfigurationError(
            [
                f"thresholds: visible_high_risk is {t.visible_high_risk} but {instrument.label} "
                f"has {_plural(total, 'question')}; the criterion could never be met"
            ]
        )
    if checklist.incidents_window_days != t.escalation_window_days:
        p = Problems()
        p.add(
            "incidents_window_days",
            f"the checklist counts incidents over {checklist.incidents_window_days} days, but "
            f"the escalation criterion counts them over {t.escalation_window_days} days",
            f"a count over {t.escalation_window_days} days",
        )
        p.raise_if_any("Checklist")

    answers = checklist.answers
    values = [answers[q].value for q in instrument.ids]
    yes = tuple(q for q, v in zip(instrument.ids, values, strict=True) if v is AnswerValue.YES)
    yes_count = len(yes)
    dont_know = values.count(AnswerValue.DONT_KNOW)
    visible = yes_count >= t.visible_high_risk
    counted = f"{yes_count} of {total} answers are yes; the threshold is {t.visible_high_risk}"
    findings = [Finding(Criterion.VISIBLE_HIGH_RISK, visible, counted)]

    reasons = checklist.professional_judgement
    if reasons is None:
        findings.append(
            Finding(
                Criterion.PROFESSIONAL_JUDGEMENT, False, "no professional judgement was recorded"
            )
        )
    else:
        findings.append(
            Finding(
                Criterion.PROFESSIONAL_JUDGEMENT,
                True,
                f"a professional judged the case high risk, with written reasons: {reasons}",
            )
        )

    n = checklist.incidents
    window = t.escalation_window_days
    escalation = n >= t.escalation_incidents
    findings.append(
        Finding(
            Criterion.POTENTIAL_ESCALATION,
            escalation,
            f"{_plural(n, 'incident')} in the last {window} days; the threshold is "
            f"{_plural(t.escalation_incidents, 'incident')} in {window} days",
        )
    )
    return RiskResult(
        instrument=instrument.name,
        version=instrument.version,
        victim_ref=checklist.victim_ref,
        question_count=total,
        yes_count=yes_count,
        dont_know_count=dont_know,
        yes_questions=yes,
        findings=tuple(findings),
        child_safeguarding_referral_required=checklist.children_in_household,
        thresholds=t,
    )
