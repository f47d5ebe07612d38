"""Benchmark: tuko_flow's engine against a bare ``transitions.Machine`` of the same shape.

Run it with ``uv run python benchmarks/engine.py`` (``--quick`` for a short smoke run,
``--n`` for the number of operations per round and of cases held for the memory figure,
``--rounds`` for the number of rounds). It prints a table, and as its last line one JSON
object with every figure.

What is compared
----------------
The bare baseline is a ``transitions.Machine`` shaped like TUKO: the 7 TUKO state names,
``auto_transitions=False``, and one trigger ``go`` that moves each state to the next (a
ring, so every call changes state), each transition with a guard condition and an
after-callback (model methods, named by string, as ``transitions`` users usually write
them). The baseline uses **one machine per model**, the usual way to give every case its
own machine; a shared machine with many models is also timed, for information.

1. Transition: ``Engine.execute(case_id, InformNetwork(...))`` on a case in
   ``stage1_notice`` (guards ``actor_is_case_leader`` and ``network_has_partners``, three
   events emitted, stored in the in-memory store, the case refolded and cached, one
   ``command_accepted`` log line rendered to JSON) against ``model.go()``.
2. Opening a case: ``Engine.open_case(OpenCase)`` with a pre-built intake that is not an
   "always assume need" case against ``Machine(model=obj, states=..., transitions=...,
   initial=...)`` per case, with ``obj`` pre-built.
3. Memory per open case: tracemalloc (after ``gc.collect()``) of one engine holding N open
   cases (the store's events, the engine's cached cases, and the intake data the events
   keep) against N bare machines, each with its model.

How it is measured
------------------
The machine this runs on may be small and busy, so every contender's work is prepared
first (untimed: cases driven to ``stage1_notice``, commands, intakes and models built),
and then the contenders take turns in chunks of ``--chunk`` operations, the order
rotating from chunk to chunk, so a noisy spell hits all of them alike. The cyclic garbage
collector is disabled during a round, after a ``gc.collect()``. Rounds are repeated
(``--rounds``, order reversed every other round); each contender's median and minimum
per-operation time is reported, and each ratio is the median of the per-round ratios
(with the ratio of the best rounds beside it). structlog is configured as a production
host would (JSON lines at INFO to ``os.devnull``), so the headline figures include
logging; the transition is timed a second time with logging filtered out at WARNING.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import statistics
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import timedelta
from importlib.metadata import version
from time import perf_counter
from typing import Any

import structlog
from transitions import Machine

from tuko_flow import TUKO, Engine, InformNetwork, NoticeNeed, OpenCase
from tuko_flow.testing import OFFICER, POLICE, sample_intake

TARGETS = {
    "transition_vs_bare_transitions": 2.0,
    "open_case_vs_machine_per_case": 0.25,
    "memory_per_case_vs_machine_per_case": 0.25,
}

# --- logging ------------------------------------------------------------------------------

_DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - kept open for the whole run, like a log file


def configure_logging(level: int) -> None:
    """Configure structlog as a production host would: JSON lines, filtered at ``level``."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_DEVNULL),
        cache_logger_on_first_use=True,
    )


# --- the bare transitions machine ---------------------------------------------------------

STATES = [s.name for s in TUKO.states]
BARE_TRANSITIONS = [
    {
        "trigger": "go",
        "source": STATES[i],
        "dest": STATES[(i + 1) % len(STATES)],
        "conditions": "guard_passes",
        "after": "after_moved",
    }
    for i in range(len(STATES))
]


