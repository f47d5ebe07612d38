"""The risk-need matrix: configurable cells, some marked *always assume need*."""

from __future__ import annotations

import enum

import attrs

from .._values import Problems
from ..errors import ConfigurationError


class Need(enum.StrEnum):
    """The need axis of the risk-need matrix."""

    HIGH = "high"
    STANDARD = "standard"


def _need(value: str) -> Need:
    try:
        return Need(value)
    except ValueError:
        allowed = ", ".join(n.value for n in Need)
        raise ConfigurationError(
            [f"risk-need matrix: need {value!r} is not allowed (allowed: {allowed})"]
        ) from None


@attrs.frozen(kw_only=True)
class MatrixCell:
    """One cell of the risk-need matrix.

    ``lives_with_victim`` is ``None`` when the cell applies either way. A cell marked
    ``always_assume_need`` starts TUKO Stage 1 at intake (seed 000: "In some cases the
    probation offices needs to always assume the need").
    """

    name: str
    offence: str
    lives_with_victim: bool | None = None
    need: Need = attrs.field(default=Need.STANDARD, converter=_need)
    always_assume_need: bool = False
    source: str = ""


#: The seed's matrix (seed 000, "RISK-NEED MATRIX": "Contact sexual crimes; Domestic violence
#: offenders living with victims — High need"), completed with standard-need cells.
DEFAULT_CELLS: tuple[MatrixCell, ...] = (
    MatrixCell(
        name="contact_sexual_offence",
        offence="contact_sexual",
        need=Need.HIGH,
        always_assume_need=True,
        source="RISK-NEED MATRIX: Contact sexual crimes - High need",
    ),
    MatrixCell(
        name="dv_living_with_victim",
        offence="domestic_violence",
        lives_with_victim=True,
        need=Need.HIGH,
        always_assume_need=True,
        source="RISK-NEED MATRIX: Domestic violence offenders living with victims - High need",
    ),
    MatrixCell(
        name="dv_not_living_with_victim", offence="domestic_violence", lives_with_victim=False
    ),
    MatrixCell(name="non_contact_sexual_offence", offence="non_contact_sexual"),
    MatrixCell(name="other_violence", offence="other_violence"),
)


@attrs.frozen
class RiskNeedMatrix:
    """The configurable risk-need matrix: data, not code.

    :meth:`classify` returns the first cell matching an offence category and whether the
    client lives with a victim.
    """

    cells: tuple[MatrixCell, ...] = attrs.field(default=DEFAULT_CELLS, converter=tuple)

    def problems(self) -> list[str]:
        """Every problem with this matrix (empty when it is usable)."""
        out: list[str] = []
        names = [c.name for c in self.cells]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            out.append(f"risk-need matrix: cell names used twice: {', '.join(dupes)}")
        if not self.cells:
            out.append("risk-need matrix: has no cells")
        for cell in self.cells:
            p = Problems()
            p.ref("name", cell.name)
            p.ref("offence", cell.offence)
            out.extend(f"risk-need matrix cell {cell.name!r}: {fp}" for fp in p.items)
        return out

    @property
    def offences(self) -> tuple[str, ...]:
        """The offence categories the matrix knows, in declaration order."""
        return tuple(dict.fromkeys(c.offence for c in self.cells))

    def classify(self, offence: str, *, lives_with_victim: bool) -> MatrixCell | None:
        """The first cell for ``offence`` and the living situation, or ``None``."""
        for cell in self.cells:
            if cell.offence == offence and (
                cell.lives_with_victim is None or cell.lives_with_victim == lives_with_victim
            ):
                return cell
        return None
