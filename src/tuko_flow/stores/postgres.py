"""The PostgreSQL event store: for several application servers sharing one database.

Needs the ``postgres`` extra (``pip install tuko-flow[postgres]``): psycopg 3 and
psycopg-pool. This is the only module of tuko_flow that imports them.

How appends stay safe and ordered:

* One transaction per append. It first takes a transaction-level advisory lock
  (``pg_advisory_xact_lock``, one key per store schema), so appenders to one schema run
  one at a time, from any number of processes and servers. Inside it the command's id is
  looked up (a retried command returns the stored result), then the case's version is
  compared with the expected one (:class:`~tuko_flow.errors.ConcurrencyError` on a
  mismatch), then the events are written. ``UNIQUE (case_id, version)`` backs this up: a
  writer that bypasses the lock still cannot overwrite a version, and its collision is
  reported as a :class:`~tuko_flow.errors.ConcurrencyError` too.
* Because appenders hold the lock until they commit, ``position`` (an identity column)
  is handed out in commit order. A subscriber reading :meth:`PostgresEventStore.read_all`
  after its last position never skips an event that commits later with a smaller
  position; a rolled-back append only leaves a gap in the positions, which readers pass
  over without waiting.
* psycopg errors never reach the caller: a lost connection, a server shutting down, a full
  disk, an I/O error or a timeout raise :class:`~tuko_flow.errors.StorageUnavailable`
  (retry later); anything else raises :class:`~tuko_flow.errors.EventStoreError`. Both
  name the operation and the case.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from .._store import AppendResult, ChainProblem, Snapshot, StoredEvent
from ..errors import ConcurrencyError, EventStoreError, StorageUnavailable, TukoFlowError
from ..events import Event, EventCodec
from ..events import codec as default_codec
from ._rows import GENESIS, Row, check_batch, decode, encode, verify_rows

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout, TooManyRequests
except ImportError as _missing:  # the optional dependencies are not installed

    class PostgresDriverMissing(TukoFlowError, ImportError):
        """psycopg or psycopg-pool is not installed."""

    raise PostgresDriverMissing(
        "the PostgreSQL store needs psycopg 3 and psycopg-pool, which are not installed "
        f"({_missing}); install them with: pip install 'tuko-flow[postgres]'",
        name=_missing.name,
    ) from _missing

__all__ = ["PostgresEventStore"]

#: The first half of every advisory lock key tuko_flow takes ("tuko" in ASCII); the second
#: half is derived from the schema name, so stores in different schemas do not block
#: each other.
_LOCK_NAMESPACE = 0x74756B6F

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.tuko_events (
    -- an identity with the default CACHE 1, so positions follow the order of nextval()
    -- calls, which the append lock makes the commit order
    position       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id        TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    command_id     TEXT    NOT NULL,
    payload        TEXT    NOT NULL,  -- canonical JSON, hashed as text: never JSONB
    hash           TEXT    NOT NULL,
    UNIQUE (case_id, version)
);
CREATE INDEX IF NOT EXISTS tuko_events_command ON {schema}.tuko_events (case_id, command_id);
CREATE TABLE IF NOT EXISTS {schema}.tuko_cases (
    case_id        TEXT    PRIMARY KEY,
    version        INTEGER NOT NULL,
    first_position BIGINT  NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.tuko_snapshots (
    case_id        TEXT    PRIMARY KEY,
    version        INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    state          TEXT    NOT NULL
);
"""

_COLUMNS = "position, case_id, version, type, schema_version, command_id, payload, hash"

# One round trip, after the lock: was this command stored, the case's version, and the
# hash the next event chains from.
_STATE = """
SELECT
    (SELECT min(version) FROM {schema}.tuko_events WHERE case_id = %(case)s
        AND command_id = %(command)s),
    (SELECT max(version) FROM {schema}.tuko_events WHERE case_id = %(case)s
        AND command_id = %(command)s),
    c.version,
    (SELECT hash FROM {schema}.tuko_events e WHERE e.case_id = %(case)s
        AND e.version = c.version)
FROM (SELECT 1) AS one
LEFT JOIN {schema}.tuko_cases c ON c.case_id = %(case)s
"""

