"""Shared fixtures: a manual clock, an engine on an in-memory store, a recording subscriber."""

from __future__ import annotations

import pytest

from tuko_flow import Engine, InMemoryEventStore, ManualClock
from tuko_flow.testing import START, RecordingSubscriber


@pytest.fixture
def clock() -> ManualClock:
    """A clock that starts on 2026-01-05 09:00 UTC and moves only when told."""
    return ManualClock(START)


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def engine(store: InMemoryEventStore, clock: ManualClock) -> Engine:
    """An engine running TUKO with the default configuration."""
    return Engine(store, clock=clock)


@pytest.fixture
def recorder(engine: Engine) -> RecordingSubscriber:
    """A subscriber attached to ``engine``."""
    sub = RecordingSubscriber()
    engine.subscribe(sub)
    return sub
