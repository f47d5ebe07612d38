"""Guard rules and the configurable tables they read.

* :class:`Rule` — a named guard with a plain-language reason and its seed passage.
* :data:`TUKO_RULES` — every TUKO rule by name (see :mod:`tuko_flow.rules.tuko`).
* :class:`RiskNeedMatrix`, :class:`MatrixCell`, :class:`Need` — the risk-need matrix.
* :class:`CompetenceTable` — which agencies may own which task area.
* :mod:`tuko_flow.rules.dash` — the DASH risk checklist: versioned instruments as data
  and their scoring into MARAC referral criteria.
"""

from ._base import Rule, RuleContext, rule
from ._competence import DEFAULT_COMPETENCE, CompetenceTable
from ._matrix import DEFAULT_CELLS, MatrixCell, Need, RiskNeedMatrix
from .tuko import TUKO_RULES

__all__ = [
    "DEFAULT_CELLS",
    "DEFAULT_COMPETENCE",
    "TUKO_RULES",
    "CompetenceTable",
    "MatrixCell",
    "Need",
    "RiskNeedMatrix",
    "Rule",
    "RuleContext",
    "rule",
]
