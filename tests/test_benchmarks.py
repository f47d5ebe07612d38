"""The engine benchmark runs and reports its figures (no timing is asserted here)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from benchmark_run import last_json, run_quick

RATIOS = (
    "transition_vs_bare_transitions",
    "transition_vs_bare_transitions_logging_off",
    "open_case_vs_machine_per_case",
    "memory_per_case_vs_machine_per_case",
)
ABSOLUTES = (
    "tuko_transition_us",
    "tuko_transition_logging_off_us",
    "bare_transition_us",
    "tuko_open_case_us",
    "bare_machine_per_case_us",
    "tuko_bytes_per_case",
    "bare_bytes_per_case",
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
    assert "transition_vs_bare_transitions" in "\n".join(lines[:-1])


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
