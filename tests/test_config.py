"""Configuration: seed defaults, the risk-need matrix, and rejection of bad configuration."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tuko_flow import DEFAULT_AGENCIES, Timeframes, TukoConfig
from tuko_flow.errors import ConfigurationError, TukoFlowError
from tuko_flow.rules import (
    DEFAULT_CELLS,
    DEFAULT_COMPETENCE,
    CompetenceTable,
    MatrixCell,
    Need,
    RiskNeedMatrix,
)

#: Every agency seed 000 names: the "WHO?" list (probation officer, prison staff, local
#: municipality, mental health, addiction & social workers, police, NGOs, the client),
#: child protection ("Chils protection involvement", "Cooperation with the victim and child
#: protection") and victim support ("offered by victim support").
SEED_AGENCIES = {
    "probation",
    "prison",
    "municipality",
    "mental_health",
    "addiction_services",
    "social_work",
    "police",
    "ngo",
    "client",
    "child_protection",
    "victim_support",
}


# --- defaults -------------------------------------------------------------------------


def test_default_agencies_include_every_agency_the_seed_names() -> None:
    """The default agencies contain every agency of the seed's network."""
    assert set(DEFAULT_AGENCIES) >= SEED_AGENCIES
    assert set(TukoConfig().agencies) >= SEED_AGENCIES


def test_default_case_leader_is_the_probation_service() -> None:
    """Seed: "Probation officer (case leader)"."""
    assert TukoConfig().case_leader_agency == "probation"


@pytest.mark.parametrize(
    ("offence", "lives_with_victim"),
    [
        ("contact_sexual", False),
        ("contact_sexual", True),
        ("domestic_violence", True),
    ],
)
def test_seed_high_need_cells_always_assume_need(offence: str, lives_with_victim: bool) -> None:
    """Contact sexual crimes and DV living with the victim are high need, always assumed."""
    cell = TukoConfig().matrix.classify(offence, lives_with_victim=lives_with_victim)
    assert cell is not None
    assert cell.need is Need.HIGH
    assert cell.always_assume_need is True


def test_every_default_high_need_cell_is_always_assume_need() -> None:
    """In the default matrix, high need and always-assume-need go together."""
    for cell in TukoConfig().matrix.cells:
        assert cell.always_assume_need == (cell.need is Need.HIGH), cell.name


def test_dv_not_living_with_victim_is_not_always_assumed() -> None:
    """A DV client not living with the victim is not in a high-need cell."""
    cell = TukoConfig().matrix.classify("domestic_violence", lives_with_victim=False)
    assert cell is not None
    assert cell.always_assume_need is False
    assert cell.need is Need.STANDARD


def test_default_matrix_is_usable() -> None:
    """The default cells have unique names and no problems."""
    assert RiskNeedMatrix().problems() == []
    assert RiskNeedMatrix().cells == DEFAULT_CELLS


def test_default_competence_names_only_default_agencies() -> None:
    """Every agency in the default competence table is a default agency."""
    assert CompetenceTable().problems(DEFAULT_AGENCIES) == []
    for agencies in DEFAULT_COMPETENCE.values():
        assert set(agencies) <= set(DEFAULT_AGENCIES)


def test_timeframes_are_days_in_a_crisis_and_weeks_otherwise() -> None:
    """Seed: "In the crisis situation the timeframe is in days, in other cases in weeks"."""
    frames = Timeframes(crisis_max_days=5, normal_max_weeks=3)
    assert frames.limit(crisis=True) == timedelta(days=5)
    assert frames.limit(crisis=False) == timedelta(weeks=3)
    assert "days" in frames.describe(crisis=True)
    assert "weeks" in frames.describe(crisis=False)
    default = Timeframes()
    assert default.limit(crisis=True) < default.limit(crisis=False)


# --- classify -------------------------------------------------------------------------


def test_classify_unknown_offence_is_none() -> None:
    """An offence category the matrix does not know has no cell."""
    assert RiskNeedMatrix().classify("burglary", lives_with_victim=True) is None


def test_classify_returns_the_first_matching_cell() -> None:
    """Cells are tried in order; a cell with lives_with_victim=None matches either way."""
    specific = MatrixCell(name="stalking_cohabiting", offence="stalking", lives_with_victim=True)
    general = MatrixCell(name="stalking_any", offence="stalking")
    matrix = RiskNeedMatrix((specific, general))
    assert matrix.classify("stalking", lives_with_victim=True) is specific
    assert matrix.classify("stalking", lives_with_victim=False) is general
    assert RiskNeedMatrix((general, specific)).classify("stalking", lives_with_victim=True) is (
        general
    )


