"""The SQLite event store: the embedded default, standard library ``sqlite3`` only.

Every connection is set to ``journal_mode=WAL`` and ``synchronous=FULL`` and both are
checked (a file system that refuses WAL is reported, not silently used in another mode).
Writers take the write lock first (``BEGIN IMMEDIATE``) and wait up to ``busy_timeout``
seconds for it, so load-check-append across threads and processes cannot lose an update.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .._store import AppendResult, ChainProblem, Snapshot, StoredEvent
from ..errors import ConcurrencyError, EventStoreError, StorageUnavailable
from ..events import Event, EventCodec
from ..events import codec as default_codec
from ._rows import GENESIS, Row, check_batch, decode, decode_payload, encode, verify_rows

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tuko_events (
    position       INTEGER PRIMARY KEY,
    case_id        TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    command_id     TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (case_id, version)
);
CREATE INDEX IF NOT EXISTS tuko_events_command ON tuko_events (case_id, command_id);
CREATE TABLE IF NOT EXISTS tuko_cases (
    case_id        TEXT    PRIMARY KEY,
    version        INTEGER NOT NULL,
    first_position INTEGER NOT NULL,
    head           TEXT    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tuko_snapshots (
    case_id        TEXT    PRIMARY KEY,
    version        INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    state          TEXT    NOT NULL
);
"""

_COLUMNS = "position, case_id, version, type, schema_version, command_id, payload, hash"

# Everything an append must know, in one statement: the case's version and chain head, and
# which versions this command wrote if it was stored before.
_STATE = (
    "SELECT c.version, c.head, (SELECT MIN(version) || ' ' || MAX(version) FROM tuko_events "
    "WHERE case_id = ?1 AND command_id = ?2) FROM (SELECT 1) LEFT JOIN tuko_cases c "
    "ON c.case_id = ?1"
)

# SQLite primary result codes that mean "the storage itself failed; try again later".
_UNAVAILABLE = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "a disk I/O error occurred",
    sqlite3.SQLITE_BUSY: "the database stayed locked by another writer",
    sqlite3.SQLITE_LOCKED: "the database table is locked",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_READONLY: "the database is read-only",
}


