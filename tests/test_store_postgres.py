"""The PostgreSQL store keeps every promise of the event-store port, on a real server.

The session starts a throwaway PostgreSQL server (tests/pg_server.py); each test works in
a schema of its own.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import multiprocessing
import multiprocessing.forkserver
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from pg_server import PostgresServer, ServerError, running_server
from psycopg import sql
from psycopg_pool import ConnectionPool

from tuko_flow import AppendResult, Engine, EventStore, ManualClock, replay
from tuko_flow.errors import (
    ConcurrencyError,
    EventStoreError,
    StorageUnavailable,
    TukoFlowError,
)
from tuko_flow.events import Event, EventCodec, MeetingScheduled
from tuko_flow.events import codec as default_codec
from tuko_flow.stores._rows import GENESIS, chain
from tuko_flow.stores.postgres import PostgresEventStore
from tuko_flow.testing import OFFICER, EventStoreContract, drive_to

# --- the server, schemas and stores ------------------------------------------------------


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (fails, never skips, without one)."""
    try:
        with running_server() as server:
            yield server
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


def _new_schema() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def schema() -> str:
    """A schema name no other test uses."""
    return _new_schema()


@pytest.fixture
def admin(pg: PostgresServer) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A superuser connection (autocommit) for tampering with and inspecting the store."""
    with psycopg.connect(pg.conninfo, autocommit=True) as conn:
        yield conn


@pytest.fixture
def make(pg: PostgresServer, schema: str) -> Iterator[Callable[..., PostgresEventStore]]:
    """Open stores (on the test's schema unless told otherwise); all closed afterwards."""
    opened: list[PostgresEventStore] = []

    def make(conninfo: str | None = None, **kwargs: object) -> PostgresEventStore:
        kwargs.setdefault("schema", schema)
        kwargs.setdefault("max_size", 4)
        store = PostgresEventStore(conninfo or pg.conninfo, **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def _meeting(case_id: str, version: int, command_id: str | None = None) -> Event:
    """A small valid event (stores do not interpret event types)."""
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=version)
    return MeetingScheduled(
        case_id=case_id,
        version=version,
        occurred_at=at,
        actor=OFFICER,
        command_id=command_id or f"cmd-{case_id}-{version}",
        meeting_at=at + timedelta(days=1),
    )


def _fill(store: PostgresEventStore, case_id: str, count: int) -> list[Event]:
    """Append ``count`` events to a new case, one command each."""
    events = [_meeting(case_id, v) for v in range(1, count + 1)]
    for event in events:
        store.append(case_id, [event], event.version - 1)
    return events


def _table(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


# --- the shared contract ------------------------------------------------------------------


def _preload_psycopg_in_the_forkserver() -> None:
    """Start the contract's forkserver with psycopg already imported, unless it runs already.

    The contract's process checks fork their writers from a forkserver that preloads
    tuko_flow's contract module only, so each writer would import psycopg itself (a few
    tenths of a second, times 50 crash writers). Started here first, it preloads both.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tuko_flow._contract", "tuko_flow.stores.postgres"])
    multiprocessing.forkserver.ensure_running()


class TestPostgresEventStore(EventStoreContract):
    """The shared contract, each store on a fresh schema of the session's server."""

    @pytest.fixture(autouse=True)
    def _server(self, pg: PostgresServer) -> Iterator[None]:
        self.conninfo = pg.conninfo
        self.opened: list[PostgresEventStore] = []
        yield
        for store in self.opened:
            store.close()

    def _open(self, schema: str, codec: EventCodec) -> PostgresEventStore:
        store = PostgresEventStore(self.conninfo, schema=schema, max_size=4, codec=codec)
        self.opened.append(store)
        return store

    @contextlib.contextmanager
    def _raw(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """A superuser connection in one transaction, as someone editing the tables directly."""
        with psycopg.connect(self.conninfo) as conn:
            yield conn

    def make_store(self, codec: EventCodec | None = None) -> PostgresEventStore:
        """A new, empty store: a schema of its own."""
        return self._open(_new_schema(), codec or default_codec)

    def reopen(self, store: PostgresEventStore) -> PostgresEventStore:
        """Another store object, with its own pool, on the same schema."""
        return self._open(store.schema, store.codec)

    def process_store_spec(
        self, store: PostgresEventStore
    ) -> functools.partial[PostgresEventStore]:
        """Another process opens the same schema of the same server."""
        _preload_psycopg_in_the_forkserver()
        return functools.partial(PostgresEventStore, self.conninfo, schema=store.schema)

    def write_raw(
        self,
        store: PostgresEventStore,
        *,
        case_id: str,
        version: int,
        type_name: str,
        schema_version: int,
        command_id: str,
        payload: str,
    ) -> int:
        """Insert a row directly, chained and counted like an appended one."""
        with self._raw() as conn:
            row = conn.execute(
                sql.SQL("SELECT hash FROM {} WHERE case_id = %s AND version = %s").format(
                    _table(store.schema, "tuko_events")
                ),
                (case_id, version - 1),
            ).fetchone()
            digest = chain(str(row[0]) if row is not None else GENESIS, payload)
            inserted = conn.execute(
                sql.SQL(
                    "INSERT INTO {} (case_id, version, type, schema_version, command_id, "
                    "payload, hash) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING position"
                ).format(_table(store.schema, "tuko_events")),
                (case_id, version, type_name, schema_version, command_id, payload, digest),
            ).fetchone()
            assert inserted is not None
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (case_id, version, first_position) VALUES (%s, %s, %s) "
                    "ON CONFLICT (case_id) DO UPDATE SET version = excluded.version"
                ).format(_table(store.schema, "tuko_cases")),
                (case_id, version, inserted[0]),
            )
        return int(str(inserted[0]))

    def tamper_alter(self, store: PostgresEventStore, case_id: str, version: int) -> None:
        """UPDATE one row's payload, leaving its hash."""
        events = _table(store.schema, "tuko_events")
        with self._raw() as conn:
            row = conn.execute(
                sql.SQL("SELECT payload FROM {} WHERE case_id = %s AND version = %s").format(
                    events
                ),
                (case_id, version),
            ).fetchone()
            assert row is not None
            conn.execute(
                sql.SQL("UPDATE {} SET payload = %s WHERE case_id = %s AND version = %s").format(
                    events
                ),
                (self.alter_payload(str(row[0])), case_id, version),
            )

    def tamper_delete(self, store: PostgresEventStore, case_id: str, version: int) -> None:
        """DELETE one row."""
        with self._raw() as conn:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE case_id = %s AND version = %s").format(
                    _table(store.schema, "tuko_events")
                ),
                (case_id, version),
            )

    def tamper_swap(self, store: PostgresEventStore, case_id: str, version: int) -> None:
        """Swap the version numbers of two adjacent rows (in one transaction)."""
        update = sql.SQL("UPDATE {} SET version = %s WHERE case_id = %s AND version = %s").format(
            _table(store.schema, "tuko_events")
        )
        with self._raw() as conn:
            for new, old in ((-1, version), (version, version + 1), (version + 1, -1)):
                conn.execute(update, (new, case_id, old))

    def inject_fault(self, store: PostgresEventStore) -> None:
        """Disk full: triggers fail every event row and snapshot written with SQLSTATE 53100,
        as PostgreSQL does when it cannot extend a file (after the rows took positions)."""
        with self._raw() as conn:
            _install_fault(conn, store.schema, "disk_full", "true")

    def clear_fault(self, store: PostgresEventStore) -> None:
        """Drop the fault triggers."""
        with self._raw() as conn:
            _clear_fault(conn, store.schema)


