"""Every example script runs standalone, exits 0 and prints what it promises.

Examples are discovered by glob, so a new ``examples/*.py`` is run automatically; the
ones listed in ``EXPECTED`` must also print the given lines (checked against the seed's
stage order and rules, see docs/concepts.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

#: Lines (or line fragments) each example must print, in this order.
EXPECTED: dict[str, tuple[str, ...]] = {
    "quickstart.py": (
        # Seed 000: Stage 1 notice -> Stage 2 evaluate -> Stage 3 plan -> Stage 4 -> finished.
        "awaiting_notice -> stage1_notice",
        "stage1_notice -> stage2_evaluate",
        "stage2_evaluate -> stage3_plan",
        "stage3_plan -> stage4_manage",
        "stage4_manage -> closed",
        "final state: closed",
        # "lets partners know that TUKO process has been finished": every partner is told.
        "partners told of the closure: m-pol, m-vs",
    ),
    "refusals.py": (
        "always assume need: True",
        "actor_is_case_leader: only the case leader",
        "participants: 'm-xx' not in the case's network",
        "held_at: ",
        # Every failed rule is listed, not just the first.
        "every_participant_heard: these participants have not shared information and an "
        "evaluation: m-pol",
        "common_assessment_complete: ",
        "need_not_always_assumed: ",
        "refused by: need_not_always_assumed",
        "CommandNotAllowedInState: 'close_case' is not possible in state 'stage2_evaluate'",
        "state unchanged by every refusal: stage2_evaluate",
    ),
    "deadlines.py": (
        "day 1: 0 new",
        "day 6: 1 new",
        "TaskOverdue: t-1 was due 2026-01-11",
        "day 6, again: 0 new",
        "day 8: 1 new",
        "MeetingMissed: the meeting agreed for 2026-01-13 09:00",
        "overdue tasks on record: ['t-1']",
    ),
    "protocol_paths.py": (
        # every TUKO state has a shortest path, ending where the seed's process ends
        "shortest to awaiting_notice",
        "shortest to stage4_manage",
        "shortest to closed",
        "5. share_information",
        "replayed on the engine: ok; final state: stage4_manage",
        "uncovered: 0",
    ),
    "custom_config.py": (
        "offence categories: contact_sexual, stalking, domestic_violence, other_violence",
        "crisis timeframe: 7 days",
        "other timeframe: 6 weeks",
        "stalking case: cell 'stalking', need 'high', state 'stage1_notice'",
        "dv case:       cell 'dv_other', need 'high', assumed False",
        "t-1: child_safety -> m-cp, due in 10 days: accepted",
        "t-2: victim_safety -> m-pol, due in 10 days: accepted",
        "t-3: refused - area: 'addiction' is not a task area",
        "t-4: refused - due_on: ",
        # ConfigurationError.problems names the problem itself, not a wrapper around it.
        "problem 1: competence table: area 'housing' names unknown agencies ['housing_board']",
    ),
    "marac.py": (
        # Issue 3: a TUKO case raises a MARAC referral; its common assessment found high harm.
        "TUKO case-0201: stage3_plan, common assessment: harm high",
        "MARAC marac-0201 opened: criteria met professional_judgement",
        "TUKO case-0201 linked to: marac-0201",
        "conference held: discussed, actions a-1, a-2, a-3",
        # Seed 001: high-risk information is shared on the legal basis (Victim Support Act § 10).
        "outcome shared with TUKO: discussed, legal basis Victim Support Act § 10",
        # MARAC actions owned by network agencies appear in the risk-reduction plan.
        "plan task marac:a-1 -> m-pol (policing)",
        "plan task marac:a-2 -> m-vs (victim_safety)",
        "left out a-3: health is not in the network",
        "MARAC marac-0201: closed",
        # A repeat within 12 months is flagged and referred back whatever the threshold.
        "repeat True - 148 days after the last referral (2026-01-06), within the 365-day repeat",
        "round 2: referred on repeat",
    ),
}


def run(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_every_documented_example_exists() -> None:
    """Each example with expected output is present in examples/."""
    names = {p.name for p in EXAMPLES}
    assert set(EXPECTED) <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_and_prints_what_it_promises(path: Path) -> None:
    """The example exits 0, writes no traceback, and prints its expected lines in order."""
    result = run(path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip(), "the example printed nothing"
    lines = result.stdout.splitlines()
    position = 0
    for fragment in EXPECTED.get(path.name, ()):
        for i in range(position, len(lines)):
            if fragment in lines[i]:
                position = i + 1
                break
        else:
            pytest.fail(f"{path.name}: expected a line containing {fragment!r} (in order)")
