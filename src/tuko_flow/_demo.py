"""The sample case behind ``tuko-flow demo``: Stages 1-4, closure and a restart.

All identifiers are made-up pseudonymous references; no person is real.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs

from ._case import Case
from ._clock import ManualClock
from ._engine import Engine
from ._marac_values import ActionOutcome, ActionReview, MaracAction, Service, VictimNotice
from ._protocol import Command
from ._values import (
    Actor,
    Client,
    CommonAssessment,
    HarmProbability,
    NetworkMember,
    PersonAtRisk,
    Relation,
    TaskStatus,
)
from .errors import CommandRefused
from .events import Event
from .rules.dash import SAFELIVES_DASH, Checklist, answers_from
from .stages.intake import OpenCase
from .stages.marac_conference import CirculateMinutes, CloseMaracCase, HoldConference, ReviewActions
from .stages.marac_referral import (
    AcceptReferral,
    OfferAdvocate,
    OpenMaracCase,
    ReceiveReferral,
    ReferToMarac,
    ReportIncident,
)
from .stages.referrals import ReferToService
from .stages.stage1_notice import InformNetwork, NoticeNeed
from .stages.stage2_evaluate import (
    DecideCooperationNeeded,
    DecideNoCooperationNeeded,
    HoldMeeting,
    RecordCommonAssessment,
    ShareInformation,
)
from .stages.stage3_plan import AssignTask, BeginCaseManagement, DistributePlan, DraftPlan
from .stages.stage4_manage import (
    CloseCase,
    HoldReviewMeeting,
    RecordPartnerCommunication,
    RecordTaskProgress,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

OFFICER = Actor(agency="probation", person="po-101")
POLICE = Actor(agency="police", person="pol-202")
VICTIM_SUPPORT = Actor(agency="victim_support", person="vs-303")
CHILD_PROTECTION = Actor(agency="child_protection", person="cp-404")

NETWORK = (
    NetworkMember(member_id="m-po", agency="probation", person="po-101", case_leader=True),
    NetworkMember(member_id="m-pol", agency="police", person="pol-202"),
    NetworkMember(member_id="m-vs", agency="victim_support", person="vs-303"),
    NetworkMember(member_id="m-cp", agency="child_protection", person="cp-404"),
)


def sample_intake(case_id: str = "case-0001", *, lives_with_victim: bool = False) -> OpenCase:
    """An intake for a domestic-violence case with a victim and a child at risk."""
    return OpenCase(
        case_id=case_id,
        client=Client("client-7f3a"),
        people_at_risk=(
            PersonAtRisk(
                ref="victim-91c2", relation=Relation.VICTIM, lives_with_client=lives_with_victim
            ),
            PersonAtRisk(ref="child-55d0", relation=Relation.CHILD),
        ),
        network=NETWORK,
        offence="domestic_violence",
    )


def sample_assessment() -> CommonAssessment:
    return CommonAssessment(
        who_is_under_threat="The former partner and the child living with her.",
        probability_of_harm=HarmProbability.HIGH,
        threat_and_conditions="Threats by phone; more likely around child-contact handovers.",
        risk_modifiers="Alcohol raises the risk; stable work and the programme lower it.",
        client_needs_and_motivation="Wants contact with the child; motivated by work.",
        protective_factors="Victim engaged with support services; child protection involved.",
    )


class _Numbered:
    """Gives each demo command a readable, reproducible id: the case and the version its
    first event will have (``case-0001-v007``), so the demo's output, JSON and hash chains
    are the same on every run."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _id(self, case_id: str) -> str:
        return f"{case_id}-v{self.engine.store.version(case_id) + 1:03d}"

    def open_case(self, command: OpenCase | OpenMaracCase, *, actor: Actor) -> Case:
        numbered = attrs.evolve(command, command_id=self._id(command.case_id))
        return self.engine.open_case(numbered, actor=actor)

    def execute(self, case_id: str, command: Command, *, actor: Actor) -> Case:
        numbered = attrs.evolve(command, command_id=self._id(case_id))
        return self.engine.execute(case_id, numbered, actor=actor)


