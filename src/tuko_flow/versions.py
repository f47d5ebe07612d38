"""Protocol versions and the cases in flight.

A protocol has a name and a version (``tuko@1``); every case records the version it
started with and runs under it until it is migrated. This module answers the questions
a team asks before a new version goes live:

* :func:`diff` — what changed between two versions: states, transitions (by trigger and
  source state) and guard rules, as a :class:`ProtocolDiff` with ``explain()``;
* :func:`stranded_cases` — which in-flight cases the change would strand (their state is
  gone, or lost transitions it had), by name;
* :func:`plan_migration` and :meth:`tuko_flow.Engine.migrate` — moving cases to the new
  version with an explicit state map, refused as a whole
  (:class:`~tuko_flow.errors.MigrationRefused`) when a case's state is not covered; each
  migration is a :class:`~tuko_flow.events.ProtocolMigrated` event in the case's history;
* :func:`replay_check` — every stored history replayed under the new version, reporting
  the first event where it would have gone differently (Temporal's replay-test idea).

See ``docs/versions.md``.
"""

from __future__ import annotations

from ._versions import (
    CaseReplay,
    MigrationPlan,
    MigrationProblem,
    MigrationResult,
    MigrationStep,
    ProtocolDiff,
    ReplayReport,
    RuleChange,
    StateChange,
    StrandedCase,
    TransitionChange,
    diff,
    plan_migration,
    replay_check,
    stranded_cases,
)

__all__ = [
    # diff
    "ProtocolDiff",
    "RuleChange",
    "StateChange",
    "TransitionChange",
    "diff",
    # in-flight cases
    "StrandedCase",
    "stranded_cases",
    # migration
    "MigrationPlan",
    "MigrationProblem",
    "MigrationResult",
    "MigrationStep",
    "plan_migration",
    # replay check
    "CaseReplay",
    "ReplayReport",
    "replay_check",
]
