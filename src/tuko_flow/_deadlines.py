"""Finding what time has made overdue: plan tasks past their due date, missed meetings.

Nothing here runs by itself: :meth:`tuko_flow.Engine.check_deadlines` calls it with the
clock's time (no threads, no sleeping), so a test or a simulation controls time exactly.
"""

from __future__ import annotations

from datetime import datetime

from ._case import Case
from ._config import TukoConfig
from ._machine import Firing
from ._values import TaskStatus
from .events import MeetingMissed, TaskOverdue


def tuko_deadlines(f: Firing) -> None:
    """TUKO's deadline check (``Protocol.deadlines``): overdue plan tasks, missed meetings."""
    emit_due(f, f.case, f.now, f.config)


def emit_due(f: Firing, case: Case, now: datetime, config: TukoConfig) -> None:
    """Emit ``TaskOverdue`` / ``MeetingMissed`` for what is late and not reported yet."""
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
