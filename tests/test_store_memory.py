"""The in-memory event store keeps the store contract; engines on one store stay consistent."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from tuko_flow import (
    AddNetworkMember,
    AppendResult,
    ChainProblem,
    Engine,
    EventStore,
    InformNetwork,
    InMemoryEventStore,
    ManualClock,
    NetworkMember,
    NoticeNeed,
    Snapshot,
    StoredEvent,
)
from tuko_flow.errors import (
    CaseNotFound,
    CommandRefused,
    ConcurrencyError,
    SubscriberFailed,
    ValidationError,
)
from tuko_flow.events import Event, EventCodec, NetworkInformed
from tuko_flow.events import codec as default_codec
from tuko_flow.stores._rows import Row
from tuko_flow.testing import (
    OFFICER,
    POLICE,
    EventStoreContract,
    RecordingSubscriber,
    drive_to,
    sample_intake,
)


class TestInMemoryEventStore(EventStoreContract):
    """The shipped contract suite, run against the in-memory store.

    It lives in one object, so ``reopen`` is the default (the store itself) and there is
    no process spec, no raw rows and no storage that can fail: those checks are skipped.
    """

    def make_store(self, codec: EventCodec | None = None) -> InMemoryEventStore:
        """A new, empty in-memory store."""
        return InMemoryEventStore(codec=codec or default_codec)


class TestHashChainedInMemoryEventStore(TestInMemoryEventStore):
    """The contract again, with ``hash_chain=True``: now verify must find tampering.

    The tamper hooks edit the serialized, hash-chained rows (what a durable store keeps
    on disk); the event objects the store hands out stay as they were.
    """

    def make_store(self, codec: EventCodec | None = None) -> InMemoryEventStore:
        """A new, empty in-memory store keeping a hash chain."""
        return InMemoryEventStore(hash_chain=True, codec=codec or default_codec)

    def _rows(self, store: InMemoryEventStore, case_id: str) -> list[Row]:
        return store._rows[case_id]

    def tamper_alter(self, store: InMemoryEventStore, case_id: str, version: int) -> None:
        """Edit the stored payload of one event, keeping its hash."""
        rows = self._rows(store, case_id)
        rows[version - 1] = rows[version - 1]._replace(
            payload=self.alter_payload(rows[version - 1].payload)
        )

    def tamper_delete(self, store: InMemoryEventStore, case_id: str, version: int) -> None:
        """Remove one stored row."""
        del self._rows(store, case_id)[version - 1]

    def tamper_swap(self, store: InMemoryEventStore, case_id: str, version: int) -> None:
        """Swap the rows of ``version`` and ``version + 1``."""
        rows = self._rows(store, case_id)
        rows[version - 1], rows[version] = rows[version], rows[version - 1]


def test_in_memory_store_satisfies_the_port() -> None:
    """InMemoryEventStore is an EventStore (runtime-checkable protocol)."""
    assert isinstance(InMemoryEventStore(), EventStore)


class RacingStore:
    """Wraps a store; just before the first append, lets another writer go first."""

    def __init__(self, inner: EventStore, other_writer: Callable[[], None]) -> None:
        self.inner = inner
        self.other_writer: Callable[[], None] | None = other_writer

    def append(self, case_id: str, events: Sequence[Event], expected_version: int) -> AppendResult:
        if self.other_writer is not None:
            writer, self.other_writer = self.other_writer, None
            writer()
        return self.inner.append(case_id, events, expected_version)

    def command_version(self, case_id: str, command_id: str) -> int | None:
        return self.inner.command_version(case_id, command_id)

    def verify(self, case_id: str | None = None) -> list[ChainProblem]:
        return self.inner.verify(case_id)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self.inner.save_snapshot(snapshot)

    def load_snapshot(self, case_id: str) -> Snapshot | None:
        return self.inner.load_snapshot(case_id)

    def load(self, case_id: str, after: int = 0) -> Sequence[Event]:
        return self.inner.load(case_id, after)

    def version(self, case_id: str) -> int:
        return self.inner.version(case_id)

    def case_ids(self) -> Iterator[str]:
        return self.inner.case_ids()

    def read_all(self, after: int = 0, limit: int | None = None) -> Sequence[StoredEvent]:
        return self.inner.read_all(after, limit)


NEW_MEMBER = NetworkMember(member_id="m-mun", agency="municipality", person="mun-505")


def test_racing_engines_conflict_and_nothing_is_stored(
    store: InMemoryEventStore, clock: ManualClock
) -> None:
    """B writes after A loaded: A's command raises ConcurrencyError and stores nothing."""
    engine_b = Engine(store, clock=clock)
    drive_to(engine_b, clock, "case-0001", "stage1_notice")

    def b_adds_a_member() -> None:
        engine_b.execute("case-0001", AddNetworkMember(member=NEW_MEMBER), actor=OFFICER)

    engine_a = Engine(RacingStore(store, b_adds_a_member), clock=clock)
    loaded = engine_a.case("case-0001")
    meeting = InformNetwork(meeting_at=clock.now().replace(hour=15))
    with pytest.raises(ConcurrencyError) as exc:
        engine_a.execute("case-0001", meeting, actor=OFFICER)
    conflict = exc.value
    assert conflict.case_id == "case-0001"
    assert conflict.expected == loaded.version
    assert conflict.actual == loaded.version + 1
    assert "'case-0001'" in str(conflict)
    assert f"expected version {loaded.version}" in str(conflict)
    assert f"found version {loaded.version + 1}" in str(conflict)
    history = engine_b.history("case-0001")
    assert len(history) == loaded.version + 1
    assert not any(isinstance(e, NetworkInformed) for e in history)
    assert engine_b.case("case-0001").state == "stage1_notice"


