"""Test paths generated from a protocol's data (model-based testing).

A protocol's author declares *input cases* — named intake variants and, per trigger,
builders of the command and actor for the case as it is — and tuko_flow explores the
protocol with them on a real engine:

* :func:`shortest_paths` — the shortest path to every state;
* :func:`simple_paths` — one path for every simple path of the state graph, up to a length;
* :func:`covering_paths` — paths that together fire every transition from every source
  state and see every rule of every transition pass *and* fail (a refusal);
* :func:`run_path` — replay a path on a real engine and say which step differs.

Each :class:`PathSet` reports what the inputs could not reach, with the reason. The
TUKO input cases ship as :data:`TUKO_INPUTS`, MARAC's as :data:`MARAC_INPUTS`. pytest
and hypothesis helpers live in :mod:`tuko_flow.testing` (``path_cases``, ``check_path``,
``random_walk_machine``)::

    from tuko_flow.paths import TUKO_INPUTS, covering_paths

    cover = covering_paths(TUKO_INPUTS)
    print(cover.explain())
"""

from __future__ import annotations

from ._paths import (
    Builder,
    Goal,
    InputCase,
    InputCases,
    IntakeCase,
    Maker,
    Path,
    PathRun,
    PathSet,
    Step,
    Uncovered,
    by,
)
from ._paths_explore import (
    KINDS,
    all_goals,
    covering_paths,
    generate,
    run_path,
    shortest_paths,
    simple_paths,
)
from ._paths_marac import MARAC_INPUTS
from ._paths_tuko import TUKO_INPUTS

__all__ = [
    # declaring input cases
    "Builder",
    "InputCase",
    "InputCases",
    "IntakeCase",
    "MARAC_INPUTS",
    "Maker",
    "TUKO_INPUTS",
    "by",
    # paths and reports
    "Goal",
    "Path",
    "PathRun",
    "PathSet",
    "Step",
    "Uncovered",
    # generating and running
    "KINDS",
    "all_goals",
    "covering_paths",
    "generate",
    "run_path",
    "shortest_paths",
    "simple_paths",
]