# One round trip: the events (positions in batch order) and the case row.
_WRITE = """
WITH written AS (
    INSERT INTO {schema}.tuko_events
        (case_id, version, type, schema_version, command_id, payload, hash)
    SELECT %(case)s, b.version, b.type, b.schema_version, %(command)s, b.payload, b.hash
    FROM unnest(%(versions)s::integer[], %(types)s::text[], %(schema_versions)s::integer[],
                %(payloads)s::text[], %(hashes)s::text[])
         WITH ORDINALITY AS b(version, type, schema_version, payload, hash, n)
    ORDER BY b.n
    RETURNING position
)
INSERT INTO {schema}.tuko_cases (case_id, version, first_position)
SELECT %(case)s, %(last)s, min(position) FROM written
ON CONFLICT (case_id) DO UPDATE SET version = excluded.version
"""

_QUERIES = {
    "load": f"SELECT {_COLUMNS} FROM {{schema}}.tuko_events "
    "WHERE case_id = %s AND version > %s ORDER BY version",
    "version": "SELECT version FROM {schema}.tuko_cases WHERE case_id = %s",
    "command_version": "SELECT max(version) FROM {schema}.tuko_events "
    "WHERE case_id = %s AND command_id = %s",
    "case_ids": "SELECT case_id FROM {schema}.tuko_cases ORDER BY first_position",
    "read_all": f"SELECT {_COLUMNS} FROM {{schema}}.tuko_events "
    "WHERE position > %s ORDER BY position LIMIT %s",
    "case_rows": f"SELECT {_COLUMNS} FROM {{schema}}.tuko_events "
    "WHERE case_id = %s ORDER BY position",
    "save_snapshot": "INSERT INTO {schema}.tuko_snapshots (case_id, version, schema_version, "
    "state) VALUES (%s, %s, %s, %s) ON CONFLICT (case_id) DO UPDATE SET "
    "version = excluded.version, schema_version = excluded.schema_version, "
    "state = excluded.state WHERE excluded.version >= tuko_snapshots.version",
    "load_snapshot": "SELECT case_id, version, schema_version, state "
    "FROM {schema}.tuko_snapshots WHERE case_id = %s",
    "state": _STATE,
    "write": _WRITE,
    "tables": "SELECT to_regclass(%s), to_regclass(%s), to_regclass(%s)",
}

# SQLSTATEs (or their classes) that mean "the storage itself failed or is busy: retry".
_UNAVAILABLE = {
    "08": "the connection to the server failed",
    "53": "the server ran out of resources (disk full, out of memory or too many connections)",
    "57P": "the server is shutting down or the connection was terminated",
    "58": "the server had a system or I/O error",
    "55P03": "another writer held the store's write lock for too long",
    "57014": "the statement timed out or was cancelled",
    "40001": "the transaction could not be serialized with a concurrent one",
    "40P01": "the transaction was chosen as a deadlock victim",
}


