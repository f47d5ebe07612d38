"""Properties of the MARAC protocol, checked through the engine with hypothesis.

* Professional judgement never lowers a visible-high-risk result (issue 3; DOMAIN.md:
  "Professional judgement never downgrades a visible-high-risk result").
* A new incident inside the repeat window is always flagged as a repeat, and one outside
  never is, whatever the window, its anchor and the dates.
* Random command sequences never reach a state outside the protocol, move only along
  declared transitions, write nothing when refused, and replay to the live case.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marac_helpers import (
    ADVOCATE,
    CHILD,
    COORDINATOR,
    MARAC_CASE,
    POLICE,
    PRESENT,
    SAFE_NOTICE,
    actions,
    checklist,
    open_marac,
)

from tuko_flow import (
    MARAC,
    AcceptReferral,
    ActionReview,
    Actor,
    CirculateMinutes,
    CloseMaracCase,
    DecideNotToRefer,
    Engine,
    HoldConference,
    InMemoryEventStore,
    ManualClock,
    MaracConfig,
    OfferAdvocate,
    ReceiveReferral,
    RecordRiskAssessment,
    ReferToMarac,
    ReferToService,
    RepeatAnchor,
    ReportIncident,
    ReturnReferral,
    ReviewActions,
    ShareMaracInformation,
    TukoConfig,
    replay,
)
from tuko_flow.errors import CommandRefused, ValidationError
from tuko_flow.events import StageChanged
from tuko_flow.rules.dash import Thresholds
from tuko_flow.testing import START

STATES = {s.name for s in MARAC.states}
_SLOW = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


def engine_for(clock: ManualClock, **marac: object) -> Engine:
    config = TukoConfig(marac=MaracConfig(**marac))  # type: ignore[arg-type]
    return Engine(InMemoryEventStore(), clock=clock, config=config)


# --- professional judgement -------------------------------------------------------------


@settings(max_examples=60, **_SLOW)  # type: ignore[arg-type]
@given(
    yes=st.integers(min_value=0, max_value=24),
    threshold=st.integers(min_value=1, max_value=24),
    incidents=st.integers(min_value=0, max_value=6),
    reasons=st.text(min_size=1, max_size=60).filter(lambda s: s.strip() != ""),
)
def test_professional_judgement_never_lowers_visible_high_risk(
    yes: int, threshold: int, incidents: int, reasons: str
) -> None:
    """The same DASH with judgement added meets every criterion it met without, visible
    high risk exactly when yes >= threshold, and can always be referred."""
    clock = ManualClock(START)
    engine = engine_for(clock, thresholds=Thresholds(visible_high_risk=threshold))
    plain = open_marac(
        engine, clock, case_id="marac-plain", yes=yes, incidents=incidents, victim="victim-p1"
    )
    judged = open_marac(
        engine,
        clock,
        case_id="marac-judged",
        yes=yes,
        incidents=incidents,
        judgement=reasons,
        victim="victim-j1",
    )
    without = plain.marac.current.criteria_met
    with_judgement = judged.marac.current.criteria_met
    assert set(without) <= set(with_judgement)
    assert "professional_judgement" in with_judgement
    assert ("visible_high_risk" in with_judgement) is (yes >= threshold)
    assert ("visible_high_risk" in without) is (yes >= threshold)
    referral = engine.execute(
        "marac-judged", ReferToMarac(victim_notice=SAFE_NOTICE), actor=POLICE
    ).marac.current.referral
    assert referral is not None
    assert set(without) <= set(referral.criteria)


# --- the repeat window ------------------------------------------------------------------


@settings(max_examples=60, **_SLOW)  # type: ignore[arg-type]
@given(
    referral_day=st.integers(min_value=0, max_value=400),
    conference_after=st.integers(min_value=1, max_value=28),
    offset=st.integers(min_value=-40, max_value=800),
    window=st.integers(min_value=1, max_value=730),
    anchor=st.sampled_from(RepeatAnchor),
    criminal=st.booleans(),
    requires_criminal=st.booleans(),
)
def test_a_repeat_inside_the_window_is_always_flagged_and_outside_never(
    referral_day: int,
    conference_after: int,
    offset: int,
    window: int,
    anchor: RepeatAnchor,
    criminal: bool,
    requires_criminal: bool,
) -> None:
    """An incident ``offset`` days after the anchor (the last referral or the last
    conference) is a repeat exactly when 0 <= offset <= window (and, under the older
    definition, the incident is criminal)."""
    clock = ManualClock(START + timedelta(days=referral_day))
    engine = engine_for(
        clock,
        repeat_window_days=window,
        repeat_anchor=anchor,
        repeat_requires_criminal=requires_criminal,
    )
    referred_at = clock.now()
    open_marac(engine, clock, yes=16)
    engine.execute(MARAC_CASE, ReferToMarac(victim_notice=SAFE_NOTICE), actor=POLICE)
    engine.execute(MARAC_CASE, ReceiveReferral(), actor=COORDINATOR)
    conference_at = referred_at + timedelta(days=conference_after)
    engine.execute(MARAC_CASE, AcceptReferral(conference_at=conference_at), actor=COORDINATOR)
    engine.execute(MARAC_CASE, OfferAdvocate(advocate="m-idva", accepted=True), actor=COORDINATOR)
    clock.set(conference_at)
    engine.execute(
        MARAC_CASE,
        HoldConference(
            held_at=conference_at,
            agencies_present=PRESENT,
            victim_represented_by="m-idva",
            actions=(),
        ),
        actor=COORDINATOR,
    )
    engine.execute(MARAC_CASE, CloseMaracCase(reason="Plan complete."), actor=COORDINATOR)
    anchor_at = referred_at if anchor is RepeatAnchor.LAST_REFERRAL else conference_at
    occurred_on = anchor_at.date() + timedelta(days=offset)
    clock.set(max(clock.now(), datetime.combine(occurred_on, time(12), tzinfo=START.tzinfo)))
    case = engine.execute(
        MARAC_CASE,
        ReportIncident(occurred_on=occurred_on, kind="unwanted_contact", criminal=criminal),
        actor=POLICE,
    )
    incident = case.marac.current.incidents[-1]
    expected = 0 <= offset <= window and (criminal or not requires_criminal)
    assert incident.repeat is expected
    assert incident.anchor_at == anchor_at
    assert (case.marac.current.criteria_met == ("repeat",)) is expected
    assert case.state == "assessment"
    assert case.marac.current.number == 2


# --- random command sequences -----------------------------------------------------------

STRANGER = Actor(agency="police", person="pol-999")
ACTORS = (POLICE, COORDINATOR, ADVOCATE, STRANGER)
#: Who would ordinarily send each command (the referring police officer, or the
#: coordinator); most steps use them, so that walks get past the referral.
_USUAL = {0: POLICE, 1: POLICE, 2: POLICE, 3: POLICE, 8: POLICE, 13: POLICE}


def _command(op: int, n: int, engine: Engine, clock: ManualClock) -> object | None:
    """A plausible MARAC command (``None``: advance the clock or check deadlines)."""
    now = clock.now()
    current = engine.case(MARAC_CASE).marac.current
    if op == 0:
        return RecordRiskAssessment(
            checklist=checklist(
                (n * 7) % 25,
                at=now,
                children=n % 3 == 0,
                incidents=n % 5,
                judgement="Judged high risk." if n % 4 == 0 else None,
            )
        )
    if op == 1:
        return ReportIncident(
            occurred_on=now.date() - timedelta(days=n % 30), kind="dispute", criminal=n % 2 == 0
        )
    if op == 2:
        return ReferToMarac(victim_notice=SAFE_NOTICE)
    if op == 3:
        return DecideNotToRefer(reason="No criterion met.")
    if op == 4:
        return ReceiveReferral()
    if op == 5:
        return AcceptReferral(conference_at=now + timedelta(days=1 + n % 40))
    if op == 6:
        return ReturnReferral(reason="Returned for more information.")
    if op == 7:
        return OfferAdvocate(advocate=("m-idva", "m-pol")[n % 2], accepted=n % 3 != 0)
    if op == 8:
        return ReferToService(service="child_welfare", person_ref=CHILD)
    if op == 9:
        plan = [(f"a-{current.number}-{n}", "police", "policing")]
        return HoldConference(
            held_at=now,
            agencies_present=PRESENT,
            victim_represented_by="m-idva",
            actions=actions(clock, *plan),
        )
    if op == 10:
        return CirculateMinutes()
    if op == 11:
        outcomes = ("done", "prevented", "not_done", "in_progress")
        return ReviewActions(
            held_at=now,
            agencies_present=PRESENT,
            victim_represented_by="m-idva",
            reviews=[
                ActionReview(action_id=a.action_id, outcome=outcomes[(n + i) % 4])
                for i, a in enumerate(current.open_actions)
            ],
        )
    if op == 12:
        return CloseMaracCase(reason="Closed from MARAC.")
    if op == 13:
        return ShareMaracInformation(
            information="Relevant record.",
            to_agencies=(("victim_support",), ("client",))[n % 2],
        )
    return None


def _guided(n: int, engine: Engine, clock: ManualClock) -> int:
    """The op the protocol would ordinarily take next from the case's state."""
    case = engine.case(MARAC_CASE)
    current = case.marac.current
    if case.state == "assessment":
        return 2 if current.criteria_met else (0, 3)[n % 2]
    if case.state == "referred":
        return 4
    if case.state == "received":
        return (5, 5, 5, 6)[n % 4]
    if case.state == "listed":
        if case.marac.advocate is None:
            return 7
        if current.child_safeguarding_required and not case.service_referrals:
            return 8
        return 9
    if case.state == "discussed":
        last = current.last_conference
        if last is not None and last.held_at >= clock.now():
            return (10, 14)[n % 2]
        return 11 if current.open_actions else (10, 12, 12)[n % 3]
    return (0, 1, 1)[n % 3]