def test_retry_after_conflict_succeeds_on_the_new_state(
    store: InMemoryEventStore, clock: ManualClock
) -> None:
    """After a conflict, the same command again decides on the reloaded case and is stored."""
    engine_b = Engine(store, clock=clock)
    drive_to(engine_b, clock, "case-0001", "stage1_notice")

    def b_adds_a_member() -> None:
        engine_b.execute("case-0001", AddNetworkMember(member=NEW_MEMBER), actor=OFFICER)

    engine_a = Engine(RacingStore(store, b_adds_a_member), clock=clock)
    engine_a.case("case-0001")
    meeting = InformNetwork(meeting_at=clock.now().replace(hour=15))
    with pytest.raises(ConcurrencyError):
        engine_a.execute("case-0001", meeting, actor=OFFICER)
    case = engine_a.execute("case-0001", meeting, actor=OFFICER)
    assert case.state == "stage2_evaluate"
    assert "m-mun" in case.cycle.informed
    assert engine_b.case("case-0001") == case


def test_engines_on_one_store_see_each_others_writes(
    store: InMemoryEventStore, clock: ManualClock
) -> None:
    """A command decided after another engine's write sees that write; no conflict."""
    engine_a = Engine(store, clock=clock)
    engine_b = Engine(store, clock=clock)
    engine_a.open_case(sample_intake("case-0001"), actor=OFFICER)
    assert engine_a.case("case-0001").state == "awaiting_notice"
    engine_b.execute("case-0001", NoticeNeed(what="A partner noticed a need."), actor=POLICE)
    case = engine_a.execute("case-0001", AddNetworkMember(member=NEW_MEMBER), actor=OFFICER)
    assert case.state == "stage1_notice"
    assert case.version == store.version("case-0001")


def test_subscribers_get_every_stored_event_in_order(
    engine: Engine, clock: ManualClock, recorder: RecordingSubscriber
) -> None:
    """A subscriber sees exactly the stored events, in commit order, across cases."""
    drive_to(engine, clock, "case-0001", "stage2_evaluate")
    drive_to(engine, clock, "case-0002", "closed")
    engine.execute("case-0001", AddNetworkMember(member=NEW_MEMBER), actor=OFFICER)
    assert recorder.events == [s.event for s in engine.store.read_all()]
    assert recorder.events[0].case_id == "case-0001"
    assert recorder.events[-1].case_id == "case-0001"
    assert [e for e in recorder.events if e.case_id == "case-0002"] == list(
        engine.history("case-0002")
    )