def run_sample_case(engine: Engine, clock: ManualClock, case_id: str = "case-0001") -> Case:
    """Take one case through Stages 1-4, close it, and raise the need again."""
    numbered = _Numbered(engine)
    numbered.open_case(sample_intake(case_id), actor=OFFICER)
    clock.advance(days=1)
    numbered.execute(
        case_id, NoticeNeed(what="Victim reports renewed threats by phone."), actor=POLICE
    )
    numbered.execute(
        case_id, InformNetwork(meeting_at=clock.now() + timedelta(days=2)), actor=OFFICER
    )
    clock.advance(days=2)
    numbered.execute(
        case_id, HoldMeeting(participants=("m-po", "m-pol", "m-vs", "m-cp")), actor=OFFICER
    )
    for actor, info in (
        (OFFICER, "Client attends supervision; denies threats."),
        (POLICE, "Two call-outs in the last month."),
        (VICTIM_SUPPORT, "Victim is frightened and wants a safety plan."),
        (CHILD_PROTECTION, "Child shows signs of stress at school."),
    ):
        numbered.execute(
            case_id,
            ShareInformation(information=info, evaluation="Risk is elevated; cooperation needed."),
            actor=actor,
        )
    numbered.execute(case_id, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)
    numbered.execute(
        case_id,
        DecideCooperationNeeded(
            situation="Escalating threats around child contact.",
            risks=("threats to the former partner", "child exposed to conflict"),
        ),
        actor=OFFICER,
    )
    numbered.execute(
        case_id,
        DraftPlan(
            crisis=True,
            communication="Weekly phone round between police and victim support.",
            next_meeting_at=clock.now() + timedelta(days=10),
        ),
        actor=OFFICER,
    )
    today = clock.now().date()
    for task_id, owner, area, days in (
        ("t-1", "m-pol", "policing", 3),
        ("t-2", "m-vs", "victim_safety", 5),
        ("t-3", "m-po", "supervision", 7),
    ):
        numbered.execute(
            case_id,
            AssignTask(
                task_id=task_id,
                description=f"Task {task_id} of the risk-reduction plan.",
                area=area,
                owner=owner,
                due_on=today + timedelta(days=days),
            ),
            actor=OFFICER,
        )
    numbered.execute(case_id, DistributePlan(), actor=OFFICER)
    numbered.execute(case_id, BeginCaseManagement(), actor=OFFICER)
    clock.advance(days=4)
    numbered.execute(
        case_id, RecordTaskProgress(task_id="t-1", status=TaskStatus.DONE), actor=POLICE
    )
    numbered.execute(
        case_id,
        RecordPartnerCommunication(to_members=("m-po",), information="Safety plan agreed."),
        actor=VICTIM_SUPPORT,
    )
    numbered.execute(
        case_id, RecordTaskProgress(task_id="t-2", status=TaskStatus.DONE), actor=VICTIM_SUPPORT
    )
    numbered.execute(
        case_id, RecordTaskProgress(task_id="t-3", status=TaskStatus.DONE), actor=OFFICER
    )
    clock.advance(days=6)
    numbered.execute(
        case_id,
        HoldReviewMeeting(
            participants=("m-po", "m-pol", "m-vs", "m-cp"), needs_remain=False, risks_reduced=True
        ),
        actor=OFFICER,
    )
    numbered.execute(
        case_id,
        CloseCase(summary="Threats stopped; victim safe; client engaged in the programme."),
        actor=OFFICER,
    )
    clock.advance(weeks=8)
    return numbered.execute(
        case_id,
        NoticeNeed(what="New report of threats after a custody hearing."),
        actor=VICTIM_SUPPORT,
    )


#: The MARAC professionals of the demo: the police officer who carries out the DASH, the
#: MARAC coordinator (victim support, the case leader of a MARAC case) and the victim's
#: independent advocate from the women's support centre.
ADVOCATE = Actor(agency="womens_support_centre", person="wsc-505")
MARAC_NETWORK = (
    NetworkMember(member_id="m-pol", agency="police", person="pol-202"),
    NetworkMember(member_id="m-coord", agency="victim_support", person="vs-303", case_leader=True),
    NetworkMember(member_id="m-idva", agency="womens_support_centre", person="wsc-505"),
)


