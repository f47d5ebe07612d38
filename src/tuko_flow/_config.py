"""Engine configuration: agencies, risk-need matrix, competence table, timeframes.

Everything an agency may want to tune is data here, loadable from a plain mapping
(JSON or TOML) with :meth:`TukoConfig.from_dict`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import cattrs

from ._marac_values import RepeatAnchor, Service
from .errors import ConfigurationError
from .rules._competence import CompetenceTable
from .rules._matrix import RiskNeedMatrix
from .rules.dash import Thresholds

#: The network the seed names (seed 000, "WHO?"): probation officer (case leader), prison
#: staff, local municipality, mental health, addiction and social workers, police, NGOs
#: (victim support, women's support centres), child protection, health, and the client
#: "whenever possible and safe".
DEFAULT_AGENCIES: tuple[str, ...] = (
    "probation",
    "prison",
    "municipality",
    "mental_health",
    "addiction_services",
    "social_work",
    "police",
    "victim_support",
    "womens_support_centre",
    "child_protection",
    "health",
    "ngo",
    "prosecutor",
    "perpetrator_services",
    "client",
)


def _names(value: Iterable[str]) -> tuple[str, ...]:
    """A list of names; a single string is refused (it would split into letters)."""
    if isinstance(value, str):
        raise ConfigurationError([f"{value!r} must be a list of agency names, not one string"])
    return tuple(str(v) for v in value)


def _config_problems(exc: BaseException) -> list[str]:
    """Every ConfigurationError problem inside a cattrs error group, plus the other errors."""
    found: list[str] = []
    others: list[BaseException] = []

    def walk(e: BaseException) -> None:
        if isinstance(e, ConfigurationError):
            # cattrs notes where the error happened: "Structuring class X @ attribute y"
            notes = [n for n in getattr(e, "__notes__", ()) if "@ attribute " in n]
            where = notes[-1].rsplit("@ attribute ", 1)[1] + ": " if notes else ""
            found.extend(f"{where}{p}" for p in e.problems)
        elif isinstance(e, BaseExceptionGroup):
            for inner in e.exceptions:
                walk(inner)
        else:
            others.append(e)

    walk(exc)
    if others and isinstance(exc, cattrs.BaseValidationError):
        found.extend(
            m for m in cattrs.transform_error(exc) if "configuration is not valid" not in m
        )
    return found


@attrs.frozen(kw_only=True)
class Timeframes:
    """How far ahead risk-reduction plan tasks may be due.

    Seed 000, Stage 3: "In the crisis situation the timeframe is in days, in other cases in
    weeks." A crisis plan's tasks are due within ``crisis_max_days`` days; other plans'
    tasks within ``normal_max_weeks`` weeks.
    """

    crisis_max_days: int = 14
    normal_max_weeks: int = 12

    def limit(self, *, crisis: bool) -> timedelta:
        """The longest allowed time between planning and a task's due date."""
        if crisis:
            return timedelta(days=self.crisis_max_days)
        return timedelta(weeks=self.normal_max_weeks)

    def describe(self, *, crisis: bool) -> str:
        if crisis:
            return f"{self.crisis_max_days} days (crisis plan)"
        return f"{self.normal_max_weeks} weeks"


