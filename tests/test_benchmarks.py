"""The engine benchmark runs and reports its figures (no timing is asserted here)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from benchmark_run import last_json, run_quick

MARAC_COMMANDS = (
    "receive_referral",
    "accept_referral",
    "offer_advocate",
    "share_marac_information",
)
RATIOS = (
    "transition_vs_bare_transitions",
    "transition_vs_bare_transitions_logging_off",
    "open_case_vs_machine_per_case",
    "memory_per_case_vs_machine_per_case",
    "marac_transition_vs_bare_transitions",
    "marac_transition_vs_bare_transitions_logging_off",
    "marac_open_case_vs_machine_per_case",
    "marac_memory_per_case_vs_machine_per_case",
    "dash_score_vs_bare_score",
    "dash_checklist_vs_bare_score",
    *(f"marac_{command}_vs_bare" for command in MARAC_COMMANDS),
)
ABSOLUTES = (
    "tuko_transition_us",
    "tuko_transition_logging_off_us",
    "bare_transition_us",
    "tuko_open_case_us",
    "bare_machine_per_case_us",
    "tuko_bytes_per_case",
    "bare_bytes_per_case",
    "marac_transition_us",
    "marac_transition_logging_off_us",
    "bare_marac_transition_us",
    "marac_open_case_us",
    "bare_marac_machine_per_case_us",
    "marac_bytes_per_case",
    "bare_marac_bytes_per_case",
    "dash_score_us",
    "bare_dash_score_us",
    "dash_checklist_us",
    "dash_checklist_bytes",
    *(f"marac_{command}_us" for command in MARAC_COMMANDS),
    *(f"bare_marac_{command}_us" for command in MARAC_COMMANDS),
)
#: The ratios with a target (the core issue's), as the JSON's ``targets`` names them.
TARGETED = (
    "transition_vs_bare_transitions",
    "open_case_vs_machine_per_case",
    "memory_per_case_vs_machine_per_case",
    "marac_transition_vs_bare_transitions",
    "marac_open_case_vs_machine_per_case",
    "marac_memory_per_case_vs_machine_per_case",
)


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    """One ``--quick`` run of the benchmark, shared by the tests of this module."""
    return run_quick("engine.py")


def test_quick_run_exits_zero(quick_run: subprocess.CompletedProcess[str]) -> None:
    """``benchmarks/engine.py --quick`` finishes without error."""
    assert quick_run.returncode == 0, quick_run.stderr


def test_table_precedes_the_json_line(quick_run: subprocess.CompletedProcess[str]) -> None:
    """A readable table is printed before the final JSON line."""
    lines = quick_run.stdout.strip().splitlines()
    assert len(lines) > 1
    head = "\n".join(lines[:-1])
    assert "transition_vs_bare_transitions" in head
    assert "marac_transition_vs_bare_transitions" in head
    assert "dash_score_vs_bare_score" in head


@pytest.mark.parametrize("key", RATIOS + ABSOLUTES)
def test_last_line_reports_a_positive_figure(
    quick_run: subprocess.CompletedProcess[str], key: str
) -> None:
    """The last line is a JSON object whose ratios and absolute figures are positive numbers."""
    value = last_json(quick_run)[key]
    assert isinstance(value, int | float)
    assert not isinstance(value, bool)
    assert math.isfinite(value)
    assert value > 0


def test_last_line_reports_the_run_settings(quick_run: subprocess.CompletedProcess[str]) -> None:
    """The JSON names N, the rounds and the Python and transitions versions of the run."""
    data = last_json(quick_run)
    for key in ("n", "rounds"):
        assert isinstance(data[key], int)
        assert data[key] > 0
    assert data["python"] == ".".join(map(str, sys.version_info[:3]))
    assert isinstance(data["transitions"], str)
    assert data["transitions"]


def test_last_line_names_every_target(quick_run: subprocess.CompletedProcess[str]) -> None:
    """The JSON carries the targets of TUKO and MARAC (the same values), not whether met."""
    targets = last_json(quick_run)["targets"]
    assert isinstance(targets, dict)
    assert set(targets) == set(TARGETED)
    assert (
        targets["marac_transition_vs_bare_transitions"]
        == (targets["transition_vs_bare_transitions"])
    )
    assert (
        targets["marac_memory_per_case_vs_machine_per_case"]
        == (targets["memory_per_case_vs_machine_per_case"])
    )


def test_last_line_describes_the_marac_and_dash_figures(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    """The JSON says which MARAC commands were timed and which instrument was scored."""
    data = last_json(quick_run)
    commands = data["marac_transition_commands"]
    assert isinstance(commands, str)
    for command in MARAC_COMMANDS:
        assert command in commands
    assert data["dash_questions"] == 24
    assert isinstance(data["n_marac_command"], int)
    assert data["n_marac_command"] > 0
