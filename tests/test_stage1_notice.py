"""Intake and TUKO Stage 1: opening a case, the risk-need matrix, noticing the need, the network."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from tuko_flow import (
    DEFAULT_AGENCIES,
    Actor,
    AddNetworkMember,
    Client,
    Engine,
    InformNetwork,
    ManualClock,
    NetworkMember,
    NoticeNeed,
    OpenCase,
    PersonAtRisk,
    Relation,
)
from tuko_flow.errors import (
    CaseAlreadyExists,
    CaseNotFound,
    CommandNotAllowedInState,
    CommandRefused,
    ValidationError,
)
from tuko_flow.events import NeedAssumed, NeedNoticed, StageChanged
from tuko_flow.testing import OFFICER, POLICE, SAMPLE_NETWORK, drive_to

OUTSIDER = Actor(agency="police", person="pol-999")
LEADER = NetworkMember(member_id="m-po", agency="probation", person="po-101", case_leader=True)
MUNICIPALITY = NetworkMember(member_id="m-mun", agency="municipality", person="mun-505")


def intake(
    case_id: str = "case-s1",
    *,
    offence: str = "domestic_violence",
    lives_with_victim: bool = False,
    network: Sequence[NetworkMember] = SAMPLE_NETWORK,
    people: Sequence[PersonAtRisk] | None = None,
) -> OpenCase:
    """An intake with made-up references; every part can be varied."""
    if people is None:
        people = (
            PersonAtRisk(
                ref="victim-91c2", relation=Relation.VICTIM, lives_with_client=lives_with_victim
            ),
            PersonAtRisk(ref="child-55d0", relation=Relation.CHILD),
        )
    return OpenCase(
        case_id=case_id,
        client=Client("client-7f3a"),
        people_at_risk=tuple(people),
        network=tuple(network),
        offence=offence,
    )


def types(engine: Engine, case_id: str, after: int = 0) -> list[str]:
    """The class names of the case's events after version ``after``."""
    return [type(e).__name__ for e in engine.history(case_id)[after:]]


def problem(exc: ValidationError, field: str) -> str:
    """The text (problem and allowed values) reported for ``field``."""
    found = [str(p) for p in exc.problems if p.field == field]
    assert found, f"no problem reported for {field!r}: {exc}"
    return " | ".join(found)


# --- intake validation ----------------------------------------------------------------


def test_open_case_records_client_people_network_and_matrix_cell(engine: Engine) -> None:
    """A standard-need intake opens the case awaiting a notice, with one CaseOpened event."""
    case = engine.open_case(intake(), actor=OFFICER)
    assert case.state == "awaiting_notice"
    assert case.client == Client("client-7f3a")
    assert [p.ref for p in case.people_at_risk] == ["victim-91c2", "child-55d0"]
    assert case.network == SAMPLE_NETWORK
    assert case.case_leader.member_id == "m-po"
    assert (case.matrix_cell, case.need, case.always_assume_need) == (
        "dv_not_living_with_victim",
        "standard",
        False,
    )
    assert case.cycle.number == 1
    assert types(engine, "case-s1") == ["CaseOpened"]


def test_unknown_agency_is_refused_naming_the_member_and_allowed_agencies(
    engine: Engine,
) -> None:
    """A network member from an agency the configuration does not know is named with its index."""
    bad = NetworkMember(member_id="m-x", agency="courts", person="crt-1")
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(network=(*SAMPLE_NETWORK, bad)), actor=OFFICER)
    text = problem(info.value, "network[4].agency")
    assert "'courts'" in text
    for agency in DEFAULT_AGENCIES:
        assert agency in text


def test_network_without_case_leader_is_refused(engine: Engine) -> None:
    """A network with no case leader is refused; a probation case leader is asked for."""
    network = [m for m in SAMPLE_NETWORK if not m.case_leader]
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(network=network), actor=OFFICER)
    text = problem(info.value, "network")
    assert "0 case leaders" in text
    assert "probation" in text


def test_network_with_two_case_leaders_is_refused(engine: Engine) -> None:
    """Exactly one member may lead the case."""
    second = NetworkMember(member_id="m-po2", agency="probation", person="po-102", case_leader=True)
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(network=(*SAMPLE_NETWORK, second)), actor=OFFICER)
    assert "2 case leaders" in problem(info.value, "network")


def test_case_leader_must_come_from_probation(engine: Engine) -> None:
    """Seed: 'Probation officer (case leader)': a police case leader is refused."""
    network = (
        NetworkMember(member_id="m-po", agency="probation", person="po-101"),
        NetworkMember(member_id="m-pol", agency="police", person="pol-202", case_leader=True),
    )
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(network=network), actor=OFFICER)
    text = problem(info.value, "network")
    assert "'police'" in text
    assert "'probation'" in text


