"""The TUKO protocol, declared once as data from its four stage modules.

* :mod:`tuko_flow.stages.intake` — opening a case
* :mod:`tuko_flow.stages.stage1_notice` — Stage 1, notice and inform others
* :mod:`tuko_flow.stages.stage2_evaluate` — Stage 2, share information and evaluate
* :mod:`tuko_flow.stages.stage3_plan` — Stage 3, make a plan
* :mod:`tuko_flow.stages.stage4_manage` — Stage 4, coordinated case management

``TUKO`` is the :class:`~tuko_flow.Protocol` the engine runs by default.
"""

from __future__ import annotations

from .._deadlines import tuko_deadlines
from .._protocol import Protocol
from ..rules.marac import LINK_RULES
from ..rules.referrals import REFERRAL_RULES
from ..rules.tuko import TUKO_RULES
from . import intake, marac_link, stage1_notice, stage2_evaluate, stage3_plan, stage4_manage
from ._common import (
    ACTIVE,
    AWAITING_NOTICE,
    CLOSED,
    CLOSED_NO_NEED,
    STAGE1,
    STAGE2,
    STAGE3,
    STAGE4,
)
from .referrals import referral_transition

__all__ = [
    "AWAITING_NOTICE",
    "CLOSED",
    "CLOSED_NO_NEED",
    "STAGE1",
    "STAGE2",
    "STAGE3",
    "STAGE4",
    "TUKO",
]

_STAGES = (stage1_notice, stage2_evaluate, stage3_plan, stage4_manage)

#: The TUKO framework for safe cooperation, version 1.
TUKO = Protocol(
    name="tuko",
    version="1",
    description="TUKO - framework for safe cooperation (Estonian Prison and Probation "
    "Service): Stage 1 notice and inform, Stage 2 share information and evaluate, Stage 3 "
    "make a plan, Stage 4 coordinated case management.",
    states=tuple(s for m in _STAGES for s in m.STATES),
    initial=AWAITING_NOTICE,
    transitions=(
        *(t for m in _STAGES for t in m.TRANSITIONS),
        referral_transition(ACTIVE),
        *marac_link.TRANSITIONS,
    ),
    rules={**TUKO_RULES, **REFERRAL_RULES, **LINK_RULES},
    intake=intake.OpenCase,
    intake_handler=intake.open_case,
    appliers={k: v for m in _STAGES for k, v in m.APPLIERS.items()},
    deadlines=tuko_deadlines,
)
