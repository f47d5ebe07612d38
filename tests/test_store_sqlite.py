"""The SQLite store keeps every promise of the event-store port."""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tuko_flow import EventStore
from tuko_flow.errors import EventStoreError, StorageUnavailable, TukoFlowError
from tuko_flow.events import EventCodec, MeetingScheduled
from tuko_flow.events import codec as default_codec
from tuko_flow.stores import SQLiteEventStore
from tuko_flow.stores._rows import GENESIS, chain
from tuko_flow.testing import OFFICER, EventStoreContract

WORKERS = Path(__file__).with_name("store_workers.py")


@contextlib.contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the store's file, as someone editing it directly."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


class TestSQLiteEventStore(EventStoreContract):
    """The shared contract, on a fresh SQLite file per store."""

    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Path) -> Iterator[None]:
        self.tmp_path = tmp_path
        self.numbers = itertools.count(1)
        self.opened: list[SQLiteEventStore] = []
        yield
        for store in self.opened:
            store.close()

    def _open(self, path: Path, codec: EventCodec) -> SQLiteEventStore:
        store = SQLiteEventStore(path, codec=codec)
        self.opened.append(store)
        return store

    def make_store(self, codec: EventCodec | None = None) -> SQLiteEventStore:
        """A store on a new file."""
        path = self.tmp_path / f"cases-{next(self.numbers)}.sqlite3"
        return self._open(path, codec or default_codec)

    def reopen(self, store: SQLiteEventStore) -> SQLiteEventStore:
        """Another store object (its own connections) on the same file."""
        return self._open(store.path, store.codec)

    def process_store_spec(self, store: SQLiteEventStore) -> functools.partial[SQLiteEventStore]:
        """Another process opens the same file."""
        return functools.partial(SQLiteEventStore, store.path)

    def storage_integrity(self, store: SQLiteEventStore) -> str:
        """SQLite's PRAGMA integrity_check."""
        return store.integrity_check()

    def write_raw(
        self,
        store: SQLiteEventStore,
        *,
        case_id: str,
        version: int,
        type_name: str,
        schema_version: int,
        command_id: str,
        payload: str,
    ) -> int:
        """Insert a row directly, chained and counted like an appended one."""
        with raw(store.path) as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT hash FROM tuko_events WHERE case_id = ? AND version = ?",
                (case_id, version - 1),
            ).fetchone()
            digest = chain(row[0] if row is not None else GENESIS, payload)
            cur = conn.execute(
                "INSERT INTO tuko_events (case_id, version, type, schema_version, command_id, "
                "payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_id, version, type_name, schema_version, command_id, payload, digest),
            )
            conn.execute(
                "INSERT INTO tuko_cases (case_id, version, first_position, head) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET "
                "version = excluded.version, head = excluded.head",
                (case_id, version, cur.lastrowid, digest),
            )
            conn.execute("COMMIT")
        assert cur.lastrowid is not None
        return cur.lastrowid

    def tamper_alter(self, store: SQLiteEventStore, case_id: str, version: int) -> None:
        """UPDATE one row's payload, leaving its hash."""
        with raw(store.path) as conn:
            (payload,) = conn.execute(
                "SELECT payload FROM tuko_events WHERE case_id = ? AND version = ?",
                (case_id, version),
            ).fetchone()
            conn.execute(
                "UPDATE tuko_events SET payload = ? WHERE case_id = ? AND version = ?",
                (self.alter_payload(payload), case_id, version),
            )

    def tamper_delete(self, store: SQLiteEventStore, case_id: str, version: int) -> None:
        """DELETE one row."""
        with raw(store.path) as conn:
            conn.execute(
                "DELETE FROM tuko_events WHERE case_id = ? AND version = ?", (case_id, version)
            )

    def tamper_swap(self, store: SQLiteEventStore, case_id: str, version: int) -> None:
        """Swap the version numbers of two adjacent rows."""
        with raw(store.path) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE tuko_events SET version = -version WHERE case_id = ? AND version IN (?, ?)",
                (case_id, version, version + 1),
            )
            conn.execute(
                "UPDATE tuko_events SET version = CASE version WHEN ? THEN ? ELSE ? END "
                "WHERE case_id = ? AND version IN (?, ?)",
                (-version, version + 1, version, case_id, -version, -version - 1),
            )
            conn.execute("COMMIT")

    def inject_fault(self, store: SQLiteEventStore) -> None:
        """Disk full: the store's connection may not grow the file by a single page."""
        conn = store._conn()
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}").fetchone()

    def clear_fault(self, store: SQLiteEventStore) -> None:
        """Let the file grow again."""
        store._conn().execute("PRAGMA max_page_count = 4294967294").fetchone()


