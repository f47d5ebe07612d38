"""The event-store contract: every promise of the port, as a test class.

Re-exported as :class:`tuko_flow.testing.EventStoreContract`. Subclass it in a test suite,
implement :meth:`~EventStoreContract.make_store`, and pytest runs every check against the
adapter. The promises, each checked by a group of tests below:

* **No lost update** — racing load-check-append writers (threads, and separate processes
  where the storage can be shared): exactly one wins each version, the others get a
  :class:`~tuko_flow.errors.ConcurrencyError` naming the case and both versions.
* **Atomic batches** — all events of one append are stored, or none.
* **Idempotent retries** — re-sending a stored command is answered ``duplicate=True``.
* **Global order** — ``read_all`` positions follow commit order; a consumer that keeps
  its position sees every event exactly once, whatever failed in between.
* **Schema evolution** — old rows are upcast on read; unreadable rows raise
  :class:`~tuko_flow.errors.CorruptEventError` naming case, version and position.
* **Tamper evidence** — ``verify`` names the case and version of an altered, deleted or
  reordered event.
* **Crash safety** — writers killed (``SIGKILL``) mid-append leave whole batches only.
* **Faults** — a storage failure raises :class:`~tuko_flow.errors.StorageUnavailable`,
  changes nothing, and the retry succeeds.
* **Snapshots** — the newest is kept; the engine uses a sound one and ignores the rest.

Some checks need more than the port can offer (a second process, raw access to stored
rows, a way to make the disk fail). They use the *hooks* below, which a subclass
implements when its adapter can do it. A check whose hook is not implemented is reported
as skipped, with the reason — never silently passed.

The hooks: :meth:`~EventStoreContract.make_store` (required), ``reopen``,
``process_store_spec``, ``crash_writer_spec``, ``storage_integrity``, ``write_raw``,
``tamper_alter``, ``tamper_delete``, ``tamper_swap``, ``inject_fault`` and
``clear_fault``; each method's docstring says what it must do and which checks use it.

The module does not import pytest (pytest is not a dependency of tuko_flow): the checks
use plain ``assert`` and ``try``/``except``, and
:meth:`~EventStoreContract.run_checks` runs them all without a test runner.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import queue
import random
import signal
import threading
import time
import unittest
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from multiprocessing.context import BaseContext
from typing import Any, ClassVar, NoReturn

import attrs

from ._clock import ManualClock
from ._demo import OFFICER, POLICE, START
from ._engine import Engine, replay
from ._snapshots import CASE_SCHEMA_VERSION, to_snapshot
from ._store import AppendResult, ChainProblem, EventStore, Snapshot, StoredEvent
from .errors import (
    ConcurrencyError,
    CorruptEventError,
    StorageUnavailable,
    TukoFlowError,
)
from .events import Event, EventCodec, MeetingScheduled
from .events import codec as default_codec
from .stages.stage1_notice import NoticeNeed
from .stages.stage4_manage import RecordPartnerCommunication

#: Opens a store; what :meth:`EventStoreContract.process_store_spec` returns.
StoreOpener = Callable[[], EventStore]

# How long the checks wait for threads and processes before calling them stuck.
_PATIENCE = 120.0


def _event(case_id: str, version: int, minutes: int = 0, command_id: str | None = None) -> Event:
    """A small valid event for store tests (stores do not interpret event types)."""
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return MeetingScheduled(
        case_id=case_id,
        version=version,
        occurred_at=at,
        actor=OFFICER,
        command_id=command_id or f"cmd-{case_id}-{version}",
        meeting_at=at + timedelta(days=1),
    )


@attrs.frozen(kw_only=True)
class ContractNoteRecorded(Event):
    """A test-only event at schema version 2: version 1 called its ``note`` field ``text``."""

    schema_version: ClassVar[int] = 2

    note: str


def _note_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """The upcaster the schema-evolution checks register: ``text`` became ``note``."""
    upcast = dict(payload)
    upcast["note"] = upcast.pop("text")
    return upcast


def _skip(reason: str) -> NoReturn:
    """Skip the running check (pytest if present, else ``unittest``), saying why."""
    try:
        import pytest  # here, not at the top: pytest is not a dependency of tuko_flow
    except ImportError:  # pragma: no cover - the contract run by another test runner
        raise unittest.SkipTest(reason) from None
    pytest.skip(reason)


def _close(store: object) -> None:
    """Close ``store`` if it can be closed."""
    close = getattr(store, "close", None)
    if callable(close):
        close()


def _run_threads(targets: Sequence[Callable[[], None]]) -> None:
    """Run each target in a thread; re-raise the first exception any of them raised."""
    errors: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # reported to the check below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(_PATIENCE)
    assert not any(t.is_alive() for t in threads), "a writer thread did not finish"
    if errors:
        raise errors[0]


class _QuietLogger:
    """Swallows the engine's log lines: the checks look at results, not at logs."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return _ignore


def _ignore(*args: object, **kwargs: object) -> None:
    return None


