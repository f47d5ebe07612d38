"""Subprocess workers for the storage tests: things a test process must not do to itself.

Run as ``python tests/store_workers.py <job> <args...>``; the last line printed is a JSON
report for the test to check.

* ``commit-io-error PATH`` — limits this process's file size (``RLIMIT_FSIZE``) to the
  SQLite store's current WAL size, so the next commit cannot write the WAL and the disk
  reports an error; appends one event (which must fail), lifts the limit, retries.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from tuko_flow.errors import TukoFlowError
from tuko_flow.events import MeetingScheduled
from tuko_flow.stores import SQLiteEventStore
from tuko_flow.testing import OFFICER


def commit_io_error(path: str) -> dict[str, Any]:
    """Append under a file-size limit the WAL cannot grow past, then without it."""
    store = SQLiteEventStore(path)
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    event = MeetingScheduled(
        case_id="case-a",
        version=2,
        occurred_at=at,
        actor=OFFICER,
        command_id="c-2",
        meeting_at=at + timedelta(days=1),
    )
    store.version("case-a")  # open the connection (and the WAL) before the limit
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    wal = os.path.getsize(path + "-wal")  # a commit appends frames to it: past this size
    resource.setrlimit(resource.RLIMIT_FSIZE, (wal, hard))
    report: dict[str, Any] = {}
    try:
        store.append("case-a", [event], 1)
        report["error"] = None
    except TukoFlowError as exc:
        report["error"] = type(exc).__name__
        report["message"] = str(exc)
    except Exception as exc:  # a driver exception leaking is what the test looks for
        report["error"] = f"leaked {type(exc).__module__}.{type(exc).__name__}"
        report["message"] = str(exc)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    report["version_after_error"] = store.version("case-a")
    result = store.append("case-a", [event], 1)
    report["retry"] = [result.first_version, result.last_version, result.duplicate]
    store.close()
    return report


def main(argv: list[str]) -> None:
    job, *args = argv
    jobs = {"commit-io-error": commit_io_error}
    print(json.dumps(jobs[job](*args)))


if __name__ == "__main__":
    main(sys.argv[1:])
