"""The competence table: which agencies may own which kind of risk-reduction task."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from ..errors import ConfigurationError

#: Default task areas and the agencies with the competence and authority for them
#: (seed 000, Stage 3: "Network members take responsibility in the form of tasks that
#: corresponds to their area of competence and authority").
DEFAULT_COMPETENCE: Mapping[str, tuple[str, ...]] = {
    "supervision": ("probation",),
    "social_programme": ("probation", "ngo"),
    "release_planning": ("prison", "probation"),
    "victim_safety": ("victim_support", "womens_support_centre", "police"),
    "child_safety": ("child_protection",),
    "policing": ("police",),
    "housing": ("municipality",),
    "social_support": ("municipality", "social_work"),
    "mental_health": ("mental_health", "health"),
    "addiction": ("addiction_services", "health"),
    "client_commitment": ("client",),
}


def _freeze(value: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    bad = [k for k, v in value.items() if isinstance(v, str)]
    if bad:
        raise ConfigurationError(
            [f"competence table: area {k!r} must list agency names, not one string" for k in bad]
        )
    return {str(k): tuple(str(a) for a in v) for k, v in value.items()}


@attrs.frozen
class CompetenceTable:
    """Task area -> agencies allowed to own a task in that area."""

    areas: dict[str, tuple[str, ...]] = attrs.field(
        factory=lambda: dict(DEFAULT_COMPETENCE), converter=_freeze
    )

    def agencies_for(self, area: str) -> tuple[str, ...] | None:
        """The agencies competent for ``area``; ``None`` when the area is unknown."""
        return self.areas.get(area)

    def problems(self, known_agencies: tuple[str, ...]) -> list[str]:
        """Every problem with the table, given the configured agencies."""
        out: list[str] = []
        for area, agencies in self.areas.items():
            if not agencies:
                out.append(f"competence table: area {area!r} has no agency")
            unknown = [a for a in agencies if a not in known_agencies]
            if unknown:
                out.append(
                    f"competence table: area {area!r} names unknown agencies {unknown}; "
                    f"known: {', '.join(known_agencies)}"
                )
        return out
