"""Referrals to services, with consent — or without it, on a legal basis.

Seed 001 (TACTICS, "Data"): referrals to victim support, to perpetrator services and to
social workers need the consent of the person referred ("If the consent is not given,
the data will not be passed"); "In cases involving children, whether or not the child was
present at the incident, consent will not be sought and the case will be referred to a
child welfare specialist." The command is part of TUKO (Stages 1-4) and of MARAC: a
network member refers a person of the case to a service; the consent (who gave it, when,
for what) or the legal basis is recorded on the referral.
"""

from __future__ import annotations

from typing import cast

import attrs

from .._machine import Firing
from .._marac_values import Consent, Service, _service
from .._protocol import Command, TransitionSpec
from ..events import ServiceReferralMade


@attrs.frozen(kw_only=True)
class ReferToService(Command):
    """Refer ``person_ref`` (the client, a victim or a child of the case) to a ``service``.

    ``consent`` records the person's consent (see :class:`~tuko_flow.Consent`); it is
    required except for the services the configuration exempts (the child-welfare
    specialist), whose legal basis is recorded instead.
    """

    name = "refer_to_service"

    service: Service = attrs.field(converter=_service)
    person_ref: str
    consent: Consent | None = None


def _refer_to_service(f: Firing) -> None:
    cmd = cast(ReferToService, f.command)
    case = f.case
    p = f.problems()
    p.member("service", cmd.service, Service)
    p.ref("person_ref", cmd.person_ref)
    if cmd.consent is not None and not isinstance(cmd.consent, Consent):
        p.add("consent", f"{cmd.consent!r} is not a Consent", "tuko_flow.Consent or None")
    at_risk = {x.ref: x for x in case.people_at_risk}
    if isinstance(cmd.service, Service) and isinstance(cmd.person_ref, str):
        if cmd.service is Service.PERPETRATOR_SERVICES:
            if cmd.person_ref != case.client.ref:
                p.add(
                    "person_ref",
                    f"{cmd.person_ref!r} is not the case's client (the perpetrator)",
                    case.client.ref,
                )
        elif cmd.person_ref not in at_risk:
            p.add(
                "person_ref",
                f"{cmd.person_ref!r} is not a person at risk in this case",
                ", ".join(at_risk) or "none recorded",
            )
        elif cmd.service is Service.CHILD_WELFARE and at_risk[cmd.person_ref].relation != "child":
            children = [r for r, x in at_risk.items() if x.relation == "child"]
            p.add(
                "person_ref",
                f"{cmd.person_ref!r} is not a child: the child-welfare specialist takes the "
                "children of the case",
                ", ".join(children) or "no child is recorded on this case",
            )
    if isinstance(cmd.consent, Consent) and cmd.consent.given_at > f.now:
        p.add(
            "consent.given_at",
            f"{cmd.consent.given_at.isoformat()} is in the future",
            f"at or before {f.now.isoformat()}",
        )
    f.reject(p)
    member = case.member_for(f.actor)
    assert member is not None  # guaranteed by the actor_in_network rule
    f.emit(
        ServiceReferralMade,
        service=cmd.service,
        person_ref=cmd.person_ref,
        referred_by=member.member_id,
        consent=cmd.consent,
        legal_basis=f.config.consent_exempt.get(cmd.service.value),
    )


def referral_transition(sources: tuple[str, ...]) -> TransitionSpec:
    """The ``refer_to_service`` transition from ``sources`` (it keeps the state)."""
    return TransitionSpec(
        trigger=ReferToService.name,
        source=sources,
        dest=None,
        rules=("actor_in_network", "consent_given"),
        handler=_refer_to_service,
        command=ReferToService,
        emits=(ServiceReferralMade,),
        description="A network member refers a person to a service, with their consent or "
        "on a legal basis.",
    )
