"""Explained refusals: what a user interface shows when a command cannot be done.

A refused command lists *every* failed rule with its reason and the commands allowed now;
``next_steps`` tells the UI, before anyone clicks, which buttons to enable and why the
others are disabled. Run it with ``uv run python examples/refusals.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import structlog

from tuko_flow import (
    CloseCase,
    DecideNoCooperationNeeded,
    Engine,
    HoldMeeting,
    ManualClock,
    RecordCommonAssessment,
    ShareInformation,
)
from tuko_flow.errors import CommandRefused, ValidationError
from tuko_flow.testing import OFFICER, POLICE, START, drive_to, sample_assessment

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

clock = ManualClock(START)
engine = Engine(clock=clock)

# The client lives with the victim: the matrix cell is "always assume need", so the case
# enters Stage 1 at intake. drive_to (from tuko_flow.testing) takes the sample case on to
# Stage 2 with ordinary commands.
CASE = "case-rf-01"
case = drive_to(engine, clock, CASE, "stage2_evaluate", always_assume_need=True)
print(f"{CASE}: matrix cell {case.matrix_cell!r}, always assume need: {case.always_assume_need}")

# 1. Before the meeting, what may the case leader and the police do?
print("\n-- next steps for the case leader --")
print(engine.next_steps(CASE, OFFICER).explain())
steps = engine.next_steps(CASE, POLICE)
print("\n-- buttons for the police officer --")
for command in (*steps.allowed, *steps.blocked):
    reasons = "; ".join(f.reason for f in steps.blocked.get(command, ()))
    print(f"  [{'enabled' if command in steps.allowed else 'disabled'}] {command}  {reasons}")

# 2. A guard refusal: the police try to record the meeting (only the case leader may).
print("\n-- police record the meeting --")
try:
    engine.execute(CASE, HoldMeeting(participants=("m-po", "m-pol")), actor=POLICE)
except CommandRefused as refusal:
    print(refusal)

# 3. Invalid input: every bad field at once, with what is allowed.
print("\n-- a meeting with an unknown participant, held in the future --")
try:
    engine.execute(
        CASE,
        HoldMeeting(participants=("m-po", "m-xx"), held_at=clock.now() + timedelta(hours=2)),
        actor=OFFICER,
    )
except ValidationError as invalid:
    for problem in invalid.problems:
        print(f"  {problem.field}: {problem.problem} (allowed: {problem.allowed})")

# 4. Hold the meeting with two participants; only one of them shares information.
engine.execute(CASE, HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
engine.execute(
    CASE, ShareInformation(information="Attends supervision.", evaluation="Low."), actor=OFFICER
)
print("\n-- closing as 'no need' too early: several rules fail, all are listed --")
try:
    engine.execute(CASE, DecideNoCooperationNeeded(reason="Client denies conflict."), actor=OFFICER)
except CommandRefused as refusal:
    for failure in refusal.failures:
        print(f"  {failure.rule}: {failure.reason}")
    print("  allowed now:", ", ".join(refusal.allowed))

# 5. Even with everyone heard and the common assessment made, an always-assume-need case
#    cannot be closed as "no need for cooperation".
engine.execute(
    CASE, ShareInformation(information="Two call-outs.", evaluation="Elevated."), actor=POLICE
)
engine.execute(CASE, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
print("\n-- closing as 'no need' after the assessment --")
try:
    engine.execute(CASE, DecideNoCooperationNeeded(reason="Client denies conflict."), actor=OFFICER)
except CommandRefused as refusal:
    print("  refused by:", ", ".join(refusal.rules))

# 6. A command with no transition from the current state at all.
print("\n-- closing the case while it is in Stage 2 --")
try:
    engine.execute(CASE, CloseCase(summary="Done."), actor=OFFICER)
except CommandRefused as refusal:
    print(f"  {type(refusal).__name__}: {refusal.failures[0].reason}")

print("\nstate unchanged by every refusal:", engine.case(CASE).state)