def _working_days_after(start: date, days: int, holidays: frozenset[date]) -> date:
    """The date ``days`` working days (Monday to Friday, not a holiday) after ``start``."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            left -= 1
    return current


def _anchor(value: str) -> RepeatAnchor:
    try:
        return RepeatAnchor(value)
    except ValueError:
        allowed = ", ".join(a.value for a in RepeatAnchor)
        raise ConfigurationError(
            [f"marac: repeat_anchor is {value!r}; allowed: {allowed}"]
        ) from None


@attrs.frozen(kw_only=True)
class MaracConfig:
    """How one MARAC works: every value that differs between areas (shared/DOMAIN.md).

    * ``coordinator_agency``: the agency whose member coordinates the MARAC and receives
      referrals (in Estonia victim support, run by the Social Insurance Board);
      ``advocate_agencies``: agencies whose members can be a victim's independent advocate.
    * ``thresholds``: the DASH referral thresholds (visible high risk, potential
      escalation), :class:`tuko_flow.rules.dash.Thresholds`; ``instrument_thresholds``:
      thresholds for other instruments by name (a 10-item instrument cannot use 14 yes).
    * ``repeat_window_days`` and ``repeat_anchor``: a new incident within this many days of
      the last referral (or the last discussion) is a repeat; ``repeat_requires_criminal``
      keeps the older definition, under which only criminal behaviour counted.
    * ``conference_within_days``: a referral is discussed at a conference within this many
      days; ``minutes_within_working_days``: the minutes follow within this many working
      days (Monday to Friday, less ``holidays``).
    * ``legal_basis``: the basis on which high-risk information is shared without consent.
    """

    coordinator_agency: str = "victim_support"
    advocate_agencies: tuple[str, ...] = attrs.field(
        default=("victim_support", "womens_support_centre"), converter=_names
    )
    thresholds: Thresholds = attrs.field(factory=Thresholds)
    instrument_thresholds: Mapping[str, Thresholds] = attrs.field(factory=dict, converter=dict)
    repeat_window_days: int = 365
    repeat_anchor: RepeatAnchor = attrs.field(default=RepeatAnchor.LAST_REFERRAL, converter=_anchor)
    repeat_requires_criminal: bool = False
    conference_within_days: int = 28
    minutes_within_working_days: int = 3
    holidays: tuple[date, ...] = ()
    legal_basis: str = "Victim Support Act § 10"

    def __attrs_post_init__(self) -> None:
        problems = [
            f"marac: {key} is {getattr(self, key)!r}; it must be a whole number >= 1"
            for key in (
                "repeat_window_days",
                "conference_within_days",
                "minutes_within_working_days",
            )
            if not isinstance(getattr(self, key), int)
            or isinstance(getattr(self, key), bool)
            or getattr(self, key) < 1
        ]
        if not isinstance(self.legal_basis, str) or not self.legal_basis.strip():
            problems.append("marac: legal_basis must be non-empty text")
        if not self.advocate_agencies:
            problems.append("marac: advocate_agencies must name at least one agency")
        if problems:
            raise ConfigurationError(problems)

    def thresholds_for(self, instrument: str) -> Thresholds:
        """The thresholds that score checklists of ``instrument`` (by instrument name)."""
        return self.instrument_thresholds.get(instrument, self.thresholds)

    def minutes_due(self, conference_at: datetime) -> date:
        """The last day the minutes of a conference held at ``conference_at`` may go out."""
        return _working_days_after(
            conference_at.date(), self.minutes_within_working_days, frozenset(self.holidays)
        )

    def problems(self, agencies: tuple[str, ...], where: str = "marac") -> list[str]:
        """Problems with this MARAC's agencies, given the configured agencies."""
        out = []
        if self.coordinator_agency not in agencies:
            out.append(
                f"{where}: coordinator_agency {self.coordinator_agency!r} is not one of the "
                "agencies"
            )
        for a in self.advocate_agencies:
            if a not in agencies:
                out.append(f"{where}: advocate agency {a!r} is not one of the agencies")
        return out


#: Services a person is referred to without consent, and the legal basis recorded.
DEFAULT_CONSENT_EXEMPT: Mapping[str, str] = {
    Service.CHILD_WELFARE.value: (
        "Child Protection Act: when children are involved, whether present at the incident "
        "or not, the case is referred to the child-welfare specialist without seeking consent"
    ),
}