def test_matrix_lists_its_offences_in_order_once() -> None:
    """offences lists each category once, in declaration order."""
    assert RiskNeedMatrix().offences == (
        "contact_sexual",
        "domestic_violence",
        "non_contact_sexual",
        "other_violence",
    )


def test_matrix_cell_converts_need_given_as_string() -> None:
    """need="high" becomes Need.HIGH."""
    assert MatrixCell(name="c", offence="o", need="high").need is Need.HIGH  # type: ignore[arg-type]


# --- bad configuration ----------------------------------------------------------------


def test_configuration_error_is_a_tuko_flow_error() -> None:
    """ConfigurationError is part of the one hierarchy."""
    assert issubclass(ConfigurationError, TukoFlowError)


def test_duplicate_cells_are_rejected() -> None:
    """Two cells with one name raise ConfigurationError naming the cell."""
    cell = MatrixCell(name="dv_cell", offence="domestic_violence")
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig(matrix=RiskNeedMatrix((cell, cell)))
    assert any("dv_cell" in p and "twice" in p for p in exc.value.problems)


def test_empty_matrix_is_rejected() -> None:
    """A matrix without cells raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="no cells"):
        TukoConfig(matrix=RiskNeedMatrix(()))


def test_cell_with_bad_names_is_rejected() -> None:
    """Cell names and offence categories must be references."""
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig(matrix=RiskNeedMatrix((MatrixCell(name="bad cell", offence=""),)))
    assert len(exc.value.problems) == 2


def test_competence_naming_unknown_agency_is_rejected() -> None:
    """A competence area owned by an agency that is not configured is rejected, naming both."""
    table = CompetenceTable({"policing": ("police", "coast_guard")})
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig(competence=table)
    (problem,) = exc.value.problems
    assert "policing" in problem
    assert "coast_guard" in problem


def test_competence_area_without_agency_is_rejected() -> None:
    """A competence area that no agency may own is rejected."""
    with pytest.raises(ConfigurationError, match="'housing' has no agency"):
        TukoConfig(competence=CompetenceTable({"housing": ()}))


def test_unknown_case_leader_agency_is_rejected() -> None:
    """case_leader_agency must be one of the agencies."""
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig(case_leader_agency="coast_guard")
    (problem,) = exc.value.problems
    assert "case_leader_agency" in problem
    assert "coast_guard" in problem


def test_duplicate_agency_is_rejected() -> None:
    """An agency listed twice is rejected."""
    with pytest.raises(ConfigurationError, match="listed twice"):
        TukoConfig(agencies=(*DEFAULT_AGENCIES, "police"))


@pytest.mark.parametrize(
    "frames",
    [Timeframes(crisis_max_days=0), Timeframes(normal_max_weeks=0), Timeframes(crisis_max_days=-3)],
)
def test_timeframes_below_one_are_rejected(frames: Timeframes) -> None:
    """Timeframe limits of zero or less are rejected."""
    with pytest.raises(ConfigurationError, match="timeframes"):
        TukoConfig(timeframes=frames)


def test_crisis_timeframe_longer_than_normal_is_rejected() -> None:
    """A crisis plan (days) may not allow later due dates than a normal plan (weeks)."""
    with pytest.raises(ConfigurationError, match="timeframes"):
        TukoConfig(timeframes=Timeframes(crisis_max_days=60, normal_max_weeks=2))


def test_negative_missed_meeting_grace_is_rejected() -> None:
    """A negative grace period for missed meetings is rejected."""
    with pytest.raises(ConfigurationError, match="missed_meeting_grace"):
        TukoConfig(missed_meeting_grace=timedelta(hours=-1))


def test_every_configuration_problem_is_reported_at_once() -> None:
    """Matrix, competence, case leader and timeframe problems come in one error."""
    cell = MatrixCell(name="dup", offence="domestic_violence")
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig(
            agencies=("police", "prison"),
            case_leader_agency="probation",
            matrix=RiskNeedMatrix((cell, cell)),
            competence=CompetenceTable({"supervision": ("probation",)}),
            timeframes=Timeframes(crisis_max_days=0),
        )
    problems = exc.value.problems
    assert len(problems) == 4
    message = str(exc.value)
    for part in ("case_leader_agency", "dup", "supervision", "timeframes"):
        assert part in message


# --- from_dict ------------------------------------------------------------------------

CUSTOM_JSON = """
{
  "agencies": ["probation", "police", "victim_support", "municipality"],
  "case_leader_agency": "probation",
  "matrix": {
    "cells": [
      {"name": "stalking_high", "offence": "stalking", "lives_with_victim": true,
       "need": "high", "always_assume_need": true, "source": "agency policy"},
      {"name": "stalking_other", "offence": "stalking"}
    ]
  },
  "competence": {
    "areas": {
      "supervision": ["probation"],
      "victim_safety": ["victim_support", "police"],
      "housing": ["municipality"]
    }
  },
  "timeframes": {"crisis_max_days": 7, "normal_max_weeks": 6},
  "missed_meeting_grace": 12
}
"""


def test_from_dict_reads_a_custom_configuration_from_json() -> None:
    """A configuration parsed from JSON gives the agencies, matrix, competence and times."""
    config = TukoConfig.from_dict(json.loads(CUSTOM_JSON))
    assert config.agencies == ("probation", "police", "victim_support", "municipality")
    assert config.case_leader_agency == "probation"
    high = config.matrix.classify("stalking", lives_with_victim=True)
    assert high is not None
    assert (high.name, high.need, high.always_assume_need) == ("stalking_high", Need.HIGH, True)
    other = config.matrix.classify("stalking", lives_with_victim=False)
    assert other is not None
    assert (other.name, other.need, other.always_assume_need) == (
        "stalking_other",
        Need.STANDARD,
        False,
    )
    assert config.matrix.classify("domestic_violence", lives_with_victim=True) is None
    assert config.competence.agencies_for("victim_safety") == ("victim_support", "police")
    assert config.competence.agencies_for("policing") is None
    assert config.timeframes == Timeframes(crisis_max_days=7, normal_max_weeks=6)
    assert config.missed_meeting_grace == timedelta(hours=12)


def test_from_dict_with_no_keys_gives_the_defaults() -> None:
    """An empty mapping gives the default configuration."""
    assert TukoConfig.from_dict({}) == TukoConfig()


def test_from_dict_keeps_defaults_for_missing_keys() -> None:
    """Keys left out keep their defaults."""
    config = TukoConfig.from_dict({"timeframes": {"crisis_max_days": 3}})
    assert config.timeframes == Timeframes(crisis_max_days=3)
    assert config.matrix == RiskNeedMatrix()
    assert config.agencies == DEFAULT_AGENCIES


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"agencys": ["probation"]}, "agencys"),
        ({"matrix": {"cells": [], "rows": []}}, "rows"),
        ({"matrix": {"cells": [{"name": "c", "offence": "o", "colour": "red"}]}}, "colour"),
        ({"timeframes": {"crisis_days": 3}}, "crisis_days"),
    ],
)
def test_from_dict_rejects_unknown_keys(data: dict[str, object], key: str) -> None:
    """An unknown key, at the top or nested, raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig.from_dict(data)
    assert key in str(exc.value)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"timeframes": {"crisis_max_days": "many"}}, "crisis_max_days"),
        ({"matrix": {"cells": [{"name": "c", "offence": "o", "need": "extreme"}]}}, "need"),
        ({"missed_meeting_grace": "a while"}, "missed_meeting_grace"),
    ],
)
def test_from_dict_rejects_wrongly_typed_values(data: dict[str, object], path: str) -> None:
    """A value of the wrong type raises ConfigurationError naming where it is."""
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig.from_dict(data)
    assert path in str(exc.value)