# --- PostgreSQL specifics --------------------------------------------------------------------


def test_store_satisfies_the_port(make: Callable[..., PostgresEventStore]) -> None:
    """PostgresEventStore is an EventStore (runtime-checkable protocol)."""
    assert isinstance(make(), EventStore)


def test_a_second_store_on_the_schema_sees_the_same_history(
    make: Callable[..., PostgresEventStore],
) -> None:
    """Stores on one schema share cases (as application servers do); other schemas do not."""
    first = make()
    events = _fill(first, "case-a", 3)
    second = make()
    assert list(second.load("case-a")) == events
    assert second.version("case-a") == 3
    assert list(make(schema=_new_schema()).case_ids()) == []


def _race(stores: list[PostgresEventStore], command_ids: list[str]) -> list[object]:
    """Each store appends version 2 of 'case-a' (expected 1) in its own thread, all at once."""
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = []

    def write(store: PostgresEventStore, command_id: str) -> None:
        barrier.wait()
        try:
            outcomes.append(store.append("case-a", [_meeting("case-a", 2, command_id)], 1))
        except TukoFlowError as exc:
            outcomes.append(exc)

    threads = [
        threading.Thread(target=write, args=pair) for pair in zip(stores, command_ids, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_a_retry_racing_its_original_is_a_duplicate_not_a_conflict(
    make: Callable[..., PostgresEventStore],
) -> None:
    """One command sent twice at once (a retry): one stores it, the other reports a duplicate."""
    stores = [make(), make()]
    _fill(stores[0], "case-a", 1)
    outcomes = _race(stores, ["c-same", "c-same"])
    assert sorted(outcomes, key=repr) == [
        AppendResult("case-a", 2, 2, duplicate=False),
        AppendResult("case-a", 2, 2, duplicate=True),
    ]
    assert stores[0].version("case-a") == 2


_RACER = """
import json, sys
from datetime import UTC, datetime, timedelta
from tuko_flow.errors import ConcurrencyError
from tuko_flow.events import MeetingScheduled
from tuko_flow.stores._rows import GENESIS, chain
from tuko_flow.stores.postgres import PostgresEventStore
from tuko_flow.testing import OFFICER

conninfo, schema, tag = sys.argv[1:4]
store = PostgresEventStore(conninfo, schema=schema, max_size=1)
expected = store.version("case-a")
at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
event = MeetingScheduled(case_id="case-a", version=expected + 1, occurred_at=at,
                         actor=OFFICER, command_id="cmd-" + tag, meeting_at=at + timedelta(days=1))
print("ready", flush=True)
sys.stdin.readline()
try:
    result = store.append("case-a", [event], expected)
    print(json.dumps({"won": result.last_version}), flush=True)
except ConcurrencyError as exc:
    print(json.dumps({"case": exc.case_id, "expected": exc.expected, "actual": exc.actual}))
store.close()
"""


def test_processes_racing_on_one_case_one_wins(
    pg: PostgresServer, schema: str, make: Callable[..., PostgresEventStore]
) -> None:
    """Two OS processes append at one expected version: one wins, the other is told why."""
    store = make()
    _fill(store, "case-a", 1)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, pg.tcp_conninfo, schema, tag],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("p1", "p2")
    ]
    for racer in racers:
        assert racer.stdout is not None
        assert racer.stdout.readline().strip() == "ready", racer.communicate()[1]
    for racer in racers:  # both have loaded version 1; now both append
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outputs = [racer.communicate(timeout=60) for racer in racers]
    results = [json.loads(out) for out, _ in outputs]
    assert all(r.returncode == 0 for r in racers), [err for _, err in outputs]
    assert sorted(results, key=len) == [
        {"won": 2},
        {"case": "case-a", "expected": 1, "actual": 2},
    ]
    assert store.version("case-a") == 2
    assert store.verify() == []