def test_refused_and_invalid_commands_publish_nothing(
    engine: Engine, recorder: RecordingSubscriber
) -> None:
    """Subscribers hear only about stored events."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    before = list(recorder.events)
    with pytest.raises(CommandRefused):
        engine.execute("case-0001", AddNetworkMember(member=NEW_MEMBER), actor=POLICE)
    with pytest.raises(ValidationError):
        engine.execute("case-0001", NoticeNeed(what=" "), actor=POLICE)
    assert recorder.events == before


def test_failing_subscriber_raises_but_events_are_stored(
    engine: Engine, recorder: RecordingSubscriber
) -> None:
    """SubscriberFailed is raised after storing; other subscribers still hear every event."""
    seen: list[Event] = []

    def failing(event: Event) -> None:
        seen.append(event)
        raise RuntimeError("subscriber is down")

    engine.subscribe(failing)
    with pytest.raises(SubscriberFailed) as exc:
        engine.open_case(sample_intake("case-0001", lives_with_victim=True), actor=OFFICER)
    failure = exc.value
    assert failure.case_id == "case-0001"
    stored = list(engine.history("case-0001"))
    assert len(stored) == 3
    assert len(failure.errors) == len(stored)
    assert all(isinstance(e, RuntimeError) for e in failure.errors)
    assert seen == stored
    assert recorder.events == stored
    assert engine.case("case-0001").state == "stage1_notice"


def test_failing_subscriber_does_not_block_the_next_command(
    engine: Engine, recorder: RecordingSubscriber
) -> None:
    """After a SubscriberFailed the case continues from the stored events."""
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    unsubscribe = engine.subscribe(lambda e: 1 / 0)
    with pytest.raises(SubscriberFailed):
        engine.execute("case-0001", NoticeNeed(what="A need."), actor=POLICE)
    unsubscribe()
    case = engine.execute("case-0001", AddNetworkMember(member=NEW_MEMBER), actor=OFFICER)
    assert case.version == 4
    assert recorder.events == list(engine.history("case-0001"))


def test_unsubscribe_stops_delivery(engine: Engine) -> None:
    """After unsubscribing, a subscriber hears nothing more; unsubscribing twice is harmless."""
    sub = RecordingSubscriber()
    unsubscribe = engine.subscribe(sub)
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    heard = list(sub.events)
    assert sub.types == ["CaseOpened"]
    unsubscribe()
    unsubscribe()
    engine.execute("case-0001", NoticeNeed(what="A need."), actor=POLICE)
    assert sub.events == heard


def test_unsubscribe_removes_only_its_own_subscriber(engine: Engine) -> None:
    """Two subscribers: removing one leaves the other."""
    first, second = RecordingSubscriber(), RecordingSubscriber()
    unsubscribe_first = engine.subscribe(first)
    engine.subscribe(second)
    unsubscribe_first()
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    assert first.events == []
    assert second.types == ["CaseOpened"]


@pytest.mark.parametrize(
    "call",
    [
        lambda e: e.case("case-404"),
        lambda e: e.history("case-404"),
        lambda e: e.next_steps("case-404", OFFICER),
        lambda e: e.check_deadlines("case-404"),
        lambda e: e.execute("case-404", NoticeNeed(what="A need."), actor=POLICE),
    ],
    ids=["case", "history", "next_steps", "check_deadlines", "execute"],
)
def test_unknown_case_is_not_found(engine: Engine, call: Callable[[Engine], object]) -> None:
    """Every engine entry point raises CaseNotFound naming an unknown case id."""
    with pytest.raises(CaseNotFound) as exc:
        call(engine)
    assert exc.value.case_id == "case-404"
    assert "'case-404'" in str(exc.value)
    assert engine.store.version("case-404") == 0


def test_case_ids_lists_opened_cases(engine: Engine) -> None:
    """The engine lists the ids of the cases in its store, in the order opened."""
    engine.open_case(sample_intake("case-0002"), actor=OFFICER)
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    assert list(engine.case_ids()) == ["case-0002", "case-0001"]