def test_from_dict_reports_configuration_problems_as_they_are() -> None:
    """Problems found by TukoConfig's checks come out of from_dict as the same list."""
    data = {
        "case_leader_agency": "coast_guard",
        "matrix": {"cells": [{"name": "c", "offence": "o"}, {"name": "c", "offence": "p"}]},
    }
    matrix = RiskNeedMatrix((MatrixCell(name="c", offence="o"), MatrixCell(name="c", offence="p")))
    with pytest.raises(ConfigurationError) as direct:
        TukoConfig(case_leader_agency="coast_guard", matrix=matrix)
    with pytest.raises(ConfigurationError) as loaded:
        TukoConfig.from_dict(data)
    assert loaded.value.problems == direct.value.problems
    assert "unknown error" not in str(loaded.value)


def test_from_dict_rejects_a_string_where_a_list_of_agencies_belongs() -> None:
    """ "agencies": "probation" is refused as not a list, not split into letters."""
    with pytest.raises(ConfigurationError) as exc:
        TukoConfig.from_dict({"agencies": "probation"})
    message = str(exc.value)
    assert "agencies" in message
    assert "known: p, r, o" not in message


@pytest.mark.parametrize("data", [None, [], "timeframes", 7])
def test_from_dict_names_data_that_is_not_a_mapping(data: object) -> None:
    """Anything but a mapping is a ConfigurationError saying what is expected."""
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        TukoConfig.from_dict(data)  # type: ignore[arg-type]
