"""Helpers for the MARAC tests: made-up pseudonymous people, a MARAC network, checklists,
and short walks through the public API to a MARAC state.

Every reference here is invented (``victim-3c1d``, ``client-8e2f``, ``pol-612`` ...); no
helper produces a name or any other personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tuko_flow import (
    AcceptReferral,
    Actor,
    Case,
    Client,
    Engine,
    HoldConference,
    ManualClock,
    MaracAction,
    NetworkMember,
    OfferAdvocate,
    OpenMaracCase,
    PersonAtRisk,
    ReceiveReferral,
    ReferToMarac,
    ReferToService,
    Relation,
    VictimNotice,
)
from tuko_flow.rules.dash import SAFELIVES_DASH, Checklist, Instrument, answers_from

VICTIM = "victim-3c1d"
PERPETRATOR = "client-8e2f"
CHILD = "child-4a5b"
AREA = "area-north"
MARAC_CASE = "marac-0001"

POLICE = Actor(agency="police", person="pol-612")
COORDINATOR = Actor(agency="victim_support", person="vs-713")
ADVOCATE = Actor(agency="womens_support_centre", person="wsc-814")
CHILD_PROTECTION = Actor(agency="child_protection", person="cp-915")

#: Police (the referring agency), the coordinator (case leader), an independent advocate
#: and child protection.
MARAC_NETWORK = (
    NetworkMember(member_id="m-pol", agency="police", person="pol-612"),
    NetworkMember(member_id="m-vs", agency="victim_support", person="vs-713", case_leader=True),
    NetworkMember(member_id="m-idva", agency="womens_support_centre", person="wsc-814"),
    NetworkMember(member_id="m-cp", agency="child_protection", person="cp-915"),
)
#: The agencies at a conference (the coordinator's among them).
PRESENT = ("police", "victim_support", "womens_support_centre", "child_protection")

SAFE_NOTICE = VictimNotice(safe=True, how="in person, at the station, the other party absent")
UNSAFE_NOTICE = VictimNotice(safe=False, reason="the other party reads her messages")


def checklist(
    yes: int = 0,
    *,
    at: datetime,
    victim: str = VICTIM,
    children: bool = False,
    incidents: int = 0,
    judgement: str | None = None,
    instrument: Instrument = SAFELIVES_DASH,
    asked_by: Actor = POLICE,
) -> Checklist:
    """A complete checklist: the first ``yes`` questions answered yes, the rest no."""
    values = {q: ("yes" if i < yes else "no") for i, q in enumerate(instrument.ids)}
    return Checklist(
        instrument=instrument,
        answers=answers_from(values, instrument=instrument, asked_by=asked_by, asked_at=at),
        victim_ref=victim,
        children_in_household=children,
        incidents=incidents,
        professional_judgement=judgement,
    )


def open_marac(
    engine: Engine,
    clock: ManualClock,
    *,
    case_id: str = MARAC_CASE,
    yes: int = 15,
    children: bool = False,
    incidents: int = 0,
    judgement: str | None = None,
    area: str = AREA,
    with_checklist: bool = True,
    victim: str = VICTIM,
    perpetrator: str = PERPETRATOR,
) -> Case:
    """Open a MARAC case, assessed with a DASH by the police (high risk by default)."""
    people = (PersonAtRisk(ref=CHILD, relation=Relation.CHILD),) if children else ()
    return engine.open_case(
        OpenMaracCase(
            case_id=case_id,
            area=area,
            victim=PersonAtRisk(ref=victim, relation=Relation.VICTIM),
            perpetrator=Client(perpetrator),
            network=MARAC_NETWORK,
            children=people,
            checklist=(
                checklist(
                    yes,
                    at=clock.now(),
                    victim=victim,
                    children=children,
                    incidents=incidents,
                    judgement=judgement,
                )
                if with_checklist
                else None
            ),
        ),
        actor=POLICE,
    )


def refer(engine: Engine, case_id: str = MARAC_CASE, *, police: Actor = POLICE) -> Case:
    return engine.execute(case_id, ReferToMarac(victim_notice=SAFE_NOTICE), actor=police)


def list_for_conference(
    engine: Engine,
    clock: ManualClock,
    case_id: str = MARAC_CASE,
    *,
    days: int = 10,
    coordinator: Actor = COORDINATOR,
    police: Actor = POLICE,
) -> Case:
    """Refer, receive and accept the referral for a conference ``days`` ahead."""
    refer(engine, case_id, police=police)
    engine.execute(case_id, ReceiveReferral(), actor=coordinator)
    return engine.execute(
        case_id,
        AcceptReferral(conference_at=clock.now() + timedelta(days=days)),
        actor=coordinator,
    )


def prepare_conference(
    engine: Engine,
    case_id: str = MARAC_CASE,
    *,
    children: bool,
    coordinator: Actor = COORDINATOR,
    police: Actor = POLICE,
    child: str = CHILD,
) -> None:
    """Offer the advocate, and refer the child to child welfare where children live."""
    engine.execute(case_id, OfferAdvocate(advocate="m-idva", accepted=True), actor=coordinator)
    if children:
        engine.execute(
            case_id, ReferToService(service="child_welfare", person_ref=child), actor=police
        )


#: An action of a MARAC plan: (action id, agency, task area), or with the days until it is
#: due added (a week if not given).
PlannedAction = tuple[str, str, str] | tuple[str, str, str, int]


def actions(clock: ManualClock, *planned: PlannedAction) -> list[MaracAction]:
    """MaracActions due a week (or the days given) from now, one per :data:`PlannedAction`."""
    today = clock.now().date()
    return [
        MaracAction(
            action_id=p[0],
            agency=p[1],
            description=f"Action {p[0]} of the MARAC plan.",
            area=p[2],
            due_on=today + timedelta(days=p[3] if len(p) == 4 else 7),
        )
        for p in planned
    ]


DEFAULT_ACTIONS = (
    ("a-1", "police", "policing"),
    ("a-2", "womens_support_centre", "victim_safety"),
)


def hold_conference(
    engine: Engine,
    clock: ManualClock,
    case_id: str = MARAC_CASE,
    *,
    plan: Sequence[PlannedAction] = DEFAULT_ACTIONS,
    present: Sequence[str] = PRESENT,
    coordinator: Actor = COORDINATOR,
) -> Case:
    return engine.execute(
        case_id,
        HoldConference(
            held_at=clock.now(),
            agencies_present=tuple(present),
            victim_represented_by="m-idva",
            actions=actions(clock, *plan),
        ),
        actor=coordinator,
    )


def discussed(
    engine: Engine,
    clock: ManualClock,
    case_id: str = MARAC_CASE,
    *,
    plan: Sequence[tuple[str, str, str]] = DEFAULT_ACTIONS,
    **open_kw: object,
) -> Case:
    """Open a high-risk MARAC case and take it through its first conference."""
    open_marac(engine, clock, case_id=case_id, **open_kw)  # type: ignore[arg-type]
    list_for_conference(engine, clock, case_id)
    prepare_conference(engine, case_id, children=bool(open_kw.get("children")))
    clock.advance(days=10)
    return hold_conference(engine, clock, case_id, plan=plan)


def new_types(engine: Engine, case_id: str, before: int) -> list[str]:
    """Class names of the events stored after version ``before``."""
    return [type(e).__name__ for e in engine.history(case_id)[before:]]
