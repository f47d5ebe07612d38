"""Generated test paths: what TUKO's input cases reach, and a path replayed on the engine.

Run with ``uv run python examples/protocol_paths.py``.
"""

from __future__ import annotations

from tuko_flow.paths import TUKO_INPUTS, covering_paths, run_path, shortest_paths

shortest = shortest_paths(TUKO_INPUTS)
for path in shortest.paths:
    print(f"shortest to {path.target}: {len(path.steps)} steps")

to_stage4 = next(p for p in shortest.paths if p.target == "stage4_manage")
print(to_stage4.describe())
run = run_path(to_stage4, TUKO_INPUTS)
print(f"replayed on the engine: {'ok' if run.ok else 'differs'}; final state: {run.case.state}")

cover = covering_paths(TUKO_INPUTS)
print(f"covering paths: {len(cover.paths)}")
print(f"goals: {cover.goals}, uncovered: {len(cover.uncovered)}, excused: {len(cover.excused)}")
for excused in cover.excused[:2]:
    print(f"excused: {excused}")