class BareCase:
    """The model of a bare machine: a case id, a guard that reads it, a move counter."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.moves = 0

    def guard_passes(self) -> bool:
        return bool(self.case_id)

    def after_moved(self) -> None:
        self.moves += 1


def bare_machine(model: BareCase) -> Machine:
    return Machine(
        model=model,
        states=STATES,
        transitions=BARE_TRANSITIONS,
        initial=STATES[0],
        auto_transitions=False,
    )


# --- preparing one round's work (never timed) ---------------------------------------------


def tuko_cases_in_stage1(n: int, tag: str) -> tuple[Engine, list[tuple[str, InformNetwork]]]:
    """A fresh engine with ``n`` cases in ``stage1_notice`` and a pre-built command for each."""
    engine = Engine()
    work = []
    for i in range(n):
        case_id = f"case-{tag}-{i:06d}"
        engine.open_case(sample_intake(case_id), actor=OFFICER)
        engine.execute(case_id, NoticeNeed(what="Partner noticed a need."), actor=POLICE)
        meeting_at = engine.clock.now() + timedelta(days=1)
        work.append((case_id, InformNetwork(meeting_at=meeting_at)))
    if engine.case(work[0][0]).state != "stage1_notice":  # pragma: no cover - sanity check
        raise RuntimeError("benchmark setup did not reach stage1_notice")
    return engine, work


def bare_models_with_machines(n: int, tag: str) -> list[BareCase]:
    models = [BareCase(f"case-{tag}-{i:06d}") for i in range(n)]
    for m in models:
        bare_machine(m)
    return models


def bare_models_on_shared_machine(n: int, tag: str) -> tuple[Machine, list[BareCase]]:
    machine = bare_machine(BareCase("shared-initial"))
    models = [BareCase(f"case-{tag}-{i:06d}") for i in range(n)]
    for m in models:
        machine.add_model(m)
    return machine, models


# --- the contenders: each prepares its work untimed and returns (run(lo, hi), check()) ----

Run = Callable[[int, int], None]
Check = Callable[[], None]


def tuko_transition(level: int) -> Callable[[int, str], tuple[Run, Check]]:
    """``Engine.execute(inform_network)`` on cases in ``stage1_notice``, logging at ``level``.

    structlog binds the engine's logger on first use (``cache_logger_on_first_use``), which
    happens while the cases are set up: each engine keeps the level configured here.
    """

    def prepare(n: int, tag: str) -> tuple[Run, Check]:
        configure_logging(level)
        engine, work = tuko_cases_in_stage1(n, tag)
        execute = engine.execute
        actor = OFFICER

        def run(lo: int, hi: int) -> None:
            for case_id, command in work[lo:hi]:
                execute(case_id, command, actor=actor)

        def check() -> None:
            if engine.case(work[-1][0]).state != "stage2_evaluate":  # pragma: no cover
                raise RuntimeError("inform_network did not change the state")

        return run, check

    return prepare


def bare_transition(n: int, tag: str) -> tuple[Run, Check]:
    """``model.go()`` with a guard and an after-callback, one machine per model."""
    models = bare_models_with_machines(n, tag)

    def run(lo: int, hi: int) -> None:
        for m in models[lo:hi]:
            m.go()  # type: ignore[attr-defined]  # added by transitions

    def check() -> None:
        last: Any = models[-1]
        if last.moves != 1 or last.state != STATES[1]:  # pragma: no cover
            raise RuntimeError("the bare trigger did not change the state")

    return run, check


def bare_shared_transition(n: int, tag: str) -> tuple[Run, Check]:
    """``model.go()`` with many models on one shared machine (for information)."""
    _machine, models = bare_models_on_shared_machine(n, tag)  # the models' triggers keep it

    def run(lo: int, hi: int) -> None:
        for m in models[lo:hi]:
            m.go()  # type: ignore[attr-defined]

    def check() -> None:
        last: Any = models[-1]
        if last.moves != 1 or last.state != STATES[1]:  # pragma: no cover
            raise RuntimeError("the bare trigger did not change the state")

    return run, check


def tuko_open_case(n: int, tag: str) -> tuple[Run, Check]:
    """``Engine.open_case`` with pre-built intakes (not "always assume need")."""
    configure_logging(logging.INFO)
    engine = Engine()
    intakes = [sample_intake(f"case-{tag}-{i:06d}") for i in range(n)]
    open_case = engine.open_case
    actor = OFFICER

    def run(lo: int, hi: int) -> None:
        for intake in intakes[lo:hi]:
            open_case(intake, actor=actor)

    def check() -> None:
        if engine.case(intakes[-1].case_id).state != "awaiting_notice":  # pragma: no cover
            raise RuntimeError("open_case did not leave the case awaiting notice")

    return run, check


def bare_machine_per_case(n: int, tag: str) -> tuple[Run, Check]:
    """``Machine(model=obj, states=..., transitions=..., initial=...)`` per pre-built model."""
    models = [BareCase(f"case-{tag}-{i:06d}") for i in range(n)]
    machines: list[Machine] = []
    append = machines.append

    def run(lo: int, hi: int) -> None:
        for m in models[lo:hi]:
            append(
                Machine(
                    model=m,
                    states=STATES,
                    transitions=BARE_TRANSITIONS,
                    initial=STATES[0],
                    auto_transitions=False,
                )
            )

    def check() -> None:
        if len(machines) != len(models):  # pragma: no cover
            raise RuntimeError("not every machine was built")

    return run, check


CONTENDERS: dict[str, Callable[[int, str], tuple[Run, Check]]] = {
    "tuko_transition": tuko_transition(logging.INFO),
    "tuko_transition_logging_off": tuko_transition(logging.WARNING),
    "bare_transition": bare_transition,
    "bare_shared_machine_transition": bare_shared_transition,
    "tuko_open_case": tuko_open_case,
    "bare_machine_per_case": bare_machine_per_case,
}

#: Each headline ratio: (numerator, denominator).
PAIRS = {
    "transition_vs_bare_transitions": ("tuko_transition", "bare_transition"),
    "transition_vs_bare_transitions_logging_off": (
        "tuko_transition_logging_off",
        "bare_transition",
    ),
    "open_case_vs_machine_per_case": ("tuko_open_case", "bare_machine_per_case"),
}


def one_round(n: int, chunk: int, tag: str, reverse: bool) -> dict[str, float]:
    """Time every contender over ``n`` operations; seconds per operation for each.

    The contenders take turns in chunks of ``chunk`` operations (the order rotating from
    chunk to chunk), so a noisy spell on the machine hits all of them alike. The cyclic
    garbage collector is off for the whole round, after a ``gc.collect()``.
    """
    names = list(CONTENDERS)[:: -1 if reverse else 1]
    prepared = {name: CONTENDERS[name](n, f"{tag}-{i}") for i, name in enumerate(names)}
    totals = dict.fromkeys(names, 0.0)
    gc.collect()
    gc.disable()
    try:
        for k, lo in enumerate(range(0, n, chunk)):
            hi = min(lo + chunk, n)
            shift = k % len(names)
            for name in names[shift:] + names[:shift]:
                run = prepared[name][0]
                start = perf_counter()
                run(lo, hi)
                totals[name] += perf_counter() - start
    finally:
        gc.enable()
    for _run, check in prepared.values():
        check()
    return {name: total / n for name, total in totals.items()}


# --- memory -------------------------------------------------------------------------------


def traced_bytes(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes still allocated after ``build()`` (and a gc), and what it built."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        held = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, held


def memory_tuko(n: int) -> float:
    configure_logging(logging.INFO)
    engine = Engine()

    def build() -> Engine:
        for i in range(n):
            intake: OpenCase = sample_intake(f"case-mem-{i:06d}")
            engine.open_case(intake, actor=OFFICER)
        return engine

    size, held = traced_bytes(build)
    if sum(1 for _ in held.case_ids()) != n:  # pragma: no cover
        raise RuntimeError("not every case was opened")
    return size / n


def memory_bare(n: int) -> float:
    def build() -> list[tuple[BareCase, Machine]]:
        pairs = []
        for i in range(n):
            model = BareCase(f"case-mem-{i:06d}")
            pairs.append((model, bare_machine(model)))
        return pairs

    size, held = traced_bytes(build)
    if len(held) != n:  # pragma: no cover
        raise RuntimeError("not every machine was built")
    return size / n


# --- the run ------------------------------------------------------------------------------


def run(n: int, rounds: int, chunk: int) -> dict[str, Any]:
    # Warm up: build the shared TUKO machine, load lazily imported code, fill caches.
    one_round(max(20, n // 20), chunk, "warm", reverse=False)
    samples: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for r in range(rounds):
        for name, per_op in one_round(n, chunk, f"r{r}", reverse=r % 2 == 1).items():
            samples[name].append(per_op)
    configure_logging(logging.INFO)

    # Memory: after the timing, from a collected heap.
    gc.collect()
    bare_bytes = memory_bare(n)
    tuko_bytes = memory_tuko(n)

    result: dict[str, Any] = {}
    for key, (num, den) in PAIRS.items():
        # The median of the per-round ratios: both sides of a ratio ran interleaved in the
        # same round, so pairing them cancels most of the machine's slow drifts.
        paired = [a / b for a, b in zip(samples[num], samples[den], strict=True)]
        result[key] = statistics.median(paired)
        result[key + "_of_minimums"] = min(samples[num]) / min(samples[den])
    result["memory_per_case_vs_machine_per_case"] = tuko_bytes / bare_bytes
    for name, values in samples.items():
        result[f"{name}_us"] = statistics.median(values) * 1e6
        result[f"{name}_us_min"] = min(values) * 1e6
    result.update(
        tuko_bytes_per_case=tuko_bytes,
        bare_bytes_per_case=bare_bytes,
        n=n,
        rounds=rounds,
        chunk=chunk,
        bare_baseline="one transitions.Machine per model",
        tuko_transition_command="inform_network (stage1_notice -> stage2_evaluate)",
        targets=TARGETS,
        python=platform.python_version(),
        transitions=version("transitions"),
        structlog=version("structlog"),
        tuko_flow=version("tuko-flow"),
        cpus=os.cpu_count(),
    )
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


def table(result: dict[str, Any]) -> str:
    rows = [
        ("tuko_flow execute(inform_network), logging at INFO", "tuko_transition"),
        ("tuko_flow execute(inform_network), logging off", "tuko_transition_logging_off"),
        ("bare model.go(), one machine per model", "bare_transition"),
        ("bare model.go(), one shared machine (info)", "bare_shared_machine_transition"),
        ("tuko_flow open_case", "tuko_open_case"),
        ("bare Machine(model=...) per case", "bare_machine_per_case"),
    ]
    width = max(len(label) for label, _ in rows)
    out = [
        f"tuko_flow engine vs bare transitions  (n={result['n']}, rounds={result['rounds']}, "
        f"chunk={result['chunk']}, "
        f"python {result['python']}, transitions {result['transitions']}, "
        f"structlog {result['structlog']}, {result['cpus']} cpus)",
        "",
        f"{'time per operation':<{width}}  {'median µs':>10}  {'min µs':>10}",
    ]
    for label, key in rows:
        out.append(
            f"{label:<{width}}  {result[key + '_us']:>10.2f}  {result[key + '_us_min']:>10.2f}"
        )
    out.append("")
    out.append(f"{'memory per open case':<{width}}  {'bytes':>10}")
    out.append(
        f"{'tuko_flow (store events + cached case + intake data)':<{width}}  "
        f"{result['tuko_bytes_per_case']:>10.0f}"
    )
    out.append(f"{'bare machine + model':<{width}}  {result['bare_bytes_per_case']:>10.0f}")
    out.append("")
    out.append(
        f"{'ratio (lower is better)':<{width}}  {'median':>10}  {'of mins':>10}  {'target':>10}"
    )
    for key in (*TARGETS, "transition_vs_bare_transitions_logging_off"):
        target = TARGETS.get(key)
        mark = "" if target is None else ("  ok" if result[key] <= target else "  MISSED")
        shown = "-" if target is None else f"<= {target:g}"
        of_mins = result.get(key + "_of_minimums")
        mins = "-" if of_mins is None else f"{of_mins:.3f}"
        out.append(f"{key:<{width}}  {result[key]:>10.3f}  {mins:>10}  {shown:>10}{mark}")
    out.append("")
    out.append(
        "median: the median over rounds of the per-round ratio (both sides interleaved in "
        "the same round); of mins: the ratio of the best rounds."
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few operations (a smoke run)")
    parser.add_argument("--n", type=int, default=None, help="operations per round and cases held")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of every contender")
    parser.add_argument(
        "--chunk", type=int, default=50, help="operations per turn when contenders interleave"
    )
    args = parser.parse_args(argv)
    n = args.n if args.n is not None else (200 if args.quick else 2000)
    rounds = args.rounds if args.rounds is not None else (3 if args.quick else 7)
    if n < 1 or rounds < 1 or args.chunk < 1:
        parser.error("--n, --rounds and --chunk must be at least 1")
    result = run(n, rounds, args.chunk)
    print(table(result))
    print(json.dumps(result, sort_keys=True))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
