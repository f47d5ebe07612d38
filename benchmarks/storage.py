"""Benchmark: tuko_flow's durable stores against eventsourcing's and against raw drivers.

Run it with ``uv run python benchmarks/storage.py`` (``--quick`` for a short smoke run,
``--n`` for the number of cases per round, ``--rounds`` for the most rounds, ``--budget``
for the seconds after which no further round starts once ``--min-rounds`` have run,
``--postgres CONNINFO`` to add PostgreSQL figures against a server you give, or
``--start-postgres`` to start a throwaway local server for the run). It prints a table,
and as its last line one JSON object with every figure.

The workload
------------
The same for every contender: N cases, 10 events each, **one command (one durable
transaction) per event**, versions 1 to 10; then every case is loaded back.

1. ``tuko_sqlite``: :class:`tuko_flow.stores.SQLiteEventStore`. Each command builds one
   real tuko_flow event (``MeetingScheduled``, the event the contract suite uses: an actor,
   a command id, two timestamps) and calls ``store.append(case_id, [event], version - 1)``.
   Loading is ``store.load(case_id)`` (every event decoded back into its attrs class).
2. ``eventsourcing_sqlite``: the ``eventsourcing`` library's ``Application`` configured by
   its environment variables ``PERSISTENCE_MODULE=eventsourcing.sqlite`` and
   ``SQLITE_DBNAME=<file>`` (passed as the application's ``env``), with an ``Aggregate``
   whose events carry the same fields (an actor's agency and person, a command id, a
   meeting time). Each command triggers one event on the aggregate and calls
   ``app.save(aggregate)``. Loading is ``app.repository.get(id)`` (the aggregate rebuilt
   from its events; no cache, no snapshots); ``app.events.get(id)`` (events only, the
   closer match to ``store.load``) is timed too, for information.
3. ``raw_sqlite``: the floor. ``sqlite3`` with the same durability (``journal_mode=WAL``,
   ``synchronous=FULL``), one ``BEGIN IMMEDIATE`` ... ``INSERT`` ... ``COMMIT`` per
   command into a table shaped like tuko_flow's (an autoincrement position and a unique
   ``(case_id, version)`` key) with a pre-encoded payload; loading is one ``SELECT ...
   ORDER BY version`` per case, rows fetched and not decoded.
4. With a PostgreSQL server: ``tuko_postgres`` (``tuko_flow.stores.postgres``'s
   ``PostgresEventStore``, when that module exists), ``eventsourcing_postgres`` (its
   ``eventsourcing.postgres`` application, in its own schema) and ``raw_postgres``
   (psycopg, one transaction per command, the same table shape) as the floor.

SQLite's durability is checked, not assumed: every contender's connection is asked for
``journal_mode`` and ``synchronous`` and the answers are reported. eventsourcing's SQLite
module sets WAL itself and has no setting for ``synchronous``, so it runs with SQLite's
compiled default (reported; FULL with Python's usual builds).

How it is measured
------------------
Every contender writes its own database file in one temporary directory (``--dir``, on
the disk under test), fresh for each round. The contenders take turns in chunks of
``--chunk`` cases (the order rotating from chunk to chunk, and reversed every other
round), so a noisy spell on the machine (fsync timing is noisy) hits all of them alike;
within a chunk the cases are interleaved (version 1 of each case, then version 2, ...).
Each command is timed on its own: throughput is events per second of the summed command
times, and p50/p99 are the latencies of single commands, pooled over the rounds. Loading
runs ``--load-passes`` passes over every case, interleaved the same way. The cyclic
garbage collector is off during a round, after a ``gc.collect()``. A small warm-up round
comes first. Each ratio is the median of the per-round ratios (both sides ran in the same
round), with the ratio of the best rounds beside it. A busy disk can make fsync ten times
slower: after ``--min-rounds`` rounds no further round starts that would likely end after
``--budget`` seconds, and the figures say how many rounds ran.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from time import perf_counter
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from tuko_flow.events import Event, MeetingScheduled
from tuko_flow.events import codec as tuko_codec
from tuko_flow.stores import SQLiteEventStore
from tuko_flow.testing import OFFICER

EVENTS_PER_CASE = 10

T = TypeVar("T")

TARGETS = {
    "sqlite_append_vs_eventsourcing": 1.3,
    "sqlite_append_vs_raw_sqlite": 0.7,
    "sqlite_load_vs_eventsourcing": 3.0,
}

#: Each ratio: (numerator, denominator, "append" or "load"); throughput ratios, higher is
#: better. The PostgreSQL ones appear only when those contenders ran.
PAIRS: dict[str, tuple[str, str, str]] = {
    "sqlite_append_vs_eventsourcing": ("tuko_sqlite", "eventsourcing_sqlite", "append"),
    "sqlite_append_vs_raw_sqlite": ("tuko_sqlite", "raw_sqlite", "append"),
    "sqlite_load_vs_eventsourcing": ("tuko_sqlite", "eventsourcing_sqlite", "load"),
    "sqlite_load_vs_eventsourcing_events": (
        "tuko_sqlite",
        "eventsourcing_sqlite_events",
        "load",
    ),
    "sqlite_load_vs_raw_sqlite": ("tuko_sqlite", "raw_sqlite", "load"),
    "raw_sqlite_append_vs_eventsourcing": ("raw_sqlite", "eventsourcing_sqlite", "append"),
    "raw_sqlite_load_vs_eventsourcing": ("raw_sqlite", "eventsourcing_sqlite", "load"),
    "postgres_append_vs_eventsourcing": ("tuko_postgres", "eventsourcing_postgres", "append"),
    "postgres_append_vs_raw_postgres": ("tuko_postgres", "raw_postgres", "append"),
    "postgres_load_vs_eventsourcing": ("tuko_postgres", "eventsourcing_postgres", "load"),
    "postgres_load_vs_raw_postgres": ("tuko_postgres", "raw_postgres", "load"),
}

BASE_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def meeting_time(version: int) -> datetime:
    return BASE_TIME + timedelta(days=1, minutes=version)


# --- the contenders -------------------------------------------------------------------------


class Contender:
    """One way of storing the workload. Subclasses fill in the four operations.

    ``open`` prepares an empty store for ``case_ids`` in ``workdir`` (untimed);
    ``append(i, version)`` runs the command that stores event ``version`` of case ``i``;
    ``loaders`` names each way of loading a case (each returns how many events it loaded);
    ``close`` releases everything (untimed).
    """

    name = ""

    def open(self, workdir: Path, case_ids: Sequence[str]) -> None:
        raise NotImplementedError

    def append(self, i: int, version: int) -> None:
        raise NotImplementedError

    def loaders(self) -> dict[str, Callable[[int], int]]:
        raise NotImplementedError

    def check(self) -> None:
        """Raise if the store does not hold the whole workload (untimed)."""

    def close(self) -> None:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The durability settings the contender ran with (for the report)."""
        return {}


