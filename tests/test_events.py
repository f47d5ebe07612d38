"""Domain events: frozen facts with a schema version that round-trip through the codec."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import EVENT_STRATEGIES, event_fields, events

from tuko_flow import Actor
from tuko_flow.errors import SerializationError, TukoFlowError
from tuko_flow.events import Event, EventCodec, MeetingScheduled, codec

ENVELOPE = ("case_id", "version", "occurred_at", "actor", "command_id")
REGISTERED = sorted(codec.types)


def _meeting_scheduled() -> MeetingScheduled:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return MeetingScheduled(
        case_id="case-0001",
        version=4,
        occurred_at=at,
        actor=Actor(agency="probation", person="po-101"),
        command_id="cmd-01",
        meeting_at=datetime(2026, 1, 7, 9, 0, tzinfo=UTC),
    )


def test_strategies_cover_every_registered_event_type() -> None:
    """tests/strategies.py has a strategy for exactly the types the codec knows."""
    assert set(EVENT_STRATEGIES) == set(codec.types.values())


def test_codec_knows_every_event_class_by_its_name() -> None:
    """Each registered name is the class name of a concrete Event subclass."""
    assert REGISTERED
    for name, event_type in codec.types.items():
        assert event_type.__name__ == name
        assert issubclass(event_type, Event)
        assert event_type is not Event


@pytest.mark.parametrize("type_name", REGISTERED)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_event_type_round_trips_through_json(type_name: str, data: st.DataObject) -> None:
    """from_json(to_json(e)) == e and from_dict(to_dict(e)) == e for every event type."""
    event = data.draw(EVENT_STRATEGIES[codec.types[type_name]])
    assert type(event).__name__ == type_name
    assert codec.from_json(codec.to_json(event)) == event
    assert codec.from_dict(codec.to_dict(event)) == event


@settings(max_examples=50, deadline=None)
@given(event=events())
def test_serialized_form_names_type_and_schema_version(event: Event) -> None:
    """The JSON object carries "type", "schema_version" and the envelope fields."""
    data = json.loads(codec.to_json(event))
    assert data["type"] == type(event).__name__
    assert data["schema_version"] == type(event).schema_version
    for name in ENVELOPE:
        assert name in data
    assert set(data) == {"type", "schema_version", *event_fields(event)}


@settings(max_examples=50, deadline=None)
@given(event=events())
def test_to_dict_is_plain_json_data(event: Event) -> None:
    """to_dict output survives json.dumps/json.loads unchanged."""
    data = codec.to_dict(event)
    assert json.loads(json.dumps(data)) == data


@settings(max_examples=30, deadline=None)
@given(event=events())
def test_events_are_frozen(event: Event) -> None:
    """Assigning to any field of any event raises FrozenInstanceError."""
    for name in event_fields(event):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(event, name, None)


@pytest.mark.parametrize("type_name", REGISTERED)
def test_every_event_type_has_a_schema_version(type_name: str) -> None:
    """Each event class declares an integer schema_version of at least 1."""
    version = codec.types[type_name].schema_version
    assert isinstance(version, int)
    assert version >= 1


@pytest.mark.parametrize("type_name", REGISTERED)
def test_every_event_type_carries_the_envelope(type_name: str) -> None:
    """Each event class has case_id, version, occurred_at, actor and command_id."""
    names = [a.name for a in attrs.fields(codec.types[type_name])]
    assert names[: len(ENVELOPE)] == list(ENVELOPE)


def test_serialization_error_is_a_tuko_flow_error() -> None:
    """Codec failures can be caught with the library's base class."""
    assert issubclass(SerializationError, TukoFlowError)


def test_unknown_type_is_refused_naming_it_and_the_known_types() -> None:
    """An unknown "type" raises SerializationError that names it and lists known types."""
    data = codec.to_dict(_meeting_scheduled())
    data["type"] = "MeetingCancelled"
    with pytest.raises(SerializationError) as exc:
        codec.from_dict(data)
    message = str(exc.value)
    assert "MeetingCancelled" in message
    assert "MeetingScheduled" in message
    assert "CaseOpened" in message


