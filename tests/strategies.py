"""Shared hypothesis strategies: pseudonymous references, domain values and every event type.

Every identifier drawn here is a made-up pseudonymous reference; no strategy produces a
name or any other personal data.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone

import attrs
from hypothesis import strategies as st

from tuko_flow import (
    ActionOutcome,
    ActionReview,
    Actor,
    Classification,
    Client,
    CommonAssessment,
    Consent,
    HarmProbability,
    Information,
    MaracAction,
    NetworkMember,
    PersonAtRisk,
    PlanTask,
    Relation,
    RepeatAnchor,
    Service,
    TaskStatus,
    VictimNotice,
)
from tuko_flow._marac_values import ActionLeftOut, AnswerRecord
from tuko_flow.events import (
    ActionPlanAgreed,
    ActionsReviewed,
    AdvocateOffered,
    CaseClosed,
    CaseOpened,
    CommonAssessmentRecorded,
    ConferenceHeld,
    ConferenceOverdue,
    CooperationNeedDecided,
    CycleStarted,
    Event,
    IncidentReported,
    InformationShared,
    MaracActionsTaken,
    MaracCaseClosed,
    MaracCaseLinked,
    MaracCaseOpened,
    MaracInformationShared,
    MaracOutcomeShared,
    MaracReferralMade,
    MeetingHeld,
    MeetingMissed,
    MeetingScheduled,
    MinutesCirculated,
    MinutesOverdue,
    NeedAssumed,
    NeedNoticed,
    NetworkInformed,
    NetworkMemberAdded,
    NoCooperationNeedDecided,
    NotReferredDecided,
    PartnerCommunicationRecorded,
    PlanDistributed,
    PlanDrafted,
    ProtocolMigrated,
    ReferralAccepted,
    ReferralReceived,
    ReferralReturned,
    ReferralRoundStarted,
    RiskAssessed,
    ServiceReferralMade,
    SituationReassessed,
    StageChanged,
    TaskAssigned,
    TaskOverdue,
    TaskProgressRecorded,
)
from tuko_flow.rules.dash import AnswerValue, Criterion, Finding, Thresholds

#: The grammar of a reference, as tuko_flow documents it: 1-64 characters, letters,
#: digits, '.', '_', ':' or '-', starting with a letter or digit.
REF_PATTERN = r"\A[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}\Z"
_REF_HEAD = string.ascii_letters + string.digits
_REF_TAIL = _REF_HEAD + "._:-"

#: Any reference the grammar allows (random, hence pseudonymous by construction).
refs = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(_REF_HEAD),
    st.text(alphabet=_REF_TAIL, max_size=63),
)


def pseudonymous_refs(prefix: str) -> st.SearchStrategy[str]:
    """References shaped like ``client-7f3a``: a prefix and a short hex tag."""
    return st.text(alphabet="0123456789abcdef", min_size=4, max_size=8).map(
        lambda tag: f"{prefix}-{tag}"
    )


#: Non-empty free text (what a partner writes), never blank, at most 200 characters.
free_text = st.text(min_size=1, max_size=200).filter(lambda s: s.strip() != "")

#: Fixed UTC offsets between -23:59 and +23:59, in whole minutes.
fixed_timezones = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: UTC if minutes == 0 else timezone(timedelta(minutes=minutes))
)


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes between 2000 and 2100 with fixed offsets."""
    return st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=fixed_timezones,
    )


def naive_datetimes() -> st.SearchStrategy[datetime]:
    """Datetimes without a timezone (never acceptable to tuko_flow)."""
    return st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))

actors = st.builds(Actor, agency=refs, person=refs)
clients = st.builds(Client, ref=pseudonymous_refs("client"))
people_at_risk = st.builds(
    PersonAtRisk,
    ref=pseudonymous_refs("victim") | pseudonymous_refs("child"),
    relation=st.sampled_from(Relation),
    lives_with_client=st.booleans(),
)
network_members = st.builds(
    NetworkMember,
    member_id=pseudonymous_refs("m"),
    agency=refs,
    person=refs,
    case_leader=st.booleans(),
)
information = st.builds(
    Information,
    text=free_text,
    source_agency=refs,
    classification=st.sampled_from(Classification),
)
common_assessments = st.builds(
    CommonAssessment,
    who_is_under_threat=free_text,
    probability_of_harm=st.sampled_from(HarmProbability),
    threat_and_conditions=free_text,
    risk_modifiers=free_text,
    client_needs_and_motivation=free_text,
    protective_factors=free_text,
    classification=st.sampled_from(Classification),
)
plan_tasks = st.builds(
    PlanTask,
    task_id=pseudonymous_refs("t"),
    description=st.text(min_size=1, max_size=200).filter(lambda s: s.strip() != ""),
    area=refs,
    owner=pseudonymous_refs("m"),
    due_on=dates,
)


