"""The consent rule of referrals to services, with the seed passage it encodes.

Source: the TACTICS regional report for Estonia (``shared/seeds/001_…txt``), "Data",
items vi-viii: the victim's consent is asked before her contact details go to victim
support, the perpetrator's before his go to perpetrator services, the victim's before
information goes to the social worker; "if the consent is not given, the data will not be
passed" — except that children are referred to the child-welfare specialist without
consent.
"""

from __future__ import annotations

from .._marac_values import Consent, Service
from ._base import Rule, RuleContext, rule


@rule(
    "consent_given",
    reason="the referral needs the consent of the person referred, and none was recorded",
    source='Seed 001, Data vi: "If the victim does not give consent, the data will not be '
    'provided and the victim will not be referred to victim support." vii: "If the consent '
    'is not given, the data will not be passed." viii: "In cases involving children ... '
    'consent will not be sought and the case will be referred to a child welfare specialist."',
)
def consent_given(ctx: RuleContext) -> bool | str:
    from ..stages.referrals import ReferToService

    command = getattr(ctx, "command", None)
    if not isinstance(command, ReferToService):
        return True  # judged per referral: it depends on the consent the command records
    if not isinstance(command.service, Service):
        return True  # not a service at all: the command's validation names the field
    service = command.service.value
    if service in ctx.config.consent_exempt:
        return True
    people = {ctx.case.client.ref, *(x.ref for x in ctx.case.people_at_risk)}
    if command.person_ref not in people:
        return True  # not a person of the case: the command's validation names the field
    consent = command.consent
    if consent is not None and not isinstance(consent, Consent):
        return True  # not a Consent: the command's validation names the field
    if consent is None:
        return (
            f"a referral to {service} needs the consent of {command.person_ref!r}, and none "
            "was recorded; without consent the data is not passed"
        )
    if not consent.granted:
        return (
            f"{command.person_ref!r} did not consent to the referral to {service}; without "
            "consent the data is not passed"
        )
    if consent.given_by != command.person_ref:
        return (
            f"the consent was given by {consent.given_by!r}, not by {command.person_ref!r}, "
            "the person referred"
        )
    return True


#: The rules of referrals to services, by name (used by TUKO and MARAC alike).
REFERRAL_RULES: dict[str, Rule] = {consent_given.name: consent_given}
