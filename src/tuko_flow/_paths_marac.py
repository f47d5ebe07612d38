"""The input cases that drive every MARAC guard (``tuko_flow.paths.MARAC_INPUTS``).

Built from the made-up, pseudonymous MARAC sample of :mod:`tuko_flow._demo` (no person
is real): the police officer who carries out the DASH and refers the case, the MARAC
coordinator (victim support, the case leader) and the victim's independent advocate
(women's support centre). Five intake variants — a DASH above the visible-high-risk
threshold, one below it, one below it with a professional judgement, a high-risk one with
children in the household, and a case opened before any assessment — and, for every MARAC
command, the right professional's input plus inputs that break a named rule: an outsider
to the network, a partner who is not the coordinator, a referral without criteria, a
conference before the advocate offer or before the child-welfare referral, minutes sent
twice, closing with open actions, a referral to victim support without consent, and a
repeat incident after closure within the repeat window or after it (``wait``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ._case import Case
from ._config import TukoConfig
from ._demo import ADVOCATE, MARAC_NETWORK, POLICE, START, sample_checklist
from ._marac_values import ActionOutcome, ActionReview, MaracAction, VictimNotice
from ._paths import Goal, InputCase, InputCases, IntakeCase, Maker, _right_and_wrong, by
from ._paths_tuko import OUTSIDER, _leader, _referral_inputs  # the outsider; shared inputs
from ._protocol import Command
from ._values import Client, NetworkMember, PersonAtRisk, Relation
from .rules._base import RuleContext
from .rules.dash import Checklist
from .stages._marac_common import DISCUSSED, RESTING, marac_file
from .stages.marac import MARAC
from .stages.marac_conference import (
    CirculateMinutes,
    CloseMaracCase,
    HoldConference,
    ReviewActions,
    ShareMaracInformation,
)
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
from .stages.stage1_notice import AddNetworkMember

AREA = "harju"
VICTIM = PersonAtRisk(ref="victim-91c2", relation=Relation.VICTIM)
CHILD = PersonAtRisk(ref="child-55d0", relation=Relation.CHILD)
PERPETRATOR = Client("client-7f3a")

#: A made-up child-protection worker the coordinator may add to the MARAC network.
CHILD_PROTECTION_MEMBER = NetworkMember(
    member_id="m-cp", agency="child_protection", person="cp-404"
)
#: The advocate's member id in the demo's MARAC network.
ADVOCATE_ID = "m-idva"
#: The agencies at a conference: the referrer's, the coordinator's and the advocate's.
PRESENT = ("police", "victim_support", "womens_support_centre")

#: Yes answers above SafeLives' visible-high-risk threshold (14 of 24), and below it.
HIGH_YES = 16
LOW_YES = 5
#: From one conference to the review conference that follows it.
REVIEW_AFTER = timedelta(days=28)
#: Past the default repeat window (365 days) and the escalation window.
AFTER_WINDOW = timedelta(days=400)

#: The configuration the paths run with (``MARAC_INPUTS.config`` is the default).
_CONFIG = TukoConfig()

_JUDGEMENT = "Threats to kill since the separation; the victim fears for her life."


def checklist(
    yes: int, *, at: datetime, children: bool = False, judgement: str | None = None
) -> Checklist:
    """A SafeLives DASH for the victim: the first ``yes`` answers yes, the rest no, asked by
    the police officer at ``at``; one incident in the last 12 months."""
    return sample_checklist(
        yes, asked_at=at, victim_ref=VICTIM.ref, children=children, judgement=judgement
    )


def _intake(case_id: str, dash: Checklist | None, *, children: bool = False) -> Command:
    return OpenMaracCase(
        case_id=case_id,
        area=AREA,
        victim=VICTIM,
        perpetrator=PERPETRATOR,
        network=MARAC_NETWORK,
        children=(CHILD,) if children else (),
        checklist=dash,
    )


def _visible_high_risk(case_id: str) -> Command:
    return _intake(case_id, checklist(HIGH_YES, at=START))


def _below_threshold(case_id: str) -> Command:
    return _intake(case_id, checklist(LOW_YES, at=START))


def _professional_judgement(case_id: str) -> Command:
    return _intake(case_id, checklist(LOW_YES, at=START, judgement=_JUDGEMENT))


def _children_in_household(case_id: str) -> Command:
    return _intake(case_id, checklist(HIGH_YES, at=START, children=True), children=True)


def _not_assessed(case_id: str) -> Command:
    return _intake(case_id, None)


# --- who: the professionals of the case ----------------------------------------------------


#: The MARAC coordinator: the case leader of a MARAC case.
_coordinator = _leader


# --- command makers: (case, now) -> command ------------------------------------------------


def _dash(yes: int) -> Maker:
    def make(case: Case, now: datetime) -> Command:
        return RecordRiskAssessment(checklist=checklist(yes, at=now))

    return make


def _incident(case: Case, now: datetime) -> Command:
    return ReportIncident(occurred_on=now.date(), kind="unwanted_contact")


def _incident_if_resting(case: Case, now: datetime) -> Command | None:
    """An incident on a resting case (the input that waits past the repeat window)."""
    return _incident(case, now) if case.state in RESTING else None


def _refer(case: Case, now: datetime) -> Command:
    return ReferToMarac(
        victim_notice=VictimNotice(
            safe=True, how="In person at the police station.", perpetrator_aware=False
        )
    )


def _not_refer(case: Case, now: datetime) -> Command:
    return DecideNotToRefer(reason="The assessment meets no MARAC referral criterion.")


def _receive(case: Case, now: datetime) -> Command:
    return ReceiveReferral()


def _accept(case: Case, now: datetime) -> Command:
    return AcceptReferral(conference_at=now + timedelta(days=7))


def _return(case: Case, now: datetime) -> Command:
    return ReturnReferral(reason="Handled by the TUKO network; the risk is not high.")


def _offer(case: Case, now: datetime) -> Command:
    return OfferAdvocate(advocate=ADVOCATE_ID, accepted=True)


def _actions(now: datetime, prefix: str) -> tuple[MaracAction, ...]:
    due = now.date() + timedelta(days=14)
    return (
        MaracAction(
            action_id=f"{prefix}-1",
            agency="police",
            description="Flag the address for an urgent response.",
            area="policing",
            due_on=due,
        ),
        MaracAction(
            action_id=f"{prefix}-2",
            agency="womens_support_centre",
            description="Safety planning with the victim.",
            area="victim_safety",
            due_on=due,
        ),
    )


def _conference(case: Case, now: datetime) -> Command:
    number = marac_file(case).current.number
    return HoldConference(
        held_at=now,
        agencies_present=PRESENT,
        victim_represented_by=ADVOCATE_ID,
        actions=_actions(now, f"r{number}-a"),
    )


def _fails(rule: str, case: Case, now: datetime) -> bool:
    """Whether MARAC's rule ``rule`` fails for the case now (asked of the rule itself)."""
    ctx = RuleContext(case=case, actor=_coordinator(case), now=now, config=_CONFIG)
    return MARAC.rules[rule].check(ctx) is not True