def sqlite_pragmas(conn: sqlite3.Connection) -> dict[str, Any]:
    return {
        "journal_mode": str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower(),
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            conn.execute("PRAGMA synchronous").fetchone()[0], "?"
        ),
    }


class TukoSQLite(Contender):
    name = "tuko_sqlite"

    def open(self, workdir: Path, case_ids: Sequence[str]) -> None:
        self.case_ids = case_ids
        self.store = SQLiteEventStore(workdir / "tuko.sqlite3")
        self.command_prefix = f"cmd-{uuid.uuid4().hex[:8]}"
        pragmas = self.store.pragmas()
        self._settings = {
            "journal_mode": str(pragmas["journal_mode"]).lower(),
            "synchronous": {2: "FULL"}.get(pragmas["synchronous"], str(pragmas["synchronous"])),
        }

    def append(self, i: int, version: int) -> None:
        case_id = self.case_ids[i]
        event = MeetingScheduled(
            case_id=case_id,
            version=version,
            occurred_at=BASE_TIME + timedelta(minutes=version),
            actor=OFFICER,
            command_id=f"{self.command_prefix}-{i}-{version}",
            meeting_at=meeting_time(version),
        )
        self.store.append(case_id, [event], version - 1)

    def loaders(self) -> dict[str, Callable[[int], int]]:
        load = self.store.load
        ids = self.case_ids
        return {self.name: lambda i: len(load(ids[i]))}

    def check(self) -> None:
        for case_id in self.case_ids:
            if self.store.version(case_id) != EVENTS_PER_CASE:  # pragma: no cover
                raise RuntimeError(f"{self.name}: case {case_id} is not at version 10")

    def close(self) -> None:
        self.store.close()

    def settings(self) -> dict[str, Any]:
        return self._settings