def test_missing_type_is_refused() -> None:
    """A payload without "type" raises SerializationError."""
    data = codec.to_dict(_meeting_scheduled())
    del data["type"]
    with pytest.raises(SerializationError, match="unknown event type None"):
        codec.from_dict(data)


def test_corrupt_json_is_refused() -> None:
    """Text that is not JSON raises SerializationError saying so."""
    text = codec.to_json(_meeting_scheduled())[:-7]
    with pytest.raises(SerializationError, match="not JSON"):
        codec.from_json(text)


@pytest.mark.parametrize("text", ["[]", '"MeetingScheduled"', "42", "null"])
def test_json_that_is_not_an_object_is_refused(text: str) -> None:
    """A JSON array, string, number or null raises SerializationError."""
    with pytest.raises(SerializationError, match="must be a JSON object"):
        codec.from_json(text)


@pytest.mark.parametrize("field", ["meeting_at", "case_id", "actor", "occurred_at"])
def test_missing_field_is_refused_naming_it(field: str) -> None:
    """A payload missing a required field raises SerializationError naming the field."""
    data = codec.to_dict(_meeting_scheduled())
    del data[field]
    with pytest.raises(SerializationError) as exc:
        codec.from_dict(data)
    assert "MeetingScheduled" in str(exc.value)
    assert field in str(exc.value)


def test_extra_field_is_refused_naming_it() -> None:
    """A payload with a field the event does not have raises SerializationError."""
    data = codec.to_dict(_meeting_scheduled())
    data["venue"] = "room-12"
    with pytest.raises(SerializationError) as exc:
        codec.from_dict(data)
    assert "venue" in str(exc.value)


def test_invalid_nested_value_is_refused() -> None:
    """A nested value that fails domain validation raises SerializationError, not another error."""
    data = codec.to_dict(_meeting_scheduled())
    data["actor"] = {"agency": "probation", "person": "not a ref!"}
    with pytest.raises(SerializationError, match="MeetingScheduled"):
        codec.from_dict(data)


def test_wrongly_typed_value_is_refused() -> None:
    """A datetime field holding something that is not a datetime raises SerializationError."""
    data = codec.to_dict(_meeting_scheduled())
    data["meeting_at"] = "next tuesday"
    with pytest.raises(SerializationError, match="MeetingScheduled"):
        codec.from_dict(data)


def test_newer_schema_version_is_refused_with_advice() -> None:
    """A schema version newer than the code knows raises SerializationError saying upgrade."""
    data = codec.to_dict(_meeting_scheduled())
    data["schema_version"] = MeetingScheduled.schema_version + 1
    with pytest.raises(SerializationError) as exc:
        codec.from_dict(data)
    message = str(exc.value)
    assert "MeetingScheduled" in message
    assert "newer" in message
    assert "upgrade" in message


@pytest.mark.parametrize("version", [0, -1, "1", None, 1.0])
def test_invalid_schema_version_is_refused(version: object) -> None:
    """A schema version that is not a positive integer raises SerializationError."""
    data = codec.to_dict(_meeting_scheduled())
    data["schema_version"] = version
    with pytest.raises(SerializationError, match="schema_version"):
        codec.from_dict(data)


def test_from_dict_does_not_change_its_input() -> None:
    """Reading an event leaves the given mapping as it was."""
    data = codec.to_dict(_meeting_scheduled())
    before = dict(data)
    codec.from_dict(data)
    assert data == before


# --- schema evolution -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ReviewNoted(Event):
    """A test-only event at schema version 2 (v1 called ``note`` ``remark`` and had no flag)."""

    schema_version: ClassVar[int] = 2

    note: str
    urgent: bool


@attrs.frozen(kw_only=True)
class ThresholdSet(Event):
    """A test-only event at schema version 3."""

    schema_version: ClassVar[int] = 3

    level: int
    unit: str


