"""Bad input at the edges: who may take part, who is who, and values of the wrong type.

Each refused or invalid call names the field and what is allowed, and writes nothing.
Seed 002 (WWP): the perpetrator is never told what the victim's support service shared;
shared/DOMAIN.md: "the perpetrator takes no part" in a MARAC (professionals only).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from marac_helpers import COORDINATOR, MARAC_CASE, MARAC_NETWORK, POLICE, checklist, open_marac

from tuko_flow import (
    AddNetworkMember,
    Classification,
    Client,
    Engine,
    HoldMeeting,
    InformNetwork,
    ManualClock,
    NetworkMember,
    NoticeNeed,
    OpenCase,
    OpenMaracCase,
    PersonAtRisk,
    Relation,
    ShareInformation,
)
from tuko_flow.errors import TukoFlowError, ValidationError
from tuko_flow.testing import NETWORK, OFFICER, VICTIM_SUPPORT, drive_to, sample_intake

CLIENT_MEMBER = NetworkMember(member_id="m-cl", agency="client", person="client-8e2f")


def test_the_perpetrators_side_cannot_be_in_a_marac_network(
    engine: Engine, clock: ManualClock
) -> None:
    """Opening a MARAC case with a client-agency member is invalid, naming the member."""
    with pytest.raises(ValidationError) as invalid:
        engine.open_case(
            OpenMaracCase(
                case_id=MARAC_CASE,
                area="area-north",
                victim=PersonAtRisk(ref="victim-3c1d", relation=Relation.VICTIM),
                perpetrator=Client("client-8e2f"),
                network=(*MARAC_NETWORK, CLIENT_MEMBER),
                checklist=checklist(15, at=clock.now()),
            ),
            actor=POLICE,
        )
    assert invalid.value.fields == (f"network[{len(MARAC_NETWORK)}].agency",)
    assert "takes no part in a MARAC" in str(invalid.value)
    assert list(engine.case_ids()) == []


def test_the_coordinator_cannot_add_the_perpetrators_side(
    engine: Engine, clock: ManualClock
) -> None:
    """add_network_member on a MARAC case refuses a client-agency member."""
    before = open_marac(engine, clock)
    with pytest.raises(ValidationError) as invalid:
        engine.execute(MARAC_CASE, AddNetworkMember(member=CLIENT_MEMBER), actor=COORDINATOR)
    assert invalid.value.fields == ("member.agency",)
    assert engine.case(MARAC_CASE) == before


def test_the_victim_cannot_be_the_perpetrator(engine: Engine, clock: ManualClock) -> None:
    """A MARAC case about one person as both victim and perpetrator is invalid."""
    with pytest.raises(ValidationError) as invalid:
        engine.open_case(
            OpenMaracCase(
                case_id=MARAC_CASE,
                area="area-north",
                victim=PersonAtRisk(ref="person-1a2b", relation=Relation.VICTIM),
                perpetrator=Client("person-1a2b"),
                network=MARAC_NETWORK,
                checklist=checklist(15, at=clock.now(), victim="person-1a2b"),
            ),
            actor=POLICE,
        )
    assert "victim" in invalid.value.fields


def test_the_client_is_not_a_person_at_risk_from_the_client(engine: Engine) -> None:
    """A TUKO intake listing the client among the people at risk is invalid."""
    with pytest.raises(ValidationError) as invalid:
        engine.open_case(
            OpenCase(
                case_id="case-b1",
                client=Client("client-0b1c"),
                people_at_risk=(PersonAtRisk(ref="client-0b1c", relation=Relation.VICTIM),),
                network=NETWORK,
                offence="domestic_violence",
            ),
            actor=OFFICER,
        )
    assert invalid.value.fields == ("people_at_risk",)


def test_victim_confidential_information_is_not_shared_where_the_client_listens(
    engine: Engine, clock: ManualClock
) -> None:
    """With the client at the Stage 2 meeting, a victim-confidential share is invalid (the
    field is named); the same information classified need-to-know is accepted."""
    engine.open_case(sample_intake("case-b2"), actor=OFFICER)
    engine.execute("case-b2", AddNetworkMember(member=CLIENT_MEMBER), actor=OFFICER)
    engine.execute("case-b2", NoticeNeed(what="A partner noticed a need."), actor=VICTIM_SUPPORT)
    engine.execute(
        "case-b2", InformNetwork(meeting_at=clock.now() + timedelta(days=1)), actor=OFFICER
    )
    clock.advance(days=1)
    members = (*(m.member_id for m in NETWORK), "m-cl")
    engine.execute("case-b2", HoldMeeting(participants=members), actor=OFFICER)
    before = engine.case("case-b2")
    share = ShareInformation(
        information="Safety planning is under way.",
        evaluation="Risk is high.",
        classification=Classification.VICTIM_CONFIDENTIAL,
    )
    with pytest.raises(ValidationError) as invalid:
        engine.execute("case-b2", share, actor=VICTIM_SUPPORT)
    assert invalid.value.fields == ("classification",)
    assert "m-cl" in str(invalid.value)
    assert engine.case("case-b2") == before
    plain = ShareInformation(
        information="Safety planning is under way.",
        evaluation="Risk is high.",
        classification=Classification.NEED_TO_KNOW,
    )
    assert engine.execute("case-b2", plain, actor=VICTIM_SUPPORT).version == before.version + 1


def clock_days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


@pytest.mark.parametrize("actor", [None, "po-101", ("probation", "po-101")])
def test_an_actor_that_is_not_an_actor_is_named(
    engine: Engine, clock: ManualClock, actor: object
) -> None:
    """execute, open_case and next_steps name the actor field instead of failing deep inside."""
    drive_to(engine, clock, "case-b3", "stage1_notice")
    for call in (
        lambda: engine.execute("case-b3", NoticeNeed(what="x"), actor=actor),  # type: ignore[arg-type]
        lambda: engine.open_case(sample_intake("case-b4"), actor=actor),  # type: ignore[arg-type]
        lambda: engine.next_steps("case-b3", actor),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError) as invalid:
            call()
        assert invalid.value.fields == ("actor",)


def test_case_at_names_a_version_of_the_wrong_type(engine: Engine, clock: ManualClock) -> None:
    """A version given as text is named, with the versions that exist."""
    drive_to(engine, clock, "case-b5", "stage1_notice")
    with pytest.raises(ValidationError) as invalid:
        engine.case_at("case-b5", "2")  # type: ignore[arg-type]
    assert invalid.value.fields == ("version",)


def test_a_clock_without_now_is_refused_when_the_engine_is_built() -> None:
    """Engine(clock=...) checks the port at once, not at the first command."""
    with pytest.raises(TukoFlowError, match="is not a clock"):
        Engine(clock="now")  # type: ignore[arg-type]


def test_a_second_engine_on_the_same_store_finds_the_first_engines_marac_case(
    clock: ManualClock,
) -> None:
    """The victim-perpetrator index is read from the store, so another engine sharing it
    refuses a second MARAC case for the same two people, naming the first."""
    from tuko_flow import InMemoryEventStore

    store = InMemoryEventStore()
    first, second = Engine(store, clock=clock), Engine(store, clock=clock)
    second.marac_case_for("victim-3c1d", "client-8e2f")  # index read before the case exists
    open_marac(first, clock)
    assert second.marac_case_for("victim-3c1d", "client-8e2f") == MARAC_CASE
    with pytest.raises(ValidationError) as invalid:
        open_marac(second, clock, case_id="marac-0002")
    assert MARAC_CASE in str(invalid.value)