def test_unknown_offence_lists_the_offences_of_the_matrix(engine: Engine) -> None:
    """An offence outside the risk-need matrix is refused, listing every allowed offence."""
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(offence="burglary"), actor=OFFICER)
    text = problem(info.value, "offence")
    assert "'burglary'" in text
    for offence in ("contact_sexual", "domestic_violence", "non_contact_sexual", "other_violence"):
        assert offence in text


def test_empty_people_at_risk_is_refused(engine: Engine) -> None:
    """A case protects someone: at least one person at risk is required."""
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(people=()), actor=OFFICER)
    assert "is empty" in problem(info.value, "people_at_risk")


def test_duplicate_member_ids_are_refused(engine: Engine) -> None:
    """Two members with one member id are refused, naming the id."""
    twin = NetworkMember(member_id="m-pol", agency="municipality", person="mun-505")
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(network=(*SAMPLE_NETWORK, twin)), actor=OFFICER)
    assert "m-pol" in problem(info.value, "network")


def test_every_intake_problem_is_reported_at_once(engine: Engine) -> None:
    """Unknown offence, no people at risk and no case leader are all reported together."""
    network = [m for m in SAMPLE_NETWORK if not m.case_leader]
    with pytest.raises(ValidationError) as info:
        engine.open_case(intake(offence="burglary", people=(), network=network), actor=OFFICER)
    assert {"offence", "people_at_risk", "network"} <= set(info.value.fields)


def test_invalid_intake_stores_nothing(engine: Engine) -> None:
    """After a refused intake the case does not exist."""
    with pytest.raises(ValidationError):
        engine.open_case(intake(offence="burglary"), actor=OFFICER)
    with pytest.raises(CaseNotFound):
        engine.case("case-s1")
    assert list(engine.case_ids()) == []


def test_duplicate_case_id_raises_case_already_exists(engine: Engine) -> None:
    """Case ids are never reused; the first case is left as it was."""
    engine.open_case(intake(), actor=OFFICER)
    before = engine.history("case-s1")
    with pytest.raises(CaseAlreadyExists) as info:
        engine.open_case(intake(offence="contact_sexual"), actor=OFFICER)
    assert info.value.case_id == "case-s1"
    assert engine.history("case-s1") == before


# --- the risk-need matrix -------------------------------------------------------------


@pytest.mark.parametrize(
    ("offence", "lives_with_victim", "cell", "need", "always", "state"),
    [
        ("contact_sexual", False, "contact_sexual_offence", "high", True, "stage1_notice"),
        ("contact_sexual", True, "contact_sexual_offence", "high", True, "stage1_notice"),
        ("domestic_violence", True, "dv_living_with_victim", "high", True, "stage1_notice"),
        (
            "domestic_violence",
            False,
            "dv_not_living_with_victim",
            "standard",
            False,
            "awaiting_notice",
        ),
        (
            "non_contact_sexual",
            False,
            "non_contact_sexual_offence",
            "standard",
            False,
            "awaiting_notice",
        ),
    ],
)
def test_matrix_cell_decides_whether_need_is_always_assumed(
    engine: Engine,
    offence: str,
    lives_with_victim: bool,
    cell: str,
    need: str,
    always: bool,
    state: str,
) -> None:
    """Seed matrix: contact sexual crimes and DV living with the victim are high need."""
    case = engine.open_case(
        intake(offence=offence, lives_with_victim=lives_with_victim), actor=OFFICER
    )
    assert (case.matrix_cell, case.need, case.always_assume_need, case.state) == (
        cell,
        need,
        always,
        state,
    )


def test_always_assume_need_case_starts_stage1_at_intake(engine: Engine) -> None:
    """A high-need cell records NeedAssumed and a stage change at intake, with no notice."""
    case = engine.open_case(intake(lives_with_victim=True), actor=OFFICER)
    assert case.state == "stage1_notice"
    assert case.cycle.need_assumed is True
    assert case.cycle.notices == ()
    history = engine.history("case-s1")
    assert types(engine, "case-s1") == ["CaseOpened", "NeedAssumed", "StageChanged"]
    assumed, changed = history[1], history[2]
    assert isinstance(assumed, NeedAssumed)
    assert assumed.matrix_cell == "dv_living_with_victim"
    assert isinstance(changed, StageChanged)
    assert (changed.from_state, changed.to_state) == ("awaiting_notice", "stage1_notice")