class SQLiteEventStore:
    """Case histories in one SQLite file.

    :param path: the database file (created if missing).
    :param busy_timeout: seconds a writer waits for another writer's lock.
    :param codec: the event codec (register your own events and upcasters there).

    Safe to share between threads (one connection per thread) and between processes on
    one file. Call :meth:`close` to close this thread's connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        codec: EventCodec = default_codec,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.codec = codec
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._errors("open the store"):
            conn = self._conn()
            conn.executescript(_SCHEMA)

    # --- connections -------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=True
            )
            self._configure(conn)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = FULL")
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        if str(mode).lower() != "wal" or sync != 2:
            conn.close()
            raise EventStoreError(
                f"SQLite store {str(self.path)!r}: could not set journal_mode=WAL and "
                f"synchronous=FULL (got journal_mode={mode}, synchronous={sync}); "
                "the file system may not support WAL (network drives often do not)"
            )

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.ProgrammingError):  # another thread's, gone
                conn.close()
        self._local = threading.local()

    def pragmas(self) -> dict[str, Any]:
        """The durability settings of this thread's connection (for checks and docs)."""
        conn = self._conn()
        return {
            "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
            "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
            "busy_timeout_ms": conn.execute("PRAGMA busy_timeout").fetchone()[0],
        }

    # --- errors --------------------------------------------------------------------------

    def _errors(self, doing: str, case_id: str | None = None) -> _Translate:
        return _Translate(self, doing, case_id)

    # --- the port ------------------------------------------------------------------------

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> AppendResult:
        if not events:
            return AppendResult(case_id, expected_version, expected_version, duplicate=False)
        command_id = events[0].command_id
        with self._errors("append", case_id):
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._append_locked(conn, case_id, events, expected_version, command_id)
                conn.execute("COMMIT")
            except BaseException:
                # SQLite rolls back by itself on some errors (a full disk); roll back the rest
                # so this thread's connection never stays inside a transaction.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

    def _append_locked(
        self,
        conn: sqlite3.Connection,
        case_id: str,
        events: Sequence[Event],
        expected: int,
        command_id: str,
    ) -> AppendResult:
        # Positions are rowids: with the write lock taken first (BEGIN IMMEDIATE) they are
        # handed out in commit order, and a rolled-back append leaves no gap to wait for.
        version, head, done = conn.execute(_STATE, (case_id, command_id)).fetchone()
        if done is not None:
            first, last = (int(v) for v in done.split())
            return AppendResult(case_id, first, last, duplicate=True)
        actual = version or 0
        if actual != expected:
            raise ConcurrencyError(case_id, expected=expected, actual=actual)
        check_batch(case_id, events, expected)
        # The chain continues from the head recorded with the case; verify() compares that
        # head with the stored events, so a removed or altered last event is still found.
        previous = head if expected else GENESIS
        encoded = encode(events, previous, self.codec)
        first_position = None
        for event, payload, digest in encoded:
            cur = conn.execute(
                "INSERT INTO tuko_events (case_id, version, type, schema_version, command_id, "
                "payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    case_id,
                    event.version,
                    type(event).__name__,
                    event.schema_version,
                    command_id,
                    payload,
                    digest,
                ),
            )
            if first_position is None:
                first_position = cur.lastrowid
            previous = digest
        last = events[-1].version
        if expected == 0:
            conn.execute(
                "INSERT INTO tuko_cases (case_id, version, first_position, head) "
                "VALUES (?, ?, ?, ?)",
                (case_id, last, first_position, previous),
            )
        else:
            conn.execute(
                "UPDATE tuko_cases SET version = ?, head = ? WHERE case_id = ?",
                (last, previous, case_id),
            )
        return AppendResult(case_id, expected + 1, last, duplicate=False)

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]:
        with self._errors("load", case_id):
            rows = (
                self._conn()
                .execute(
                    "SELECT position, version, payload FROM tuko_events "
                    "WHERE case_id = ? AND version > ? ORDER BY version",
                    (case_id, after),
                )
                .fetchall()
            )
        codec = self.codec
        return tuple(decode_payload(case_id, v, pos, text, codec) for pos, v, text in rows)

    def version(self, case_id: str) -> int:
        with self._errors("read the version", case_id):
            row = (
                self._conn()
                .execute("SELECT version FROM tuko_cases WHERE case_id = ?", (case_id,))
                .fetchone()
            )
        return int(row[0]) if row is not None else 0

    def command_version(self, case_id: str, command_id: str) -> int | None:
        with self._errors("look up a command", case_id):
            row = (
                self._conn()
                .execute(
                    "SELECT MAX(version) FROM tuko_events WHERE case_id = ? AND command_id = ?",
                    (case_id, command_id),
                )
                .fetchone()
            )
        return int(row[0]) if row[0] is not None else None

    def case_ids(self) -> Iterator[str]:
        with self._errors("list cases"):
            rows = (
                self._conn()
                .execute("SELECT case_id FROM tuko_cases ORDER BY first_position")
                .fetchall()
            )
        return iter([r[0] for r in rows])

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]:
        with self._errors("read all events"):
            rows = (
                self._conn()
                .execute(
                    f"SELECT {_COLUMNS} FROM tuko_events WHERE position > ? ORDER BY position "
                    "LIMIT ?",
                    (after, -1 if limit is None else limit),
                )
                .fetchall()
            )
        return tuple(StoredEvent(r[0], decode(Row(*r), self.codec)) for r in rows)

    def verify(self, case_id: str | None = None) -> list[ChainProblem]:
        with self._errors("verify", case_id):
            conn = self._conn()
            ids = [case_id] if case_id is not None else list(self.case_ids())
            problems: list[ChainProblem] = []
            for cid in ids:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM tuko_events WHERE case_id = ? ORDER BY position",
                    (cid,),
                ).fetchall()
                problems.extend(verify_rows(cid, (Row(*r) for r in rows)))
                recorded = conn.execute(
                    "SELECT version, head FROM tuko_cases WHERE case_id = ?", (cid,)
                ).fetchone()
                last = rows[-1][2] if rows else 0
                if recorded is not None and recorded[0] != last:
                    problems.append(
                        ChainProblem(
                            cid,
                            recorded[0],
                            None,
                            f"the case is recorded at version {recorded[0]} but its last "
                            f"stored event is version {last}: events were removed",
                        )
                    )
                elif recorded is not None and rows and recorded[1] != rows[-1][7]:
                    problems.append(
                        ChainProblem(
                            cid,
                            last,
                            rows[-1][0],
                            "the last event's hash is not the chain head recorded with the "
                            "case: the last event was altered or replaced",
                        )
                    )
            return problems

    def integrity_check(self) -> str:
        """SQLite's own ``PRAGMA integrity_check`` result (``"ok"`` when sound)."""
        with self._errors("check integrity"):
            return str(self._conn().execute("PRAGMA integrity_check").fetchone()[0])

    def save_snapshot(self, snapshot: Snapshot) -> None:
        with self._errors("save a snapshot", snapshot.case_id):
            self._conn().execute(
                "INSERT INTO tuko_snapshots (case_id, version, schema_version, state) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET "
                "version = excluded.version, schema_version = excluded.schema_version, "
                "state = excluded.state WHERE excluded.version >= tuko_snapshots.version",
                (snapshot.case_id, snapshot.version, snapshot.schema_version, snapshot.state),
            )

    def load_snapshot(self, case_id: str) -> Snapshot | None:
        with self._errors("load a snapshot", case_id):
            row = (
                self._conn()
                .execute(
                    "SELECT case_id, version, schema_version, state FROM tuko_snapshots "
                    "WHERE case_id = ?",
                    (case_id,),
                )
                .fetchone()
            )
        return Snapshot(*row) if row is not None else None


class _Translate:
    """Turns ``sqlite3`` errors into tuko_flow errors that say what failed and for which case."""

    __slots__ = ("case_id", "doing", "store")

    def __init__(self, store: SQLiteEventStore, doing: str, case_id: str | None) -> None:
        self.store = store
        self.doing = doing
        self.case_id = case_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not isinstance(exc, sqlite3.Error):
            return
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if isinstance(code, int) else None
        where = f" for case {self.case_id!r}" if self.case_id else ""
        target = f"SQLite store {str(self.store.path)!r}"
        if primary in _UNAVAILABLE:
            raise StorageUnavailable(
                f"{target}: could not {self.doing}{where}: {_UNAVAILABLE[primary]} "
                f"({exc}). Nothing was stored; retry when the storage is available."
            ) from exc
        raise EventStoreError(f"{target}: could not {self.doing}{where}: {exc}") from exc