@attrs.frozen(kw_only=True)
class TukoConfig:
    """Everything about TUKO that is configuration rather than protocol.

    * ``agencies``: the agency kinds a network member or actor may belong to;
      ``case_leader_agency`` is the one whose member leads a case (the probation service);
      ``client_agency`` is the one the client takes part as ("the client whenever possible
      and safe"): victim-confidential information never goes to its members. It need not
      be among ``agencies`` (then the client takes no part in the network).
    * ``matrix``: the risk-need matrix.
    * ``competence``: which agencies may own which task area.
    * ``timeframes``: how far ahead tasks may be due, in a crisis and otherwise.
    * ``missed_meeting_grace``: how long after an agreed meeting time it counts as missed.
    * ``marac``: how the MARAC works (:class:`MaracConfig`); ``marac_areas``: a
      :class:`MaracConfig` per named MARAC area where areas differ. A MARAC case names its
      area: with no ``marac_areas`` every area uses ``marac``; once areas are listed, a case
      must name one of them (a misspelt area would silently get other timescales).
    * ``consent_exempt``: services a person is referred to without consent, each with the
      legal basis recorded on the referral (default: the child-welfare specialist).
    """

    agencies: tuple[str, ...] = attrs.field(default=DEFAULT_AGENCIES, converter=_names)
    case_leader_agency: str = "probation"
    client_agency: str = "client"
    matrix: RiskNeedMatrix = attrs.field(factory=RiskNeedMatrix)
    competence: CompetenceTable = attrs.field(factory=CompetenceTable)
    timeframes: Timeframes = attrs.field(factory=Timeframes)
    missed_meeting_grace: timedelta = timedelta(days=1)
    marac: MaracConfig = attrs.field(factory=MaracConfig)
    marac_areas: Mapping[str, MaracConfig] = attrs.field(factory=dict, converter=dict)
    consent_exempt: Mapping[str, str] = attrs.field(
        factory=lambda: dict(DEFAULT_CONSENT_EXEMPT), converter=dict
    )
    _agency_set: frozenset[str] = attrs.field(init=False, repr=False, eq=False, default=frozenset())

    @property
    def agency_set(self) -> frozenset[str]:
        """The agencies as a set, for fast membership checks."""
        return self._agency_set

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_agency_set", frozenset(self.agencies))
        problems: list[str] = []
        if len(set(self.agencies)) != len(self.agencies):
            problems.append("agencies: an agency is listed twice")
        if self.case_leader_agency not in self.agencies:
            problems.append(
                f"case_leader_agency: {self.case_leader_agency!r} is not one of the agencies"
            )
        problems.extend(self.matrix.problems())
        problems.extend(self.competence.problems(self.agencies))
        tf = self.timeframes
        if tf.crisis_max_days < 1 or tf.normal_max_weeks < 1:
            problems.append("timeframes: limits must be at least 1")
        elif tf.limit(crisis=True) > tf.limit(crisis=False):
            problems.append(
                f"timeframes: a crisis plan ({tf.describe(crisis=True)}) may not reach further "
                f"than a normal plan ({tf.describe(crisis=False)}): in a crisis the timeframe is "
                "days, otherwise weeks"
            )
        if self.missed_meeting_grace < timedelta(0):
            problems.append("missed_meeting_grace: must not be negative")
        # A MARAC's agencies are checked against ``agencies`` when a MARAC case is opened,
        # so a TUKO-only configuration with its own agency list need not configure MARAC.
        for area, marac in self.marac_areas.items():
            if not isinstance(marac, MaracConfig):
                problems.append(f"marac_areas[{area!r}]: {marac!r} is not a MaracConfig")
            else:
                problems.extend(marac.problems(self.agencies, f"marac_areas[{area!r}]"))
        services = {s.value for s in Service}
        for service, basis in self.consent_exempt.items():
            if service not in services:
                problems.append(
                    f"consent_exempt: {service!r} is not a service "
                    f"(allowed: {', '.join(sorted(services))})"
                )
            if not isinstance(basis, str) or not basis.strip():
                problems.append(
                    f"consent_exempt[{service!r}]: the legal basis must be non-empty text"
                )
        if problems:
            raise ConfigurationError(problems)

    def marac_for(self, area: str) -> MaracConfig:
        """The configuration of the MARAC in ``area`` (``marac`` unless the area has its own)."""
        return self.marac_areas.get(area, self.marac)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TukoConfig:
        """Build a configuration from plain data (e.g. parsed JSON or TOML).

        Keys left out keep their defaults. ``missed_meeting_grace`` is given in hours.
        Raises :class:`~tuko_flow.errors.ConfigurationError` naming every bad key.
        """
        if not isinstance(data, Mapping):
            raise ConfigurationError(
                [
                    f"the configuration is {type(data).__name__} {data!r}; it must be a "
                    "mapping of keys to values (e.g. parsed JSON or TOML), such as "
                    "{'timeframes': {'crisis_max_days': 7}}"
                ]
            )
        converter = cattrs.Converter(forbid_extra_keys=True)
        converter.register_structure_hook(timedelta, lambda v, _: timedelta(hours=float(v)))
        converter.register_structure_hook(
            date, lambda v, _: v if isinstance(v, date) else date.fromisoformat(v)
        )
        converter.register_structure_hook(RepeatAnchor, lambda v, _: _anchor(v))
        converter.register_structure_hook_func(
            lambda t: t == tuple[str, ...], lambda v, _: _names(v)
        )
        try:
            return converter.structure(dict(data), cls)
        except ConfigurationError:
            raise
        except cattrs.BaseValidationError as exc:
            raise ConfigurationError(_config_problems(exc)) from None
        except (TypeError, ValueError) as exc:
            raise ConfigurationError([str(exc)]) from None