def _conference_unless(rule: str) -> Maker:
    """The conference, only while ``rule`` fails (the input that breaks it)."""

    def make(case: Case, now: datetime) -> Command | None:
        return _conference(case, now) if _fails(rule, case, now) else None

    return make


def _minutes(case: Case, now: datetime) -> Command:
    return CirculateMinutes()


def _minutes_again(case: Case, now: datetime) -> Command | None:
    """The minutes of the latest conference a second time (only once they went out)."""
    current = marac_file(case).current
    last = current.last_conference
    if last is None or all(m.conference_at != last.held_at for m in current.minutes):
        return None
    return CirculateMinutes()


def _review(case: Case, now: datetime) -> Command:
    """The next conference: every open action done."""
    return ReviewActions(
        held_at=now,
        agencies_present=PRESENT,
        victim_represented_by=ADVOCATE_ID,
        reviews=tuple(
            ActionReview(action_id=a.action_id, outcome=ActionOutcome.DONE)
            for a in marac_file(case).current.open_actions
        ),
    )


def _review_nothing(case: Case, now: datetime) -> Command | None:
    return _review(case, now) if not marac_file(case).current.open_actions else None


def _close(case: Case, now: datetime) -> Command:
    return CloseMaracCase(reason="Actions complete; risk reduced.")