def _v1_review_payload() -> dict[str, Any]:
    return {
        "type": "ReviewNoted",
        "schema_version": 1,
        "case_id": "case-0001",
        "version": 7,
        "occurred_at": "2026-01-05T09:00:00+00:00",
        "actor": {"agency": "probation", "person": "po-101"},
        "command_id": "cmd-07",
        "remark": "Review noted.",
    }


def _review_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    payload = dict(payload)
    payload["note"] = payload.pop("remark")
    payload["urgent"] = False
    return payload


def test_upcaster_migrates_a_v1_payload() -> None:
    """A registered upcaster turns a v1 payload into the current (v2) event."""
    fresh = EventCodec((ReviewNoted,))
    fresh.register_upcaster("ReviewNoted", 1, _review_v1_to_v2)
    event = fresh.from_dict(_v1_review_payload())
    assert event == ReviewNoted(
        case_id="case-0001",
        version=7,
        occurred_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        actor=Actor(agency="probation", person="po-101"),
        command_id="cmd-07",
        note="Review noted.",
        urgent=False,
    )
    assert fresh.to_dict(event)["schema_version"] == 2


def test_upcaster_is_not_applied_to_current_payloads() -> None:
    """A v2 payload is read as it is, without running the v1 upcaster."""
    calls: list[int] = []

    def upcast(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        return _review_v1_to_v2(payload)

    fresh = EventCodec((ReviewNoted,))
    fresh.register_upcaster("ReviewNoted", 1, upcast)
    current = fresh.from_dict(_review_v1_to_v2(_v1_review_payload()) | {"schema_version": 2})
    assert calls == []
    assert fresh.from_json(fresh.to_json(current)) == current


def test_upcasters_chain_across_versions() -> None:
    """A v1 payload passes through the v1->v2 and v2->v3 upcasters in order."""
    calls: list[str] = []

    def rename_level(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append("v1->v2")
        payload = dict(payload)
        payload["level"] = int(payload.pop("lvl"))
        return payload

    def add_unit(payload: dict[str, Any]) -> dict[str, Any]:
        calls.append("v2->v3")
        assert "level" in payload
        return {**payload, "unit": "days"}

    fresh = EventCodec((ThresholdSet,))
    fresh.register_upcaster("ThresholdSet", 2, add_unit)
    fresh.register_upcaster("ThresholdSet", 1, rename_level)
    payload = _v1_review_payload() | {"type": "ThresholdSet", "lvl": "3"}
    del payload["remark"]
    event = fresh.from_dict(payload)
    assert isinstance(event, ThresholdSet)
    assert (event.level, event.unit) == (3, "days")
    assert calls == ["v1->v2", "v2->v3"]


def test_missing_upcaster_is_refused_naming_the_version() -> None:
    """Without an upcaster from v1, a v1 payload raises SerializationError naming versions."""
    fresh = EventCodec((ReviewNoted,))
    with pytest.raises(SerializationError) as exc:
        fresh.from_dict(_v1_review_payload())
    message = str(exc.value)
    assert "ReviewNoted" in message
    assert "no upcaster from schema version 1" in message
    assert "2" in message


def test_missing_middle_upcaster_is_refused() -> None:
    """A chain with a gap (v1->v2 known, v2->v3 not) raises SerializationError at v2."""
    fresh = EventCodec((ThresholdSet,))
    fresh.register_upcaster("ThresholdSet", 1, lambda p: p)
    payload = _v1_review_payload() | {"type": "ThresholdSet"}
    with pytest.raises(SerializationError, match="no upcaster from schema version 2"):
        fresh.from_dict(payload)


def test_fresh_codec_does_not_change_the_global_codec() -> None:
    """Registering types on a new EventCodec leaves tuko_flow.events.codec as it was."""
    fresh = EventCodec((ReviewNoted,))
    assert "ReviewNoted" in fresh.types
    assert "ReviewNoted" not in codec.types
    with pytest.raises(SerializationError):
        codec.from_dict(_v1_review_payload())
