"""Referrals to services with the person's consent, or without it on a legal basis.

Seed 001 (TACTICS, "Data", vi-viii): victim support, perpetrator services and social
workers receive a person's details only with that person's consent ("If the consent is
not given, the data will not be passed"); when children are involved the case goes to the
child-welfare specialist without asking consent. The command works on TUKO and MARAC
cases alike. All people are made-up pseudonymous references.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from marac_helpers import CHILD, MARAC_CASE, VICTIM, open_marac
from marac_helpers import POLICE as MARAC_POLICE

from tuko_flow import (
    Actor,
    Consent,
    Engine,
    InMemoryEventStore,
    ManualClock,
    ReferToService,
    TukoConfig,
)
from tuko_flow.errors import CommandRefused, ValidationError
from tuko_flow.events import ServiceReferralMade
from tuko_flow.testing import POLICE, drive_to

TUKO_CASE = "case-r1"
TUKO_VICTIM = "victim-91c2"
TUKO_CHILD = "child-55d0"
TUKO_CLIENT = "client-7f3a"

CONSENTED = ("victim_support", "social_work")


def on_tuko(engine: Engine, clock: ManualClock) -> tuple[str, Actor, str, str, str]:
    """A TUKO case in Stage 2: (case id, a network member, victim, child, client)."""
    drive_to(engine, clock, TUKO_CASE, "stage2_evaluate")
    return TUKO_CASE, POLICE, TUKO_VICTIM, TUKO_CHILD, TUKO_CLIENT


def on_marac(engine: Engine, clock: ManualClock) -> tuple[str, Actor, str, str, str]:
    """A MARAC case with a child in the household: (case id, member, victim, child, client)."""
    case = open_marac(engine, clock, yes=16, children=True)
    return MARAC_CASE, MARAC_POLICE, VICTIM, CHILD, case.client.ref


CASES = pytest.mark.parametrize("on", [on_tuko, on_marac], ids=["tuko", "marac"])


def consent(clock: ManualClock, by: str, *, granted: bool = True) -> Consent:
    return Consent(
        given_by=by,
        given_at=clock.now() - timedelta(hours=1),
        purpose="pass contact details to the service",
        granted=granted,
    )


def refused(engine: Engine, case_id: str, command: ReferToService, actor: Actor) -> str:
    """Run a referral that must be refused for consent; nothing is written; the reason."""
    before = engine.case(case_id)
    with pytest.raises(CommandRefused) as info:
        engine.execute(case_id, command, actor=actor)
    assert info.value.rules == ("consent_given",)
    assert engine.case(case_id) == before
    assert len(engine.history(case_id)) == before.version
    return info.value.failures[0].reason


@CASES
@pytest.mark.parametrize("service", CONSENTED)
def test_referral_without_consent_is_refused(
    engine: Engine, clock: ManualClock, on: object, service: str
) -> None:
    """No recorded consent: refused with consent_given, the data is not passed."""
    case_id, actor, victim, _, _ = on(engine, clock)  # type: ignore[operator]
    reason = refused(engine, case_id, ReferToService(service=service, person_ref=victim), actor)
    assert service in reason
    assert victim in reason


@CASES
@pytest.mark.parametrize("service", CONSENTED)
def test_a_refusal_of_consent_refuses_the_referral(
    engine: Engine, clock: ManualClock, on: object, service: str
) -> None:
    """Consent recorded as not granted refuses the referral."""
    case_id, actor, victim, _, _ = on(engine, clock)  # type: ignore[operator]
    command = ReferToService(
        service=service, person_ref=victim, consent=consent(clock, victim, granted=False)
    )
    assert "did not consent" in refused(engine, case_id, command, actor)


@CASES
def test_consent_from_someone_else_does_not_count(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """Only the person referred can consent: the perpetrator's consent for the victim's
    referral is refused."""
    case_id, actor, victim, _, client = on(engine, clock)  # type: ignore[operator]
    command = ReferToService(
        service="victim_support", person_ref=victim, consent=consent(clock, client)
    )
    reason = refused(engine, case_id, command, actor)
    assert client in reason
    assert victim in reason


@CASES
@pytest.mark.parametrize("service", CONSENTED)
def test_referral_with_consent_records_who_when_and_for_what(
    engine: Engine, clock: ManualClock, on: object, service: str
) -> None:
    """The consent (who, when, purpose) and the referring member are on the referral."""
    case_id, actor, victim, _, _ = on(engine, clock)  # type: ignore[operator]
    given = consent(clock, victim)
    before = engine.case(case_id)
    case = engine.execute(
        case_id, ReferToService(service=service, person_ref=victim, consent=given), actor=actor
    )
    assert case.state == before.state
    (referral,) = case.service_referrals
    assert isinstance(referral, ServiceReferralMade)
    assert referral == engine.history(case_id)[-1]
    assert (referral.service.value, referral.person_ref) == (service, victim)
    assert referral.consent == given
    assert (referral.consent.given_by, referral.consent.given_at, referral.consent.purpose) == (
        victim,
        given.given_at,
        "pass contact details to the service",
    )
    assert referral.legal_basis is None
    member = case.member_for(actor)
    assert member is not None
    assert referral.referred_by == member.member_id


@CASES
def test_children_go_to_child_welfare_without_consent_on_a_legal_basis(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """The child-welfare referral needs no consent; the legal basis is recorded instead."""
    case_id, actor, _, child, _ = on(engine, clock)  # type: ignore[operator]
    case = engine.execute(
        case_id, ReferToService(service="child_welfare", person_ref=child), actor=actor
    )
    referral = case.service_referrals[-1]
    assert (referral.service.value, referral.person_ref, referral.consent) == (
        "child_welfare",
        child,
        None,
    )
    assert referral.legal_basis == TukoConfig().consent_exempt["child_welfare"]
    assert referral.legal_basis


@CASES
def test_perpetrator_services_are_for_the_client_with_the_clients_consent(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """Perpetrator services take the client only, and only with the client's consent."""
    case_id, actor, victim, _, client = on(engine, clock)  # type: ignore[operator]
    before = engine.case(case_id)
    with pytest.raises(ValidationError) as info:
        engine.execute(
            case_id,
            ReferToService(
                service="perpetrator_services", person_ref=victim, consent=consent(clock, victim)
            ),
            actor=actor,
        )
    assert info.value.fields == ("person_ref",)
    assert client in str(info.value)
    assert engine.case(case_id) == before
    refused(
        engine, case_id, ReferToService(service="perpetrator_services", person_ref=client), actor
    )
    case = engine.execute(
        case_id,
        ReferToService(
            service="perpetrator_services", person_ref=client, consent=consent(clock, client)
        ),
        actor=actor,
    )
    assert case.service_referrals[-1].person_ref == client