def _close_with_open_actions(case: Case, now: datetime) -> Command | None:
    return _close(case, now) if marac_file(case).current.open_actions else None


def _share(case: Case, now: datetime) -> Command:
    return ShareMaracInformation(
        information="The victim has moved to a refuge.", to_agencies=("police", "victim_support")
    )


def _new_member(case: Case, now: datetime) -> Command | None:
    if case.member(CHILD_PROTECTION_MEMBER.member_id) is not None:
        return None
    return AddNetworkMember(member=CHILD_PROTECTION_MEMBER)


def _any_member(case: Case, now: datetime) -> Command:
    return AddNetworkMember(member=CHILD_PROTECTION_MEMBER)


def _child_welfare(case: Case, now: datetime) -> Command | None:
    """The child of the household to the child-welfare specialist (no consent is sought)."""
    child = next((p for p in case.people_at_risk if p.relation == Relation.CHILD), None)
    if child is None:
        return None
    return ReferToService(service="child_welfare", person_ref=child.ref)


# --- the inputs ------------------------------------------------------------------------------

_AS_POLICE = "as the police officer"
_AS_COORDINATOR = "as the coordinator"
_AS_ADVOCATE = "as the advocate"
_AS_OUTSIDER = "as an outsider"
_NOT_COORDINATOR = ("actor_is_coordinator",)
_NOT_MEMBER = ("actor_in_network",)


def _by_police(trigger: str, make: Maker) -> tuple[InputCase, InputCase]:
    """The police officer's input, and an outsider's (which breaks ``actor_in_network``)."""
    return _right_and_wrong(
        trigger, make, (_AS_POLICE, POLICE), (_AS_OUTSIDER, OUTSIDER), _NOT_MEMBER
    )


def _by_coordinator(
    trigger: str, make: Maker, *, wait: timedelta = timedelta(0)
) -> tuple[InputCase, InputCase]:
    """The coordinator's input (after ``wait``), and the police officer's (which breaks the
    coordinator rule)."""
    return _right_and_wrong(
        trigger,
        make,
        (_AS_COORDINATOR, _coordinator),
        (_AS_POLICE, POLICE),
        _NOT_COORDINATOR,
        wait=wait,
    )


_SAFEGUARDED = (
    "a round is discussed only once the child-welfare referral it requires (children by "
    "its assessments or among the case's people at risk) was made in that round; "
    "hold_conference checks it, and in 'discussed' the round stays the same, no assessment "
    "or person at risk can be added and referrals are never withdrawn, so the rule cannot "
    "fail there"
)

