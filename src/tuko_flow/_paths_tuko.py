"""The input cases that drive every TUKO guard (``tuko_flow.paths.TUKO_INPUTS``).

Built from the made-up, pseudonymous sample data of :mod:`tuko_flow.testing` (no person
is real). Three intake variants — a normal domestic-violence case, an always-assume-need
one (the client lives with the victim) and one whose network is only the case leader —
and, for every TUKO command, the case leader's input plus inputs that break a named rule
(a partner who does not lead the case, an outsider to the network, a plan distributed
after the agreed meeting time passed, a review that finds needs remaining).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from ._case import Case
from ._demo import NETWORK, OFFICER, POLICE, sample_assessment, sample_intake
from ._paths import Goal, InputCase, InputCases, IntakeCase, Maker, _right_and_wrong, by
from ._protocol import Command
from ._values import Actor, NetworkMember, TaskStatus
from .stages import TUKO
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

#: A made-up NGO worker who is in no sample network.
OUTSIDER = Actor(agency="ngo", person="ngo-909")
#: A made-up municipality member the case leader may add to any sample network.
MUNICIPALITY_MEMBER = NetworkMember(member_id="m-mun", agency="municipality", person="mun-505")

_CANDIDATES = (*NETWORK[1:], MUNICIPALITY_MEMBER)
_MAX_TASKS = 2


def _actor(member: NetworkMember) -> Actor:
    """The actor a network member acts as."""
    return Actor(agency=member.agency, person=member.person)


def _leader(case: Case) -> Actor:
    """The case leader (of a MARAC case: its coordinator, so MARAC's inputs use it too)."""
    return _actor(case.case_leader)


def _partner(case: Case) -> Actor:
    """The first network member who does not lead the case (the leader if there is none)."""
    partners = [m for m in case.network if not m.case_leader]
    return _actor(partners[0]) if partners else _leader(case)


def _normal_intake(case_id: str) -> Command:
    return sample_intake(case_id)


def _assume_need_intake(case_id: str) -> Command:
    return sample_intake(case_id, lives_with_victim=True)


def _leader_only_intake(case_id: str) -> Command:
    return attrs.evolve(sample_intake(case_id), network=(NETWORK[0],))


# --- command makers: (case, now) -> command ------------------------------------------------


def _notice(case: Case, now: datetime) -> Command:
    return NoticeNeed(what="A partner noticed a need for cooperation.")


def _new_member(case: Case, now: datetime) -> Command | None:
    for m in _CANDIDATES:
        if case.member(m.member_id) is None:
            return AddNetworkMember(member=m)
    return None


def _inform(case: Case, now: datetime) -> Command:
    return InformNetwork(meeting_at=now + timedelta(days=1))


def _schedule(case: Case, now: datetime) -> Command:
    return ScheduleMeeting(meeting_at=now + timedelta(days=7))


def _hold(case: Case, now: datetime) -> Command:
    return HoldMeeting(participants=case.member_ids)


def _share(case: Case, now: datetime) -> Command:
    return ShareInformation(information="Relevant information.", evaluation="An evaluation.")


def _next_unheard(case: Case, now: datetime) -> tuple[Command, Actor] | None:
    """The next meeting participant who has not shared yet (a partner before any meeting)."""
    cycle = case.cycle
    meetings = [m for m in cycle.meetings if m.purpose == "evaluation"]
    if not meetings:
        return _share(case, now), _partner(case)
    participants = {p for m in meetings for p in m.participants}
    heard = {s.member_id for s in cycle.shared}
    for m in case.network:
        if m.member_id in participants - heard:
            return _share(case, now), _actor(m)
    return None


def _assess(case: Case, now: datetime) -> Command:
    return RecordCommonAssessment(assessment=sample_assessment())


def _needed(case: Case, now: datetime) -> Command:
    return DecideCooperationNeeded(situation="Threats described.", risks=("repeat violence",))


def _not_needed(case: Case, now: datetime) -> Command:
    return DecideNoCooperationNeeded(reason="No further need found.")


def _plan(crisis: bool) -> Maker:
    def make(case: Case, now: datetime) -> Command:
        return DraftPlan(
            crisis=crisis,
            communication="Weekly updates by phone.",
            next_meeting_at=now + timedelta(days=3 if crisis else 7),
        )

    return make


def _task(case: Case, now: datetime) -> Command | None:
    plan = case.cycle.plan
    count = len(plan.tasks) if plan is not None else 0
    if count >= _MAX_TASKS:
        return None
    return AssignTask(
        task_id=f"t-{count + 1}",
        description="Supervision meetings twice a week.",
        area="supervision",
        owner=case.case_leader.member_id,
        due_on=now.date() + timedelta(days=3),
    )


def _progress(case: Case, now: datetime) -> tuple[Command, Actor] | None:
    """Progress on the first task not done yet, by its owner."""
    plan = case.cycle.plan
    for task in plan.tasks if plan is not None else ():
        if case.cycle.task_status(task.task_id) != TaskStatus.DONE:
            owner = case.member(task.owner)
            actor = _actor(owner) if owner is not None else _leader(case)
            return RecordTaskProgress(task_id=task.task_id, status=TaskStatus.DONE), actor
    return None


def _outsider_progress(case: Case, now: datetime) -> tuple[Command, Actor]:
    plan = case.cycle.plan
    task_id = plan.tasks[0].task_id if plan is not None and plan.tasks else "t-1"
    return RecordTaskProgress(task_id=task_id, status=TaskStatus.DONE), OUTSIDER


def _communicate(case: Case, now: datetime) -> tuple[Command, Actor] | None:
    """A partner tells the case leader something between meetings."""
    partners = [m for m in case.network if not m.case_leader]
    if not partners:
        return None
    command = RecordPartnerCommunication(
        to_members=(case.case_leader.member_id,), information="Safety plan agreed."
    )
    return command, _actor(partners[0])


def _outsider_communication(case: Case, now: datetime) -> tuple[Command, Actor]:
    command = RecordPartnerCommunication(
        to_members=(case.case_leader.member_id,), information="Heard something."
    )
    return command, OUTSIDER


def _review(needs_remain: bool) -> Maker:
    def make(case: Case, now: datetime) -> Command:
        return HoldReviewMeeting(
            participants=case.member_ids,
            needs_remain=needs_remain,
            risks_reduced=not needs_remain,
        )

    return make


def _close(case: Case, now: datetime) -> Command:
    return CloseCase(summary="Risks reduced; no needs remain.")


_LEADER = "as case leader"
_POLICE = "as police"
_OUTSIDER = "as an outsider"
_NOT_LEADER = ("actor_is_case_leader",)
_NOT_MEMBER = ("actor_in_network",)


_HAS_PLAN = "Stage 4 begins only once the cycle's plan was sent to every participant"
_HAS_TASKS = "the plan was distributed, which it can be only with tasks, and tasks stay"


def _pair(trigger: str, make: Maker) -> tuple[InputCase, InputCase]:
    """The case leader's input and the police partner's (which breaks the leader rule)."""
    return _right_and_wrong(trigger, make, (_LEADER, _leader), (_POLICE, POLICE), _NOT_LEADER)


def _distribute(case: Case, now: datetime) -> Command:
    return DistributePlan()


def _begin(case: Case, now: datetime) -> Command:
    return BeginCaseManagement()


def _victim(case: Case) -> str:
    return next((p.ref for p in case.people_at_risk if p.relation == "victim"), case.client.ref)


def _referral(consented: bool) -> Maker:
    """The case's victim to victim support, with or without consent."""

    def make(case: Case, now: datetime) -> Command:
        from ._marac_values import Consent
        from .stages.referrals import ReferToService

        victim = _victim(case)
        consent = Consent(
            given_by=victim, given_at=now, purpose="Pass contact details to victim support."
        )
        return ReferToService(
            service="victim_support", person_ref=victim, consent=consent if consented else None
        )

    return make


def _marac_actions(case: Case, now: datetime) -> Command:
    from .stages.marac_link import TakeMaracActions

    return TakeMaracActions(marac_case_id="marac-0001")


def _referral_inputs(
    actor: Actor | Callable[[Case], Actor], prefix: str = "", also: tuple[InputCase, ...] = ()
) -> tuple[InputCase, ...]:
    """``refer_to_service`` of the case's victim to victim support by ``actor``, with
    consent and without (which breaks ``consent_given``), then ``also``, then an outsider's
    (which breaks ``actor_in_network``); ``prefix`` starts the first two names. MARAC's
    inputs use them too."""
    trigger = "refer_to_service"
    return (
        InputCase(trigger=trigger, name=f"{prefix}with consent", build=by(_referral(True), actor)),
        InputCase(
            trigger=trigger,
            name=f"{prefix}without consent",
            build=by(_referral(False), actor),
            breaks=("consent_given",),
        ),
        *also,
        InputCase(
            trigger=trigger, name=_OUTSIDER, build=by(_referral(True), OUTSIDER), breaks=_NOT_MEMBER
        ),
    )


_LINKED = "it needs the outcome of a linked MARAC case, another case; a path drives one"

#: The input cases of TUKO: every transition and both outcomes of every rule.
TUKO_INPUTS = InputCases(
    protocol=TUKO,
    intakes=(
        IntakeCase(
            name="normal",
            build=_normal_intake,
            actor=OFFICER,
            description="A domestic-violence case; the client does not live with the victim.",
        ),
        IntakeCase(
            name="always_assume_need",
            build=_assume_need_intake,
            actor=OFFICER,
            description="The client lives with the victim: the matrix cell always assumes need.",
        ),
        IntakeCase(
            name="leader_only_network",
            build=_leader_only_intake,
            actor=OFFICER,
            description="The network is only the case leader; partners must be added.",
        ),
    ),
    inputs=(
        InputCase(
            trigger="notice_need",
            name="as a partner",
            build=by(_notice, _partner),
            description="The first partner of the network (the leader when there is none).",
        ),
        InputCase(
            trigger="notice_need",
            name=_OUTSIDER,
            build=by(_notice, OUTSIDER),
            breaks=_NOT_MEMBER,
        ),
        *_pair("add_network_member", _new_member),
        *_pair("inform_network", _inform),
        *_pair("schedule_meeting", _schedule),
        *_pair("hold_meeting", _hold),
        InputCase(
            trigger="share_information",
            name="as the next participant",
            build=_next_unheard,
            description="The next meeting participant not heard yet (a partner before the "
            "meeting).",
        ),
        InputCase(
            trigger="share_information",
            name=_OUTSIDER,
            build=by(_share, OUTSIDER),
            breaks=_NOT_MEMBER,
        ),
        *_pair("record_common_assessment", _assess),
        *_pair("decide_cooperation_needed", _needed),
        *_pair("decide_no_cooperation_needed", _not_needed),
        InputCase(trigger="draft_plan", name="normal plan", build=by(_plan(False), _leader)),
        InputCase(trigger="draft_plan", name="crisis plan", build=by(_plan(True), _leader)),
        InputCase(
            trigger="draft_plan", name=_POLICE, build=by(_plan(False), POLICE), breaks=_NOT_LEADER
        ),
        *_pair("assign_task", _task),
        *_pair("distribute_plan", _distribute),
        InputCase(
            trigger="distribute_plan",
            name="after the agreed meeting time",
            build=by(_distribute, _leader),
            breaks=("next_meeting_agreed",),
            wait=timedelta(days=8),
            description="Eight days on, past the next meeting agreed in the plan.",
        ),
        *_pair("begin_case_management", _begin),
        InputCase(trigger="record_task_progress", name="as the task owner", build=_progress),
        InputCase(
            trigger="record_task_progress",
            name=_OUTSIDER,
            build=_outsider_progress,
            breaks=_NOT_MEMBER,
        ),
        InputCase(trigger="record_partner_communication", name="as a partner", build=_communicate),
        InputCase(
            trigger="record_partner_communication",
            name=_OUTSIDER,
            build=_outsider_communication,
            breaks=_NOT_MEMBER,
        ),
        InputCase(
            trigger="hold_review_meeting",
            name="risks reduced, no needs",
            build=by(_review(False), _leader),
        ),
        InputCase(
            trigger="hold_review_meeting",
            name="needs remain",
            build=by(_review(True), _leader),
            description="The review finds needs remaining and risks not reduced.",
        ),
        InputCase(
            trigger="hold_review_meeting",
            name=_POLICE,
            build=by(_review(False), POLICE),
            breaks=_NOT_LEADER,
        ),
        *_pair("close_case", _close),
        *_referral_inputs(_partner),
        InputCase(
            trigger="take_marac_actions",
            name="without a MARAC outcome",
            build=by(_marac_actions, _leader),
            breaks=("marac_outcome_received",),
            description="No linked MARAC case has shared its actions with this case.",
        ),
        InputCase(
            trigger="take_marac_actions",
            name=_POLICE,
            build=by(_marac_actions, POLICE),
            breaks=_NOT_LEADER,
        ),
    ),
    unreachable={
        Goal("take_marac_actions", "stage3_plan"): _LINKED,
        Goal("take_marac_actions", "stage3_plan", "marac_outcome_received", True): _LINKED,
        Goal("take_marac_actions", "stage4_manage"): _LINKED,
        Goal("take_marac_actions", "stage4_manage", "marac_outcome_received", True): _LINKED,
        Goal("take_marac_actions", "stage4_manage", "plan_drafted", False): _HAS_PLAN,
        Goal("assign_task", "stage4_manage", "plan_drafted", False): _HAS_PLAN,
        Goal("distribute_plan", "stage4_manage", "plan_drafted", False): _HAS_PLAN,
        Goal("distribute_plan", "stage4_manage", "plan_has_tasks", False): _HAS_TASKS,
    },
)
