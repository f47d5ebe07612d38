"""Deadlines: overdue plan tasks and missed meetings, with a clock the example controls.

tuko_flow runs nothing by itself. The host's scheduler calls ``engine.check_deadlines()``;
it records a ``TaskOverdue`` for each plan task past its due date and not done, and a
``MeetingMissed`` for an agreed meeting whose time (plus a grace period) passed with no
meeting held. Each is recorded once. Run it with ``uv run python examples/deadlines.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import structlog

from tuko_flow import AssignTask, DistributePlan, Engine, ManualClock, RecordTaskProgress
from tuko_flow.events import MeetingMissed, TaskOverdue
from tuko_flow.testing import OFFICER, POLICE, START, drive_to

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

clock = ManualClock(START)
engine = Engine(clock=clock)

# A crisis case in Stage 4. Its plan (from tuko_flow.testing.drive_to) has task t-1 for
# victim support, due in 5 days, and a review meeting agreed 7 days ahead.
CASE = "case-dl-01"
case = drive_to(engine, clock, CASE, "stage4_manage", crisis=True)
print(f"day 0 ({clock.now():%Y-%m-%d}): {CASE} in {case.state}")
print(f"  next meeting agreed for {case.next_meeting_at:%Y-%m-%d %H:%M}")

# The case leader adds a police task to the plan (Stage 4 adapts it) and re-sends it.
engine.execute(
    CASE,
    AssignTask(
        task_id="t-2",
        description="Check the protection order is known to the local patrol.",
        area="policing",
        owner="m-pol",
        due_on=clock.now().date() + timedelta(days=2),
    ),
    actor=OFFICER,
)
engine.execute(CASE, DistributePlan(), actor=OFFICER)
for task in engine.case(CASE).cycle.plan.tasks:
    print(f"  task {task.task_id} owned by {task.owner}, due {task.due_on}")

# The police finish their task on time; victim support's task is not recorded as done.
clock.advance(days=1)
engine.execute(CASE, RecordTaskProgress(task_id="t-2", status="done"), actor=POLICE)


def check(label: str) -> None:
    """What the host's nightly job would do: check every open case, report what it found."""
    found = engine.check_deadlines()
    print(f"{clock.now():%Y-%m-%d} {label}: {len(found)} new")
    for event in found:
        if isinstance(event, TaskOverdue):
            print(f"  TaskOverdue: {event.task_id} was due {event.due_on}")
        elif isinstance(event, MeetingMissed):
            print(f"  MeetingMissed: the meeting agreed for {event.meeting_at:%Y-%m-%d %H:%M}")


check("day 1")  # nothing is late yet
clock.advance(days=5)
check("day 6")  # t-1 was due on day 5
check("day 6, again")  # each lateness is recorded once
clock.advance(days=2, hours=1)
check("day 8")  # the meeting (day 7) plus one day of grace has passed

case = engine.case(CASE)
print("overdue tasks on record:", [task_id for task_id, _ in case.cycle.overdue_tasks])
print("missed meetings on record:", [f"{at:%Y-%m-%d}" for at in case.missed_meetings])