def test_own_pool_with_serializable_default_still_serialises_appends(
    pg: PostgresServer, make: Callable[..., PostgresEventStore]
) -> None:
    """A host's own pool (no autocommit, serializable by default) works; close leaves it open."""
    conninfo = f"{pg.conninfo} options='-c default_transaction_isolation=serializable'"
    with ConnectionPool(conninfo, min_size=2, max_size=2, open=True) as pool:
        stores = [make(pool=pool), make(pool=pool)]
        _fill(stores[0], "case-a", 1)
        retried = _race(stores, ["c-same", "c-same"])
        assert sorted(retried, key=repr) == [
            AppendResult("case-a", 2, 2, duplicate=False),
            AppendResult("case-a", 2, 2, duplicate=True),
        ]
        outcomes = _race(stores, ["c-y", "c-z"])  # both stale now: expected 1, found 2
        assert [(o.expected, o.actual) for o in outcomes if isinstance(o, ConcurrencyError)] == [
            (1, 2),
            (1, 2),
        ]
        for store in stores:
            store.close()
        assert not pool.closed
        with pool.connection() as conn:
            assert conn.execute("SHOW transaction_isolation").fetchone() == ("serializable",)


def _install_fault(
    conn: psycopg.Connection[tuple[object, ...]], schema: str, errcode: str, when: str
) -> None:
    """Make writes of event rows and snapshots for which ``when`` (SQL on ``NEW``) holds fail
    with SQLSTATE ``errcode``: event rows after they were inserted (their positions taken),
    inside the append's transaction, so the whole append rolls back."""
    conn.execute(
        sql.SQL(
            "CREATE FUNCTION {schema}.inject_fault() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF {when} THEN RAISE EXCEPTION 'injected fault: could not extend file: "
            "No space left on device' USING ERRCODE = {code}; END IF; RETURN NEW; END $$; "
            "CREATE TRIGGER inject_fault AFTER INSERT ON {events} "
            "FOR EACH ROW EXECUTE FUNCTION {schema}.inject_fault(); "
            "CREATE TRIGGER inject_fault BEFORE INSERT OR UPDATE ON {snapshots} "
            "FOR EACH ROW EXECUTE FUNCTION {schema}.inject_fault()"
        ).format(
            schema=sql.Identifier(schema),
            when=sql.SQL(when),  # type: ignore[arg-type]  # test-only SQL, written here
            code=sql.Literal(errcode),
            events=_table(schema, "tuko_events"),
            snapshots=_table(schema, "tuko_snapshots"),
        )
    )


