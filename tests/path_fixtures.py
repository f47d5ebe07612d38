"""Protocols and input cases for tests/test_paths.py: deliberately broken or changed TUKO.

``BROKEN`` adds a command nobody declared an input for; ``BROKEN_INPUTS`` also lacks the
input that makes ``close_case``'s leader rule fail. ``STRICTER`` is TUKO with one more
rule on ``inform_network``: the paths generated for TUKO must notice. ``LONELY`` is a
protocol with no input cases at all.
"""

from __future__ import annotations

import attrs

from tuko_flow import TUKO, Command, TransitionSpec
from tuko_flow.paths import TUKO_INPUTS


@attrs.frozen(kw_only=True)
class Escalate(Command):
    """A made-up command that skips Stage 2's meeting (only in the broken fixture)."""

    name = "escalate"


def _escalate(firing: object) -> None:
    """Nothing to record beyond the stage change."""


ESCALATE = TransitionSpec(
    trigger="escalate",
    source=("stage2_evaluate",),
    dest="stage3_plan",
    rules=("actor_is_case_leader",),
    handler=_escalate,
    command=Escalate,
    description="A shortcut with no declared input.",
)

BROKEN = attrs.evolve(TUKO, name="tuko_broken", transitions=(*TUKO.transitions, ESCALATE))
BROKEN_INPUTS = attrs.evolve(
    TUKO_INPUTS,
    protocol=BROKEN,
    inputs=tuple(
        i for i in TUKO_INPUTS.inputs if (i.trigger, i.name) != ("close_case", "as police")
    ),
)

STRICTER = attrs.evolve(
    TUKO,
    name="tuko_stricter",
    transitions=tuple(
        attrs.evolve(t, rules=(*t.rules, "always_assume_need"))
        if t.trigger == "inform_network"
        else t
        for t in TUKO.transitions
    ),
)
STRICTER_INPUTS = attrs.evolve(TUKO_INPUTS, protocol=STRICTER)

LONELY = attrs.evolve(TUKO, name="tuko_lonely")

# A team's edited TUKO that still says tuko@1: the stricter rule, under TUKO's own name.
EDITED = attrs.evolve(STRICTER, name=TUKO.name)
# An edited tuko@1 without record_partner_communication: TUKO_INPUTS declare inputs for it.
UNFIT = attrs.evolve(
    TUKO,
    transitions=tuple(t for t in TUKO.transitions if t.trigger != "record_partner_communication"),
)