@CASES
def test_a_person_not_in_the_case_cannot_be_referred(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """person_ref must be a person at risk of the case (or the client, for perpetrator
    services)."""
    case_id, actor, _, _, _ = on(engine, clock)  # type: ignore[operator]
    with pytest.raises(ValidationError) as info:
        engine.execute(
            case_id,
            ReferToService(
                service="victim_support",
                person_ref="victim-0000",
                consent=consent(clock, "victim-0000"),
            ),
            actor=actor,
        )
    assert info.value.fields == ("person_ref",)


@CASES
def test_consent_given_in_the_future_is_invalid(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """A consent dated after now cannot have been given."""
    case_id, actor, victim, _, _ = on(engine, clock)  # type: ignore[operator]
    future = Consent(
        given_by=victim, given_at=clock.now() + timedelta(days=1), purpose="contact details"
    )
    with pytest.raises(ValidationError) as info:
        engine.execute(
            case_id,
            ReferToService(service="victim_support", person_ref=victim, consent=future),
            actor=actor,
        )
    assert info.value.fields == ("consent.given_at",)


def test_an_unknown_service_is_invalid(engine: Engine, clock: ManualClock) -> None:
    """Only the configured services can be referred to."""
    case_id, actor, victim, _, _ = on_tuko(engine, clock)
    with pytest.raises(ValidationError) as info:
        engine.execute(case_id, ReferToService(service="astrology", person_ref=victim), actor=actor)
    assert info.value.fields == ("service",)


def test_someone_outside_the_network_cannot_refer(engine: Engine, clock: ManualClock) -> None:
    """Referring is a network member's act."""
    case_id, _, _, child, _ = on_tuko(engine, clock)
    stranger = Actor(agency="police", person="pol-999")
    with pytest.raises(CommandRefused) as info:
        engine.execute(
            case_id, ReferToService(service="child_welfare", person_ref=child), actor=stranger
        )
    assert info.value.rules == ("actor_in_network",)


def test_which_services_need_no_consent_is_configuration(clock: ManualClock) -> None:
    """Without the child-welfare exemption configured, that referral needs consent too."""
    engine = Engine(InMemoryEventStore(), clock=clock, config=TukoConfig(consent_exempt={}))
    case_id, actor, _, child, _ = on_tuko(engine, clock)
    refused(engine, case_id, ReferToService(service="child_welfare", person_ref=child), actor)


@CASES
def test_child_welfare_takes_children_not_the_adult_victim(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """The consent exemption is for children: the adult victim cannot be sent to child
    welfare without consent; the error names the children of the case."""
    case_id, actor, victim, child, _ = on(engine, clock)  # type: ignore[operator]
    before = engine.case(case_id)
    with pytest.raises(ValidationError) as invalid:
        engine.execute(
            case_id, ReferToService(service="child_welfare", person_ref=victim), actor=actor
        )
    assert invalid.value.fields == ("person_ref",)
    assert invalid.value.problems[0].allowed == child
    assert engine.case(case_id) == before


@CASES
def test_an_unknown_person_is_invalid_before_consent_is_judged(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """Referring someone not in the case is a bad field, whatever consent is attached."""
    case_id, actor, victim, _, _ = on(engine, clock)  # type: ignore[operator]
    command = ReferToService(
        service="victim_support", person_ref="victim-0000", consent=consent(clock, victim)
    )
    with pytest.raises(ValidationError) as invalid:
        engine.execute(case_id, command, actor=actor)
    assert invalid.value.fields == ("person_ref",)


@CASES
def test_a_consent_that_is_not_a_consent_is_invalid(
    engine: Engine, clock: ManualClock, on: object
) -> None:
    """A plain dict where a Consent belongs is named as the bad field."""
    case_id, actor, victim, _, _ = on(engine, clock)  # type: ignore[operator]
    command = ReferToService(
        service="social_work",
        person_ref=victim,
        consent={"given_by": victim},  # type: ignore[arg-type]
    )
    with pytest.raises(ValidationError) as invalid:
        engine.execute(case_id, command, actor=actor)
    assert invalid.value.fields == ("consent",)
