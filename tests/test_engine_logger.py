"""The engine's logger once structlog caches it (cache_logger_on_first_use): same lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tuko_flow import Engine, ManualClock, NoticeNeed
from tuko_flow.testing import OFFICER, POLICE, sample_intake


@pytest.fixture(autouse=True)
def restore_structlog() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def _configure(level: int, seen: list[dict[str, Any]]) -> None:
    def keep(_logger: Any, _name: str, event: dict[str, Any]) -> str:
        seen.append(dict(event))
        return ""

    structlog.configure(
        processors=[keep],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=True,
    )


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
def test_cached_logger_logs_every_command_alike(clock: ManualClock, level: int) -> None:
    """After the proxy caches its logger, every accepted command still logs (at INFO) with
    the same keys, and nothing is logged when INFO is filtered out."""
    seen: list[dict[str, Any]] = []
    _configure(level, seen)
    engine = Engine(clock=clock)
    for i in range(3):
        engine.open_case(sample_intake(f"case-{i}"), actor=OFFICER)
        engine.execute(f"case-{i}", NoticeNeed(what="made-up"), actor=POLICE)
    accepted = [e for e in seen if e["event"] == "command_accepted"]
    if level > logging.INFO:
        assert accepted == []
        return
    assert len(accepted) == 6
    for entry in accepted[-2:]:
        assert set(entry) == {
            "event",
            "case_id",
            "command",
            "command_id",
            "from_state",
            "to_state",
            "version",
            "events",
        }
    assert accepted[-1]["events"] == ["NeedNoticed", "StageChanged"]