def _clear_fault(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """Undo :func:`_install_fault`."""
    conn.execute(sql.SQL("DROP FUNCTION {}.inject_fault() CASCADE").format(sql.Identifier(schema)))


def _install_trigger(
    admin: psycopg.Connection[tuple[object, ...]], schema: str, errcode: str
) -> None:
    """Make appends to cases named 'doomed-*' fail inside the transaction, after the insert."""
    _install_fault(admin, schema, errcode, "NEW.case_id LIKE 'doomed-%'")


def test_rolled_back_append_leaves_a_gap_readers_pass_over(
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """A rolled-back append only skips positions; a reader one event at a time misses nothing."""
    store = make()
    _install_trigger(admin, schema, "check_violation")
    first = _fill(store, "case-a", 1)
    doomed = [_meeting("doomed-1", 1, "c-d"), _meeting("doomed-1", 2, "c-d")]
    with pytest.raises(EventStoreError) as exc:
        store.append("doomed-1", doomed, 0)
    assert not isinstance(exc.value, StorageUnavailable)
    assert "could not append for case 'doomed-1'" in str(exc.value)
    assert "injected fault" in str(exc.value)
    later = _fill(store, "case-b", 2)
    stored = store.read_all()
    assert [s.event for s in stored] == [*first, *later]
    assert stored[1].position > stored[0].position + 1  # the rolled-back batch's gap
    seen: list[Event] = []
    position = 0
    while batch := store.read_all(after=position, limit=1):
        seen.append(batch[0].event)
        position = batch[0].position
    assert seen == [*first, *later]
    assert store.version("doomed-1") == 0
    assert list(store.load("doomed-1")) == []
    assert list(store.case_ids()) == ["case-a", "case-b"]
    assert store.verify() == []


def test_subscriber_polling_during_concurrent_appends_misses_nothing(
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """Writers on four pools (some appends rolled back); a polling reader sees every event once."""
    reader = make()
    _install_trigger(admin, schema, "check_violation")
    writers = [make(max_size=1) for _ in range(4)]
    done = threading.Event()
    seen: list[Event] = []

    def write(store: PostgresEventStore, case_id: str) -> None:
        for version in range(1, 16):
            store.append(case_id, [_meeting(case_id, version)], version - 1)
            if version % 5 == 0:
                with pytest.raises(EventStoreError):
                    store.append(f"doomed-{case_id}", [_meeting(f"doomed-{case_id}", 1)], 0)

    def read() -> None:
        position = 0
        while True:
            finished = done.is_set()
            batch = reader.read_all(after=position)
            if batch:
                seen.extend(s.event for s in batch)
                position = batch[-1].position
            elif finished:
                return

    threads = [
        threading.Thread(target=write, args=(store, f"case-{n}")) for n, store in enumerate(writers)
    ]
    polling = threading.Thread(target=read)
    polling.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    polling.join()
    everything = [s.event for s in reader.read_all()]
    assert len(everything) == 60
    assert seen == everything
    for n in range(4):
        assert [e for e in seen if e.case_id == f"case-{n}"] == list(reader.load(f"case-{n}"))


def test_append_lock_held_too_long_is_storage_unavailable_then_retry_succeeds(
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """A writer held up past lock_timeout: StorageUnavailable, nothing stored, then success."""
    slow, impatient = make(), make(lock_timeout=0.2)
    admin.execute(
        sql.SQL(
            "CREATE FUNCTION {schema}.slow() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$; "
            "CREATE TRIGGER slow AFTER INSERT ON {events} FOR EACH ROW "
            "WHEN (NEW.case_id = 'case-slow') EXECUTE FUNCTION {schema}.slow()"
        ).format(schema=sql.Identifier(schema), events=_table(schema, "tuko_events"))
    )
    holder = threading.Thread(target=_fill, args=(slow, "case-slow", 1))
    holder.start()
    deadline = time.monotonic() + 20
    while not admin.execute(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
    ).fetchone():  # the slow append holds the lock now
        assert time.monotonic() < deadline, "the slow append never started"
        time.sleep(0.01)
    event = _meeting("case-a", 1)
    with pytest.raises(StorageUnavailable) as exc:
        impatient.append("case-a", [event], 0)
    assert "could not append for case 'case-a'" in str(exc.value)
    assert "write lock" in str(exc.value)
    assert impatient.version("case-a") == 0
    holder.join()
    assert impatient.append("case-a", [event], 0).last_version == 1
    assert [s.event.case_id for s in impatient.read_all()] == ["case-slow", "case-a"]


def _terminate(admin: psycopg.Connection[tuple[object, ...]], application_name: str) -> int:
    """Terminate every backend of ``application_name``; return how many there were."""
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = %s",
        (application_name,),
    ).fetchall()
    return len(rows)


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("append", lambda s: s.append("case-a", [_meeting("case-a", 3)], 2)),
        ("load", lambda s: s.load("case-a")),
        ("read all events", lambda s: s.read_all()),
        ("verify", lambda s: s.verify()),
        ("read the version", lambda s: s.version("case-a")),
    ],
    ids=["append", "load", "read_all", "verify", "version"],
)
def test_lost_connection_is_storage_unavailable_and_retry_succeeds(
    pg: PostgresServer,
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    operation: str,
    call: Callable[[PostgresEventStore], object],
) -> None:
    """A terminated server connection raises StorageUnavailable; the same call then succeeds."""
    name = f"tuko-{uuid.uuid4().hex[:8]}"
    store = make(f"{pg.conninfo} application_name={name}", min_size=1, max_size=1)
    _fill(store, "case-a", 2)
    assert _terminate(admin, name) == 1
    with pytest.raises(StorageUnavailable) as exc:
        call(store)
    assert f"could not {operation}" in str(exc.value)
    assert not isinstance(exc.value, psycopg.Error)
    call(store)  # the pool replaced the connection
    assert store.version("case-a") == (3 if operation == "append" else 2)
    assert store.verify() == []


def test_unreachable_server_is_storage_unavailable(make: Callable[..., PostgresEventStore]) -> None:
    """Opening a store on a server that is not there raises StorageUnavailable, saying so."""
    with pytest.raises(StorageUnavailable) as exc:
        make("host=/nonexistent-tuko-socket-dir port=5999 user=postgres", timeout=2)
    assert "could not open the store" in str(exc.value)
    assert "host=/nonexistent-tuko-socket-dir" in str(exc.value)


def test_other_database_errors_are_event_store_errors(
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """A database error that is not an outage is an EventStoreError naming the case; no leak."""
    store = make()
    _fill(store, "case-a", 1)
    admin.execute(sql.SQL("DROP TABLE {}").format(_table(schema, "tuko_events")))
    with pytest.raises(EventStoreError) as exc:
        store.load("case-a")
    assert not isinstance(exc.value, StorageUnavailable | psycopg.Error)
    assert "could not load for case 'case-a'" in str(exc.value)
    assert "tuko_events" in str(exc.value)


def test_writer_bypassing_the_lock_still_loses_no_update(
    pg: PostgresServer,
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """A version stored meanwhile without the append lock makes the append a ConcurrencyError."""
    name = f"tuko-{uuid.uuid4().hex[:8]}"
    store = make(f"{pg.conninfo} application_name={name}", max_size=1)
    _fill(store, "case-a", 1)
    outcome: list[object] = []
    with psycopg.connect(pg.conninfo) as rogue:  # one transaction, committed below
        rogue.execute(
            sql.SQL(
                "INSERT INTO {} (case_id, version, type, schema_version, command_id, payload, "
                "hash) VALUES ('case-a', 2, 'MeetingScheduled', 1, 'rogue', '{{}}', 'x')"
            ).format(_table(schema, "tuko_events"))
        )
        rogue.execute(
            sql.SQL("UPDATE {} SET version = 2 WHERE case_id = 'case-a'").format(
                _table(schema, "tuko_cases")
            )
        )

        def append() -> None:
            try:
                outcome.append(store.append("case-a", [_meeting("case-a", 2, "c-late")], 1))
            except TukoFlowError as exc:
                outcome.append(exc)

        writer = threading.Thread(target=append)
        writer.start()
        deadline = time.monotonic() + 20
        while not admin.execute(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s "
            "AND wait_event_type = 'Lock'",
            (name,),
        ).fetchone():
            assert time.monotonic() < deadline, "the append never waited for the rogue row"
            time.sleep(0.01)
    writer.join()
    assert len(outcome) == 1
    conflict = outcome[0]
    assert isinstance(conflict, ConcurrencyError), conflict
    assert (conflict.case_id, conflict.expected, conflict.actual) == ("case-a", 1, 2)
    assert store.command_version("case-a", "c-late") is None


def test_engine_runs_the_sample_case_to_closed(
    make: Callable[..., PostgresEventStore], clock: ManualClock
) -> None:
    """The TUKO sample case on PostgreSQL: replay, a fresh engine and verify all agree."""
    store = make()
    engine = Engine(store, clock=clock, snapshot_every=5)
    closed = drive_to(engine, clock, "case-0001", "closed")
    assert closed.state == "closed"
    history = list(store.load("case-0001"))
    assert [e.version for e in history] == list(range(1, closed.version + 1))
    assert replay(history) == closed
    snapshot = store.load_snapshot("case-0001")
    assert snapshot is not None
    assert snapshot.version % 5 == 0
    assert 0 < snapshot.version <= closed.version
    assert Engine(make(), clock=clock).case("case-0001") == closed  # via the snapshot
    assert Engine(make(), clock=clock, snapshot_every=None).history("case-0001") == tuple(history)
    assert [s.event for s in store.read_all()] == history
    assert store.verify() == []
    assert engine.verify("case-0001") == []


def test_append_after_the_last_event_was_deleted_stores_nothing(
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """With the event to chain from removed, an append is refused (not chained to nothing)."""
    store = make()
    _fill(store, "case-a", 2)
    admin.execute(
        sql.SQL("DELETE FROM {} WHERE case_id = 'case-a' AND version = 2").format(
            _table(schema, "tuko_events")
        )
    )
    with pytest.raises(EventStoreError) as exc:
        store.append("case-a", [_meeting("case-a", 3)], 2)
    assert "case 'case-a' is recorded at version 2 but that event is missing" in str(exc.value)
    assert [e.version for e in store.load("case-a")] == [1]


def test_least_privileged_user_can_use_a_store_created_by_the_owner(
    pg: PostgresServer,
    make: Callable[..., PostgresEventStore],
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
) -> None:
    """With the documented grants (no CREATE), an application user appends, reads, snapshots."""
    make()  # the owner creates the schema and tables
    role = f"app_{uuid.uuid4().hex[:8]}"
    admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    admin.execute(
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)
        )
    )
    admin.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), sql.Identifier(role)
        )
    )
    admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    store = make(pg.conninfo.replace("user=postgres", f"user={role}"))
    events = _fill(store, "case-a", 2)
    assert list(store.load("case-a")) == events
    assert store.verify() == []


def test_missing_driver_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg, importing the module raises a TukoFlowError naming the extra."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "tuko_flow.stores.postgres")
    with pytest.raises(TukoFlowError) as exc:
        importlib.import_module("tuko_flow.stores.postgres")
    assert isinstance(exc.value, ImportError)
    assert "pip install 'tuko-flow[postgres]'" in str(exc.value)
