"""tuko_flow: multi-agency safeguarding protocols as explicit, explainable state machines.

The public surface: import from ``tuko_flow`` and the topical modules
``tuko_flow.events``, ``tuko_flow.errors``, ``tuko_flow.rules``, ``tuko_flow.stages``,
``tuko_flow.stores`` and ``tuko_flow.testing``. Everything in a module whose name starts
with an underscore is implementation and may change without notice.
"""

from ._case import Case, CaseDraft, Cycle, RiskReductionPlan
from ._clock import Clock, ManualClock, SystemClock
from ._config import DEFAULT_AGENCIES, MaracConfig, Timeframes, TukoConfig
from ._engine import SYSTEM_ACTOR, Engine, NextSteps, replay
from ._marac_case import MaracFile, MaracRound
from ._marac_values import (
    ActionLeftOut,
    ActionOutcome,
    ActionReview,
    AnswerRecord,
    Consent,
    MaracAction,
    RepeatAnchor,
    Service,
    VictimNotice,
)
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
from .stages.marac import MARAC
from .stages.marac_conference import (
    CirculateMinutes,
    CloseMaracCase,
    HoldConference,
    ReviewActions,
    ShareMaracInformation,
)
from .stages.marac_link import TakeMaracActions
from .stages.marac_referral import (
    AcceptReferral,
    DecideNotToRefer,
    OfferAdvocate,
    OpenMaracCase,
    ReceiveReferral,
    RecordRiskAssessment,
    ReferToMarac,
    ReportIncident,
    ReturnReferral,
)
from .stages.referrals import ReferToService
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
    "MARAC",
    "TUKO",
    "Command",
    "Protocol",
    "StateSpec",
    "TransitionSpec",
    # configuration
    "DEFAULT_AGENCIES",
    "MaracConfig",
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
    "MaracFile",
    "MaracRound",
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
    # MARAC and referral values
    "ActionLeftOut",
    "ActionOutcome",
    "ActionReview",
    "AnswerRecord",
    "Consent",
    "MaracAction",
    "RepeatAnchor",
    "Service",
    "VictimNotice",
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
    # TUKO and MARAC linked; referrals to services (TUKO Stages 1-4 and MARAC)
    "ReferToService",
    "TakeMaracActions",
    # MARAC: risk identification and referral
    "AcceptReferral",
    "DecideNotToRefer",
    "OfferAdvocate",
    "OpenMaracCase",
    "ReceiveReferral",
    "RecordRiskAssessment",
    "ReferToMarac",
    "ReportIncident",
    "ReturnReferral",
    # MARAC: conferences
    "CirculateMinutes",
    "CloseMaracCase",
    "HoldConference",
    "ReviewActions",
    "ShareMaracInformation",
]