class PostgresEventStore:
    """Case histories in a PostgreSQL database, shared by any number of application servers.

    :param conninfo: a libpq connection string or URI, e.g.
        ``"host=db.internal dbname=tuko user=tuko_app"`` or
        ``"postgresql://tuko_app@db.internal/tuko"``. ``None`` (or ``""``) takes everything
        from libpq's environment variables (``PGHOST``, ``PGPORT``, ``PGDATABASE``,
        ``PGUSER``, ``PGPASSWORD``, ``PGSSLMODE``...) and ``~/.pgpass``, which keeps
        passwords out of code and configuration files.
    :param pool: a :class:`psycopg_pool.ConnectionPool` of your application's to use
        instead (then ``conninfo``, ``min_size``, ``max_size`` and ``timeout`` are ignored,
        and :meth:`close` leaves the pool open: it is yours). Pass one to share
        connections with the rest of your application, to add a ``check`` that tests
        connections before use, or to set ``prepare_threshold=None`` behind PgBouncer in
        transaction mode.
    :param schema: the PostgreSQL schema holding the store's tables (``tuko_events``,
        ``tuko_cases``, ``tuko_snapshots``); created if missing, if the user may. To run
        with least privilege, create them once as the owner (construct the store once),
        then grant the application's user ``USAGE`` on the schema, ``SELECT, INSERT,
        UPDATE`` on the tables.
    :param min_size: connections the pool keeps open.
    :param max_size: connections the pool opens at most.
    :param timeout: seconds to wait for a free connection (or for the server) before
        raising :class:`~tuko_flow.errors.StorageUnavailable`.
    :param lock_timeout: seconds an append waits for another writer's append lock before
        raising :class:`~tuko_flow.errors.StorageUnavailable`.
    :param codec: the event codec (register your own events and upcasters there).

    Example::

        from tuko_flow import Engine
        from tuko_flow.stores.postgres import PostgresEventStore

        store = PostgresEventStore("host=db.internal dbname=tuko user=tuko_app")
        engine = Engine(store)
        ...
        store.close()

    Thread-safe (each call borrows a connection from the pool). After a lost connection the
    call raises :class:`~tuko_flow.errors.StorageUnavailable` and the pool replaces the
    connection; retrying is safe, appends too (a command stored before is recognised by its
    id). Call :meth:`close` when done.
    """

    def __init__(
        self,
        conninfo: str | None = None,
        *,
        pool: ConnectionPool[Any] | None = None,
        schema: str = "tuko_flow",
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        lock_timeout: float = 30.0,
        codec: EventCodec = default_codec,
    ) -> None:
        if not schema:
            raise EventStoreError("PostgreSQL store: the schema name must not be empty")
        self.schema = schema
        self.codec = codec
        self.lock_timeout = lock_timeout
        name = sql.Identifier(schema)
        self._q = {
            key: sql.SQL(text).format(schema=name).as_bytes() for key, text in _QUERIES.items()
        }
        self._ddl = sql.SQL(_SCHEMA).format(schema=name).as_bytes()
        key = zlib.crc32(schema.encode()) - (1 << 31)  # a signed 32-bit int
        self._lock_sql = (
            f"SET LOCAL lock_timeout = {max(1, int(lock_timeout * 1000))}; "
            f"SELECT pg_advisory_xact_lock({_LOCK_NAMESPACE}, {key})"
        ).encode()
        self._owns_pool = pool is None
        shown = pool.conninfo if pool is not None else conninfo
        self._where = _describe(shown if isinstance(shown, str) else "", schema)
        with self._errors("open the store"):
            if pool is None:
                # one direct connection first: if the server cannot be reached, the error
                # says why (a pool would only time out)
                with psycopg.connect(
                    conninfo or "", autocommit=True, connect_timeout=max(1, round(timeout))
                ) as conn:
                    self._create_tables(conn)
                pool = ConnectionPool(
                    conninfo or "",
                    min_size=min_size,
                    max_size=max_size,
                    timeout=timeout,
                    kwargs={"autocommit": True},
                    configure=_configure,
                    name=f"tuko_flow:{schema}",
                    open=True,
                )
            else:
                with pool.connection() as conn:
                    self._create_tables(conn)
        self.pool: ConnectionPool[Any] = pool

    def _create_tables(self, conn: psycopg.Connection[Any]) -> None:
        quoted = sql.Identifier(self.schema).as_string()
        row = conn.execute(self._q["tables"], [f"{quoted}.{t}" for t in _TABLES]).fetchone()
        if row is not None and all(row):
            return  # already there: needs no CREATE privilege
        with conn.transaction():
            conn.execute(self._lock_sql)  # two processes creating at once: one waits
            conn.execute(self._ddl)

    def close(self) -> None:
        """Close the connection pool (unless it was passed in: then it stays open)."""
        if self._owns_pool:
            self.pool.close()

    def __repr__(self) -> str:
        return f"<PostgresEventStore {self._where}>"

    # --- errors --------------------------------------------------------------------------

    def _errors(self, doing: str, case_id: str | None = None) -> _Translate:
        return _Translate(self._where, doing, case_id)

    # --- the port ------------------------------------------------------------------------

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> AppendResult:
        if not events:
            return AppendResult(case_id, expected_version, expected_version, duplicate=False)
        with self._errors("append", case_id), self.pool.connection() as conn:
            try:
                with conn.transaction():
                    if conn.isolation_level is not psycopg.IsolationLevel.READ_COMMITTED:
                        # the checks below must see writes committed while we waited for
                        # the lock: each statement needs a new snapshot
                        conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    conn.execute(self._lock_sql)
                    return self._append_locked(conn, case_id, events, expected_version)
            except pg_errors.UniqueViolation:
                # a writer that bypassed the lock stored this version first
                actual = self._version_on(conn, case_id)
                if actual == expected_version:
                    raise
                raise ConcurrencyError(case_id, expected=expected_version, actual=actual) from None

    def _append_locked(
        self,
        conn: psycopg.Connection[Any],
        case_id: str,
        events: Sequence[Event],
        expected: int,
    ) -> AppendResult:
        command_id = events[0].command_id
        row = conn.execute(self._q["state"], {"case": case_id, "command": command_id}).fetchone()
        assert row is not None  # the query always returns one row
        first_done, last_done, current, previous = row
        if last_done is not None:
            return AppendResult(case_id, first_done, last_done, duplicate=True)
        actual = current if current is not None else 0
        if actual != expected:
            raise ConcurrencyError(case_id, expected=expected, actual=actual)
        check_batch(case_id, events, expected)
        if expected and previous is None:
            raise EventStoreError(
                f"{self._where}: case {case_id!r} is recorded at version {expected} but that "
                "event is missing; run verify() to see what was removed. Nothing was stored."
            )
        encoded = encode(events, previous if expected else GENESIS, self.codec)
        last = events[-1].version
        conn.execute(
            self._q["write"],
            {
                "case": case_id,
                "command": command_id,
                "versions": [e.version for e, _, _ in encoded],
                "types": [type(e).__name__ for e, _, _ in encoded],
                "schema_versions": [e.schema_version for e, _, _ in encoded],
                "payloads": [payload for _, payload, _ in encoded],
                "hashes": [digest for _, _, digest in encoded],
                "last": last,
            },
        )
        return AppendResult(case_id, expected + 1, last, duplicate=False)

    def _version_on(self, conn: psycopg.Connection[Any], case_id: str) -> int:
        row = conn.execute(self._q["version"], (case_id,)).fetchone()
        return int(row[0]) if row is not None else 0

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]:
        with self._errors("load", case_id), self.pool.connection() as conn:
            rows = conn.execute(self._q["load"], (case_id, after)).fetchall()
        return tuple(decode(Row(*r), self.codec) for r in rows)

    def version(self, case_id: str) -> int:
        with self._errors("read the version", case_id), self.pool.connection() as conn:
            return self._version_on(conn, case_id)

    def command_version(self, case_id: str, command_id: str) -> int | None:
        with self._errors("look up a command", case_id), self.pool.connection() as conn:
            row = conn.execute(self._q["command_version"], (case_id, command_id)).fetchone()
        return int(row[0]) if row is not None and row[0] is not None else None

    def case_ids(self) -> Iterator[str]:
        with self._errors("list cases"), self.pool.connection() as conn:
            rows = conn.execute(self._q["case_ids"]).fetchall()
        return iter([r[0] for r in rows])

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]:
        with self._errors("read all events"), self.pool.connection() as conn:
            rows = conn.execute(self._q["read_all"], (after, limit)).fetchall()
        return tuple(StoredEvent(r[0], decode(Row(*r), self.codec)) for r in rows)

    def verify(self, case_id: str | None = None) -> list[ChainProblem]:
        with self._errors("verify", case_id), self.pool.connection() as conn:
            with conn.transaction():  # one consistent view of every case
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if case_id is not None:
                    ids = [case_id]
                else:
                    ids = [r[0] for r in conn.execute(self._q["case_ids"]).fetchall()]
                problems: list[ChainProblem] = []
                for cid in ids:
                    rows = [Row(*r) for r in conn.execute(self._q["case_rows"], (cid,))]
                    problems.extend(verify_rows(cid, rows))
                    recorded = conn.execute(self._q["version"], (cid,)).fetchone()
                    last = rows[-1].version if rows else 0
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
            return problems

    def save_snapshot(self, snapshot: Snapshot) -> None:
        with self._errors("save a snapshot", snapshot.case_id), self.pool.connection() as conn:
            conn.execute(
                self._q["save_snapshot"],
                (snapshot.case_id, snapshot.version, snapshot.schema_version, snapshot.state),
            )

    def load_snapshot(self, case_id: str) -> Snapshot | None:
        with self._errors("load a snapshot", case_id), self.pool.connection() as conn:
            row = conn.execute(self._q["load_snapshot"], (case_id,)).fetchone()
        return Snapshot(*row) if row is not None else None