# --- MARAC values -----------------------------------------------------------------------

#: Non-empty text within the 2,000-character limit of MARAC value fields.
short_text = st.text(min_size=1, max_size=120).filter(lambda s: s.strip() != "")

marac_actions = st.builds(
    MaracAction,
    action_id=pseudonymous_refs("a"),
    agency=refs,
    description=short_text,
    area=refs,
    due_on=dates,
)
action_reviews = st.builds(
    ActionReview,
    action_id=pseudonymous_refs("a"),
    outcome=st.sampled_from(ActionOutcome),
    note=st.none() | short_text,
)
victim_notices = st.one_of(
    st.builds(
        VictimNotice,
        safe=st.just(True),
        how=short_text,
        perpetrator_aware=st.none() | st.booleans(),
    ),
    st.builds(
        VictimNotice,
        safe=st.just(False),
        reason=short_text,
        perpetrator_aware=st.none() | st.booleans(),
    ),
)
consents = st.builds(
    Consent,
    given_by=pseudonymous_refs("victim") | pseudonymous_refs("client"),
    given_at=aware_datetimes(),
    purpose=short_text,
    granted=st.booleans(),
)
answer_records = st.builds(
    AnswerRecord,
    question=st.integers(min_value=1, max_value=24).map(lambda n: f"q{n}"),
    value=st.sampled_from([v.value for v in AnswerValue]),
    asked_by=refs.map(lambda r: f"police/{r}") | pseudonymous_refs("staff"),
    asked_at=aware_datetimes(),
    source=st.none() | pseudonymous_refs("record"),
)
findings = st.builds(Finding, st.sampled_from(Criterion), st.booleans(), short_text)
thresholds = st.builds(
    Thresholds,
    visible_high_risk=st.integers(min_value=1, max_value=24),
    escalation_incidents=st.integers(min_value=1, max_value=20),
    escalation_window_days=st.integers(min_value=1, max_value=730),
)
_criteria = st.lists(
    st.sampled_from([*(c.value for c in Criterion), "repeat"]), unique=True, max_size=4
).map(tuple)

_words = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=30)
_member_ids = st.lists(pseudonymous_refs("m"), max_size=5).map(tuple)
_versions = st.integers(min_value=1, max_value=10**6)


def _event(event_type: type[Event], **fields: st.SearchStrategy[object]) -> st.SearchStrategy:
    """Instances of ``event_type`` with a valid envelope and the given field strategies."""
    return st.builds(
        event_type,
        case_id=pseudonymous_refs("case"),
        version=_versions,
        occurred_at=aware_datetimes(),
        actor=actors,
        command_id=st.text(alphabet="0123456789abcdef", min_size=8, max_size=32),
        **fields,
    )