class BenchCase(Aggregate):
    """eventsourcing's side of the workload: a case whose commands schedule meetings."""

    @event("Opened")
    def __init__(
        self, case_ref: str, actor_agency: str, actor_person: str, command_id: str, meeting_at: Any
    ) -> None:
        self.case_ref = case_ref
        self.meetings = [meeting_at]

    @event("MeetingScheduled")
    def schedule_meeting(
        self, actor_agency: str, actor_person: str, command_id: str, meeting_at: Any
    ) -> None:
        self.meetings.append(meeting_at)


class EventsourcingApp(Contender):
    """eventsourcing's ``Application`` with one ``save`` per command (SQLite or PostgreSQL)."""

    def __init__(
        self,
        name: str,
        env: Callable[[Path], dict[str, str]],
        conninfo: str | None = None,
    ) -> None:
        self.name = name
        self.env = env
        self.conninfo = conninfo  # PostgreSQL: where to read the server's settings

    def open(self, workdir: Path, case_ids: Sequence[str]) -> None:
        self.case_ids = case_ids
        self.app: Application[Any] = Application(env=self.env(workdir))
        self.aggregates: list[Any] = [None] * len(case_ids)
        self.command_prefix = f"cmd-{uuid.uuid4().hex[:8]}"
        self._settings = self._read_settings()

    def _read_settings(self) -> dict[str, Any]:
        if self.conninfo is not None:
            import psycopg

            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                return postgres_settings(conn)
        datastore: Any = self.app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.get_connection(commit=False) as conn:
            return sqlite_pragmas(conn._sqlite_conn)

    def append(self, i: int, version: int) -> None:
        command_id = f"{self.command_prefix}-{i}-{version}"
        if version == 1:
            aggregate = BenchCase(
                self.case_ids[i], OFFICER.agency, OFFICER.person, command_id, meeting_time(1)
            )
            self.aggregates[i] = aggregate
        else:
            aggregate = self.aggregates[i]
            aggregate.schedule_meeting(
                OFFICER.agency, OFFICER.person, command_id, meeting_time(version)
            )
        self.app.save(aggregate)

    def loaders(self) -> dict[str, Callable[[int], int]]:
        get = self.app.repository.get
        get_events = self.app.events.get
        ids = [a.id for a in self.aggregates]

        def load_aggregate(i: int) -> int:
            return int(get(ids[i]).version)

        def load_events(i: int) -> int:
            return len(list(get_events(ids[i])))

        return {self.name: load_aggregate, self.name + "_events": load_events}

    def check(self) -> None:
        for aggregate in self.aggregates:
            stored: Any = self.app.repository.get(aggregate.id)
            if stored.version != EVENTS_PER_CASE or len(stored.meetings) != EVENTS_PER_CASE:
                raise RuntimeError(f"{self.name}: an aggregate is not at version 10")

    def close(self) -> None:
        self.app.close()

    def settings(self) -> dict[str, Any]:
        return self._settings


RAW_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    command_id TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    UNIQUE (case_id, version)
)
"""


def raw_payloads(case_ids: Sequence[str], prefix: str) -> list[list[tuple[str, int, str, str]]]:
    """Pre-encoded rows for the raw floors: tuko_flow's own JSON of the same events."""
    rows = []
    for i, case_id in enumerate(case_ids):
        per_case = []
        for v in range(1, EVENTS_PER_CASE + 1):
            command_id = f"{prefix}-{i}-{v}"
            ev: Event = MeetingScheduled(
                case_id=case_id,
                version=v,
                occurred_at=BASE_TIME + timedelta(minutes=v),
                actor=OFFICER,
                command_id=command_id,
                meeting_at=meeting_time(v),
            )
            per_case.append((case_id, v, command_id, tuko_codec.to_json(ev)))
        rows.append(per_case)
    return rows