def sample_checklist(
    yes: int,
    *,
    asked_at: datetime,
    victim_ref: str = "victim-91c2",
    incidents: int = 1,
    children: bool = True,
    judgement: str | None = None,
) -> Checklist:
    """A SafeLives DASH with ``yes`` yes answers (the first questions), the rest no, asked by
    the demo's police officer; ``children`` live in the household, ``judgement`` is the
    officer's professional judgement (none by default)."""
    values = {q: "yes" if i < yes else "no" for i, q in enumerate(SAFELIVES_DASH.ids)}
    return Checklist(
        instrument=SAFELIVES_DASH,
        answers=answers_from(values, instrument=SAFELIVES_DASH, asked_by=POLICE, asked_at=asked_at),
        victim_ref=victim_ref,
        children_in_household=children,
        incidents=incidents,
        professional_judgement=judgement,
    )


def run_marac(engine: Engine, clock: ManualClock, tuko_case_id: str = "case-0001") -> Case:
    """Threats after the custody hearing: the police's DASH finds high risk, the TUKO case
    raises a MARAC referral; conference, action plan, review, closure, then a repeat."""
    numbered = _Numbered(engine)
    tuko = engine.case(tuko_case_id)
    victim = next(p for p in tuko.people_at_risk if p.relation == Relation.VICTIM)
    child = next(p for p in tuko.people_at_risk if p.relation == Relation.CHILD)
    case_id = "marac-0001"
    numbered.open_case(
        OpenMaracCase(
            case_id=case_id,
            area="harju",
            victim=victim,
            perpetrator=tuko.client,
            network=MARAC_NETWORK,
            checklist=sample_checklist(16, asked_at=clock.now(), victim_ref=victim.ref),
            tuko_case_id=tuko_case_id,
        ),
        actor=POLICE,
    )
    numbered.execute(
        case_id,
        ReferToMarac(
            victim_notice=VictimNotice(
                safe=True, how="In person at the police station.", perpetrator_aware=False
            )
        ),
        actor=POLICE,
    )
    numbered.execute(
        case_id, ReferToService(service=Service.CHILD_WELFARE, person_ref=child.ref), actor=POLICE
    )
    numbered.execute(case_id, ReceiveReferral(), actor=VICTIM_SUPPORT)
    numbered.execute(
        case_id, AcceptReferral(conference_at=clock.now() + timedelta(days=7)), actor=VICTIM_SUPPORT
    )
    numbered.execute(case_id, OfferAdvocate(advocate="m-idva", accepted=True), actor=VICTIM_SUPPORT)
    clock.advance(days=7)
    present = ("police", "victim_support", "womens_support_centre")
    due = clock.now().date() + timedelta(days=14)
    numbered.execute(
        case_id,
        HoldConference(
            held_at=clock.now(),
            agencies_present=present,
            victim_represented_by="m-idva",
            actions=(
                MaracAction(
                    action_id="a-1",
                    agency="police",
                    description="Flag the address for an urgent response.",
                    area="policing",
                    due_on=due,
                ),
                MaracAction(
                    action_id="a-2",
                    agency="womens_support_centre",
                    description="Safety planning with the victim.",
                    area="victim_safety",
                    due_on=due,
                ),
            ),
        ),
        actor=VICTIM_SUPPORT,
    )
    clock.advance(days=1)
    numbered.execute(case_id, CirculateMinutes(), actor=VICTIM_SUPPORT)
    clock.advance(days=27)
    numbered.execute(
        case_id,
        ReviewActions(
            held_at=clock.now(),
            agencies_present=present,
            victim_represented_by="m-idva",
            reviews=(
                ActionReview(action_id="a-1", outcome=ActionOutcome.DONE),
                ActionReview(action_id="a-2", outcome=ActionOutcome.PREVENTED),
            ),
        ),
        actor=VICTIM_SUPPORT,
    )
    numbered.execute(
        case_id, CloseMaracCase(reason="Actions complete; risk reduced."), actor=VICTIM_SUPPORT
    )
    clock.advance(weeks=20)
    numbered.execute(
        case_id,
        ReportIncident(occurred_on=clock.now().date(), kind="breach_of_order"),
        actor=POLICE,
    )
    return numbered.execute(
        case_id,
        ReferToMarac(victim_notice=VictimNotice(safe=False, reason="The perpetrator is present.")),
        actor=POLICE,
    )


