"""Clocks: the engine's only source of time, injectable so tests and simulations control it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from ._values import Problems


@runtime_checkable
class Clock(Protocol):
    """Port: anything with ``now()`` returning a timezone-aware datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests, notebooks and simulations.

    >>> clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    >>> clock.advance(days=2).isoformat()
    '2026-01-07T09:00:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start, "start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (which may not be earlier than now)."""
        when = _aware(when, "when")
        with self._lock:
            if when < self._now:
                p = Problems()
                p.add("when", f"{when.isoformat()} is before the clock's time", "a later time")
                p.raise_if_any("ManualClock.set")
            self._now = when
        return when

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        step = timedelta(**delta)
        with self._lock:
            if step < timedelta(0):
                p = Problems()
                p.add("delta", f"{step} is negative", "a zero or positive duration")
                p.raise_if_any("ManualClock.advance")
            self._now = self._now + step
            return self._now


def _aware(value: datetime, field: str) -> datetime:
    p = Problems()
    p.aware(field, value)
    p.raise_if_any("ManualClock")
    return value