class RawSQLite(Contender):
    name = "raw_sqlite"

    def open(self, workdir: Path, case_ids: Sequence[str]) -> None:
        self.case_ids = case_ids
        self.conn = sqlite3.connect(workdir / "raw.sqlite3", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute(RAW_SQLITE_SCHEMA)
        self.rows = raw_payloads(case_ids, f"cmd-{uuid.uuid4().hex[:8]}")
        self._settings = sqlite_pragmas(self.conn)

    def append(self, i: int, version: int) -> None:
        case_id, v, command_id, payload = self.rows[i][version - 1]
        execute = self.conn.execute
        execute("BEGIN IMMEDIATE")
        try:
            execute(
                "INSERT INTO events (case_id, version, type, command_id, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                (case_id, v, "MeetingScheduled", command_id, payload),
            )
        except BaseException:
            execute("ROLLBACK")
            raise
        execute("COMMIT")

    def loaders(self) -> dict[str, Callable[[int], int]]:
        execute = self.conn.execute
        ids = self.case_ids

        def load(i: int) -> int:
            return len(
                execute(
                    "SELECT position, case_id, version, type, command_id, payload FROM events "
                    "WHERE case_id = ? ORDER BY version",
                    (ids[i],),
                ).fetchall()
            )

        return {self.name: load}

    def check(self) -> None:
        count = self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        if count != len(self.case_ids) * EVENTS_PER_CASE:  # pragma: no cover
            raise RuntimeError(f"{self.name}: {count} rows stored")

    def close(self) -> None:
        self.conn.close()

    def settings(self) -> dict[str, Any]:
        return self._settings


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_settings(conn: Any) -> dict[str, Any]:
    out = {}
    for setting in ("fsync", "synchronous_commit", "full_page_writes", "wal_sync_method"):
        with contextlib.suppress(Exception):
            out[setting] = conn.execute(f"SHOW {setting}").fetchone()[0]
    return out


class RawPostgres(Contender):
    name = "raw_postgres"

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    def open(self, workdir: Path, case_ids: Sequence[str]) -> None:
        import psycopg

        self.case_ids = case_ids
        self.schema = f"tuko_bench_raw_{uuid.uuid4().hex[:10]}"
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.conn.execute(f"CREATE SCHEMA {self.schema}")
        self.conn.execute(
            f"CREATE TABLE {self.schema}.events (position BIGSERIAL PRIMARY KEY, "
            "case_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, "
            "command_id TEXT NOT NULL, payload TEXT NOT NULL, UNIQUE (case_id, version))"
        )
        self.conn.autocommit = False
        self.insert = (
            f"INSERT INTO {self.schema}.events (case_id, version, type, command_id, payload) "
            "VALUES (%s, %s, %s, %s, %s)"
        )
        self.select = (
            f"SELECT position, case_id, version, type, command_id, payload "
            f"FROM {self.schema}.events WHERE case_id = %s ORDER BY version"
        )
        self.rows = raw_payloads(case_ids, f"cmd-{uuid.uuid4().hex[:8]}")
        self._settings = postgres_settings(self.conn)
        self.conn.commit()

    def append(self, i: int, version: int) -> None:
        case_id, v, command_id, payload = self.rows[i][version - 1]
        with self.conn.transaction():
            self.conn.execute(self.insert, (case_id, v, "MeetingScheduled", command_id, payload))

    def loaders(self) -> dict[str, Callable[[int], int]]:
        conn = self.conn
        ids = self.case_ids
        select = self.select

        def load(i: int) -> int:
            with conn.transaction():
                return len(conn.execute(select, (ids[i],)).fetchall())

        return {self.name: load}

    def check(self) -> None:
        with self.conn.transaction():
            count = self.conn.execute(f"SELECT COUNT(*) FROM {self.schema}.events").fetchone()
        if count is None or count[0] != len(self.case_ids) * EVENTS_PER_CASE:  # pragma: no cover
            raise RuntimeError(f"{self.name}: {count} rows stored")

    def close(self) -> None:
        self.conn.rollback()
        self.conn.autocommit = True
        self.conn.execute(f"DROP SCHEMA {self.schema} CASCADE")
        self.conn.close()

    def settings(self) -> dict[str, Any]:
        return self._settings


class TukoPostgres(TukoSQLite):
    """tuko_flow's PostgreSQL store (``tuko_flow.stores.postgres``), same workload."""

    name = "tuko_postgres"

    def __init__(self, conninfo: str, store_class: Any) -> None:
        self.conninfo = conninfo
        self.store_class = store_class

    def open(self, workdir: Path, case_ids: Sequence[str]) -> None:
        import psycopg

        self.case_ids = case_ids
        self.command_prefix = f"cmd-{uuid.uuid4().hex[:8]}"
        self.schema = f"tuko_bench_{uuid.uuid4().hex[:10]}"
        self.store: Any = self.store_class(self.conninfo, schema=self.schema)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            self._settings = postgres_settings(conn)

    def close(self) -> None:
        import psycopg

        self.store.close()
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def eventsourcing_postgres_env(conninfo: str) -> Callable[[Path], dict[str, str]]:
    """eventsourcing's PostgreSQL settings (its environment variables) for ``conninfo``."""
    from psycopg.conninfo import conninfo_to_dict

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    schema = f"tuko_bench_es_{uuid.uuid4().hex[:10]}"

    def env(_workdir: Path) -> dict[str, str]:
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": params.get("dbname", "postgres"),
            "POSTGRES_HOST": params.get("host", "localhost"),
            "POSTGRES_PORT": params.get("port", "5432"),
            "POSTGRES_USER": params.get("user", os.environ.get("USER", "postgres")),
            "POSTGRES_PASSWORD": params.get("password", ""),
            "POSTGRES_SCHEMA": schema,
        }

    env.schema = schema  # type: ignore[attr-defined]  # dropped after the run
    return env


