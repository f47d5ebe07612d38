"""TUKO's deadlines: plan tasks past their due date, missed meetings.

Nothing here runs by itself: :meth:`tuko_flow.Engine.check_deadlines` calls the protocol's
``deadlines`` hook with the clock's time (no threads, no sleeping), so a test or a
simulation controls time exactly.
"""

from __future__ import annotations

from ._machine import Firing
from ._values import TaskStatus
from .events import MeetingMissed, TaskOverdue


def tuko_deadlines(f: Firing) -> None:
    """TUKO's deadline check (``Protocol.deadlines``): emit ``TaskOverdue`` and
    ``MeetingMissed`` for what is late on ``f.case`` at ``f.now`` and not reported yet."""
    case, now, config = f.case, f.now, f.config
    today = now.date()
    plan = case.cycle.plan
    if plan is not None:
        for task in plan.tasks:
            if (
                task.due_on < today
                and case.cycle.task_status(task.task_id) != TaskStatus.DONE
                and (task.task_id, task.due_on) not in case.cycle.overdue_tasks
            ):
                f.emit(TaskOverdue, task_id=task.task_id, due_on=task.due_on)
    at = case.next_meeting_at
    if at is not None and at + config.missed_meeting_grace < now and at not in case.missed_meetings:
        f.emit(MeetingMissed, meeting_at=at)