def test_child_living_with_client_does_not_make_dv_high_need(engine: Engine) -> None:
    """Only a *victim* living with the client selects the 'DV living with victims' cell."""
    people = (
        PersonAtRisk(ref="victim-91c2", relation=Relation.VICTIM, lives_with_client=False),
        PersonAtRisk(ref="child-55d0", relation=Relation.CHILD, lives_with_client=True),
    )
    case = engine.open_case(intake(people=people), actor=OFFICER)
    assert case.matrix_cell == "dv_not_living_with_victim"
    assert case.state == "awaiting_notice"


# --- notice_need ----------------------------------------------------------------------


def test_partner_notices_need_with_who_what_and_when(engine: Engine, clock: ManualClock) -> None:
    """A partner's notice records who noticed, what and when; Stage 1 begins."""
    engine.open_case(intake(), actor=OFFICER)
    clock.advance(days=1)
    when = clock.now() - timedelta(hours=3)
    case = engine.execute(
        "case-s1",
        NoticeNeed(what="Victim reports threats by phone.", noticed_at=when),
        actor=POLICE,
    )
    assert case.state == "stage1_notice"
    assert types(engine, "case-s1", after=1) == ["NeedNoticed", "StageChanged"]
    (notice,) = case.cycle.notices
    assert isinstance(notice, NeedNoticed)
    assert notice.noticed_by == "m-pol"
    assert notice.noticed_at == when
    assert notice.information.text == "Victim reports threats by phone."
    assert notice.information.source_agency == "police"
    assert notice.actor == POLICE
    assert notice.occurred_at == clock.now()


def test_notice_time_defaults_to_the_clock(engine: Engine, clock: ManualClock) -> None:
    """Without noticed_at, the notice is dated by the engine's clock."""
    engine.open_case(intake(), actor=OFFICER)
    clock.advance(hours=5)
    case = engine.execute("case-s1", NoticeNeed(what="Concern raised."), actor=POLICE)
    assert case.cycle.notices[0].noticed_at == clock.now()


def test_notice_in_the_future_is_refused_naming_the_field(
    engine: Engine, clock: ManualClock
) -> None:
    """A need cannot be noticed in the future; nothing changes."""
    engine.open_case(intake(), actor=OFFICER)
    future = clock.now() + timedelta(minutes=1)
    with pytest.raises(ValidationError) as info:
        engine.execute("case-s1", NoticeNeed(what="Concern.", noticed_at=future), actor=POLICE)
    assert info.value.fields == ("noticed_at",)
    assert info.value.case_id == "case-s1"
    assert engine.case("case-s1").state == "awaiting_notice"


def test_notice_without_description_is_refused(engine: Engine) -> None:
    """'What' was noticed must be described."""
    engine.open_case(intake(), actor=OFFICER)
    with pytest.raises(ValidationError) as info:
        engine.execute("case-s1", NoticeNeed(what="   "), actor=POLICE)
    assert info.value.fields == ("what",)


def test_notice_by_actor_outside_the_network_is_refused(engine: Engine) -> None:
    """Seed: 'at least one network partner notices': an outsider is refused by rule."""
    engine.open_case(intake(), actor=OFFICER)
    with pytest.raises(CommandRefused) as info:
        engine.execute("case-s1", NoticeNeed(what="Concern."), actor=OUTSIDER)
    assert info.value.rules == ("actor_in_network",)
    assert info.value.state == "awaiting_notice"
    assert info.value.command == "notice_need"
    assert engine.case("case-s1").state == "awaiting_notice"


# --- add_network_member ---------------------------------------------------------------


def test_case_leader_adds_a_partner(engine: Engine) -> None:
    """Seed: the probation officer gathers the network around the case."""
    engine.open_case(intake(), actor=OFFICER)
    case = engine.execute("case-s1", AddNetworkMember(member=MUNICIPALITY), actor=OFFICER)
    assert case.member("m-mun") == MUNICIPALITY
    assert case.state == "awaiting_notice"
    assert types(engine, "case-s1", after=1) == ["NetworkMemberAdded"]


def test_only_the_case_leader_adds_members(engine: Engine) -> None:
    """A partner may not add members to the network."""
    engine.open_case(intake(), actor=OFFICER)
    with pytest.raises(CommandRefused) as info:
        engine.execute("case-s1", AddNetworkMember(member=MUNICIPALITY), actor=POLICE)
    assert info.value.rules == ("actor_is_case_leader",)
    assert engine.case("case-s1").member("m-mun") is None