def postgres_contenders(conninfo: str) -> tuple[list[Contender], list[str], Callable[[], None]]:
    """The PostgreSQL contenders for ``conninfo``, notes on what is missing, and a cleanup."""
    notes: list[str] = []
    contenders: list[Contender] = []
    spec = importlib.util.find_spec("tuko_flow.stores.postgres")
    if spec is None:
        notes.append("tuko_flow.stores.postgres does not exist yet: no tuko_postgres figures")
    else:
        module = importlib.import_module("tuko_flow.stores.postgres")
        contenders.append(TukoPostgres(conninfo, module.PostgresEventStore))
    es_env = eventsourcing_postgres_env(conninfo)
    contenders.append(EventsourcingApp("eventsourcing_postgres", es_env, conninfo))
    contenders.append(RawPostgres(conninfo))

    def cleanup() -> None:
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {es_env.schema} CASCADE")  # type: ignore[attr-defined]

    return contenders, notes, cleanup


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a throwaway PostgreSQL server the way the test suite does; yield its conninfo.

    tests/pg_server.py finds the server programs, creates a cluster in a temporary
    directory (as the ``postgres`` OS user when run as root) and deletes it afterwards.
    The test suite starts its server with ``fsync=off``; a benchmark must not, so the
    server is started here with PostgreSQL's durable defaults (``fsync=on``,
    ``synchronous_commit=on``, ``full_page_writes=on``), and they are reported.
    """
    helper = Path(__file__).resolve().parent.parent / "tests" / "pg_server.py"
    if not helper.exists():
        raise SystemExit(
            "--start-postgres needs tests/pg_server.py (the test suite's server starter), "
            "which is not there; start a server yourself and pass --postgres CONNINFO"
        )
    spec = importlib.util.spec_from_file_location("_tuko_pg_server", helper)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise SystemExit(f"cannot load {helper}")
    pg = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pg  # its dataclasses look their module up there
    spec.loader.exec_module(pg)
    server = pg._prepare(pg.find_bindir())
    try:
        server = pg.PostgresServer(server.bindir, server.base, pg._free_port(), server.as_user)
        options = (
            f"-p {server.port} -k {server.socket_dir} -c listen_addresses='' "
            "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
            "-c shared_buffers=64MB -c max_connections=50"
        )
        log = str(server.base / "server.log")
        pg._run(
            server, "pg_ctl", "start", "-D", str(server.datadir), "-l", log, "-w", "-o", options
        )
        yield server.conninfo
    finally:
        pg._stop(server)


# --- the run --------------------------------------------------------------------------------


def rotations(items: Sequence[T], k: int) -> list[T]:
    """``items`` rotated by ``k`` places, so each takes its turn first."""
    shift = k % len(items)
    return [*items[shift:], *items[:shift]]


def one_round(
    contenders: Sequence[Contender],
    n: int,
    chunk: int,
    load_passes: int,
    workdir: Path,
    tag: str,
    reverse: bool,
) -> tuple[dict[str, float], dict[str, float], dict[str, list[float]]]:
    """Append and load the workload with every contender, interleaved.

    Returns append throughput (events/s), load throughput (events/s) and the per-command
    append latencies (seconds) of each contender.
    """
    order = list(contenders)[:: -1 if reverse else 1]
    case_ids = [f"client-{tag}-{i:05d}" for i in range(n)]
    for c in order:
        path = workdir / f"{tag}-{c.name}"
        path.mkdir()
        c.open(path, case_ids)
    latencies: dict[str, list[float]] = {c.name: [] for c in order}
    load_time: dict[str, float] = {}
    loaded: dict[str, int] = {}
    gc.collect()
    gc.disable()
    try:
        for k, lo in enumerate(range(0, n, chunk)):
            hi = min(lo + chunk, n)
            for c in rotations(order, k):
                append = c.append
                record = latencies[c.name].append
                for v in range(1, EVENTS_PER_CASE + 1):
                    for i in range(lo, hi):
                        start = perf_counter()
                        append(i, v)
                        record(perf_counter() - start)
        loaders: dict[str, Callable[[int], int]] = {}
        for c in order:
            loaders.update(c.loaders())
        names = list(loaders)
        load_time = dict.fromkeys(names, 0.0)
        loaded = dict.fromkeys(names, 0)
        k = 0
        for _ in range(load_passes):
            for lo in range(0, n, chunk):
                hi = min(lo + chunk, n)
                for name in rotations(names, k):
                    load = loaders[name]
                    start = perf_counter()
                    count = 0
                    for i in range(lo, hi):
                        count += load(i)
                    load_time[name] += perf_counter() - start
                    loaded[name] += count
                k += 1
    finally:
        gc.enable()
    try:
        expected = n * EVENTS_PER_CASE * load_passes
        for name, count in loaded.items():
            if count != expected:  # pragma: no cover - sanity check
                raise RuntimeError(f"{name} loaded {count} events, expected {expected}")
        for c in order:
            c.check()
    finally:
        for c in order:
            c.close()
    append_rate = {name: len(ts) / sum(ts) for name, ts in latencies.items()}
    load_rate = {name: loaded[name] / t for name, t in load_time.items()}
    return append_rate, load_rate, latencies


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of sorted values, by the nearest-rank method."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def run(
    contenders: Sequence[Contender],
    n: int,
    rounds: int,
    chunk: int,
    load_passes: int,
    parent: str | None,
    budget: float,
    min_rounds: int,
) -> dict[str, Any]:
    """Warm up, then run up to ``rounds`` rounds; the figures of all of them.

    After ``min_rounds`` rounds, no further round starts if it would likely end after
    ``budget`` seconds from the start (a busy disk can make fsync ten times slower).
    """
    started = perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="tuko-storage-bench-", dir=parent))
    try:
        one_round(contenders, max(chunk, n // 10), chunk, 1, workdir, "warm", reverse=False)
        appends: dict[str, list[float]] = {}
        loads: dict[str, list[float]] = {}
        latencies: dict[str, list[float]] = {}
        ran = 0
        for r in range(rounds):
            elapsed = perf_counter() - started
            if r >= min_rounds and elapsed + elapsed / (r + 0.1) > budget:
                break
            a, lo, lat = one_round(
                contenders, n, chunk, load_passes, workdir, f"r{r}", reverse=r % 2 == 1
            )
            ran += 1
            for name, value in a.items():
                appends.setdefault(name, []).append(value)
                latencies.setdefault(name, []).extend(lat[name])
            for name, value in lo.items():
                loads.setdefault(name, []).append(value)
        settings = {c.name: c.settings() for c in contenders}
        disk = str(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    result: dict[str, Any] = {}
    for key, (num, den, kind) in PAIRS.items():
        samples = appends if kind == "append" else loads
        if num not in samples or den not in samples:
            continue
        paired = [a / b for a, b in zip(samples[num], samples[den], strict=True)]
        result[key] = statistics.median(paired)
        result[key + "_of_best"] = max(samples[num]) / max(samples[den])
    for name, values in appends.items():
        ordered = sorted(latencies[name])
        result[f"{name}_append_events_per_s"] = statistics.median(values)
        result[f"{name}_append_events_per_s_best"] = max(values)
        result[f"{name}_append_p50_ms"] = percentile(ordered, 0.50) * 1e3
        result[f"{name}_append_p99_ms"] = percentile(ordered, 0.99) * 1e3
    for name, values in loads.items():
        result[f"{name}_load_events_per_s"] = statistics.median(values)
        result[f"{name}_load_events_per_s_best"] = max(values)
    for key, (num, den, kind) in PAIRS.items():
        if kind == "append" and key in result:
            # the same comparison by typical (median) command latency, which the rare slow
            # fsync of a busy disk hardly moves
            result[key + "_by_p50"] = (
                result[f"{den}_append_p50_ms"] / result[f"{num}_append_p50_ms"]
            )
    result.update(
        n=n,
        events_per_case=EVENTS_PER_CASE,
        rounds=ran,
        rounds_asked=rounds,
        budget_s=budget,
        seconds=perf_counter() - started,
        chunk=chunk,
        load_passes=load_passes,
        contenders=[c.name for c in contenders],
        durability=settings,
        workdir=disk,
        targets=TARGETS,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        eventsourcing=version("eventsourcing"),
        tuko_flow=version("tuko-flow"),
        cpus=os.cpu_count(),
    )
    if any("postgres" in c.name for c in contenders):
        result["psycopg"] = version("psycopg")
        with contextlib.suppress(PackageNotFoundError):
            result["psycopg_pool"] = version("psycopg-pool")
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


LABELS = {
    "tuko_sqlite": "tuko_flow SQLiteEventStore",
    "eventsourcing_sqlite": "eventsourcing Application (SQLite)",
    "eventsourcing_sqlite_events": "  eventsourcing events.get only (info)",
    "raw_sqlite": "raw sqlite3 (floor)",
    "tuko_postgres": "tuko_flow PostgresEventStore",
    "eventsourcing_postgres": "eventsourcing Application (PostgreSQL)",
    "eventsourcing_postgres_events": "  eventsourcing events.get only (info)",
    "raw_postgres": "raw psycopg (floor)",
}


def table(result: dict[str, Any], notes: Sequence[str]) -> str:
    width = max(len(label) for label in LABELS.values())
    out = [
        f"tuko_flow durable stores: {result['n']} cases x {result['events_per_case']} events, "
        f"one command per event (rounds={result['rounds']} of {result['rounds_asked']} in "
        f"{result['seconds']:.0f} s, chunk={result['chunk']}, "
        f"load passes={result['load_passes']}; python {result['python']}, "
        f"sqlite {result['sqlite']}, eventsourcing {result['eventsourcing']}, "
        f"{result['cpus']} cpus)",
        "",
        f"{'':<{width}}  {'append ev/s':>11}  {'p50 ms':>7}  {'p99 ms':>7}  {'load ev/s':>10}",
    ]
    for name, label in LABELS.items():
        load = result.get(f"{name}_load_events_per_s")
        append = result.get(f"{name}_append_events_per_s")
        if load is None and append is None:
            continue
        if append is None:
            cells = f"{'':>11}  {'':>7}  {'':>7}"
        else:
            cells = (
                f"{append:>11.0f}  {result[f'{name}_append_p50_ms']:>7.3f}  "
                f"{result[f'{name}_append_p99_ms']:>7.3f}"
            )
        out.append(f"{label:<{width}}  {cells}  {load:>10.0f}")
    out.append("")
    out.append(
        f"{'ratio (throughput, higher is better)':<{width}}  {'median':>8}  {'of best':>8}  "
        f"{'by p50':>8}  {'target':>8}"
    )
    for key in PAIRS:
        if key not in result:
            continue
        target = TARGETS.get(key)
        mark = "" if target is None else ("  ok" if result[key] >= target else "  MISSED")
        shown = "-" if target is None else f">= {target:g}"
        by_p50 = result.get(key + "_by_p50")
        p50 = "-" if by_p50 is None else f"{by_p50:.3f}"
        out.append(
            f"{key:<{width}}  {result[key]:>8.3f}  {result[key + '_of_best']:>8.3f}  "
            f"{p50:>8}  {shown:>8}{mark}"
        )
    out.append("")
    out.append("durability each contender ran with (asked from its own connection):")
    for name, settings in result["durability"].items():
        shown = ", ".join(f"{k}={v}" for k, v in settings.items()) or "-"
        out.append(f"  {name}: {shown}")
    out.append(
        "  (eventsourcing's SQLite module sets WAL itself and has no synchronous setting: "
        "it runs with SQLite's compiled default)"
    )
    out.append(f"temporary files in {result['workdir']} (removed)")
    out.extend(notes)
    out.append("")
    out.append(
        "median: the median over rounds of the per-round ratio (both sides interleaved in "
        "the same round); of best: the ratio of the best rounds; by p50: the ratio of "
        "median command latencies (for information). p50/p99: single commands, pooled over "
        "rounds."
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few cases (a smoke run)")
    parser.add_argument("--n", type=int, default=None, help="cases per round")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of every contender")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds after which no further round starts (once --min-rounds have run)",
    )
    parser.add_argument(
        "--min-rounds", type=int, default=None, help="rounds run whatever the budget"
    )
    parser.add_argument("--chunk", type=int, default=10, help="cases per turn (interleaving)")
    parser.add_argument("--load-passes", type=int, default=None, help="load passes per round")
    parser.add_argument(
        "--dir", default=None, help="parent of the temporary directory (the disk under test)"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--postgres", metavar="CONNINFO", default=None, help="add PostgreSQL figures"
    )
    group.add_argument(
        "--start-postgres",
        action="store_true",
        help="start a throwaway local PostgreSQL server for the run",
    )
    args = parser.parse_args(argv)
    n = args.n if args.n is not None else (30 if args.quick else 300)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 5)
    load_passes = args.load_passes if args.load_passes is not None else (1 if args.quick else 3)
    budget = args.budget if args.budget is not None else (6.0 if args.quick else 45.0)
    min_rounds = args.min_rounds if args.min_rounds is not None else (1 if args.quick else 3)
    if min(n, rounds, args.chunk, load_passes, min_rounds) < 1:
        parser.error("--n, --rounds, --min-rounds, --chunk and --load-passes must be at least 1")

    contenders: list[Contender] = [
        TukoSQLite(),
        EventsourcingApp(
            "eventsourcing_sqlite",
            lambda workdir: {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(workdir / "eventsourcing.sqlite3"),
            },
        ),
        RawSQLite(),
    ]
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        conninfo = args.postgres
        if args.start_postgres:
            conninfo = stack.enter_context(throwaway_postgres())
        if conninfo is not None:
            pg, pg_notes, cleanup = postgres_contenders(conninfo)
            stack.callback(cleanup)
            contenders.extend(pg)
            notes.extend(pg_notes)
        else:
            notes.append("no PostgreSQL figures (pass --postgres CONNINFO or --start-postgres)")
        result = run(
            contenders,
            n,
            rounds,
            args.chunk,
            load_passes,
            args.dir,
            budget,
            min(min_rounds, rounds),
        )
    result["notes"] = notes
    print(table(result, notes))
    print(json.dumps(result, sort_keys=True))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
