"""tuko_flow: multi-agency safeguarding protocols as explicit, explainable state machines.

The public surface: import from ``tuko_flow`` and the topical modules
``tuko_flow.events``, ``tuko_flow.errors``, ``tuko_flow.rules``, ``tuko_flow.stages``,
``tuko_flow.stores`` and ``tuko_flow.testing``. Everything in a module whose name starts
with an underscore is implementation and may change without notice.
"""

from ._case import Case, CaseDraft, Cycle, RiskReductionPlan
from ._clock import Clock, ManualClock, SystemClock
from ._config import DEFAULT_AGENCIES, Timeframes, TukoConfig
from ._engine import SYSTEM_ACTOR, Engine, NextSteps, replay
from ._protocol import Command, Protocol, StateSpec, TransitionSpec
from ._store import AppendResult, ChainProblem, EventStore, Snapshot, StoredEvent
from ._values import (
    ASSESSMENT_QUESTIONS,
    Actor,
    Classification,
    Client,
    CommonAssessment,
    HarmProbability,
    Information,
    NetworkMember,
    PersonAtRisk,
    PlanTask,
    Relation,
    TaskStatus,
)
from .stages import TUKO
from .stages.intake import OpenCase
from .stages.stage1_notice import AddNetworkMember, InformNetwork, NoticeNeed
from .stages.stage2_evaluate import (
    DecideCooperationNeeded,
    DecideNoCooperationNeeded,
    HoldMeeting,
    RecordCommonAssessment,
    ScheduleMeeting,
    ShareInformation,
)
from .stages.stage3_plan import AssignTask, BeginCaseManagement, DistributePlan, DraftPlan
from .stages.stage4_manage import (
    CloseCase,
    HoldReviewMeeting,
    RecordPartnerCommunication,
    RecordTaskProgress,
)
from .stores import InMemoryEventStore

__version__ = "0.1.0"

__all__ = [
    # engine
    "SYSTEM_ACTOR",
    "Engine",
    "NextSteps",
    "replay",
    # protocols as data
    "TUKO",
    "Command",
    "Protocol",
    "StateSpec",
    "TransitionSpec",
    # configuration
    "DEFAULT_AGENCIES",
    "Timeframes",
    "TukoConfig",
    # time
    "Clock",
    "ManualClock",
    "SystemClock",
    # storage
    "AppendResult",
    "ChainProblem",
    "EventStore",
    "InMemoryEventStore",
    "Snapshot",
    "StoredEvent",
    # the case
    "Case",
    "CaseDraft",
    "Cycle",
    "RiskReductionPlan",
    # values
    "ASSESSMENT_QUESTIONS",
    "Actor",
    "Classification",
    "Client",
    "CommonAssessment",
    "HarmProbability",
    "Information",
    "NetworkMember",
    "PersonAtRisk",
    "PlanTask",
    "Relation",
    "TaskStatus",
    # commands: intake and Stage 1
    "OpenCase",
    "AddNetworkMember",
    "InformNetwork",
    "NoticeNeed",
    # Stage 2
    "DecideCooperationNeeded",
    "DecideNoCooperationNeeded",
    "HoldMeeting",
    "RecordCommonAssessment",
    "ScheduleMeeting",
    "ShareInformation",
    # Stage 3
    "AssignTask",
    "BeginCaseManagement",
    "DistributePlan",
    "DraftPlan",
    # Stage 4
    "CloseCase",
    "HoldReviewMeeting",
    "RecordPartnerCommunication",
    "RecordTaskProgress",
]
