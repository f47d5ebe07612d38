"""The MARAC protocol (multi-agency risk assessment conference), declared once as data.

* :mod:`tuko_flow.stages.marac_referral` — opening a MARAC case, the risk assessment
  (DASH), incidents and repeats, the referral, the coordinator's decision, the advocate;
* :mod:`tuko_flow.stages.marac_conference` — the conference, the action plan, minutes,
  reviews, closure, and information shared on the legal basis of high-risk cases.

A MARAC case is kept per victim and perpetrator; each referral is a round of it::

    assessment --refer_to_marac--> referred --receive_referral--> received
    received --accept_referral--> listed --hold_conference--> discussed
    received --return_referral--> returned          (resting)
    assessment --decide_not_to_refer--> not_referred (resting)
    discussed --review_actions--> discussed --close_marac_case--> closed (resting)
    resting --report_incident | record_risk_assessment--> assessment (a new round)

``MARAC`` is the :class:`~tuko_flow.Protocol` the engine runs beside TUKO.
"""

from __future__ import annotations

from typing import cast

from .._machine import Firing
from .._protocol import Protocol, StateSpec, TransitionSpec
from .._values import NetworkMember
from ..events import MaracCaseOpened, NetworkMemberAdded, RiskAssessed
from ..rules.marac import MARAC_RULES
from ..rules.referrals import REFERRAL_RULES
from . import marac_conference, marac_referral
from ._marac_common import (
    ACTIVE,
    ASSESSMENT,
    DISCUSSED,
    LISTED,
    MARAC_CLOSED,
    NOT_REFERRED,
    RECEIVED,
    REFERRED,
    RESTING,
    RETURNED,
)
from .referrals import referral_transition
from .stage1_notice import APPLIERS as _STAGE1_APPLIERS
from .stage1_notice import AddNetworkMember, _add_network_member

__all__ = [
    "ACTIVE",
    "ASSESSMENT",
    "DISCUSSED",
    "LISTED",
    "MARAC",
    "MARAC_CLOSED",
    "NOT_REFERRED",
    "RECEIVED",
    "REFERRED",
    "RESTING",
    "RETURNED",
]

STATES = (
    StateSpec(
        name=ASSESSMENT,
        description="Risk identification: a DASH checklist (or a TUKO common assessment) and "
        "any repeat incident decide whether the case goes to MARAC.",
    ),
    StateSpec(
        name=REFERRED,
        description="Referred to MARAC on the criteria met, the assessment attached; the "
        "victim told where safe.",
    ),
    StateSpec(name=RECEIVED, description="The MARAC coordinator received the referral."),
    StateSpec(
        name=LISTED,
        description="Accepted onto the list for a conference within the MARAC's timescale.",
    ),
    StateSpec(
        name=DISCUSSED,
        description="Discussed at a conference (the victim represented by their advocate); "
        "the action plan is being carried out by the agencies that own its actions, and "
        "reviewed at the next conference.",
    ),
    StateSpec(
        name=NOT_REFERRED,
        closed=True,
        description="The assessment met no referral criterion; the case was not referred.",
    ),
    StateSpec(
        name=RETURNED,
        closed=True,
        description="The coordinator returned the referral to the referring agency, with a reason.",
    ),
    StateSpec(
        name=MARAC_CLOSED,
        closed=True,
        description="Closed from MARAC; a new incident within the repeat window is a repeat.",
    ),
)


def _add_marac_member(f: Firing) -> None:
    """Add a professional; the perpetrator's side (the client agency) takes no part."""
    cmd = cast(AddNetworkMember, f.command)
    m = cmd.member
    if isinstance(m, NetworkMember) and m.agency == f.config.client_agency:
        p = f.problems()
        p.add(
            "member.agency",
            f"{m.agency!r} is the client's side: the perpetrator takes no part in a MARAC",
            "professionals only",
        )
        f.reject(p)
    _add_network_member(f)


_MEMBERS = TransitionSpec(
    trigger=AddNetworkMember.name,
    source=ACTIVE,
    dest=None,
    rules=("actor_is_coordinator",),
    handler=_add_marac_member,
    command=AddNetworkMember,
    emits=(NetworkMemberAdded,),
    description="The coordinator adds a professional to the MARAC case.",
)

#: The MARAC protocol, version 1.
MARAC = Protocol(
    name="marac",
    version="1",
    description="MARAC - multi-agency risk assessment conference for high-risk domestic "
    "violence (seed 001, Legal framework; shared/DOMAIN.md): risk identification with the "
    "DASH, referral, the coordinator's decision, conference and action plan, reviews, "
    "closure; repeats within the window are referred back whatever the threshold.",
    states=STATES,
    initial=ASSESSMENT,
    transitions=(
        *marac_referral.TRANSITIONS,
        *marac_conference.TRANSITIONS,
        _MEMBERS,
        referral_transition(ACTIVE),
    ),
    rules={**MARAC_RULES, **REFERRAL_RULES},
    intake=marac_referral.OpenMaracCase,
    intake_handler=marac_referral.open_marac_case,
    intake_emits=(MaracCaseOpened, RiskAssessed),
    appliers={
        **marac_referral.APPLIERS,
        **marac_conference.APPLIERS,
        NetworkMemberAdded: _STAGE1_APPLIERS[NetworkMemberAdded],
    },
    deadlines=marac_conference.marac_deadlines,
    reactions=marac_conference.marac_reactions,
)

assert set(RESTING) == {s.name for s in STATES if s.closed}