@pytest.mark.parametrize(
    ("member", "field"),
    [
        (NetworkMember(member_id="m-pol", agency="municipality", person="mun-505"), "member_id"),
        (NetworkMember(member_id="m-pol2", agency="police", person="pol-202"), "person"),
        (NetworkMember(member_id="m-x", agency="courts", person="crt-1"), "agency"),
        (
            NetworkMember(member_id="m-po2", agency="probation", person="po-102", case_leader=True),
            "case_leader",
        ),
    ],
    ids=["duplicate-id", "duplicate-person", "unknown-agency", "second-case-leader"],
)
def test_bad_new_member_is_refused(engine: Engine, member: NetworkMember, field: str) -> None:
    """Duplicates, unknown agencies and a second case leader are refused, naming the field."""
    engine.open_case(intake(), actor=OFFICER)
    with pytest.raises(ValidationError) as info:
        engine.execute("case-s1", AddNetworkMember(member=member), actor=OFFICER)
    assert info.value.fields == (f"member.{field}",)
    assert engine.case("case-s1").network == SAMPLE_NETWORK


def test_unknown_agency_of_new_member_lists_allowed_agencies(engine: Engine) -> None:
    """The refusal of an unknown agency says which agencies are allowed."""
    engine.open_case(intake(), actor=OFFICER)
    bad = NetworkMember(member_id="m-x", agency="courts", person="crt-1")
    with pytest.raises(ValidationError) as info:
        engine.execute("case-s1", AddNetworkMember(member=bad), actor=OFFICER)
    text = problem(info.value, "member.agency")
    assert "municipality" in text
    assert "victim_support" in text


# --- inform_network -------------------------------------------------------------------


def test_case_leader_informs_the_network_and_stage2_begins(
    engine: Engine, clock: ManualClock
) -> None:
    """Informing the network tells every partner and agrees the Stage 2 meeting time."""
    drive_to(engine, clock, "case-s1", "stage1_notice")
    before = engine.case("case-s1").version
    meeting_at = clock.now() + timedelta(days=2)
    case = engine.execute("case-s1", InformNetwork(meeting_at=meeting_at), actor=OFFICER)
    assert case.state == "stage2_evaluate"
    assert types(engine, "case-s1", after=before) == [
        "NetworkInformed",
        "MeetingScheduled",
        "StageChanged",
    ]
    assert case.cycle.informed == ("m-pol", "m-vs", "m-cp")
    assert case.next_meeting_at == meeting_at


def test_only_the_case_leader_informs_the_network(engine: Engine, clock: ManualClock) -> None:
    """A partner cannot inform the network in the case leader's place."""
    drive_to(engine, clock, "case-s1", "stage1_notice")
    meeting_at = clock.now() + timedelta(days=2)
    with pytest.raises(CommandRefused) as info:
        engine.execute("case-s1", InformNetwork(meeting_at=meeting_at), actor=POLICE)
    assert info.value.rules == ("actor_is_case_leader",)
    assert engine.case("case-s1").state == "stage1_notice"


def test_informing_needs_partners_besides_the_case_leader(
    engine: Engine, clock: ManualClock
) -> None:
    """A network of the case leader alone cannot be informed; adding a partner unblocks it."""
    engine.open_case(intake(network=(LEADER,)), actor=OFFICER)
    engine.execute("case-s1", NoticeNeed(what="Officer noticed a need."), actor=OFFICER)
    meeting_at = clock.now() + timedelta(days=2)
    with pytest.raises(CommandRefused) as info:
        engine.execute("case-s1", InformNetwork(meeting_at=meeting_at), actor=OFFICER)
    assert info.value.rules == ("network_has_partners",)
    engine.execute("case-s1", AddNetworkMember(member=MUNICIPALITY), actor=OFFICER)
    case = engine.execute("case-s1", InformNetwork(meeting_at=meeting_at), actor=OFFICER)
    assert case.state == "stage2_evaluate"
    assert case.cycle.informed == ("m-mun",)


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(hours=1)], ids=["now", "past"])
def test_meeting_time_must_be_in_the_future(
    engine: Engine, clock: ManualClock, offset: timedelta
) -> None:
    """The agreed Stage 2 meeting must lie ahead of the clock."""
    drive_to(engine, clock, "case-s1", "stage1_notice")
    with pytest.raises(ValidationError) as info:
        engine.execute("case-s1", InformNetwork(meeting_at=clock.now() + offset), actor=OFFICER)
    assert info.value.fields == ("meeting_at",)
    assert engine.case("case-s1").state == "stage1_notice"


def test_informing_before_any_notice_is_not_possible(engine: Engine, clock: ManualClock) -> None:
    """Without a noticed (or assumed) need there is no Stage 1 to inform from."""
    engine.open_case(intake(), actor=OFFICER)
    with pytest.raises(CommandNotAllowedInState) as info:
        engine.execute(
            "case-s1", InformNetwork(meeting_at=clock.now() + timedelta(days=1)), actor=OFFICER
        )
    assert info.value.state == "awaiting_notice"
    assert info.value.rules == ("allowed_in_state",)