#: The input cases of MARAC: every transition and both outcomes of every rule.
MARAC_INPUTS = InputCases(
    protocol=MARAC,
    start=START,  # the intakes' checklists are asked then
    intakes=(
        IntakeCase(
            name="visible_high_risk",
            build=_visible_high_risk,
            actor=POLICE,
            description=f"The police officer's DASH: {HIGH_YES} of 24 yes, above the threshold.",
        ),
        IntakeCase(
            name="below_threshold",
            build=_below_threshold,
            actor=POLICE,
            description=f"The police officer's DASH: {LOW_YES} of 24 yes, no other criterion.",
        ),
        IntakeCase(
            name="professional_judgement",
            build=_professional_judgement,
            actor=POLICE,
            description="Below the threshold, but the officer judges the case high risk, "
            "with written reasons.",
        ),
        IntakeCase(
            name="children_in_household",
            build=_children_in_household,
            actor=POLICE,
            description="Visible high risk, and a child lives in the household: a separate "
            "child-welfare referral is needed.",
        ),
        IntakeCase(
            name="not_assessed",
            build=_not_assessed,
            actor=POLICE,
            description="Opened before any risk assessment or incident was recorded.",
        ),
    ),
    inputs=(
        InputCase(
            trigger="record_risk_assessment",
            name="a DASH above the threshold",
            build=by(_dash(HIGH_YES), POLICE),
        ),
        InputCase(
            trigger="record_risk_assessment",
            name="a DASH below the threshold",
            build=by(_dash(LOW_YES), POLICE),
        ),
        InputCase(
            trigger="record_risk_assessment",
            name=_AS_OUTSIDER,
            build=by(_dash(HIGH_YES), OUTSIDER),
            breaks=_NOT_MEMBER,
        ),
        *_by_police("report_incident", _incident),
        InputCase(
            trigger="report_incident",
            name="after the repeat window",
            build=by(_incident_if_resting, POLICE),
            wait=AFTER_WINDOW,
            description="A resting case, 400 days on: not a repeat, a new referral.",
        ),
        *_by_police("refer_to_marac", _refer),
        InputCase(
            trigger="refer_to_marac",
            name="without criteria",
            build=by(_refer, POLICE),
            breaks=("referral_criteria_met",),
            description="Tried on every case; refused while no criterion is met.",
        ),
        *_by_police("decide_not_to_refer", _not_refer),
        *_by_coordinator("receive_referral", _receive),
        *_by_coordinator("accept_referral", _accept),
        *_by_coordinator("return_referral", _return),
        InputCase(trigger="offer_advocate", name=_AS_COORDINATOR, build=by(_offer, _coordinator)),
        InputCase(
            trigger="offer_advocate",
            name=_AS_OUTSIDER,
            build=by(_offer, OUTSIDER),
            breaks=_NOT_MEMBER,
        ),
        *_by_coordinator("hold_conference", _conference),
        InputCase(
            trigger="hold_conference",
            name="before the advocate offer",
            build=by(_conference_unless("advocate_offered"), _coordinator),
            breaks=("advocate_offered",),
        ),
        InputCase(
            trigger="hold_conference",
            name="before the child-welfare referral",
            build=by(_conference_unless("child_safeguarding_referred"), _coordinator),
            breaks=("child_safeguarding_referred",),
        ),
        *_by_coordinator("circulate_minutes", _minutes),
        InputCase(
            trigger="circulate_minutes",
            name="a second time",
            build=by(_minutes_again, _coordinator),
            breaks=("minutes_pending",),
        ),
        *_by_coordinator("review_actions", _review, wait=REVIEW_AFTER),
        InputCase(
            trigger="review_actions",
            name="with nothing to review",
            build=by(_review_nothing, _coordinator),
            breaks=("actions_to_review",),
            wait=REVIEW_AFTER,
        ),
        *_by_coordinator("close_marac_case", _close),
        InputCase(
            trigger="close_marac_case",
            name="with open actions",
            build=by(_close_with_open_actions, _coordinator),
            breaks=("actions_reviewed",),
        ),
        InputCase(trigger="share_marac_information", name=_AS_ADVOCATE, build=by(_share, ADVOCATE)),
        InputCase(
            trigger="share_marac_information",
            name=_AS_OUTSIDER,
            build=by(_share, OUTSIDER),
            breaks=_NOT_MEMBER,
        ),
        InputCase(
            trigger="add_network_member",
            name=_AS_COORDINATOR,
            build=by(_new_member, _coordinator),
            description="The coordinator adds a child-protection worker.",
        ),
        InputCase(
            trigger="add_network_member",
            name=_AS_POLICE,
            build=by(_any_member, POLICE),
            breaks=_NOT_COORDINATOR,
        ),
        *_referral_inputs(
            POLICE,
            "victim support ",
            also=(
                InputCase(
                    trigger="refer_to_service",
                    name="child welfare",
                    build=by(_child_welfare, POLICE),
                    description="The household's child, without consent, on the legal basis.",
                ),
            ),
        ),
    ),
    unreachable={
        Goal("close_marac_case", DISCUSSED, "child_safeguarding_referred", False): _SAFEGUARDED,
    },
)