class _RecordingStore:
    """Passes every call to ``inner``; remembers each ``load(case_id, after)``."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.loads: list[tuple[str, int]] = []

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> AppendResult:
        return self.inner.append(case_id, events, expected_version)

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]:
        self.loads.append((case_id, after))
        return self.inner.load(case_id, after)

    def version(self, case_id: str) -> int:
        return self.inner.version(case_id)

    def command_version(self, case_id: str, command_id: str) -> int | None:
        return self.inner.command_version(case_id, command_id)

    def case_ids(self) -> Iterator[str]:
        return self.inner.case_ids()

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]:
        return self.inner.read_all(after, limit)

    def verify(self, case_id: str | None = None) -> list[ChainProblem]:
        return self.inner.verify(case_id)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self.inner.save_snapshot(snapshot)

    def load_snapshot(self, case_id: str) -> Snapshot | None:
        return self.inner.load_snapshot(case_id)


# --- subprocess workers (module level, so a child process can import them) ------------------


def _process_context() -> BaseContext:
    """How the checks start a conductor process: clean (not a fork of the test process).

    A forkserver forks it from a server with tuko_flow imported; where there is none, it is
    spawned. The conductor then starts the short-lived writers itself.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _child_context() -> BaseContext:
    """How a conductor starts writers: fork where there is one (it runs no threads)."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows


def _conduct(target: Callable[..., None], *args: Any) -> Any:
    """Run ``target(*args, results)`` in a conductor process; return what it reports.

    A conductor reports ``("ok", data)`` or ``("error", description)``.
    """
    context = _process_context()
    results = context.Queue()
    conductor = context.Process(target=target, args=(*args, results))  # type: ignore[attr-defined]
    conductor.start()
    try:
        report = results.get(timeout=_PATIENCE)
    except queue.Empty:
        report = ("error", f"the conductor process reported nothing (exit {conductor.exitcode})")
    conductor.join(_PATIENCE / 4)
    if conductor.is_alive():
        conductor.kill()
        conductor.join()
    assert report[0] == "ok", report[1]
    return report[1]


def _race_worker(
    opener: StoreOpener,
    case_ids: Sequence[str],
    rounds: int,
    tag: str,
    barrier: Any,
    results: Any,
) -> None:
    """Load-check-append ``rounds`` times in another process; report wins and losses."""
    wins: list[tuple[str, int, str]] = []
    losses: list[tuple[str, int, str, int, int]] = []
    try:
        store = opener()
        barrier.wait(_PATIENCE)
        for n in range(rounds):
            case_id = case_ids[n % len(case_ids)]
            loaded = len(store.load(case_id))
            command_id = f"{tag}-r{n}"
            try:
                result = store.append(
                    case_id, [_event(case_id, loaded + 1, command_id=command_id)], loaded
                )
            except ConcurrencyError as exc:
                losses.append((case_id, loaded, exc.case_id, exc.expected, exc.actual))
            else:
                wins.append((case_id, result.last_version, command_id))
        _close(store)
        results.put((tag, wins, losses, None))
    except BaseException as exc:
        results.put((tag, wins, losses, f"{type(exc).__name__}: {exc}"))


def _race_conductor(
    opener: StoreOpener, case_ids: Sequence[str], workers: int, rounds: int, results: Any
) -> None:
    """Start ``workers`` racing writer processes together; report what each of them did."""
    try:
        context = _child_context()
        barrier = context.Barrier(workers)
        inner = context.Queue()
        processes = [
            context.Process(  # type: ignore[attr-defined]
                target=_race_worker,
                args=(opener, case_ids, rounds, f"p{n}", barrier, inner),
                daemon=True,
            )
            for n in range(workers)
        ]
        for process in processes:
            process.start()
        reports = [inner.get(timeout=_PATIENCE) for _ in processes]
        for process in processes:
            process.join(_PATIENCE / 4)
        results.put(("ok", reports))
    except BaseException as exc:
        results.put(("error", f"racing writers failed: {type(exc).__name__}: {exc}"))


def _crash_command_id(writer: int, n: int, size: int) -> str:
    return f"crash-w{writer}-n{n}-size{size}"


def _crash_writer(opener: StoreOpener, case_ids: Sequence[str], writer: int, ready: Any) -> None:
    """Open the store, say so, then append batches of 1-4 events to random cases until killed."""
    store = opener()
    ready.set()
    rng = random.Random(writer)
    n = 0
    while True:
        case_id = rng.choice(case_ids)
        size = rng.randint(1, 4)
        at = store.version(case_id)
        command_id = _crash_command_id(writer, n, size)
        batch = [_event(case_id, at + i, command_id=command_id) for i in range(1, size + 1)]
        with contextlib.suppress(ConcurrencyError):  # the other writer moved the case on
            store.append(case_id, batch, at)
        n += 1


def _crash_conductor(
    opener: StoreOpener, case_ids: Sequence[str], rounds: int, results: Any
) -> None:
    """Each round: start two writers, let them write a random while, SIGKILL both."""
    try:
        context = _child_context()
        rng = random.Random(20260105)
        writer = 0
        for _ in range(rounds):
            ready = [context.Event() for _ in range(2)]
            processes = []
            for flag in ready:
                writer += 1
                processes.append(
                    context.Process(  # type: ignore[attr-defined]
                        target=_crash_writer, args=(opener, case_ids, writer, flag), daemon=True
                    )
                )
            for process in processes:
                process.start()
            for flag, process in zip(ready, processes, strict=True):
                if not flag.wait(_PATIENCE / 4):
                    process.kill()
                    raise RuntimeError(f"a crash writer never started (exit {process.exitcode})")
            time.sleep(rng.uniform(0.005, 0.05))  # both write meanwhile, then die anywhere
            for process in processes:
                process.kill()
            for process in processes:
                process.join(_PATIENCE / 4)
                if hasattr(signal, "SIGKILL") and process.exitcode != -signal.SIGKILL:
                    raise RuntimeError(f"a crash writer ended by itself (exit {process.exitcode})")
        results.put(("ok", writer))
    except BaseException as exc:
        results.put(("error", f"crash writers failed: {type(exc).__name__}: {exc}"))


class EventStoreContract:
    """The promises of the event-store port, as tests.

    Implement :meth:`make_store`; implement the other hooks your adapter can support
    (each says which checks need it). Example, in a host application's test suite::

        class TestMyStore(EventStoreContract):
            def make_store(self, codec=None):
                return MyStore(url, codec=codec or tuko_flow.events.codec)

            def reopen(self, store):
                return MyStore(url, codec=store.codec)

    The subclass owns the stores it makes: close them in its own fixture or teardown.
    """

    __test__ = False  # the base class itself is not collected; subclasses set it to True

    #: Rounds of the crash-safety check (writers started, then killed).
    crash_rounds: ClassVar[int] = 25

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    # --- hooks --------------------------------------------------------------------------

    def make_store(self, codec: EventCodec | None = None) -> EventStore:
        """Return a new, empty store, reading and writing events with ``codec`` if given.

        Every check calls it; the schema-evolution checks pass a codec of their own.
        """
        raise NotImplementedError

    def reopen(self, store: EventStore) -> EventStore:
        """A second, independent handle on the same storage as ``store`` (same codec).

        For a database: a new store object with its own connections to the same database,
        as a second application server would have. The default returns ``store`` itself
        (right for a store that lives in one object).
        """
        return store

    def process_store_spec(self, store: EventStore) -> StoreOpener | None:
        """A picklable callable that opens ``store``'s storage in another process, or None.

        For example ``functools.partial(SQLiteEventStore, store.path)``. The checks with
        several processes (racing writers, crash safety) are skipped when it is None.
        """
        return None

    def crash_writer_spec(self, store: EventStore) -> StoreOpener | None:
        """What a writer that will be killed with SIGKILL opens (default: the process spec)."""
        return self.process_store_spec(store)

    def storage_integrity(self, store: EventStore) -> str | None:
        """The storage's own integrity check, ``"ok"`` when sound; None when it has none."""
        return None

    def write_raw(
        self,
        store: EventStore,
        *,
        case_id: str,
        version: int,
        type_name: str,
        schema_version: int,
        command_id: str,
        payload: str,
    ) -> int:
        """Store one row as an older release, or a damaged disk, left it; return its position.

        ``payload`` is stored as given (not checked, not re-encoded), chained to the case's
        previous event and counted in the case's version like any appended event. Needed
        by the schema-evolution and corrupt-row checks; a store that keeps event objects
        rather than serialized rows leaves it out.
        """
        raise NotImplementedError

    def tamper_alter(self, store: EventStore, case_id: str, version: int) -> None:
        """Change the stored payload of one event in place, keeping its stored hash.

        :meth:`alter_payload` makes a plausible edit. Needed by the tamper-evidence checks
        (as are :meth:`tamper_delete` and :meth:`tamper_swap`).
        """
        raise NotImplementedError

    def tamper_delete(self, store: EventStore, case_id: str, version: int) -> None:
        """Remove one stored event, as someone deleting a row directly would."""
        raise NotImplementedError

    def tamper_swap(self, store: EventStore, case_id: str, version: int) -> None:
        """Swap the stored events at ``version`` and ``version + 1`` (each takes the other's
        version number), as someone reordering the history directly would."""
        raise NotImplementedError

    def inject_fault(self, store: EventStore) -> None:
        """Make the storage fail (disk full or I/O error) while ``store`` writes, until
        :meth:`clear_fault`. The checks then write batches of 40 events (about 12 kB) or a
        snapshot of 60 kB, which must fail. Needed by the fault checks."""
        raise NotImplementedError

    def clear_fault(self, store: EventStore) -> None:
        """Undo :meth:`inject_fault`."""
        raise NotImplementedError

    def run_checks(self) -> dict[str, str | None]:
        """Run every check now, without a test runner (for a subclass that needs no fixtures).

        Returns each check's name with ``None`` when it passed, or the reason it was skipped;
        a failing check raises.
        """
        skips: tuple[type[BaseException], ...] = (unittest.SkipTest,)
        try:
            import pytest  # here, not at the top: pytest is not a dependency of tuko_flow
        except ImportError:  # pragma: no cover - the contract run without pytest installed
            pass
        else:
            skips = (*skips, pytest.skip.Exception)
        outcomes: dict[str, str | None] = {}
        for name in sorted(n for n in dir(self) if n.startswith("test_")):
            try:
                getattr(self, name)()
            except skips as exc:
                outcomes[name] = str(getattr(exc, "msg", None) or exc)
            else:
                outcomes[name] = None
        return outcomes

    @staticmethod
    def alter_payload(payload: str) -> str:
        """A plausible edit of a stored JSON payload: the acting person's reference changed."""
        data = json.loads(payload)
        data["actor"]["person"] = data["actor"]["person"] + "-edited"
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    # --- helpers ------------------------------------------------------------------------

    def _implements(self, hook: str) -> bool:
        """Whether the subclass implements ``hook``."""
        return getattr(type(self), hook) is not getattr(EventStoreContract, hook)

    def _require(self, hook: str, needed_for: str) -> None:
        """Skip the check unless the subclass implements ``hook``."""
        if not self._implements(hook):
            _skip(f"{type(self).__name__} does not implement {hook}(), needed {needed_for}")

    def _opener(self, spec: StoreOpener | None, hook: str) -> StoreOpener:
        if spec is None:
            _skip(
                f"{type(self).__name__}.{hook}() returned None: "
                "this storage cannot be shared between processes"
            )
        return spec

    def _events(self, case_id: str, first: int, count: int) -> list[Event]:
        """One command's batch: ``count`` events sharing a command id."""
        command_id = f"cmd-{case_id}-{first}"
        return [_event(case_id, v, command_id=command_id) for v in range(first, first + count)]

    def _fill(self, store: EventStore, case_id: str, batches: Sequence[int]) -> list[Event]:
        """Append one batch per size in ``batches`` to a new case; return every event."""
        events: list[Event] = []
        for size in batches:
            batch = self._events(case_id, len(events) + 1, size)
            store.append(case_id, batch, len(events))
            events.extend(batch)
        return events

    def _state(self, store: EventStore) -> tuple[object, ...]:
        """Everything the port shows of a store, to compare before and after."""
        ids = list(store.case_ids())
        return (
            ids,
            {cid: store.version(cid) for cid in ids},
            {cid: list(store.load(cid)) for cid in ids},
            list(store.read_all()),
            store.verify(),
        )

    def _refused_whole(
        self, store: EventStore, case_id: str, batch: list[Event], expected: int
    ) -> None:
        """``batch`` is refused with a TukoFlowError; nothing of it is stored."""
        before = self._state(store)
        try:
            store.append(case_id, batch, expected)
        except TukoFlowError:
            pass
        else:
            raise AssertionError(f"the bad batch {batch!r} was accepted")
        assert self._state(store) == before
        for cid in {e.case_id for e in batch}:
            for command_id in {e.command_id for e in batch}:
                assert store.command_version(cid, command_id) is None
        good = self._events(case_id, expected + 1, 2)
        assert store.append(case_id, good, expected) == AppendResult(
            case_id, expected + 1, expected + 2
        )

    # --- basics -------------------------------------------------------------------------

    def test_new_case_has_version_zero_and_no_events(self) -> None:
        """An unknown case has version 0 and loads as empty."""
        store = self.make_store()
        assert store.version("nobody") == 0
        assert list(store.load("nobody")) == []
        assert store.command_version("nobody", "cmd-x") is None

    def test_append_then_load_returns_events_in_order(self) -> None:
        """Appended events load back equal and in version order."""
        store = self.make_store()
        events = self._events("case-a", 1, 3)
        assert store.append("case-a", events, 0) == AppendResult("case-a", 1, 3)
        assert list(store.load("case-a")) == events
        assert store.version("case-a") == 3
        assert list(store.load("case-a", after=2)) == events[2:]
        assert store.command_version("case-a", events[0].command_id) == 3

    def test_case_ids_lists_every_case_once(self) -> None:
        """case_ids lists each stored case once, in the order first stored."""
        store = self.make_store()
        for cid in ("case-b", "case-a"):
            store.append(cid, self._events(cid, 1, 2), 0)
        store.append("case-b", self._events("case-b", 3, 1), 2)
        assert list(store.case_ids()) == ["case-b", "case-a"]

    # --- no lost update -----------------------------------------------------------------

    def test_wrong_expected_version_raises_and_stores_nothing(self) -> None:
        """A stale writer gets ConcurrencyError naming case and versions; nothing is stored."""
        store = self.make_store()
        store.append("case-a", self._events("case-a", 1, 2), 0)
        before = self._state(store)
        try:
            store.append("case-a", self._events("case-a", 2, 2), 1)
        except ConcurrencyError as exc:
            assert (exc.case_id, exc.expected, exc.actual) == ("case-a", 1, 2)
            assert "'case-a'" in str(exc)
        else:
            raise AssertionError("append with a stale expected version was accepted")
        assert self._state(store) == before

    def test_racing_writers_exactly_one_wins(self) -> None:
        """Two threads appending at the same expected version: exactly one succeeds."""
        store = self.make_store()
        store.append("case-a", self._events("case-a", 1, 1), 0)
        handles = [store, self.reopen(store)]
        won: list[str] = []
        lost: list[ConcurrencyError] = []
        barrier = threading.Barrier(2)

        def writer(n: int) -> Callable[[], None]:
            def write() -> None:
                barrier.wait(_PATIENCE)
                try:
                    handles[n].append("case-a", [_event("case-a", 2, command_id=f"c-{n}")], 1)
                    won.append(f"c-{n}")
                except ConcurrencyError as exc:
                    lost.append(exc)

            return write

        _run_threads([writer(0), writer(1)])
        assert len(won) == 1
        assert [(e.case_id, e.expected, e.actual) for e in lost] == [("case-a", 1, 2)]
        assert [e.command_id for e in store.load("case-a")] == ["cmd-case-a-1", won[0]]

    def test_a_second_handle_sees_writes_and_conflicts(self) -> None:
        """A write through one handle is seen by another, whose stale append then conflicts."""
        store = self.make_store()
        other = self.reopen(store)
        events = self._fill(store, "case-a", [2])
        assert list(other.load("case-a")) == events
        store.append("case-a", self._events("case-a", 3, 1), 2)
        try:
            other.append("case-a", [_event("case-a", 3, command_id="c-late")], 2)
        except ConcurrencyError as exc:
            assert (exc.case_id, exc.expected, exc.actual) == ("case-a", 2, 3)
        else:
            raise AssertionError("a stale append through a second handle was accepted")
        assert other.version("case-a") == 3

    def _check_race(
        self,
        store: EventStore,
        case_ids: Sequence[str],
        attempts: int,
        wins: Sequence[tuple[str, int, str]],
        losses: Sequence[tuple[str, int, str, int, int]],
    ) -> None:
        """Versions contiguous, one winner per version, every win stored once, losers told."""
        assert len(wins) + len(losses) == attempts
        for cid in case_ids:
            stored = list(store.load(cid))
            assert [e.version for e in stored] == list(range(1, len(stored) + 1))
            assert store.version(cid) == len(stored)
            mine = sorted((v, c) for w_cid, v, c in wins if w_cid == cid)
            assert mine, f"no writer ever won on {cid!r}"
            assert mine == [(e.version, e.command_id) for e in stored]
            for lost_cid, loaded, exc_cid, expected, actual in losses:
                if lost_cid == cid:
                    assert (exc_cid, expected) == (cid, loaded)
                    assert loaded < actual <= len(stored)
        assert store.verify() == []

    def test_threads_doing_load_check_append_lose_no_update(self) -> None:
        """Eight threads x 25 rounds of load-check-append: every win stored once, in order."""
        store = self.make_store()
        handles = [store, self.reopen(store)]
        case_ids = ("case-race-1", "case-race-2")
        threads, rounds = 8, 25
        wins: list[tuple[str, int, str]] = []
        losses: list[tuple[str, int, str, int, int]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(threads)

        def writer(n: int) -> Callable[[], None]:
            handle = handles[n % len(handles)]

            def run() -> None:
                barrier.wait(_PATIENCE)
                for r in range(rounds):
                    cid = case_ids[r % len(case_ids)]
                    loaded = len(handle.load(cid))
                    command_id = f"t{n}-r{r}"
                    try:
                        result = handle.append(
                            cid, [_event(cid, loaded + 1, command_id=command_id)], loaded
                        )
                    except ConcurrencyError as exc:
                        with lock:
                            losses.append((cid, loaded, exc.case_id, exc.expected, exc.actual))
                    else:
                        with lock:
                            wins.append((cid, result.last_version, command_id))

            return run

        _run_threads([writer(n) for n in range(threads)])
        self._check_race(store, case_ids, threads * rounds, wins, losses)

    def test_processes_doing_load_check_append_lose_no_update(self) -> None:
        """Four OS processes x 20 rounds of load-check-append on shared storage lose nothing."""
        store = self.make_store()
        opener = self._opener(self.process_store_spec(store), "process_store_spec")
        case_ids = ("case-race-1", "case-race-2")
        workers, rounds = 4, 20
        reports = _conduct(_race_conductor, opener, case_ids, workers, rounds)
        errors = [error for _, _, _, error in reports if error is not None]
        assert errors == [], errors
        wins = [w for _, ws, _, _ in reports for w in ws]
        losses = [loss for _, _, ls, _ in reports for loss in ls]
        self._check_race(store, case_ids, workers * rounds, wins, losses)

    # --- atomic batches -----------------------------------------------------------------

    def test_conflicting_batch_stores_nothing(self) -> None:
        """A three-event batch at a stale version is refused whole: no event, no command id."""
        store = self.make_store()
        self._fill(store, "case-a", [2, 1])
        before = self._state(store)
        stale = [_event("case-a", v, command_id="c-stale") for v in (2, 3, 4)]
        try:
            store.append("case-a", stale, 1)
        except ConcurrencyError as exc:
            assert (exc.case_id, exc.expected, exc.actual) == ("case-a", 1, 3)
        else:
            raise AssertionError("a conflicting batch was accepted")
        assert self._state(store) == before
        assert store.command_version("case-a", stale[0].command_id) is None

    def test_batch_with_a_version_gap_stores_nothing(self) -> None:
        """A batch whose versions skip one is refused whole."""
        store = self.make_store()
        self._fill(store, "case-a", [1])
        bad = [_event("case-a", 2, command_id="c-x"), _event("case-a", 4, command_id="c-x")]
        self._refused_whole(store, "case-a", bad, 1)

    def test_batch_not_following_the_expected_version_stores_nothing(self) -> None:
        """A batch that does not start right after the expected version is refused whole."""
        store = self.make_store()
        self._fill(store, "case-a", [2])
        bad = [_event("case-a", 4, command_id="c-x"), _event("case-a", 5, command_id="c-x")]
        self._refused_whole(store, "case-a", bad, 2)

    def test_batch_with_an_event_of_another_case_stores_nothing(self) -> None:
        """A batch with one event of another case is refused whole, for both cases."""
        store = self.make_store()
        self._fill(store, "case-a", [1])
        self._fill(store, "case-b", [1])
        bad = [
            _event("case-a", 2, command_id="c-x"),
            _event("case-a", 3, command_id="c-x"),
            _event("case-b", 4, command_id="c-x"),
        ]
        self._refused_whole(store, "case-a", bad, 1)
        assert store.version("case-b") == 1

    def test_batch_mixing_command_ids_stores_nothing(self) -> None:
        """The events of one append must come from one command; a mixed batch is refused."""
        store = self.make_store()
        self._fill(store, "case-a", [1])
        bad = [_event("case-a", 2, command_id="c-x"), _event("case-a", 3, command_id="c-y")]
        self._refused_whole(store, "case-a", bad, 1)

    def test_first_batch_of_a_new_case_is_atomic(self) -> None:
        """A bad first batch leaves no trace of the case (not even in case_ids)."""
        store = self.make_store()
        bad = [_event("case-new", 1, command_id="c-x"), _event("case-new", 3, command_id="c-x")]
        self._refused_whole(store, "case-new", bad, 0)
        assert list(store.case_ids()) == ["case-new"]  # only the good batch after it

    # --- idempotent retries -------------------------------------------------------------

    def test_resent_batch_is_a_duplicate_and_stores_nothing_twice(self) -> None:
        """Re-sending a stored batch answers duplicate=True with its versions; stores nothing."""
        store = self.make_store()
        store.append("case-a", self._events("case-a", 1, 1), 0)
        batch = self._events("case-a", 2, 3)
        assert store.append("case-a", batch, 1) == AppendResult("case-a", 2, 4)
        before = self._state(store)
        again = store.append("case-a", batch, 1)
        assert again == AppendResult("case-a", 2, 4, duplicate=True)
        assert self._state(store) == before

    def test_resent_batch_after_the_case_moved_on_is_a_duplicate(self) -> None:
        """A late retry, after other commands were stored, is a duplicate, not a conflict."""
        store = self.make_store()
        first = self._events("case-a", 1, 2)
        store.append("case-a", first, 0)
        store.append("case-a", self._events("case-a", 3, 2), 2)
        before = self._state(store)
        assert store.append("case-a", first, 0) == AppendResult("case-a", 1, 2, duplicate=True)
        assert self._state(store) == before

    def test_resent_batch_through_another_handle_is_a_duplicate(self) -> None:
        """A retry arriving through another handle (another server) is recognised too."""
        store = self.make_store()
        batch = self._events("case-a", 1, 2)
        store.append("case-a", batch, 0)
        other = self.reopen(store)
        assert other.append("case-a", batch, 0) == AppendResult("case-a", 1, 2, duplicate=True)
        assert len(store.read_all()) == 2

    def test_a_command_id_is_a_duplicate_only_within_its_case(self) -> None:
        """The same command id on another case is a new command there, not a duplicate."""
        store = self.make_store()
        store.append("case-a", [_event("case-a", 1, command_id="c-shared")], 0)
        result = store.append("case-b", [_event("case-b", 1, command_id="c-shared")], 0)
        assert result == AppendResult("case-b", 1, 1)
        assert store.version("case-b") == 1

    def test_engine_repeated_command_returns_the_case_it_left(self) -> None:
        """Re-executing a stored command returns the case as it left it; nothing is stored."""
        from .testing import drive_to  # here: tuko_flow.testing imports this module

        store = self.make_store()
        clock = ManualClock(START)
        engine = Engine(store, clock=clock, logger=_QuietLogger())
        drive_to(engine, clock, "case-e", "stage4_manage")
        first = RecordPartnerCommunication(to_members=("m-pol",), information="Update one.")
        left = engine.execute("case-e", first, actor=OFFICER)
        second = RecordPartnerCommunication(to_members=("m-vs",), information="Update two.")
        latest = engine.execute("case-e", second, actor=OFFICER)
        history = engine.history("case-e")
        log = list(store.read_all())
        heard: list[Event] = []
        engine.subscribe(heard.append)
        assert engine.execute("case-e", first, actor=OFFICER) == left
        other = Engine(self.reopen(store), clock=clock, logger=_QuietLogger())
        other.subscribe(heard.append)
        assert other.execute("case-e", first, actor=OFFICER) == left
        assert left.version < latest.version
        assert engine.history("case-e") == history
        assert list(store.read_all()) == log
        assert heard == []
        assert engine.case("case-e") == latest

    def test_engine_repeated_intake_returns_the_case_it_opened(self) -> None:
        """Re-sending the intake that opened a case returns that case, not CaseAlreadyExists."""
        from .testing import sample_intake  # here: tuko_flow.testing imports this module

        store = self.make_store()
        engine = Engine(store, clock=ManualClock(START), logger=_QuietLogger())
        intake = sample_intake("case-o")
        opened = engine.open_case(intake, actor=OFFICER)
        engine.execute("case-o", NoticeNeed(what="A partner noticed a need."), actor=POLICE)
        history = engine.history("case-o")
        assert engine.open_case(intake, actor=OFFICER) == opened
        assert engine.history("case-o") == history

    # --- global order for subscribers ---------------------------------------------------

    def test_read_all_is_commit_ordered_and_resumable(self) -> None:
        """read_all gives every event in commit order; a position resumes after it."""
        store = self.make_store()
        a = [*self._events("case-a", 1, 1), *self._events("case-a", 2, 1)]
        b = self._events("case-b", 1, 2)
        store.append("case-a", a[:1], 0)
        store.append("case-b", b, 0)
        store.append("case-a", a[1:], 1)
        stored = list(store.read_all())
        assert [s.event for s in stored] == [a[0], b[0], b[1], a[1]]
        positions = [s.position for s in stored]
        assert all(p < q for p, q in itertools.pairwise(positions))
        rest = list(store.read_all(after=positions[1]))
        assert [s.event for s in rest] == [b[1], a[1]]
        assert [s.event for s in store.read_all(after=positions[0], limit=2)] == [b[0], b[1]]

    def test_read_all_follows_commit_order_across_cases_and_handles(self) -> None:
        """Appends through two handles to three cases: both handles read them in commit order."""
        store = self.make_store()
        other = self.reopen(store)
        committed: list[Event] = []
        plan = ["case-a", "case-b", "case-c", "case-a", "case-b", "case-a", "case-c"]
        for n, cid in enumerate(plan):
            handle = (store, other)[n % 2]
            at = handle.version(cid)
            batch = self._events(cid, at + 1, 1 + n % 3)
            handle.append(cid, batch, at)
            committed.extend(batch)
        for handle in (store, other):
            stored = list(handle.read_all())
            assert [s.event for s in stored] == committed
            positions = [s.position for s in stored]
            assert all(p < q for p, q in itertools.pairwise(positions))

    def test_paged_consumer_resuming_from_a_saved_position_sees_each_event_once(self) -> None:
        """A consumer paging with after/limit, restarted from its saved position, misses none."""
        store = self.make_store()
        for cid in ("case-a", "case-b", "case-c"):
            self._fill(store, cid, [2, 1])
        seen: list[StoredEvent] = []
        position = 0
        for _ in range(2):  # the first consumer reads two pages, then stops
            page = list(store.read_all(after=position, limit=4))
            assert len(page) == 4
            seen.extend(page)
            position = page[-1].position
        saved = position
        store.append("case-b", self._events("case-b", 4, 2), 3)
        store.append("case-d", self._events("case-d", 1, 1), 0)
        resumed = self.reopen(store)  # a restarted consumer, from the saved position
        position = saved
        while page := list(resumed.read_all(after=position, limit=4)):
            assert len(page) <= 4
            seen.extend(page)
            position = page[-1].position
        assert seen == list(store.read_all())
        keys = [(s.event.case_id, s.event.version) for s in seen]
        assert len(keys) == len(set(keys)) == 12

    def test_consumer_reading_while_writers_commit_misses_nothing(self) -> None:
        """A consumer polling read_all during concurrent appends sees every event exactly once."""
        store = self.make_store()
        consumer = self.reopen(store)
        writers, batches = 4, 12
        done = threading.Event()
        seen: list[StoredEvent] = []

        def writer(n: int) -> Callable[[], None]:
            handle = store if n % 2 == 0 else self.reopen(store)
            cid = f"case-w{n}"

            def run() -> None:
                at = 0
                for b in range(batches):
                    batch = self._events(cid, at + 1, 1 + (n + b) % 3)
                    handle.append(cid, batch, at)
                    at += len(batch)

            return run

        def consume() -> None:
            position = 0
            deadline = time.monotonic() + _PATIENCE
            while time.monotonic() < deadline:
                finished = done.is_set()
                page = list(consumer.read_all(after=position, limit=5))
                seen.extend(page)
                if page:
                    position = page[-1].position
                elif finished:
                    return
            raise AssertionError("the consumer stalled")

        reader = threading.Thread(target=consume, daemon=True)
        reader.start()
        try:
            _run_threads([writer(n) for n in range(writers)])
        finally:
            done.set()
            reader.join(_PATIENCE)
        assert not reader.is_alive()
        everything = list(store.read_all())
        assert seen == everything
        positions = [s.position for s in seen]
        assert all(p < q for p, q in itertools.pairwise(positions))
        by_case: dict[str, list[int]] = defaultdict(list)
        for s in seen:
            by_case[s.event.case_id].append(s.event.version)
        assert all(vs == list(range(1, len(vs) + 1)) for vs in by_case.values())
        assert sum(len(vs) for vs in by_case.values()) == sum(
            store.version(f"case-w{n}") for n in range(writers)
        )

    def test_failed_appends_do_not_make_a_consumer_skip_or_stall(self) -> None:
        """After refused and failed appends, a consumer's next read returns the next commit."""
        store = self.make_store()
        self._fill(store, "case-a", [2])
        self._fill(store, "case-b", [1])
        position = list(store.read_all())[-1].position
        for bad, expected in (
            (self._events("case-a", 2, 2), 1),  # conflict
            ([_event("case-a", 3, command_id="c-x"), _event("case-a", 5, command_id="c-x")], 2),
        ):
            try:
                store.append("case-a", bad, expected)
            except TukoFlowError:
                pass
            else:
                raise AssertionError(f"the bad append {bad!r} was accepted")
        if self._implements("inject_fault"):
            self.inject_fault(store)
            try:
                store.append("case-a", self._events("case-a", 3, 40), 2)
            except TukoFlowError:
                pass
            else:
                raise AssertionError("an append under an injected fault was accepted")
            finally:
                self.clear_fault(store)
        assert list(store.read_all(after=position)) == []
        fresh = self._events("case-b", 2, 2)
        self.reopen(store).append("case-b", fresh, 1)
        first = list(store.read_all(after=position, limit=1))
        assert [s.event for s in first] == fresh[:1]
        assert first[0].position > position
        assert [s.event for s in store.read_all(after=position)] == fresh
        assert [s.event for s in store.read_all(after=first[0].position)] == fresh[1:]

    # --- schema evolution ---------------------------------------------------------------

    def _note_codec(self, *, upcaster: bool) -> EventCodec:
        """A fresh codec knowing every tuko_flow event and :class:`ContractNoteRecorded`."""
        codec = EventCodec((*default_codec.types.values(), ContractNoteRecorded))
        if upcaster:
            codec.register_upcaster("ContractNoteRecorded", 1, _note_v1_to_v2)
        return codec

    def _note_v1(self, case_id: str, version: int) -> tuple[ContractNoteRecorded, str]:
        """A note event and its payload as schema version 1 wrote it."""
        event = ContractNoteRecorded(
            case_id=case_id,
            version=version,
            occurred_at=START,
            actor=OFFICER,
            command_id=f"cmd-note-{version}",
            note="The network met.",
        )
        data = self._note_codec(upcaster=False).to_dict(event)
        data["schema_version"] = 1
        data["text"] = data.pop("note")
        return event, json.dumps(data, separators=(",", ":"), sort_keys=True)

    def _plant(
        self, store: EventStore, case_id: str, version: int, type_name: str, payload: str
    ) -> int:
        return self.write_raw(
            store,
            case_id=case_id,
            version=version,
            type_name=type_name,
            schema_version=1,
            command_id=f"cmd-raw-{version}",
            payload=payload,
        )

    def _assert_corrupt(self, store: EventStore, case_id: str, version: int, position: int) -> None:
        """Reading the case, or all events, raises CorruptEventError naming where."""
        for read in (lambda: store.load(case_id), lambda: store.read_all()):
            try:
                read()
            except CorruptEventError as exc:
                assert (exc.case_id, exc.version, exc.position) == (case_id, version, position)
                assert repr(case_id) in str(exc)
                assert f"position {position}" in str(exc)
            else:
                raise AssertionError("an unreadable row was read without an error")

    def test_old_schema_rows_are_upcast_on_read(self) -> None:
        """A schema-1 row is upcast by the registered upcaster, in load and read_all alike."""
        self._require("write_raw", "to plant a row written under an older schema")
        store = self.make_store(codec=self._note_codec(upcaster=True))
        expected, payload = self._note_v1("case-a", 1)
        self._plant(store, "case-a", 1, "ContractNoteRecorded", payload)
        assert list(store.load("case-a")) == [expected]
        assert [s.event for s in store.read_all()] == [expected]
        later = _event("case-a", 2, command_id="c-later")
        store.append("case-a", [later], 1)
        assert list(store.load("case-a")) == [expected, later]
        assert store.verify() == []

    def test_old_schema_row_without_its_upcaster_raises(self) -> None:
        """A schema-1 row with no upcaster registered raises CorruptEventError, never skipped."""
        self._require("write_raw", "to plant a row written under an older schema")
        store = self.make_store(codec=self._note_codec(upcaster=False))
        self._fill(store, "case-a", [1])
        _, payload = self._note_v1("case-a", 2)
        position = self._plant(store, "case-a", 2, "ContractNoteRecorded", payload)
        self._assert_corrupt(store, "case-a", 2, position)

    def test_row_of_an_unknown_event_type_raises(self) -> None:
        """A row whose type no codec knows raises CorruptEventError naming case and position."""
        self._require("write_raw", "to plant a row of an unknown type")
        store = self.make_store()
        self._fill(store, "case-a", [1])
        data = default_codec.to_dict(_event("case-a", 2))
        data["type"] = "MeetingTeleported"
        payload = json.dumps(data, separators=(",", ":"), sort_keys=True)
        position = self._plant(store, "case-a", 2, "MeetingTeleported", payload)
        self._assert_corrupt(store, "case-a", 2, position)
        assert list(store.load("case-a", after=2)) == []

    def test_unreadable_payload_raises(self) -> None:
        """A row whose payload is not JSON raises CorruptEventError naming case and position."""
        self._require("write_raw", "to plant a corrupt row")
        store = self.make_store()
        self._fill(store, "case-a", [1])
        position = self._plant(store, "case-a", 2, "MeetingScheduled", '{"type": "Meeting')
        self._assert_corrupt(store, "case-a", 2, position)

    def test_payload_of_another_event_raises(self) -> None:
        """A row whose payload is some other case's event raises CorruptEventError."""
        self._require("write_raw", "to plant a misplaced row")
        store = self.make_store()
        self._fill(store, "case-a", [1])
        payload = default_codec.to_json(_event("case-z", 7))
        position = self._plant(store, "case-a", 2, "MeetingScheduled", payload)
        self._assert_corrupt(store, "case-a", 2, position)

    # --- tamper evidence ----------------------------------------------------------------

    def _tamper_setup(self, store: EventStore) -> None:
        self._fill(store, "case-a", [2, 2, 2])
        self._fill(store, "case-b", [3])

    def _assert_found(self, store: EventStore, case_id: str, version: int) -> None:
        """verify names the case and version; the other case stays clean."""
        for problems in (store.verify(), store.verify(case_id), self.reopen(store).verify()):
            assert problems, "verify found nothing wrong with a tampered store"
            assert {p.case_id for p in problems} == {case_id}
            assert version in {p.version for p in problems}, problems
            assert all(repr(case_id) in str(p) for p in problems)
        assert store.verify("case-b") == []

    def test_untouched_store_verifies_clean(self) -> None:
        """A store written only through the port verifies clean, whole and per case."""
        store = self.make_store()
        self._tamper_setup(store)
        assert store.verify() == []
        assert store.verify("case-a") == []
        assert self.reopen(store).verify() == []

    def _check_tamper(self, hook: str, doing: str, version: int) -> None:
        """Tamper with ``case-a`` at ``version`` through ``hook``; verify() must name it."""
        self._require(hook, doing)
        store = self.make_store()
        self._tamper_setup(store)
        getattr(self, hook)(store, "case-a", version)
        self._assert_found(store, "case-a", version)

    def test_verify_finds_an_altered_event(self) -> None:
        """An event whose stored payload was edited is found, by case and version."""
        self._check_tamper("tamper_alter", "to edit a stored event", 3)

    def test_verify_finds_a_deleted_event(self) -> None:
        """An event removed from the middle of a history is found, by case and version."""
        self._check_tamper("tamper_delete", "to delete a stored event", 3)

    def test_verify_finds_a_deleted_newest_event(self) -> None:
        """The newest event of a case, removed, is found too (the history is cut short)."""
        self._check_tamper("tamper_delete", "to delete a stored event", 6)

    def test_verify_finds_swapped_events(self) -> None:
        """Two events whose places were swapped are found, by case and version."""
        self._check_tamper("tamper_swap", "to reorder stored events", 3)

    # --- crash safety -------------------------------------------------------------------

    def test_writers_killed_mid_append_leave_whole_batches_only(self) -> None:
        """Writer processes SIGKILLed at random moments leave whole batches and sound chains."""
        store = self.make_store()
        opener = self._opener(self.crash_writer_spec(store), "crash_writer_spec")
        case_ids = ("case-k1", "case-k2", "case-k3")
        _conduct(_crash_conductor, opener, case_ids, self.crash_rounds)
        self._check_whole_batches(store, case_ids)
        for handle in (store, self.reopen(store)):
            assert handle.verify() == []
            assert self.storage_integrity(handle) in (None, "ok")
        for cid in case_ids:  # the store takes new appends after the crashes
            at = store.version(cid)
            assert store.append(cid, self._events(cid, at + 1, 2), at).last_version == at + 2

    def _check_whole_batches(self, store: EventStore, case_ids: Sequence[str]) -> None:
        """Contiguous versions; every batch stored has all its events, in one run."""
        total = 0
        for cid in case_ids:
            events = list(store.load(cid))
            assert [e.version for e in events] == list(range(1, len(events) + 1))
            assert store.version(cid) == len(events), (
                f"{cid!r} is recorded at version {store.version(cid)} but has {len(events)} events"
            )
            assert events, f"no batch of {cid!r} survived; the writers never committed"
            batches: dict[str, list[int]] = defaultdict(list)
            for e in events:
                batches[e.command_id].append(e.version)
            for command_id, versions in batches.items():
                size = int(command_id.rsplit("size", 1)[1])
                assert len(versions) == size, f"{cid!r}: batch {command_id} is partial"
                assert versions == list(range(versions[0], versions[0] + size))
            total += len(events)
        assert len(store.read_all()) == total

    # --- faults -------------------------------------------------------------------------

    def test_fault_during_append_raises_storage_unavailable_and_changes_nothing(self) -> None:
        """A disk fault mid-append raises StorageUnavailable, changes nothing; the retry works."""
        self._require("inject_fault", "to make the storage fail")
        store = self.make_store()
        self._fill(store, "case-a", [2])
        self._fill(store, "case-b", [1])
        before = self._state(store)
        batch = self._events("case-a", 3, 40)
        self.inject_fault(store)
        try:
            store.append("case-a", batch, 2)
        except StorageUnavailable as exc:
            assert "'case-a'" in str(exc)
        except Exception as exc:
            raise AssertionError(f"expected StorageUnavailable, got {exc!r}") from exc
        else:
            raise AssertionError("an append under an injected fault was accepted")
        finally:
            self.clear_fault(store)
        assert self._state(store) == before
        assert self._state(self.reopen(store)) == before
        assert store.command_version("case-a", batch[0].command_id) is None
        assert store.append("case-a", batch, 2) == AppendResult("case-a", 3, 42)
        assert list(store.load("case-a", after=2)) == batch

    def test_fault_during_a_new_cases_first_append_changes_nothing(self) -> None:
        """A disk fault on a new case's first append leaves no trace of it; the retry works."""
        self._require("inject_fault", "to make the storage fail")
        store = self.make_store()
        self._fill(store, "case-a", [1])
        before = self._state(store)
        batch = self._events("case-new", 1, 40)
        self.inject_fault(store)
        try:
            store.append("case-new", batch, 0)
        except StorageUnavailable:
            pass
        except Exception as exc:
            raise AssertionError(f"expected StorageUnavailable, got {exc!r}") from exc
        else:
            raise AssertionError("an append under an injected fault was accepted")
        finally:
            self.clear_fault(store)
        assert self._state(store) == before
        assert store.append("case-new", batch, 0) == AppendResult("case-new", 1, 40)
        assert list(store.case_ids()) == ["case-a", "case-new"]

    def test_fault_during_snapshot_save_keeps_the_old_snapshot(self) -> None:
        """A disk fault while saving a snapshot raises a TukoFlowError; the old one stays."""
        self._require("inject_fault", "to make the storage fail")
        store = self.make_store()
        self._fill(store, "case-a", [3])
        old = Snapshot("case-a", 1, 1, '{"v": 1}')
        store.save_snapshot(old)
        big = Snapshot("case-a", 3, 1, json.dumps({"v": "x" * 60_000}))
        self.inject_fault(store)
        try:
            store.save_snapshot(big)
        except TukoFlowError:
            pass
        except Exception as exc:
            raise AssertionError(f"expected a TukoFlowError, got {exc!r}") from exc
        else:
            raise AssertionError("a snapshot save under an injected fault was accepted")
        finally:
            self.clear_fault(store)
        assert store.load_snapshot("case-a") == old
        store.save_snapshot(big)
        assert store.load_snapshot("case-a") == big

    # --- snapshots ----------------------------------------------------------------------

    def test_snapshot_round_trip(self) -> None:
        """A saved snapshot loads back equal, through any handle; unknown cases have none."""
        store = self.make_store()
        self._fill(store, "case-a", [3])
        snapshot = Snapshot("case-a", 3, 1, '{"state": "stage1_notice"}')
        store.save_snapshot(snapshot)
        assert store.load_snapshot("case-a") == snapshot
        assert self.reopen(store).load_snapshot("case-a") == snapshot
        assert store.load_snapshot("case-b") is None

    def test_older_snapshot_never_replaces_a_newer_one(self) -> None:
        """Saving a snapshot older than the kept one changes nothing; a newer one replaces it."""
        store = self.make_store()
        self._fill(store, "case-a", [5])
        newer = Snapshot("case-a", 4, 1, '{"v": 4}')
        store.save_snapshot(newer)
        store.save_snapshot(Snapshot("case-a", 2, 1, '{"v": 2}'))
        assert store.load_snapshot("case-a") == newer
        self.reopen(store).save_snapshot(Snapshot("case-a", 3, 1, '{"v": 3}'))
        assert store.load_snapshot("case-a") == newer
        newest = Snapshot("case-a", 5, 1, '{"v": 5}')
        store.save_snapshot(newest)
        assert store.load_snapshot("case-a") == newest

    def _engine_case(self, store: EventStore, updates: int) -> tuple[Engine, int]:
        """An engine (snapshot every 50 events) with a Stage 4 case, then ``updates`` more
        one-event commands; returns the engine and the case's version before the updates."""
        from .testing import drive_to  # here: tuko_flow.testing imports this module

        clock = ManualClock(START)
        engine = Engine(store, clock=clock, snapshot_every=50, logger=_QuietLogger())
        base = drive_to(engine, clock, "case-long", "stage4_manage").version
        members = ("m-pol", "m-vs", "m-cp")
        for n in range(updates):
            command = RecordPartnerCommunication(
                to_members=(members[n % 3],), information=f"Update {n}."
            )
            engine.execute("case-long", command, actor=OFFICER)
        return engine, base

    def test_engine_loads_a_long_case_from_its_snapshot_and_newer_events(self) -> None:
        """A case of a few hundred events loads from its newest snapshot plus the newer events."""
        store = self.make_store()
        engine, base = self._engine_case(store, 240)
        final = engine.case("case-long")
        assert final.version == base + 240
        snapshot = store.load_snapshot("case-long")
        assert snapshot is not None
        assert final.version - 50 < snapshot.version < final.version
        recording = _RecordingStore(self.reopen(store))
        fresh = Engine(
            recording, clock=ManualClock(START), snapshot_every=50, logger=_QuietLogger()
        )
        loaded = fresh.case("case-long")
        # the event at the snapshot's version (to check the snapshot) and the newer ones
        assert recording.loads == [("case-long", snapshot.version - 1)]
        assert loaded == final
        assert loaded == replay(store.load("case-long"))

    def _assert_replayed(self, store: EventStore, bad: Snapshot) -> None:
        """With ``bad`` as the kept snapshot, a fresh engine replays the case from event 1."""
        store.save_snapshot(bad)
        assert store.load_snapshot("case-long") == bad
        recording = _RecordingStore(self.reopen(store))
        fresh = Engine(recording, clock=ManualClock(START), logger=_QuietLogger())
        loaded = fresh.case("case-long")
        assert recording.loads[-1] == ("case-long", 0)  # replayed from event 1
        assert loaded == replay(store.load("case-long"))

    def test_engine_ignores_a_snapshot_of_another_schema(self) -> None:
        """A snapshot written under another case schema is not trusted: the case is replayed."""
        store = self.make_store()
        engine, _ = self._engine_case(store, 3)
        case = engine.case("case-long")
        truth = to_snapshot(case, store.load("case-long", after=case.version - 1)[0])
        self._assert_replayed(store, attrs.evolve(truth, schema_version=CASE_SCHEMA_VERSION + 1))

    def test_engine_ignores_a_corrupt_snapshot(self) -> None:
        """A snapshot whose state cannot be read is ignored: the case is replayed."""
        store = self.make_store()
        engine, _ = self._engine_case(store, 3)
        case = engine.case("case-long")
        truth = to_snapshot(case, store.load("case-long", after=case.version - 1)[0])
        self._assert_replayed(store, attrs.evolve(truth, state='{"case_id": "case-lo'))
