"""The public surface is pinned: each public module's ``__all__`` is exactly what is listed here.

Adding or removing a public name is an API change; it must show up as a change to this file.
"""

from __future__ import annotations

import importlib

import pytest

EXPECTED: dict[str, set[str]] = {
    "tuko_flow": {
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
        "Snapshot",
        "EventStore",
        "InMemoryEventStore",
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
        # referrals to services (TUKO and MARAC); TUKO and MARAC linked
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
    },
    "tuko_flow.events": {
        "Event",
        "EventCodec",
        "codec",
        "CaseOpened",
        "StageChanged",
        "CycleStarted",
        "ProtocolMigrated",
        "NeedAssumed",
        "NeedNoticed",
        "NetworkMemberAdded",
        "NetworkInformed",
        "MeetingScheduled",
        "MeetingHeld",
        "InformationShared",
        "CommonAssessmentRecorded",
        "CooperationNeedDecided",
        "NoCooperationNeedDecided",
        "PlanDrafted",
        "TaskAssigned",
        "PlanDistributed",
        "TaskProgressRecorded",
        "PartnerCommunicationRecorded",
        "SituationReassessed",
        "CaseClosed",
        "TaskOverdue",
        "MeetingMissed",
        # referrals to services
        "ServiceReferralMade",
        # MARAC: risk identification and referral
        "MaracCaseOpened",
        "ReferralRoundStarted",
        "RiskAssessed",
        "IncidentReported",
        "NotReferredDecided",
        "MaracReferralMade",
        "ReferralReceived",
        "ReferralAccepted",
        "ReferralReturned",
        "AdvocateOffered",
        # MARAC: conferences and action plans
        "ConferenceHeld",
        "ActionPlanAgreed",
        "ActionsReviewed",
        "MinutesCirculated",
        "MaracInformationShared",
        "MaracCaseClosed",
        "ConferenceOverdue",
        "MinutesOverdue",
        # TUKO and MARAC linked
        "MaracCaseLinked",
        "MaracOutcomeShared",
        "MaracActionsTaken",
    },
    "tuko_flow.errors": {
        "TukoFlowError",
        "ProtocolDefinitionError",
        "ConfigurationError",
        "ValidationError",
        "CaseNotFound",
        "CaseAlreadyExists",
        "CommandRefused",
        "CommandNotAllowedInState",
        "ConcurrencyError",
        "MigrationRefused",
        "EventStoreError",
        "StorageUnavailable",
        "CorruptEventError",
        "SerializationError",
        "SubscriberFailed",
        "FieldProblem",
        "RuleFailure",
    },
    "tuko_flow.diagrams": {"dot", "mermaid", "path_of", "svg", "update_docs"},
    "tuko_flow.scenarios": {
        "Expectation",
        "Scenario",
        "ScenarioError",
        "ScenarioProblem",
        "ScenarioResult",
        "Step",
        "StepResult",
        "load",
        "loads",
        "run",
    },
    "tuko_flow.versions": {
        "CaseReplay",
        "MigrationPlan",
        "MigrationProblem",
        "MigrationResult",
        "MigrationStep",
        "ProtocolDiff",
        "ReplayReport",
        "RuleChange",
        "StateChange",
        "StrandedCase",
        "TransitionChange",
        "diff",
        "plan_migration",
        "replay_check",
        "stranded_cases",
    },
    "tuko_flow.rules.dash": {
        "Answer",
        "AnswerValue",
        "Checklist",
        "Criterion",
        "Finding",
        "Instrument",
        "Question",
        "RiskResult",
        "SAFELIVES_DASH",
        "Thresholds",
        "answers_from",
        "score",
    },
    "tuko_flow.rules": {
        "Rule",
        "RuleContext",
        "rule",
        "TUKO_RULES",
        "RiskNeedMatrix",
        "MatrixCell",
        "Need",
        "DEFAULT_CELLS",
        "CompetenceTable",
        "DEFAULT_COMPETENCE",
    },
    "tuko_flow.stages": {
        "TUKO",
        "AWAITING_NOTICE",
        "STAGE1",
        "STAGE2",
        "STAGE3",
        "STAGE4",
        "CLOSED_NO_NEED",
        "CLOSED",
    },
    "tuko_flow.stores": {"InMemoryEventStore", "SQLiteEventStore"},
    "tuko_flow.stores.postgres": {"PostgresEventStore"},
    "tuko_flow.paths": {
        "Builder",
        "InputCase",
        "InputCases",
        "IntakeCase",
        "MARAC_INPUTS",
        "Maker",
        "TUKO_INPUTS",
        "by",
        "Goal",
        "Path",
        "PathRun",
        "PathSet",
        "Step",
        "Uncovered",
        "KINDS",
        "all_goals",
        "covering_paths",
        "generate",
        "run_path",
        "shortest_paths",
        "simple_paths",
    },
    "tuko_flow.testing": {
        "EventStoreContract",
        "RecordingSubscriber",
        "drive_to",
        "sample_intake",
        "sample_assessment",
        "SAMPLE_NETWORK",
        "START",
        "OFFICER",
        "POLICE",
        "VICTIM_SUPPORT",
        "CHILD_PROTECTION",
        "PathFailed",
        "WalkFailed",
        "check_path",
        "check_random_walk",
        "path_cases",
        "path_test",
        "random_walk_machine",
    },
}

MODULES = sorted(EXPECTED)


@pytest.mark.parametrize("module_name", MODULES)
def test_all_is_exactly_the_expected_set(module_name: str) -> None:
    """The module's __all__ equals the pinned set of public names."""
    module = importlib.import_module(module_name)
    assert set(module.__all__) == EXPECTED[module_name]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_name_in_all_exists(module_name: str) -> None:
    """Every name a module exports can be got from it."""
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("module_name", MODULES)
def test_all_lists_each_name_once(module_name: str) -> None:
    """No name is listed twice in __all__."""
    module = importlib.import_module(module_name)
    assert len(module.__all__) == len(set(module.__all__))


@pytest.mark.parametrize("module_name", MODULES)
def test_star_import_gives_exactly_all(module_name: str) -> None:
    """``from module import *`` binds exactly the names in __all__."""
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import *", namespace)
    namespace.pop("__builtins__", None)
    assert set(namespace) == EXPECTED[module_name]


@pytest.mark.parametrize("module_name", MODULES)
def test_no_private_name_is_exported(module_name: str) -> None:
    """Nothing starting with an underscore is exported."""
    module = importlib.import_module(module_name)
    assert [name for name in module.__all__ if name.startswith("_")] == []


def test_top_level_names_are_the_same_objects_as_in_topical_modules() -> None:
    """tuko_flow.TUKO and tuko_flow.InMemoryEventStore are the topical modules' objects."""
    import tuko_flow
    import tuko_flow.stages
    import tuko_flow.stores

    assert tuko_flow.TUKO is tuko_flow.stages.TUKO
    assert tuko_flow.InMemoryEventStore is tuko_flow.stores.InMemoryEventStore


def test_package_version_matches_the_distribution() -> None:
    """tuko_flow.__version__ is the installed distribution's version."""
    from importlib.metadata import version

    import tuko_flow

    assert tuko_flow.__version__ == version("tuko-flow")