_TABLES = ("tuko_events", "tuko_cases", "tuko_snapshots")


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Settings of each connection the store's own pool opens."""
    conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED


def _describe(conninfo: str, schema: str) -> str:
    """Where the store is, for messages: host, database and schema; never the password."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.Error:
        params = {}
    parts = [f"{k}={params[k]}" for k in ("host", "port", "dbname") if params.get(k)]
    where = f" ({' '.join(parts)})" if parts else ""
    return f"PostgreSQL store, schema {schema!r}{where}"


class _Translate:
    """Turns psycopg errors into tuko_flow errors that say what failed and for which case."""

    __slots__ = ("case_id", "doing", "where")

    def __init__(self, where: str, doing: str, case_id: str | None) -> None:
        self.where = where
        self.doing = doing
        self.case_id = case_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not isinstance(exc, psycopg.Error):
            return
        what = f"{self.where}: could not {self.doing}"
        if self.case_id is not None:
            what += f" for case {self.case_id!r}"
        if isinstance(exc, PoolClosed):
            raise EventStoreError(f"{what}: the store was closed") from exc
        reason = _unavailable(exc)
        if reason is not None:
            outcome = "Nothing was stored"
            state = exc.sqlstate or ""
            if self.doing == "append" and (not state or state.startswith(("08", "57P"))):
                outcome = (
                    "Nothing was stored, unless the connection was lost while committing; "
                    "retrying the same command is safe either way (it is recognised by its id)"
                )
            raise StorageUnavailable(
                f"{what}: {reason} ({_first_line(exc)}). {outcome}; retry when the "
                "database is available."
            ) from exc
        raise EventStoreError(f"{what}: {_first_line(exc)}") from exc


def _unavailable(exc: psycopg.Error) -> str | None:
    """Why the storage is unavailable, or ``None`` when the error is not of that kind."""
    if isinstance(exc, PoolTimeout):
        return "no database connection could be had in time"
    if isinstance(exc, TooManyRequests):
        return "too many calls are already waiting for a database connection"
    state = exc.sqlstate
    if state is None:
        # no answer from the server at all: connecting failed or the connection broke
        return (
            "the connection to the server failed"
            if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
            else None
        )
    for prefix in (state, state[:3], state[:2]):
        if prefix in _UNAVAILABLE:
            return _UNAVAILABLE[prefix]
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