def _declared(trigger: str, from_state: str, to_state: str) -> bool:
    return any(
        t.trigger == trigger and from_state in t.source and t.dest == to_state
        for t in MARAC.transitions
    )


steps = st.lists(
    st.tuples(
        st.integers(min_value=-24, max_value=15),
        st.integers(min_value=-3, max_value=len(ACTORS) - 1),
        st.integers(min_value=0, max_value=1000),
    ),
    min_size=20,
    max_size=60,
)


@settings(max_examples=150, **_SLOW)  # type: ignore[arg-type]
@given(yes=st.integers(min_value=8, max_value=24), children=st.booleans(), steps=steps)
def test_random_commands_keep_a_marac_case_inside_its_protocol(
    yes: int, children: bool, steps: list[tuple[int, int, int]]
) -> None:
    """Whatever is tried, by whom: states are the protocol's, state changes follow a
    declared transition, refusals write nothing, and replay equals the live case."""
    clock = ManualClock(START)
    engine = Engine(InMemoryEventStore(), clock=clock)
    open_marac(engine, clock, yes=yes, children=children)
    for op, who, n in steps:
        before = engine.case(MARAC_CASE)
        if op < 0:  # the step the protocol would ordinarily take next, by its usual actor
            op, who = _guided(n, engine, clock), -1
        command = _command(op, n, engine, clock)
        if command is None:
            if op == 14:
                clock.advance(days=1 + n % 20)
            else:
                engine.check_deadlines()
            continue
        try:
            actor = _USUAL.get(op, COORDINATOR) if who < 0 else ACTORS[who]
            case = engine.execute(MARAC_CASE, command, actor=actor)  # type: ignore[arg-type]
        except (CommandRefused, ValidationError):
            assert engine.case(MARAC_CASE) == before
            assert len(engine.history(MARAC_CASE)) == before.version
            continue
        assert case.state in STATES
        for event in engine.history(MARAC_CASE)[before.version :]:
            if isinstance(event, StageChanged):
                assert _declared(event.command, event.from_state, event.to_state)
    history = engine.history(MARAC_CASE)
    assert replay(history) == engine.case(MARAC_CASE)
    assert engine.case(MARAC_CASE).version == len(history)