def test_store_satisfies_the_port(tmp_path: Path) -> None:
    """SQLiteEventStore is an EventStore (runtime-checkable protocol)."""
    store = SQLiteEventStore(tmp_path / "s.sqlite3")
    assert isinstance(store, EventStore)
    store.close()


def test_every_connection_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    """WAL journal and synchronous=FULL are set and read back on each thread's connection."""
    store = SQLiteEventStore(tmp_path / "s.sqlite3", busy_timeout=2.5)
    seen: list[dict[str, object]] = [store.pragmas()]
    thread = threading.Thread(target=lambda: seen.append(store.pragmas()))
    thread.start()
    thread.join()
    expected = {"journal_mode": "wal", "synchronous": 2, "busy_timeout_ms": 2500}
    assert seen == [expected, expected]
    store.close()


def _meeting(case_id: str, version: int, command_id: str) -> MeetingScheduled:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return MeetingScheduled(
        case_id=case_id,
        version=version,
        occurred_at=at,
        actor=OFFICER,
        command_id=command_id,
        meeting_at=at + timedelta(days=1),
    )


def test_writer_lock_held_too_long_is_storage_unavailable_then_retry_succeeds(
    tmp_path: Path,
) -> None:
    """Another writer holding the lock past busy_timeout: StorageUnavailable, then success."""
    path = tmp_path / "s.sqlite3"
    store = SQLiteEventStore(path, busy_timeout=0.2)
    store.append("case-a", [_meeting("case-a", 1, "c-1")], 0)
    event = _meeting("case-a", 2, "c-2")
    with raw(path) as other:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageUnavailable) as exc:
            store.append("case-a", [event], 1)
        other.execute("ROLLBACK")
    assert "'case-a'" in str(exc.value)
    assert isinstance(exc.value.__cause__, sqlite3.OperationalError)
    assert store.version("case-a") == 1
    assert store.append("case-a", [event], 1).last_version == 2
    assert store.verify() == []
    store.close()


def test_io_error_while_committing_is_storage_unavailable_then_retry_succeeds(
    tmp_path: Path,
) -> None:
    """A write error on the WAL (file size limit) at commit: typed error, nothing kept, retry ok."""
    path = tmp_path / "s.sqlite3"
    store = SQLiteEventStore(path)
    store.append("case-a", [_meeting("case-a", 1, "c-1")], 0)
    store.close()
    done = subprocess.run(
        [sys.executable, str(WORKERS), "commit-io-error", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["error"] == "StorageUnavailable", report
    assert "'case-a'" in report["message"]
    assert report["version_after_error"] == 1
    assert report["retry"] == [2, 2, False]
    store = SQLiteEventStore(path)
    assert [e.command_id for e in store.load("case-a")] == ["c-1", "c-2"]
    assert store.verify() == []
    assert store.integrity_check() == "ok"
    store.close()


def test_unreadable_file_is_a_typed_error(tmp_path: Path) -> None:
    """A file that is not a database raises a TukoFlowError naming it, not a sqlite3 error."""
    path = tmp_path / "not-a-db.sqlite3"
    path.write_bytes(b"this is not an SQLite database file " * 200)
    with pytest.raises(TukoFlowError) as exc:
        SQLiteEventStore(path)
    assert isinstance(exc.value, EventStoreError)
    assert "not-a-db.sqlite3" in str(exc.value)
