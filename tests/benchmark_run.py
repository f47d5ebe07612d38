"""Running a benchmark script once, quickly, for the tests that check it reports figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_quick(script: str) -> subprocess.CompletedProcess[str]:
    """``benchmarks/<script> --quick`` in a subprocess, its output captured."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def last_json(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The JSON object a benchmark prints as its last line."""
    lines = run.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{run.stderr}"
    data = json.loads(lines[-1])
    assert isinstance(data, dict)
    return data