#: One strategy per concrete tuko_flow event type; tests check this covers the codec.
EVENT_STRATEGIES: dict[type[Event], st.SearchStrategy] = {
    CaseOpened: _event(
        CaseOpened,
        protocol=_words,
        protocol_version=st.integers(min_value=1, max_value=99).map(str),
        initial_state=_words,
        client=clients,
        people_at_risk=st.lists(people_at_risk, min_size=1, max_size=3).map(tuple),
        network=st.lists(network_members, min_size=1, max_size=4).map(tuple),
        offence=_words,
        matrix_cell=_words,
        need=st.sampled_from(["high", "standard"]),
        always_assume_need=st.booleans(),
    ),
    StageChanged: _event(StageChanged, from_state=_words, to_state=_words, command=_words),
    CycleStarted: _event(CycleStarted, cycle=st.integers(min_value=2, max_value=1000)),
    ProtocolMigrated: _event(
        ProtocolMigrated,
        protocol=_words,
        from_version=st.integers(min_value=1, max_value=99).map(str),
        to_version=st.integers(min_value=1, max_value=99).map(str),
        from_state=_words,
        to_state=_words,
        reason=free_text,
    ),
    NeedAssumed: _event(NeedAssumed, matrix_cell=_words),
    NeedNoticed: _event(
        NeedNoticed,
        noticed_by=pseudonymous_refs("m"),
        noticed_at=aware_datetimes(),
        information=information,
    ),
    NetworkMemberAdded: _event(NetworkMemberAdded, member=network_members),
    NetworkInformed: _event(NetworkInformed, recipients=_member_ids),
    MeetingScheduled: _event(MeetingScheduled, meeting_at=aware_datetimes()),
    MeetingHeld: _event(
        MeetingHeld,
        purpose=st.sampled_from(["evaluation", "review"]),
        held_at=aware_datetimes(),
        participants=_member_ids,
    ),
    InformationShared: _event(
        InformationShared,
        member_id=pseudonymous_refs("m"),
        information=information,
        evaluation=information,
    ),
    CommonAssessmentRecorded: _event(CommonAssessmentRecorded, assessment=common_assessments),
    CooperationNeedDecided: _event(
        CooperationNeedDecided,
        situation=information,
        risks=st.lists(free_text, min_size=1, max_size=3).map(tuple),
    ),
    NoCooperationNeedDecided: _event(NoCooperationNeedDecided, reason=information),
    PlanDrafted: _event(PlanDrafted, crisis=st.booleans(), communication=free_text),
    TaskAssigned: _event(
        TaskAssigned, task=plan_tasks, revision=st.integers(min_value=1, max_value=1000)
    ),
    PlanDistributed: _event(
        PlanDistributed,
        revision=st.integers(min_value=1, max_value=1000),
        recipients=_member_ids,
    ),
    TaskProgressRecorded: _event(
        TaskProgressRecorded,
        task_id=pseudonymous_refs("t"),
        status=st.sampled_from(TaskStatus),
        note=st.text(max_size=200),
    ),
    PartnerCommunicationRecorded: _event(
        PartnerCommunicationRecorded,
        from_member=pseudonymous_refs("m"),
        to_members=_member_ids,
        information=information,
    ),
    SituationReassessed: _event(
        SituationReassessed, needs_remain=st.booleans(), risks_reduced=st.booleans()
    ),
    CaseClosed: _event(CaseClosed, summary=information, informed=_member_ids),
    TaskOverdue: _event(TaskOverdue, task_id=pseudonymous_refs("t"), due_on=dates),
    MeetingMissed: _event(MeetingMissed, meeting_at=aware_datetimes()),
    # referrals to services (TUKO and MARAC)
    ServiceReferralMade: _event(
        ServiceReferralMade,
        service=st.sampled_from(Service),
        person_ref=pseudonymous_refs("victim") | pseudonymous_refs("child"),
        referred_by=pseudonymous_refs("m"),
        consent=st.none() | consents,
        legal_basis=st.none() | short_text,
    ),
    # MARAC: risk identification and referral
    MaracCaseOpened: _event(
        MaracCaseOpened,
        area=pseudonymous_refs("area"),
        victim_ref=pseudonymous_refs("victim"),
        perpetrator_ref=pseudonymous_refs("client"),
        linked_case=st.none() | pseudonymous_refs("case"),
    ),
    ReferralRoundStarted: _event(ReferralRoundStarted, round=st.integers(2, 100)),
    RiskAssessed: _event(
        RiskAssessed,
        instrument=_words,
        instrument_version=st.integers(min_value=1, max_value=2100).map(str),
        answers=st.lists(answer_records, max_size=4).map(tuple),
        question_count=st.integers(min_value=0, max_value=40),
        yes_count=st.integers(min_value=0, max_value=40),
        findings=st.lists(findings, max_size=3).map(tuple),
        thresholds=thresholds,
        incidents=st.integers(min_value=0, max_value=50),
        children_in_household=st.booleans(),
        professional_judgement=st.none() | short_text,
        from_case=st.none() | pseudonymous_refs("case"),
    ),
    IncidentReported: _event(
        IncidentReported,
        occurred_on=dates,
        kind=_words,
        criminal=st.booleans(),
        repeat=st.booleans(),
        window_days=st.integers(min_value=1, max_value=730),
        anchor=st.sampled_from(RepeatAnchor),
        anchor_at=st.none() | aware_datetimes(),
        reason=short_text,
    ),
    NotReferredDecided: _event(NotReferredDecided, reason=short_text),
    MaracReferralMade: _event(
        MaracReferralMade,
        round=st.integers(1, 100),
        referring_agency=refs,
        criteria=_criteria,
        repeat=st.booleans(),
        assessment_version=st.none() | _versions,
        victim_notice=victim_notices,
        legal_basis=short_text,
    ),
    ReferralReceived: _event(ReferralReceived, round=st.integers(1, 100)),
    ReferralAccepted: _event(
        ReferralAccepted, round=st.integers(1, 100), conference_at=aware_datetimes()
    ),
    ReferralReturned: _event(ReferralReturned, round=st.integers(1, 100), reason=short_text),
    AdvocateOffered: _event(
        AdvocateOffered, advocate=pseudonymous_refs("m"), accepted=st.booleans()
    ),
    # MARAC: conferences and action plans
    ConferenceHeld: _event(
        ConferenceHeld,
        round=st.integers(1, 100),
        held_at=aware_datetimes(),
        agencies_present=st.lists(refs, min_size=1, max_size=5).map(tuple),
        victim_represented_by=pseudonymous_refs("m"),
        review=st.booleans(),
        legal_basis=short_text,
    ),
    ActionPlanAgreed: _event(
        ActionPlanAgreed,
        round=st.integers(1, 100),
        actions=st.lists(marac_actions, max_size=4).map(tuple),
    ),
    ActionsReviewed: _event(
        ActionsReviewed,
        round=st.integers(1, 100),
        reviews=st.lists(action_reviews, max_size=4).map(tuple),
    ),
    MinutesCirculated: _event(
        MinutesCirculated,
        round=st.integers(1, 100),
        conference_at=aware_datetimes(),
        recipients=st.lists(refs, max_size=5).map(tuple),
    ),
    MaracInformationShared: _event(
        MaracInformationShared,
        from_agency=refs,
        to_agencies=st.lists(refs, min_size=1, max_size=5).map(tuple),
        information=information,
        legal_basis=short_text,
        consent=st.booleans(),
    ),
    MaracCaseClosed: _event(MaracCaseClosed, round=st.integers(1, 100), reason=short_text),
    ConferenceOverdue: _event(
        ConferenceOverdue, round=st.integers(1, 100), due_by=aware_datetimes()
    ),
    MinutesOverdue: _event(
        MinutesOverdue,
        round=st.integers(1, 100),
        conference_at=aware_datetimes(),
        due_on=dates,
    ),
    # TUKO and MARAC linked
    MaracCaseLinked: _event(
        MaracCaseLinked,
        marac_case_id=pseudonymous_refs("marac"),
        area=pseudonymous_refs("area"),
        victim_ref=pseudonymous_refs("victim"),
    ),
    MaracOutcomeShared: _event(
        MaracOutcomeShared,
        marac_case_id=pseudonymous_refs("marac"),
        round=st.integers(1, 100),
        marac_state=_words,
        conference_at=st.none() | aware_datetimes(),
        actions=st.lists(marac_actions, max_size=4).map(tuple),
        reviews=st.lists(action_reviews, max_size=4).map(tuple),
        legal_basis=short_text,
    ),
    MaracActionsTaken: _event(
        MaracActionsTaken,
        marac_case_id=pseudonymous_refs("marac"),
        taken=st.lists(pseudonymous_refs("a"), max_size=3).map(tuple),
        not_taken=st.lists(
            st.builds(ActionLeftOut, action_id=pseudonymous_refs("a"), reason=short_text),
            max_size=3,
        ).map(tuple),
    ),
}


def events() -> st.SearchStrategy[Event]:
    """Any concrete tuko_flow event, with a valid envelope."""
    return st.one_of(*EVENT_STRATEGIES.values())


def event_fields(event: Event) -> tuple[str, ...]:
    """The names of an event's attrs fields (envelope and payload)."""
    return tuple(a.name for a in attrs.fields(type(event)))
