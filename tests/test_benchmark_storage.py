"""The storage benchmark runs and reports its figures (no timing or ratio is asserted here)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from benchmark_run import last_json, run_quick

RATIOS = (
    "sqlite_append_vs_eventsourcing",
    "sqlite_append_vs_raw_sqlite",
    "sqlite_load_vs_eventsourcing",
)
CONTENDERS = ("tuko_sqlite", "eventsourcing_sqlite", "raw_sqlite")
ABSOLUTES = tuple(
    f"{name}_{figure}"
    for name in CONTENDERS
    for figure in (
        "append_events_per_s",
        "append_p50_ms",
        "append_p99_ms",
        "load_events_per_s",
    )
)


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    """One ``--quick`` run of the benchmark, shared by the tests of this module."""
    return run_quick("storage.py")


def test_quick_run_exits_zero(quick_run: subprocess.CompletedProcess[str]) -> None:
    """``benchmarks/storage.py --quick`` finishes without error."""
    assert quick_run.returncode == 0, quick_run.stderr


def test_table_precedes_the_json_line(quick_run: subprocess.CompletedProcess[str]) -> None:
    """A readable table naming the headline ratios is printed before the final JSON line."""
    lines = quick_run.stdout.strip().splitlines()
    assert len(lines) > 1
    head = "\n".join(lines[:-1])
    for key in RATIOS:
        assert key in head


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
    """The JSON names N, the rounds, and the Python, SQLite and eventsourcing versions."""
    data = last_json(quick_run)
    for key in ("n", "rounds"):
        value = data[key]
        assert isinstance(value, int)
        assert not isinstance(value, bool)
        assert value > 0
    assert data["python"] == ".".join(map(str, sys.version_info[:3]))
    for key in ("sqlite", "eventsourcing", "tuko_flow"):
        assert isinstance(data[key], str)
        assert data[key]


def test_last_line_reports_the_durability_used(
    quick_run: subprocess.CompletedProcess[str],
) -> None:
    """Every SQLite contender reports the journal mode and synchronous setting it ran with."""
    durability = last_json(quick_run)["durability"]
    assert isinstance(durability, dict)
    for name in CONTENDERS:
        settings = durability[name]
        assert isinstance(settings, dict)
        assert settings["journal_mode"]
        assert settings["synchronous"]