def run_demo(engine: Engine, clock: ManualClock, out: Callable[[str], None] = print) -> Case:
    """Run the sample case, printing stage changes and events, plus one explained refusal."""
    numbered = _Numbered(engine)

    def show(event: Event) -> None:
        out(describe(event))

    unsubscribe = engine.subscribe(show)
    try:
        out("== A domestic-violence case through TUKO Stages 1-4, closure and restart ==")
        case = run_sample_case(engine, clock)
        out("")
        out("== A DASH finds high risk: the TUKO case raises a MARAC referral; later a repeat ==")
        run_marac(engine, clock)
        out("")
        out("== An always-assume-need case (the client lives with the victim) ==")
        numbered.open_case(sample_intake("case-0002", lives_with_victim=True), actor=OFFICER)
    finally:
        unsubscribe()
    out("")
    out("== Trying to close it as 'no need' at Stage 2 ==")
    _to_stage2_decision(engine, clock, "case-0002")
    try:
        numbered.execute(
            "case-0002",
            DecideNoCooperationNeeded(reason="Client denies any conflict."),
            actor=OFFICER,
        )
    except CommandRefused as refusal:
        out(str(refusal))
    out("")
    out("== What can happen next for case-0002, for the case leader ==")
    out(engine.next_steps("case-0002", OFFICER).explain())
    return case


def _to_stage2_decision(engine: Engine, clock: ManualClock, case_id: str) -> None:
    numbered = _Numbered(engine)
    numbered.execute(
        case_id, InformNetwork(meeting_at=clock.now() + timedelta(days=1)), actor=OFFICER
    )
    clock.advance(days=1)
    numbered.execute(case_id, HoldMeeting(participants=("m-po", "m-pol")), actor=OFFICER)
    for actor in (OFFICER, POLICE):
        numbered.execute(
            case_id,
            ShareInformation(information="Shared at the meeting.", evaluation="Low current risk."),
            actor=actor,
        )
    numbered.execute(case_id, RecordCommonAssessment(assessment=sample_assessment()), actor=OFFICER)


def describe(event: Event) -> str:
    """One readable line for an event (no free text: only what kind of fact it is)."""
    from .events import StageChanged

    head = f"{event.occurred_at:%Y-%m-%d} {event.case_id} v{event.version:<3}"
    if isinstance(event, StageChanged):
        return f"{head} ** stage: {event.from_state} -> {event.to_state} (by {event.command})"
    skip = {"case_id", "version", "occurred_at", "actor", "command_id"}
    details = []
    for field in type(event).__attrs_attrs__:
        if field.name in skip:
            continue
        value = getattr(event, field.name)
        details.append(f"{field.name}={_short(value, field.name)}")
    who = f"{event.actor.agency}/{event.actor.person}"
    return f"{head}    {type(event).__name__} by {who}: {', '.join(details)}"


#: Fields that hold free text; the demo shows only that text was recorded, never the text.
_FREE_TEXT = {
    "communication",
    "risks",
    "note",
    "description",
    "text",
    "reason",
    "how",
    "professional_judgement",
}


def _short(value: object, field: str = "") -> str:
    from ._values import Information

    if value is None:
        return "None"
    if field in _FREE_TEXT:
        return "<text>" if not isinstance(value, tuple) else f"<{len(value)} texts>"
    if isinstance(value, Information):
        return f"<{value.classification.value} information from {value.source_agency}>"
    if isinstance(value, tuple) and len(value) > 4:
        kinds = sorted({type(v).__name__ for v in value})
        return f"<{len(value)} {'/'.join(kinds)}>"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    if hasattr(type(value), "__attrs_attrs__"):
        return f"<{type(value).__name__}>"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
