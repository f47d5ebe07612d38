"""TUKO Stage 1 — notice and inform others.

Seed 000: "Precondition of TUKO is that at least one network partner notices the need for
cooperation to increase the safety for the victim or community and to reduce the risk of
reoffending. Probation officer as a case manager gathers/informs the network around the
case. In some cases the probation offices needs to always assume the need."
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import attrs

from .._case import Applier, CaseDraft
from .._machine import Firing
from .._protocol import Command, StateSpec, TransitionSpec
from .._values import Classification, Information, NetworkMember, _classification
from ..events import (
    CycleStarted,
    Event,
    MeetingScheduled,
    NeedAssumed,
    NeedNoticed,
    NetworkInformed,
    NetworkMemberAdded,
)
from ._common import (
    ACTIVE,
    AWAITING_NOTICE,
    RESTING,
    STAGE1,
    STAGE2,
    STAGE3,
    STAGE4,
    in_future,
    not_in_future,
)

STATES = (
    StateSpec(
        name=AWAITING_NOTICE,
        description="Case opened; no network partner has noticed a need for cooperation yet.",
    ),
    StateSpec(
        name=STAGE1,
        stage=1,
        description="Stage 1 - notice and inform others: a need was noticed (or is always "
        "assumed); the case leader gathers and informs the network.",
    ),
)


@attrs.frozen(kw_only=True)
class NoticeNeed(Command):
    """A network partner records that it noticed a need for cooperation.

    ``what`` describes the need; ``noticed_at`` defaults to the engine's clock. From a
    closed case this starts a new cycle ("closed until someone brings up the need again").
    """

    name = "notice_need"

    what: str
    classification: Classification = attrs.field(
        default=Classification.NEED_TO_KNOW, converter=_classification
    )
    noticed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AddNetworkMember(Command):
    """The case leader adds a partner to the network tailored to the case."""

    name = "add_network_member"

    member: NetworkMember


@attrs.frozen(kw_only=True)
class InformNetwork(Command):
    """The case leader informs the network and agrees the Stage 2 meeting time."""

    name = "inform_network"

    meeting_at: datetime


def _assume_need(f: Firing) -> None:
    f.emit(NeedAssumed, matrix_cell=f.case.matrix_cell)


def _notice_need(f: Firing) -> None:
    cmd = cast(NoticeNeed, f.command)
    p = f.problems()
    p.text("what", cmd.what)
    p.member("classification", cmd.classification, Classification)
    noticed_at = cmd.noticed_at if cmd.noticed_at is not None else f.now
    not_in_future(p, "noticed_at", noticed_at, f.now)
    f.reject(p)
    member = f.case.member_for(f.actor)
    assert member is not None  # guaranteed by the actor_in_network rule
    if f.case.state in RESTING:
        f.emit(CycleStarted, cycle=f.case.cycle.number + 1)
    f.emit(
        NeedNoticed,
        noticed_by=member.member_id,
        noticed_at=noticed_at,
        information=Information(
            text=cmd.what, source_agency=f.actor.agency, classification=cmd.classification
        ),
    )


def _add_network_member(f: Firing) -> None:
    cmd = cast(AddNetworkMember, f.command)
    p = f.problems()
    m = cmd.member
    if not isinstance(m, NetworkMember):
        p.add("member", f"{m!r} is not a NetworkMember", "a tuko_flow.NetworkMember")
        f.reject(p)
    if m.agency not in f.config.agencies:
        p.add("member.agency", f"{m.agency!r} is not a known agency", ", ".join(f.config.agencies))
    if f.case.member(m.member_id) is not None:
        p.add("member.member_id", f"{m.member_id!r} is already in the network", "a new member id")
    if any(x.agency == m.agency and x.person == m.person for x in f.case.network):
        p.add(
            "member.person",
            f"{m.person!r} of {m.agency!r} is already in the network",
            "a new person",
        )
    if m.case_leader:
        p.add("member.case_leader", "the case already has a case leader", "False")
    f.reject(p)
    f.emit(NetworkMemberAdded, member=m)


def _inform_network(f: Firing) -> None:
    cmd = cast(InformNetwork, f.command)
    p = f.problems()
    in_future(p, "meeting_at", cmd.meeting_at, f.now)
    f.reject(p)
    recipients = tuple(m.member_id for m in f.case.network if not m.case_leader)
    f.emit(NetworkInformed, recipients=recipients)
    f.emit(MeetingScheduled, meeting_at=cmd.meeting_at)


TRANSITIONS = (
    TransitionSpec(
        trigger="assume_need",
        source=(AWAITING_NOTICE,),
        dest=STAGE1,
        rules=("always_assume_need",),
        handler=_assume_need,
        emits=(NeedAssumed,),
        auto=True,
        description="An always-assume-need case starts Stage 1 at intake.",
    ),
    TransitionSpec(
        trigger=NoticeNeed.name,
        source=(AWAITING_NOTICE, *RESTING),
        dest=STAGE1,
        rules=("actor_in_network",),
        handler=_notice_need,
        emits=(CycleStarted, NeedNoticed),
        command=NoticeNeed,
        description="A network partner notices the need for cooperation.",
    ),
    TransitionSpec(
        trigger=NoticeNeed.name,
        source=(STAGE1, STAGE2, STAGE3, STAGE4),
        dest=None,
        rules=("actor_in_network",),
        handler=_notice_need,
        emits=(CycleStarted, NeedNoticed),
        command=NoticeNeed,
        description="Another partner notices the need while the case is being worked on; "
        "the notice is recorded for the network.",
    ),
    TransitionSpec(
        trigger=AddNetworkMember.name,
        source=ACTIVE,
        dest=None,
        rules=("actor_is_case_leader",),
        handler=_add_network_member,
        emits=(NetworkMemberAdded,),
        command=AddNetworkMember,
        description="The case leader gathers the network around the case.",
    ),
    TransitionSpec(
        trigger=InformNetwork.name,
        source=(STAGE1,),
        dest=STAGE2,
        rules=("actor_is_case_leader", "network_has_partners"),
        handler=_inform_network,
        emits=(NetworkInformed, MeetingScheduled),
        command=InformNetwork,
        description="The case leader informs the network; Stage 2 begins.",
    ),
)


def _need_assumed(d: CaseDraft, e: NeedAssumed) -> None:
    d.set_cycle(need_assumed=True)


def _need_noticed(d: CaseDraft, e: NeedNoticed) -> None:
    d.set_cycle(notices=(*d.cycle("notices"), e))


def _member_added(d: CaseDraft, e: NetworkMemberAdded) -> None:
    d.set(network=(*d.get("network"), e.member))


def _informed(d: CaseDraft, e: NetworkInformed) -> None:
    d.set_cycle(informed=e.recipients)


APPLIERS: dict[type[Event], Applier] = {
    NeedAssumed: _need_assumed,
    NeedNoticed: _need_noticed,
    NetworkMemberAdded: _member_added,
    NetworkInformed: _informed,
}
