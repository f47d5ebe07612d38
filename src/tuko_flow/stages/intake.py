"""Intake: opening a TUKO case.

The case records the probation client, the people at risk, the network tailored to the
case (seed 000, "WHO?": "A multidisciplinary network tailored to each case: Probation
officer (case leader), Prison staff, Local municipality, Mental health, addiction & social
workers, Police, NGOs, The client whenever possible and safe") and the client's cell of
the risk-need matrix.
"""

from __future__ import annotations

from typing import cast

import attrs

from .._machine import Firing
from .._protocol import Command
from .._values import Client, NetworkMember, PersonAtRisk, Relation, _to_tuple
from ..events import CaseOpened
from ._common import network_members


@attrs.frozen(kw_only=True)
class OpenCase(Command):
    """Open a case: the client, the people at risk, the network and the offence category.

    ``offence`` is one of the risk-need matrix's offence categories; whether the client
    lives with a victim is read from ``people_at_risk`` (a victim with
    ``lives_with_client=True``). Exactly one network member is the case leader, from the
    configured case-leader agency (the probation service).
    """

    name = "open_case"

    case_id: str
    client: Client
    people_at_risk: tuple[PersonAtRisk, ...] = attrs.field(converter=_to_tuple)
    network: tuple[NetworkMember, ...] = attrs.field(converter=_to_tuple)
    offence: str


def open_case(f: Firing) -> None:
    """Validate the intake against the configuration and emit ``CaseOpened``."""
    cmd = cast(OpenCase, f.command)
    cfg = f.config
    p = f.problems()
    p.ref("case_id", cmd.case_id)
    if not isinstance(cmd.client, Client):
        p.add("client", f"{cmd.client!r} is not a Client", "tuko_flow.Client")
    people: tuple[object, ...] = ()
    if p.sequence("people_at_risk", cmd.people_at_risk, "PersonAtRisk values"):
        people = cmd.people_at_risk
        if not people:
            p.add("people_at_risk", "is empty", "one or more PersonAtRisk (victims, children)")
    refs = [x.ref for x in people if isinstance(x, PersonAtRisk)]
    if len(refs) != len(people):
        p.add("people_at_risk", "contains something that is not a PersonAtRisk", "PersonAtRisk")
    if len(set(refs)) != len(refs):
        p.add("people_at_risk", "lists a person twice", "each person once")
    if isinstance(cmd.client, Client) and cmd.client.ref in refs:
        p.add(
            "people_at_risk",
            f"lists the client {cmd.client.ref!r} as a person at risk from the client",
            "the victims, children and others at risk, not the client",
        )
    network = network_members(p, cmd.network, cfg)
    leaders = [m for m in network if m.case_leader]
    if len(leaders) != 1:
        p.add(
            "network",
            f"has {len(leaders)} case leaders",
            f"exactly one member with case_leader=True from {cfg.case_leader_agency!r}",
        )
    elif leaders[0].agency != cfg.case_leader_agency:
        p.add(
            "network",
            f"the case leader is from {leaders[0].agency!r}",
            f"a case leader from {cfg.case_leader_agency!r} (the probation officer)",
        )
    if f.actor.agency != cfg.case_leader_agency:
        p.add(
            "actor.agency",
            f"{f.actor.agency!r} cannot open a TUKO case",
            f"staff of {cfg.case_leader_agency!r}: TUKO cases are probation cases, gathered "
            "by the probation officer as case leader",
        )
    lives_with_victim = any(
        x.relation == Relation.VICTIM and x.lives_with_client
        for x in people
        if isinstance(x, PersonAtRisk)
    )
    cell = cfg.matrix.classify(cmd.offence, lives_with_victim=lives_with_victim)
    if cell is None:
        p.add(
            "offence",
            f"{cmd.offence!r} is not in the risk-need matrix",
            ", ".join(cfg.matrix.offences),
        )
    f.reject(p)
    assert cell is not None
    assert f.protocol is not None
    f.emit(
        CaseOpened,
        protocol=f.protocol.name,
        protocol_version=f.protocol.version,
        initial_state=f.state,
        client=cmd.client,
        people_at_risk=cmd.people_at_risk,
        network=cmd.network,
        offence=cmd.offence,
        matrix_cell=cell.name,
        need=cell.need.value,
        always_assume_need=cell.always_assume_need,
    )
