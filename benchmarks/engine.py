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

MARAC and the DASH
------------------
The same rounds also time the MARAC protocol and the DASH scoring, each against its own
baseline in the same run:

4. MARAC transition: ``Engine.execute`` of the commands a coordinator sends after a
   referral, in order, on cases in ``referred``: ``receive_referral`` (-> ``received``),
   ``accept_referral`` (-> ``listed``), ``offer_advocate`` and ``share_marac_information``
   (both internal: the state stays ``listed``), one operation per command, against a bare
   ``transitions.Machine`` of the MARAC shape (its 8 states and its transitions, internal
   ones kept internal, each with one guard condition and one after-callback, one machine
   per model) firing the same triggers in the same order. After the rounds each command is
   also timed on its own (fewer operations, for information).
5. Opening a MARAC case: ``Engine.open_case(OpenMaracCase)`` with a pre-built, validated
   DASH checklist (16 of 24 yes: high risk) against ``Machine(...)`` of the MARAC shape per
   case. Every case has its own victim and perpetrator (one MARAC case is kept per pair).
6. Memory per MARAC case: one engine holding N MARAC cases opened with a DASH (its
   checklist built inside the measurement, as TUKO's intakes are) against N bare MARAC
   machines with their models; the N checklists alone are measured too, for information.
7. DASH scoring: ``score(checklist)`` on pre-built 24-question SafeLives checklists (the
   yes count varies from 0 to 24, so both outcomes occur) against the bare computation:
   counting ``"yes"`` in a plain dict of 24 answers and comparing the count and the
   incidents to the thresholds in a few lines of plain Python. Building the validated
   checklist (``answers_from`` + ``Checklist`` from a plain dict) is timed on its own,
   since that is where the validation cost sits; its ratio to the bare scoring is
   reported for information (there is no target for the DASH figures).
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

from tuko_flow import (
    MARAC,
    TUKO,
    AcceptReferral,
    Actor,
    Client,
    Command,
    Engine,
    InformNetwork,
    NoticeNeed,
    OfferAdvocate,
    OpenCase,
    OpenMaracCase,
    PersonAtRisk,
    ReceiveReferral,
    ReferToMarac,
    Relation,
    ShareMaracInformation,
    VictimNotice,
)
from tuko_flow._demo import MARAC_NETWORK, VICTIM_SUPPORT
from tuko_flow.rules.dash import SAFELIVES_DASH, Checklist, Thresholds, answers_from, score
from tuko_flow.testing import OFFICER, POLICE, sample_intake

#: The core issue's targets; MARAC has the same ones as TUKO. The DASH figures have none.
TARGETS = {
    "transition_vs_bare_transitions": 2.0,
    "open_case_vs_machine_per_case": 0.25,
    "memory_per_case_vs_machine_per_case": 0.25,
    "marac_transition_vs_bare_transitions": 2.0,
    "marac_open_case_vs_machine_per_case": 0.25,
    "marac_memory_per_case_vs_machine_per_case": 0.25,
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


def executing(engine: Engine, work: Sequence[tuple[str, Command]], actor: Actor) -> Run:
    """Run: ``engine.execute`` of the pre-built ``(case_id, command)`` pairs in ``work``."""
    execute = engine.execute

    def run(lo: int, hi: int) -> None:
        for case_id, command in work[lo:hi]:
            execute(case_id, command, actor=actor)

    return run


def opening(engine: Engine, intakes: Sequence[Command], actor: Actor) -> Run:
    """Run: ``engine.open_case`` of the pre-built ``intakes``."""
    open_case = engine.open_case

    def run(lo: int, hi: int) -> None:
        for intake in intakes[lo:hi]:
            open_case(intake, actor=actor)

    return run


def firing(work: Sequence[Callable[[], Any]]) -> Run:
    """Run: call each pre-bound bare trigger in ``work``."""

    def run(lo: int, hi: int) -> None:
        for fire in work[lo:hi]:
            fire()

    return run


def going(models: list[BareCase]) -> tuple[Run, Check]:
    """``model.go()`` on each of ``models`` (whatever machine they sit on)."""

    def run(lo: int, hi: int) -> None:
        for m in models[lo:hi]:
            m.go()  # type: ignore[attr-defined]  # added by transitions

    def check() -> None:
        last: Any = models[-1]
        if last.moves != 1 or last.state != STATES[1]:  # pragma: no cover
            raise RuntimeError("the bare trigger did not change the state")

    return run, check


def machine_per_case(
    models: list[BareCase], states: list[str], transitions: list[dict[str, Any]]
) -> tuple[Run, Check]:
    """``Machine(model=obj, states=..., transitions=..., initial=...)`` per pre-built model."""
    machines: list[Machine] = []
    append = machines.append

    def run(lo: int, hi: int) -> None:
        for m in models[lo:hi]:
            append(
                Machine(
                    model=m,
                    states=states,
                    transitions=transitions,
                    initial=states[0],
                    auto_transitions=False,
                )
            )

    def check() -> None:
        if len(machines) != len(models):  # pragma: no cover
            raise RuntimeError("not every machine was built")

    return run, check


def tuko_transition(level: int) -> Callable[[int, str], tuple[Run, Check]]:
    """``Engine.execute(inform_network)`` on cases in ``stage1_notice``, logging at ``level``.

    structlog binds the engine's logger on first use (``cache_logger_on_first_use``), which
    happens while the cases are set up: each engine keeps the level configured here.
    """

    def prepare(n: int, tag: str) -> tuple[Run, Check]:
        configure_logging(level)
        engine, work = tuko_cases_in_stage1(n, tag)

        def check() -> None:
            if engine.case(work[-1][0]).state != "stage2_evaluate":  # pragma: no cover
                raise RuntimeError("inform_network did not change the state")

        return executing(engine, work, OFFICER), check

    return prepare


def bare_transition(n: int, tag: str) -> tuple[Run, Check]:
    """``model.go()`` with a guard and an after-callback, one machine per model."""
    return going(bare_models_with_machines(n, tag))


def bare_shared_transition(n: int, tag: str) -> tuple[Run, Check]:
    """``model.go()`` with many models on one shared machine (for information)."""
    _machine, models = bare_models_on_shared_machine(n, tag)  # the models' triggers keep it
    return going(models)


def tuko_open_case(n: int, tag: str) -> tuple[Run, Check]:
    """``Engine.open_case`` with pre-built intakes (not "always assume need")."""
    configure_logging(logging.INFO)
    engine = Engine()
    intakes = [sample_intake(f"case-{tag}-{i:06d}") for i in range(n)]

    def check() -> None:
        if engine.case(intakes[-1].case_id).state != "awaiting_notice":  # pragma: no cover
            raise RuntimeError("open_case did not leave the case awaiting notice")

    return opening(engine, intakes, OFFICER), check


def bare_machine_per_case(n: int, tag: str) -> tuple[Run, Check]:
    """``Machine(model=obj, states=..., transitions=..., initial=...)`` per pre-built model."""
    models = [BareCase(f"case-{tag}-{i:06d}") for i in range(n)]
    return machine_per_case(models, STATES, BARE_TRANSITIONS)


# --- MARAC: the bare machine of its shape, and its cases ----------------------------------

MARAC_STATES = [s.name for s in MARAC.states]
BARE_MARAC_TRANSITIONS = [
    {
        "trigger": t.trigger,
        "source": list(t.source),
        "dest": t.dest,  # None: an internal transition, as in the protocol
        "conditions": "guard_passes",
        "after": "after_moved",
    }
    for t in MARAC.transitions
]

#: The commands timed on a referred case, in order, and the state each leaves it in.
MARAC_SEQUENCE = (
    ("receive_referral", "received"),
    ("accept_referral", "listed"),
    ("offer_advocate", "listed"),
    ("share_marac_information", "listed"),
)
MARAC_AREA = "harju"
#: The victim was told of the referral, safely.
SAFE_NOTICE = VictimNotice(safe=True, how="In person at the police station.")
#: The DASH every benchmarked MARAC case is opened with: 16 of 24 yes, visible high risk.
MARAC_YES = 16


def bare_marac_machine(model: BareCase, initial: str = MARAC_STATES[0]) -> Machine:
    return Machine(
        model=model,
        states=MARAC_STATES,
        transitions=BARE_MARAC_TRANSITIONS,
        initial=initial,
        auto_transitions=False,
    )


def dash_values(yes: int) -> dict[str, str]:
    """Plain answers to the SafeLives DASH: the first ``yes`` questions yes, the rest no."""
    return {q: "yes" if i < yes else "no" for i, q in enumerate(SAFELIVES_DASH.ids)}


def build_checklist(
    values: dict[str, str], *, asked_at: Any, victim_ref: str, incidents: int
) -> Checklist:
    """The validated checklist for plain ``values`` (as ``tuko_flow._demo.sample_checklist``)."""
    return Checklist(
        instrument=SAFELIVES_DASH,
        answers=answers_from(values, instrument=SAFELIVES_DASH, asked_by=POLICE, asked_at=asked_at),
        victim_ref=victim_ref,
        children_in_household=True,
        incidents=incidents,
    )


def marac_intake(case_id: str, asked_at: Any) -> OpenMaracCase:
    """Opening a MARAC case with a high-risk DASH; its own victim and perpetrator."""
    victim = f"victim-{case_id}"
    return OpenMaracCase(
        case_id=case_id,
        area=MARAC_AREA,
        victim=PersonAtRisk(ref=victim, relation=Relation.VICTIM),
        perpetrator=Client(f"client-{case_id}"),
        network=MARAC_NETWORK,
        checklist=build_checklist(
            dash_values(MARAC_YES), asked_at=asked_at, victim_ref=victim, incidents=1
        ),
    )


def marac_command(engine: Engine, trigger: str) -> Command:
    """A fresh command (its own command id) for ``trigger`` of :data:`MARAC_SEQUENCE`."""
    if trigger == "receive_referral":
        return ReceiveReferral()
    if trigger == "accept_referral":
        return AcceptReferral(conference_at=engine.clock.now() + timedelta(days=7))
    if trigger == "offer_advocate":
        return OfferAdvocate(advocate="m-idva", accepted=True)
    if trigger == "share_marac_information":
        return ShareMaracInformation(
            information="Police attended the address twice this week.", to_agencies=("police",)
        )
    raise ValueError(trigger)  # pragma: no cover


def marac_cases_referred(engine: Engine, count: int, tag: str, done: int = 0) -> list[str]:
    """``count`` MARAC cases opened with a DASH and referred, then taken through the first
    ``done`` commands of :data:`MARAC_SEQUENCE`."""
    case_ids = [f"marac-{tag}-{i:06d}" for i in range(count)]
    for case_id in case_ids:
        engine.open_case(marac_intake(case_id, engine.clock.now()), actor=POLICE)
        engine.execute(case_id, ReferToMarac(victim_notice=SAFE_NOTICE), actor=POLICE)
        for trigger, _state in MARAC_SEQUENCE[:done]:
            engine.execute(case_id, marac_command(engine, trigger), actor=VICTIM_SUPPORT)
    return case_ids


def bare_marac_models_referred(count: int, tag: str, done: int = 0) -> list[BareCase]:
    """``count`` bare MARAC models, one machine each, moved to ``referred`` and then through
    the first ``done`` triggers of :data:`MARAC_SEQUENCE`."""
    models = [BareCase(f"marac-{tag}-{i:06d}") for i in range(count)]
    for m in models:
        bare_marac_machine(m)
        trigger: Any = m
        trigger.refer_to_marac()
        for name, _state in MARAC_SEQUENCE[:done]:
            getattr(m, name)()
        m.moves = 0
    return models


# --- MARAC contenders ---------------------------------------------------------------------


def marac_transition(level: int) -> Callable[[int, str], tuple[Run, Check]]:
    """``Engine.execute`` of :data:`MARAC_SEQUENCE` on referred cases, logging at ``level``:
    operation ``k`` is command ``k % 4`` on case ``k // 4``, so each case gets them in order."""

    def prepare(n: int, tag: str) -> tuple[Run, Check]:
        configure_logging(level)
        engine = Engine()
        case_ids = marac_cases_referred(engine, -(-n // len(MARAC_SEQUENCE)), tag)
        work = [
            (case_id, marac_command(engine, trigger))
            for case_id in case_ids
            for trigger, _state in MARAC_SEQUENCE
        ][:n]

        def check() -> None:
            expected = MARAC_SEQUENCE[(n - 1) % len(MARAC_SEQUENCE)][1]
            if engine.case(work[-1][0]).state != expected:  # pragma: no cover
                raise RuntimeError("the MARAC commands did not reach the expected state")

        return executing(engine, work, VICTIM_SUPPORT), check

    return prepare


def bare_marac_transition(n: int, tag: str) -> tuple[Run, Check]:
    """The triggers of :data:`MARAC_SEQUENCE` in the same order, one machine per model."""
    models = bare_marac_models_referred(-(-n // len(MARAC_SEQUENCE)), tag)
    work = [getattr(m, trigger) for m in models for trigger, _state in MARAC_SEQUENCE][:n]

    def check() -> None:
        last: Any = models[-1]
        expected = MARAC_SEQUENCE[(n - 1) % len(MARAC_SEQUENCE)][1]
        if sum(m.moves for m in models) != n or last.state != expected:  # pragma: no cover
            raise RuntimeError("the bare MARAC triggers did not all move")

    return firing(work), check


def marac_open_case(n: int, tag: str) -> tuple[Run, Check]:
    """``Engine.open_case(OpenMaracCase)`` with pre-built intakes and DASH checklists."""
    configure_logging(logging.INFO)
    engine = Engine()
    intakes = [marac_intake(f"marac-{tag}-{i:06d}", engine.clock.now()) for i in range(n)]

    def check() -> None:
        if engine.case(intakes[-1].case_id).state != "assessment":  # pragma: no cover
            raise RuntimeError("open_case did not leave the MARAC case in assessment")

    return opening(engine, intakes, POLICE), check


def bare_marac_machine_per_case(n: int, tag: str) -> tuple[Run, Check]:
    """``Machine(...)`` of the MARAC shape per pre-built model."""
    models = [BareCase(f"marac-{tag}-{i:06d}") for i in range(n)]
    return machine_per_case(models, MARAC_STATES, BARE_MARAC_TRANSITIONS)


def marac_command_alone(trigger: str, done: int) -> Callable[[int, str], tuple[Run, Check]]:
    """One command of :data:`MARAC_SEQUENCE` on its own, logging at INFO (for information)."""

    def prepare(n: int, tag: str) -> tuple[Run, Check]:
        configure_logging(logging.INFO)
        engine = Engine()
        work = [
            (case_id, marac_command(engine, trigger))
            for case_id in marac_cases_referred(engine, n, tag, done)
        ]

        def check() -> None:
            case = engine.case(work[-1][0])
            if case.state != MARAC_SEQUENCE[done][1]:  # pragma: no cover
                raise RuntimeError(f"{trigger} did not reach the expected state")

        return executing(engine, work, VICTIM_SUPPORT), check

    return prepare


def bare_marac_trigger_alone(trigger: str, done: int) -> Callable[[int, str], tuple[Run, Check]]:
    """One bare trigger of :data:`MARAC_SEQUENCE` on its own, one machine per model."""

    def prepare(n: int, tag: str) -> tuple[Run, Check]:
        models = bare_marac_models_referred(n, tag, done)
        work = [getattr(m, trigger) for m in models]

        def check() -> None:
            if sum(m.moves for m in models) != n:  # pragma: no cover
                raise RuntimeError(f"the bare {trigger} did not move every model")

        return firing(work), check

    return prepare


# --- DASH contenders ----------------------------------------------------------------------

#: The thresholds the bare scoring compares against: SafeLives' defaults, as ``score`` uses.
_T = Thresholds()
BARE_VISIBLE_HIGH_RISK = _T.visible_high_risk
BARE_ESCALATION_INCIDENTS = _T.escalation_incidents


def bare_score(
    answers: dict[str, str], incidents: int, judgement: str | None, children: bool
) -> tuple[int, bool, bool, bool, bool]:
    """The bare DASH computation: count the yes answers, compare with the thresholds."""
    yes = sum(1 for v in answers.values() if v == "yes")
    visible = yes >= BARE_VISIBLE_HIGH_RISK
    escalation = incidents >= BARE_ESCALATION_INCIDENTS
    return yes, visible, escalation, visible or escalation or judgement is not None, children


def dash_inputs(n: int) -> list[tuple[dict[str, str], int]]:
    """``n`` plain DASH answer sets (0 to 24 yes, so both outcomes occur) and incident counts."""
    total = len(SAFELIVES_DASH.ids)
    return [(dash_values(i % (total + 1)), i % 5) for i in range(n)]


def dash_score(n: int, tag: str) -> tuple[Run, Check]:
    """``score(checklist)`` on pre-built, validated 24-question SafeLives checklists."""
    at = Engine().clock.now()
    checklists = [
        build_checklist(values, asked_at=at, victim_ref=f"victim-{tag}-{i:06d}", incidents=k)
        for i, (values, k) in enumerate(dash_inputs(n))
    ]
    results: list[Any] = []
    append = results.append

    def run(lo: int, hi: int) -> None:
        for checklist in checklists[lo:hi]:
            append(score(checklist))

    def check() -> None:
        expected = bare_score(*dash_inputs(n)[-1], None, True)
        last = results[-1]
        if (last.yes_count, last.high_risk) != (expected[0], expected[3]):  # pragma: no cover
            raise RuntimeError("score and the bare scoring disagree")

    return run, check


def bare_dash_score(n: int, tag: str) -> tuple[Run, Check]:
    """The bare computation on plain dicts of the same answers."""
    inputs = [(values, k, None, True) for values, k in dash_inputs(n)]
    results: list[Any] = []
    append = results.append

    def run(lo: int, hi: int) -> None:
        for answers, incidents, judgement, children in inputs[lo:hi]:
            append(bare_score(answers, incidents, judgement, children))

    def check() -> None:
        if len(results) != n:  # pragma: no cover
            raise RuntimeError("not every answer set was scored")

    return run, check


def dash_checklist(n: int, tag: str) -> tuple[Run, Check]:
    """Building the validated checklist: ``answers_from`` + ``Checklist`` from plain dicts."""
    at = Engine().clock.now()
    inputs = [(values, k, f"victim-{tag}-{i:06d}") for i, (values, k) in enumerate(dash_inputs(n))]
    built: list[Checklist] = []
    append = built.append

    def run(lo: int, hi: int) -> None:
        for values, incidents, victim_ref in inputs[lo:hi]:
            append(
                Checklist(
                    instrument=SAFELIVES_DASH,
                    answers=answers_from(
                        values, instrument=SAFELIVES_DASH, asked_by=POLICE, asked_at=at
                    ),
                    victim_ref=victim_ref,
                    children_in_household=True,
                    incidents=incidents,
                )
            )

    def check() -> None:
        if len(built) != n or len(built[-1].answers) != len(SAFELIVES_DASH.ids):  # pragma: no cover
            raise RuntimeError("not every checklist was built")

    return run, check


Prepare = Callable[[int, str], tuple[Run, Check]]

CONTENDERS: dict[str, Prepare] = {
    "tuko_transition": tuko_transition(logging.INFO),
    "tuko_transition_logging_off": tuko_transition(logging.WARNING),
    "bare_transition": bare_transition,
    "bare_shared_machine_transition": bare_shared_transition,
    "tuko_open_case": tuko_open_case,
    "bare_machine_per_case": bare_machine_per_case,
    "marac_transition": marac_transition(logging.INFO),
    "marac_transition_logging_off": marac_transition(logging.WARNING),
    "bare_marac_transition": bare_marac_transition,
    "marac_open_case": marac_open_case,
    "bare_marac_machine_per_case": bare_marac_machine_per_case,
    "dash_score": dash_score,
    "bare_dash_score": bare_dash_score,
    "dash_checklist": dash_checklist,
}

#: Each MARAC command on its own (after the main rounds, fewer operations, for information).
MARAC_COMMAND_CONTENDERS: dict[str, Prepare] = {}
for _done, (_trigger, _state) in enumerate(MARAC_SEQUENCE):
    MARAC_COMMAND_CONTENDERS[f"marac_{_trigger}"] = marac_command_alone(_trigger, _done)
    MARAC_COMMAND_CONTENDERS[f"bare_marac_{_trigger}"] = bare_marac_trigger_alone(_trigger, _done)

#: Each headline ratio: (numerator, denominator).
PAIRS = {
    "transition_vs_bare_transitions": ("tuko_transition", "bare_transition"),
    "transition_vs_bare_transitions_logging_off": (
        "tuko_transition_logging_off",
        "bare_transition",
    ),
    "open_case_vs_machine_per_case": ("tuko_open_case", "bare_machine_per_case"),
    "marac_transition_vs_bare_transitions": ("marac_transition", "bare_marac_transition"),
    "marac_transition_vs_bare_transitions_logging_off": (
        "marac_transition_logging_off",
        "bare_marac_transition",
    ),
    "marac_open_case_vs_machine_per_case": ("marac_open_case", "bare_marac_machine_per_case"),
    "dash_score_vs_bare_score": ("dash_score", "bare_dash_score"),
    "dash_checklist_vs_bare_score": ("dash_checklist", "bare_dash_score"),
}
#: The ratio of each MARAC command on its own to its bare trigger.
MARAC_COMMAND_PAIRS = {
    f"marac_{trigger}_vs_bare": (f"marac_{trigger}", f"bare_marac_{trigger}")
    for trigger, _state in MARAC_SEQUENCE
}


def one_round(
    n: int,
    chunk: int,
    tag: str,
    reverse: bool,
    contenders: dict[str, Prepare] = CONTENDERS,
) -> dict[str, float]:
    """Time every contender over ``n`` operations; seconds per operation for each.

    The contenders take turns in chunks of ``chunk`` operations (the order rotating from
    chunk to chunk), so a noisy spell on the machine hits all of them alike. The cyclic
    garbage collector is off for the whole round, after a ``gc.collect()``.
    """
    names = list(contenders)[:: -1 if reverse else 1]
    prepared = {name: contenders[name](n, f"{tag}-{i}") for i, name in enumerate(names)}
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


def memory_engine(n: int, open_one: Callable[[Engine, int], None], what: str) -> float:
    """Bytes per case held by one engine after ``open_one(engine, i)`` for ``i < n``."""
    configure_logging(logging.INFO)
    engine = Engine()

    def build() -> Engine:
        for i in range(n):
            open_one(engine, i)
        return engine

    size, held = traced_bytes(build)
    if sum(1 for _ in held.case_ids()) != n:  # pragma: no cover
        raise RuntimeError(f"not every {what} was opened")
    return size / n


def memory_bare_machines(n: int, prefix: str, machine: Callable[[BareCase], Machine]) -> float:
    """Bytes per bare model (ids ``{prefix}-mem-…``) with its own ``machine(model)``."""

    def build() -> list[tuple[BareCase, Machine]]:
        pairs = []
        for i in range(n):
            model = BareCase(f"{prefix}-mem-{i:06d}")
            pairs.append((model, machine(model)))
        return pairs

    size, held = traced_bytes(build)
    if len(held) != n:  # pragma: no cover
        raise RuntimeError("not every machine was built")
    return size / n


def memory_tuko(n: int) -> float:
    def open_one(engine: Engine, i: int) -> None:
        intake: OpenCase = sample_intake(f"case-mem-{i:06d}")
        engine.open_case(intake, actor=OFFICER)

    return memory_engine(n, open_one, "case")


def memory_bare(n: int) -> float:
    return memory_bare_machines(n, "case", bare_machine)


def memory_marac(n: int) -> float:
    """Bytes per MARAC case held by one engine: opened with a DASH built inside the trace."""

    def open_one(engine: Engine, i: int) -> None:
        engine.open_case(marac_intake(f"marac-mem-{i:06d}", engine.clock.now()), actor=POLICE)

    return memory_engine(n, open_one, "MARAC case")


def memory_bare_marac(n: int) -> float:
    return memory_bare_machines(n, "marac", bare_marac_machine)


def memory_checklists(n: int) -> float:
    """Bytes per validated DASH checklist on its own (for information)."""
    at = Engine().clock.now()

    def build() -> list[Checklist]:
        return [
            build_checklist(
                dash_values(MARAC_YES), asked_at=at, victim_ref=f"victim-{i:06d}", incidents=1
            )
            for i in range(n)
        ]

    size, held = traced_bytes(build)
    if len(held) != n:  # pragma: no cover
        raise RuntimeError("not every checklist was built")
    return size / n


def paired_ratios(
    result: dict[str, Any], samples: dict[str, list[float]], pairs: dict[str, tuple[str, str]]
) -> None:
    for key, (num, den) in pairs.items():
        # The median of the per-round ratios: both sides of a ratio ran interleaved in the
        # same round, so pairing them cancels most of the machine's slow drifts.
        paired = [a / b for a, b in zip(samples[num], samples[den], strict=True)]
        result[key] = statistics.median(paired)
        result[key + "_of_minimums"] = min(samples[num]) / min(samples[den])


def per_operation(result: dict[str, Any], samples: dict[str, list[float]]) -> None:
    for name, values in samples.items():
        result[f"{name}_us"] = statistics.median(values) * 1e6
        result[f"{name}_us_min"] = min(values) * 1e6


# --- the run ------------------------------------------------------------------------------


def sampled(
    contenders: dict[str, Prepare], n: int, rounds: int, chunk: int, warm_n: int, tag: str
) -> dict[str, list[float]]:
    """A warm-up round of ``warm_n`` operations, then ``rounds`` timed rounds of ``n``
    (order reversed every other round): each contender's seconds per operation per round.
    Round ``r``'s cases are tagged ``{tag}{r}``, the warm-up's ``warm-{tag}``."""
    one_round(warm_n, chunk, f"warm-{tag}", False, contenders)
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name, per_op in one_round(n, chunk, f"{tag}{r}", r % 2 == 1, contenders).items():
            samples[name].append(per_op)
    return samples


def run(n: int, rounds: int, chunk: int) -> dict[str, Any]:
    # Warm up: build the shared TUKO machine, load lazily imported code, fill caches.
    samples = sampled(CONTENDERS, n, rounds, chunk, max(20, n // 20), "r")

    # Each MARAC command on its own: fewer operations (each needs its own case), same rounds.
    n_command = max(1, n // len(MARAC_SEQUENCE))
    command_samples = sampled(
        MARAC_COMMAND_CONTENDERS, n_command, rounds, chunk, max(5, n_command // 20), "c"
    )
    configure_logging(logging.INFO)

    # Memory: after the timing, from a collected heap.
    gc.collect()
    bare_bytes = memory_bare(n)
    tuko_bytes = memory_tuko(n)
    bare_marac_bytes = memory_bare_marac(n)
    marac_bytes = memory_marac(n)
    checklist_bytes = memory_checklists(n)

    result: dict[str, Any] = {}
    paired_ratios(result, samples, PAIRS)
    paired_ratios(result, command_samples, MARAC_COMMAND_PAIRS)
    result["memory_per_case_vs_machine_per_case"] = tuko_bytes / bare_bytes
    result["marac_memory_per_case_vs_machine_per_case"] = marac_bytes / bare_marac_bytes
    per_operation(result, samples)
    per_operation(result, command_samples)
    result.update(
        tuko_bytes_per_case=tuko_bytes,
        bare_bytes_per_case=bare_bytes,
        marac_bytes_per_case=marac_bytes,
        bare_marac_bytes_per_case=bare_marac_bytes,
        dash_checklist_bytes=checklist_bytes,
        n=n,
        rounds=rounds,
        chunk=chunk,
        n_marac_command=n_command,
        bare_baseline="one transitions.Machine per model",
        tuko_transition_command="inform_network (stage1_notice -> stage2_evaluate)",
        marac_transition_commands=" then ".join(t for t, _s in MARAC_SEQUENCE)
        + " (referred -> received -> listed -> listed -> listed)",
        marac_bare_baseline=(
            f"one transitions.Machine per model, {len(MARAC_STATES)} states, "
            f"{len(BARE_MARAC_TRANSITIONS)} transitions (internal where MARAC's are)"
        ),
        dash_instrument=SAFELIVES_DASH.label,
        dash_questions=len(SAFELIVES_DASH.ids),
        targets=TARGETS,
        python=platform.python_version(),
        transitions=version("transitions"),
        structlog=version("structlog"),
        tuko_flow=version("tuko-flow"),
        cpus=os.cpu_count(),
    )
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


#: Ratios reported without a target, each after the targets of its part.
INFO_RATIOS = {
    "tuko": ("transition_vs_bare_transitions_logging_off",),
    "marac": (
        "marac_transition_vs_bare_transitions_logging_off",
        *MARAC_COMMAND_PAIRS,
    ),
    "dash": ("dash_score_vs_bare_score", "dash_checklist_vs_bare_score"),
}


def table(result: dict[str, Any]) -> str:
    rows = [
        ("tuko_flow execute(inform_network), logging at INFO", "tuko_transition"),
        ("tuko_flow execute(inform_network), logging off", "tuko_transition_logging_off"),
        ("bare model.go(), one machine per model", "bare_transition"),
        ("bare model.go(), one shared machine (info)", "bare_shared_machine_transition"),
        ("tuko_flow open_case", "tuko_open_case"),
        ("bare Machine(model=...) per case", "bare_machine_per_case"),
        ("MARAC execute (4 commands in turn), logging at INFO", "marac_transition"),
        ("MARAC execute (4 commands in turn), logging off", "marac_transition_logging_off"),
        ("bare MARAC triggers, one machine per model", "bare_marac_transition"),
        *(
            (f"  MARAC execute({t}) alone (n={result['n_marac_command']})", f"marac_{t}")
            for t, _state in MARAC_SEQUENCE
        ),
        *((f"  bare {t}() alone", f"bare_marac_{t}") for t, _state in MARAC_SEQUENCE),
        ("MARAC open_case (with a DASH)", "marac_open_case"),
        ("bare MARAC Machine(model=...) per case", "bare_marac_machine_per_case"),
        ("DASH score(checklist)", "dash_score"),
        ("bare DASH scoring (plain dict, thresholds)", "bare_dash_score"),
        ("DASH answers_from + Checklist (validation)", "dash_checklist"),
    ]
    width = max(len(label) for label, _ in rows)
    width = max(width, max(len(k) for k in result if k.endswith("_vs_bare")) + 2)
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
    for label, key in (
        ("tuko_flow (store events + cached case + intake data)", "tuko_bytes_per_case"),
        ("bare machine + model", "bare_bytes_per_case"),
        ("MARAC case (events + cached case + DASH)", "marac_bytes_per_case"),
        ("bare MARAC machine + model", "bare_marac_bytes_per_case"),
        ("  a DASH checklist alone (info)", "dash_checklist_bytes"),
    ):
        out.append(f"{label:<{width}}  {result[key]:>10.0f}")
    out.append("")
    out.append(
        f"{'ratio (lower is better)':<{width}}  {'median':>10}  {'of mins':>10}  {'target':>10}"
    )
    for part, info in INFO_RATIOS.items():
        targeted = [k for k in TARGETS if k.startswith("marac_") == (part == "marac")]
        for key in (*(targeted if part != "dash" else ()), *info):
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
