"""TUKO variants for the tests of ``tuko_flow.versions``.

Importable by spec from the tests (``protocol_variants:TUKO_V2``), as a team's own
protocol module would be.
"""

from __future__ import annotations

import attrs

from tuko_flow import TUKO, Protocol
from tuko_flow.rules import Rule, RuleContext
from tuko_flow.stages import AWAITING_NOTICE, STAGE3


def rename_state(protocol: Protocol, old: str, new: str, *, version: str) -> Protocol:
    """``protocol`` with state ``old`` called ``new`` everywhere, as version ``version``."""

    def name(state: str | None) -> str | None:
        return new if state == old else state

    return attrs.evolve(
        protocol,
        version=version,
        states=[attrs.evolve(s, name=name(s.name)) for s in protocol.states],
        initial=name(protocol.initial),
        transitions=[
            attrs.evolve(t, source=[name(s) for s in t.source], dest=name(t.dest))
            for t in protocol.transitions
        ],
    )


def _every_member_shared(ctx: RuleContext) -> bool | str:
    shared = {s.member_id for s in ctx.case.cycle.shared}
    missing = [m for m in ctx.case.member_ids if m not in shared]
    return True if not missing else f"not yet shared: {', '.join(missing)}"


every_member_shared = Rule(
    name="every_member_shared",
    reason="every member of the network has shared information before the common assessment",
    source="Stage 2: network members share information and give their evaluation.",
    check=_every_member_shared,
)


def _v2() -> Protocol:
    renamed = rename_state(TUKO, STAGE3, "stage3_planning", version="2")
    transitions = []
    for t in renamed.transitions:
        if t.trigger == "record_common_assessment":
            t = attrs.evolve(t, rules=(*t.rules, every_member_shared.name))
        if t.trigger == "add_network_member":
            t = attrs.evolve(t, source=[s for s in t.source if s != AWAITING_NOTICE])
        transitions.append(t)
    return attrs.evolve(
        renamed,
        transitions=transitions,
        rules={**renamed.rules, every_member_shared.name: every_member_shared},
    )


#: TUKO version 2: Stage 3 is called ``stage3_planning``; the common assessment needs every
#: member's information first; partners are added to the network only once the need is
#: noticed (no ``add_network_member`` from ``awaiting_notice``).
TUKO_V2 = _v2()

#: TUKO version 1.1: the same states and transitions, one rule reason reworded.
TUKO_V1_1 = attrs.evolve(
    TUKO,
    version="1.1",
    rules={
        **TUKO.rules,
        "actor_in_network": attrs.evolve(
            TUKO.rules["actor_in_network"], reason="only members of the case's network may act"
        ),
    },
)
