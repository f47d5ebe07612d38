"""Protocols are data: broken ones are rejected when built; TUKO is clean; others run too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from tuko_flow import (
    MARAC,
    TUKO,
    CaseDraft,
    Client,
    Command,
    Engine,
    InMemoryEventStore,
    ManualClock,
    NetworkMember,
    NoticeNeed,
    Protocol,
    StateSpec,
    TransitionSpec,
    replay,
)
from tuko_flow.errors import (
    CommandRefused,
    ProtocolDefinitionError,
    TukoFlowError,
    ValidationError,
)
from tuko_flow.events import CaseOpened, Event, StageChanged
from tuko_flow.rules import TUKO_RULES, Rule, RuleContext, rule
from tuko_flow.stages import intake
from tuko_flow.testing import OFFICER, POLICE, sample_intake

#: Seed 000, "WHY?" to the end of "STAGE 4", as published (bullet glyphs and dashes written
#: as "-"). Rule sources are checked against this text.
SEED_TEXT = """
WHY?
- Complex problems need shared responsibility
- High-risk cases often involve several stakeholders with important information and abilities
- Fragmented support and Control -> ineffective rehabilitation and danger for the victim
- TUKO offers a structured, coordinated, and shared approach
- Inspiration by the example of MAPPA and MARAC models

WHO?
A multidisciplinary network tailored to each case:
- Probation officer (case leader)
- Prison staff
- Local municipality
- Mental health, addiction & social workers
- Police
- NGOs
- The client whenever possible and safe

RISK-NEED MATRIX
- Contact sexual crimes
- Domestic violence offenders living with victims
High need

STAGE 1 - NOTICE AND INFORM OTHERS
- Precondition of TUKO is that at least one network partner notices the need for cooperation
  to increase the safety for the victim or community and to reduce the risk of reoffending.
- Probation officer as a case manager gathers/informs the network around the case.
- In some cases the probation offices needs to always assume the need.

STAGE 2 - SHARE INFO AND EVALUATE
- Meeting is lead by probation officer. Every participant shares relevant information and
  gives their evaluation about risks, needs and ways to work further.
- Common assessment is made:
 - Who is in threat?
 - What is the probability of damage to someone's heath or life?
 - What is the threat about? In which conditions it is more likely present itself?
 - What can increase or decrease the risk?
 - What are the needs and motivation of the client? What motivates the client?
 - What are the known protective factors?
- If the network find that there is a need for interagency cooperation the situation and its
  risks are described, and the cooperation moves to the next stage.
- If there is no need for further coordinated action, the case is closed until someone brings
  up the need again.

STAGE 3 - MAKEAPLAN
- In the third stage a written agreement on the further action will be made in the form of
  the **risk reduction** plan.
- Network members take responsibility if the form of tasks that corresponds to their area of
  competence and authority.
- In the crisis situation the timeframe is in days, in other cases in weeks.
- The time of the next meeting and in between communication is agreed.
- The plan is sent to all participants after the meeting to support responsibility and action.

STAGE 4 - COORDINATED CASE MANAGEMENT
- In the fourth stage a coordinated execution of the plan takes place.
- Partners communicate with each other to keep each other informed.
- Possible outcomes of the stage:
 - New meeting to assess the situation and to make adaptions to the plan.
 - If there are no needs and risks have been reduced, the probation officer documents the
   situation in written form and lets partners know that TUKO process has been finished.
 - If risks and need reemerge, a process will be started again.
"""


def _words(text: str) -> str:
    """Lower-case words separated by single spaces, so layout and punctuation do not matter."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def _passages(source: str) -> list[str]:
    """A rule's source split into the quoted passages (joined by " / " or elided by "...")."""
    parts = re.split(r"\s/\s|\.\.\.|\u2026", source)
    return [p for p in parts if p.strip()]


def _noop(_firing: Any) -> None:
    """A handler that records nothing."""


# --- broken definitions ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Go(Command):
    """Test command firing "go"."""

    name = "go"


@attrs.frozen(kw_only=True)
class Tick(Command):
    """Test command firing "tick"."""

    name = "tick"


@attrs.frozen(kw_only=True)
class Fall(Command):
    """Test command firing "fall"."""

    name = "fall"


@attrs.frozen(kw_only=True)
class Finish(Command):
    """Test command firing "finish"."""

    name = "finish"


@rule("always_passes", reason="never fails", source="test")
def always_passes(ctx: RuleContext) -> bool:
    return True


def _broken(**overrides: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": "broken",
        "version": "1",
        "description": "A protocol with one of each definition mistake.",
        "states": (
            StateSpec(name="a", description="A."),
            StateSpec(name="b", description="B.", closed=True),
        ),
        "initial": "a",
        "transitions": (
            TransitionSpec(
                trigger="go",
                source=("a",),
                dest="b",
                rules=("always_passes",),
                handler=_noop,
                command=Go,
            ),
        ),
        "rules": {"always_passes": always_passes},
        "intake": intake.OpenCase,
        "intake_handler": intake.open_case,
    }
    definition.update(overrides)
    return definition


def test_the_baseline_of_the_broken_protocol_is_valid() -> None:
    """Without planted mistakes the test protocol builds (so each problem below is planted)."""
    assert Protocol(**_broken()).initial == "a"


def test_every_definition_problem_is_reported_at_once() -> None:
    """Each planted mistake appears in one ProtocolDefinitionError, naming the offender."""
    definition = _broken(
        states=(
            StateSpec(name="a", description="A."),
            StateSpec(name="b", description="B."),
            StateSpec(name="a", description="A again."),
        ),
        initial="nowhere",
        transitions=(
            TransitionSpec(trigger="go", source=("a",), dest="b", handler=_noop, command=Go),
            TransitionSpec(trigger="go", source=("ghost",), dest="void", handler=_noop, command=Go),
            TransitionSpec(
                trigger="go",
                source=("b",),
                dest="a",
                rules=("no_such_rule",),
                handler=_noop,
                command=Go,
            ),
            TransitionSpec(trigger="go", source=("a",), dest="a", handler=_noop, command=Go),
            TransitionSpec(
                trigger="tick", source=("b",), dest="a", handler=_noop, command=Tick, auto=True
            ),
            TransitionSpec(trigger="leave", source=("b",), dest="a", handler=_noop, command=Go),
            TransitionSpec(trigger="stay", source=("b",), dest=None, handler=_noop),
            TransitionSpec(trigger="float", source=(), dest="a", handler=_noop, command=None),
        ),
        rules={"always_passes": always_passes, "alias": always_passes},
    )
    with pytest.raises(ProtocolDefinitionError) as exc:
        Protocol(**definition)
    expected = [
        "state 'a' is declared twice",
        "initial state 'nowhere' is not a declared state",
        "starts from unknown state 'ghost'",
        "goes to unknown state 'void'",
        "names unknown rule 'no_such_rule'",
        "a transition for 'go' from 'a' exists already",
        "'tick' (#4) is automatic and must not have a command",
        "command Go fires 'go', not 'leave'",
        "'stay' (#6) has no command class",
        "'float' (#7) has no source state",
        "rule registered as 'alias' is named 'always_passes'",
        "these rules are defined but no transition uses them: alias, always_passes",
    ]
    problems = exc.value.problems
    for text in expected:
        assert sum(text in p for p in problems) == 1, text
    assert len(problems) == len(expected) + 1  # "float" (no source) also has no command class
    assert exc.value.protocol == "broken"
    assert f"({len(problems)} problems)" in str(exc.value)
    for text in expected:
        assert text in str(exc.value)


@pytest.mark.parametrize(
    "transitions",
    [
        (
            TransitionSpec(trigger="there", source=("a",), dest="b", handler=_noop, auto=True),
            TransitionSpec(trigger="back", source=("b",), dest="a", handler=_noop, auto=True),
        ),
        (TransitionSpec(trigger="again", source=("a",), dest=None, handler=_noop, auto=True),),
    ],
    ids=["two-state-cycle", "self-loop"],
)
def test_automatic_transitions_that_can_loop_are_rejected(
    transitions: tuple[TransitionSpec, ...],
) -> None:
    """A cycle of automatic transitions could never settle, so the protocol is rejected."""
    definition = _broken(
        transitions=(
            TransitionSpec(trigger="go", source=("a",), dest="b", handler=_noop, command=Go),
            *transitions,
        )
    )
    with pytest.raises(ProtocolDefinitionError) as exc:
        Protocol(**definition)
    names = [t.trigger for t in transitions]
    assert any(all(n in p for n in names) for p in exc.value.problems)


# --- the shipped TUKO protocol --------------------------------------------------------


def test_tuko_builds_clean() -> None:
    """Rebuilding TUKO from its own parts raises nothing and gives an equal protocol."""
    rebuilt = Protocol(
        name=TUKO.name,
        version=TUKO.version,
        description=TUKO.description,
        states=TUKO.states,
        initial=TUKO.initial,
        transitions=TUKO.transitions,
        rules=TUKO.rules,
        intake=TUKO.intake,
        intake_handler=TUKO.intake_handler,
        appliers=TUKO.appliers,
        deadlines=TUKO.deadlines,
    )
    assert rebuilt == TUKO


def test_tuko_has_the_four_seed_stages() -> None:
    """Exactly one state per seed stage 1-4, plus the two closed states."""
    stages = sorted(s.stage for s in TUKO.states if s.stage is not None)
    assert stages == [1, 2, 3, 4]
    assert {s.name for s in TUKO.states if s.closed} == {"closed", "closed_no_need"}


@pytest.mark.parametrize("name", sorted(TUKO.rules))
def test_every_tuko_rule_guards_some_transition(name: str) -> None:
    """No rule is dead: each is named by at least one transition."""
    assert any(name in t.rules for t in TUKO.transitions)


@pytest.mark.parametrize("name", sorted(TUKO.rules))
def test_every_tuko_rule_explains_itself(name: str) -> None:
    """Each rule has its own name, a non-empty reason and a non-empty seed source."""
    r = TUKO.rules[name]
    assert isinstance(r, Rule)
    assert r.name == name
    assert r.reason.strip()
    assert r.source.strip()


@pytest.mark.parametrize("name", sorted(TUKO_RULES))
def test_every_tuko_rule_source_is_quoted_from_the_seed(name: str) -> None:
    """Every passage of a rule's source appears word for word in the seed text."""
    seed = _words(SEED_TEXT)
    passages = _passages(TUKO.rules[name].source)
    assert passages
    for passage in passages:
        assert _words(passage) in seed, passage


#: The source documents (seeds and the domain facts), beside the repository.
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _shared_text() -> str:
    files = [*sorted((SHARED / "seeds").glob("*.txt")), SHARED / "DOMAIN.md"]
    return _words(" ".join(f.read_text(encoding="utf-8") for f in files))


OTHER_RULES = sorted(
    {**{n: r for n, r in TUKO.rules.items() if n not in TUKO_RULES}, **MARAC.rules}.items()
)


@pytest.mark.parametrize(("name", "r"), OTHER_RULES, ids=[n for n, _ in OTHER_RULES])
def test_every_other_rule_quotes_its_sources_word_for_word(name: str, r: Rule) -> None:
    """Rules beyond Stages 1-4 quote seeds or the domain facts in double quotes, verbatim."""
    text = _shared_text()
    quoted = re.findall(r'"([^"]+)"', r.source)
    if name not in TUKO_RULES:
        assert quoted or "DOMAIN.md" in r.source, r.source
    for passage in quoted:
        for part in re.split(r"\.\.\.|\u2026", passage):
            if part.strip():
                assert _words(part) in text, part


def test_every_tuko_command_has_exactly_one_class() -> None:
    """The command table maps each trigger to the class that fires it."""
    for trigger, command in TUKO.commands.items():
        assert command.name == trigger
        assert TUKO.sources_of(trigger)


def test_every_non_initial_tuko_state_is_reachable() -> None:
    """Each state is the destination of some transition, or the initial state."""
    dests = {t.dest for t in TUKO.transitions}
    for state in TUKO.states:
        assert state.name == TUKO.initial or state.name in dests, state.name


# --- a protocol that is not TUKO ------------------------------------------------------


@attrs.frozen(kw_only=True)
class ReviewApproved(Event):
    """Test-only event: a review was approved."""

    decision: str


@attrs.frozen(kw_only=True)
class OpenReview(Command):
    """Test-only intake: open a review case led by one probation officer."""

    name = "open_review"

    case_id: str
    leader: NetworkMember


@attrs.frozen(kw_only=True)
class Approve(Command):
    """Test-only command: approve the review."""

    name = "approve"

    decision: str


@rule(
    "actor_leads_review",
    reason="only the review's leader may approve it",
    source="test protocol",
)
def actor_leads_review(ctx: RuleContext) -> bool:
    return ctx.case.case_leader.acts_as(ctx.actor)


def _open_review(f: Any) -> None:
    cmd: OpenReview = f.command
    p = f.problems()
    p.ref("case_id", cmd.case_id)
    f.reject(p)
    f.emit(
        CaseOpened,
        protocol=f.protocol.name,
        protocol_version=f.protocol.version,
        initial_state=f.state,
        client=Client("client-7f3a"),
        people_at_risk=(),
        network=(cmd.leader,),
        offence="review",
        matrix_cell="none",
        need="standard",
        always_assume_need=False,
    )


def _approve(f: Any) -> None:
    f.emit(ReviewApproved, decision=f.command.decision)


def _approved(draft: CaseDraft, e: ReviewApproved) -> None:
    """Approval changes nothing but the state; the engine sets the version."""


REVIEW = Protocol(
    name="review",
    version="1",
    description="A two-state test protocol: pending, then approved.",
    states=(
        StateSpec(name="pending", description="Waiting for approval."),
        StateSpec(name="approved", description="Approved.", closed=True),
    ),
    initial="pending",
    transitions=(
        TransitionSpec(
            trigger="approve",
            source=("pending",),
            dest="approved",
            rules=("actor_leads_review",),
            handler=_approve,
            command=Approve,
        ),
    ),
    rules={"actor_leads_review": actor_leads_review},
    intake=OpenReview,
    intake_handler=_open_review,
    appliers={ReviewApproved: _approved},
)

LEADER = NetworkMember(member_id="m-po", agency="probation", person="po-101", case_leader=True)


@pytest.fixture
def review_engine(clock: ManualClock) -> Engine:
    """An engine running only the review protocol."""
    return Engine(InMemoryEventStore(), clock=clock, protocols=(REVIEW,))


def test_custom_protocol_runs_on_the_engine(review_engine: Engine, clock: ManualClock) -> None:
    """A two-state protocol opens a case, approves it, and replays to the same state."""
    case = review_engine.open_case(OpenReview(case_id="rev-0001", leader=LEADER), actor=OFFICER)
    assert (case.protocol, case.state, case.version) == ("review", "pending", 1)
    assert review_engine.next_steps("rev-0001", OFFICER).allowed == ("approve",)
    clock.advance(hours=2)
    case = review_engine.execute("rev-0001", Approve(decision="approved"), actor=OFFICER)
    assert case.state == "approved"
    history = review_engine.history("rev-0001")
    assert [type(e) for e in history] == [CaseOpened, ReviewApproved, StageChanged]
    changed = history[-1]
    assert isinstance(changed, StageChanged)
    assert (changed.from_state, changed.to_state, changed.command) == (
        "pending",
        "approved",
        "approve",
    )
    assert history[1].occurred_at == clock.now()
    assert replay(history, protocols=(REVIEW,)) == case


def test_custom_protocol_rules_refuse_with_reasons(review_engine: Engine) -> None:
    """The custom rule refuses another actor, with its own name and reason."""
    review_engine.open_case(OpenReview(case_id="rev-0001", leader=LEADER), actor=OFFICER)
    with pytest.raises(CommandRefused) as exc:
        review_engine.execute("rev-0001", Approve(decision="approved"), actor=POLICE)
    assert exc.value.rules == ("actor_leads_review",)
    assert "only the review's leader may approve it" in str(exc.value)
    assert review_engine.case("rev-0001").state == "pending"


def test_custom_protocol_rejects_tuko_commands(review_engine: Engine) -> None:
    """A TUKO command is not a command of the review protocol."""
    review_engine.open_case(OpenReview(case_id="rev-0001", leader=LEADER), actor=OFFICER)
    with pytest.raises(ValidationError) as exc:
        review_engine.execute("rev-0001", NoticeNeed(what="A need."), actor=OFFICER)
    assert "'review'" in str(exc.value)
    assert "approve" in str(exc.value)


def test_engine_without_tuko_cannot_open_tuko_cases(review_engine: Engine) -> None:
    """An engine running only the review protocol does not accept TUKO's intake."""
    with pytest.raises(ValidationError) as exc:
        review_engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    assert "OpenReview" in str(exc.value)


def test_one_engine_runs_two_protocols_side_by_side(clock: ManualClock) -> None:
    """TUKO and the review protocol share one engine and one store."""
    engine = Engine(InMemoryEventStore(), clock=clock, protocols=(TUKO, REVIEW))
    engine.open_case(OpenReview(case_id="rev-0001", leader=LEADER), actor=OFFICER)
    engine.open_case(sample_intake("case-0001"), actor=OFFICER)
    clock.advance(minutes=30)
    engine.execute("rev-0001", Approve(decision="approved"), actor=OFFICER)
    engine.execute("case-0001", NoticeNeed(what="A need."), actor=POLICE)
    assert engine.case("rev-0001").state == "approved"
    assert engine.case("case-0001").state == "stage1_notice"
    assert engine.protocol_of(engine.case("rev-0001")) is REVIEW
    assert engine.protocol_of(engine.case("case-0001")) is TUKO


def test_engine_needs_a_protocol() -> None:
    """An engine with no protocol is refused."""
    with pytest.raises(TukoFlowError, match="at least one protocol"):
        Engine(protocols=())


def test_engine_refuses_cases_of_protocols_it_does_not_run(clock: ManualClock) -> None:
    """A case stored by a review engine cannot be worked on by a TUKO-only engine."""
    store = InMemoryEventStore()
    Engine(store, clock=clock, protocols=(REVIEW,)).open_case(
        OpenReview(case_id="rev-0001", leader=LEADER), actor=OFFICER
    )
    tuko_only = Engine(store, clock=clock)
    with pytest.raises(TukoFlowError, match="review@1"):
        tuko_only.next_steps("rev-0001", OFFICER)


def test_unreachable_states_traps_and_final_states_with_exits_are_rejected() -> None:
    """The graph checks name every state no case could reach, get out of, or stay in."""
    definition = _broken(
        states=(
            StateSpec(name="a", description="A."),
            StateSpec(name="b", description="B.", closed=True),
            StateSpec(name="island", description="Nothing leads here.", closed=True),
            StateSpec(name="pit", description="No way out."),
            StateSpec(name="end", description="Final, yet left.", final=True),
        ),
        transitions=(
            TransitionSpec(
                trigger="go",
                source=("a",),
                dest="b",
                rules=("always_passes",),
                handler=_noop,
                command=Go,
            ),
            TransitionSpec(trigger="fall", source=("a",), dest="pit", handler=_noop, command=Fall),
            TransitionSpec(
                trigger="finish", source=("b",), dest="end", handler=_noop, command=Finish
            ),
            TransitionSpec(trigger="go", source=("end",), dest="a", handler=_noop, command=Go),
        ),
    )
    with pytest.raises(ProtocolDefinitionError) as exc:
        Protocol(**definition)
    problems = exc.value.problems
    assert any("cannot be reached" in p and "island" in p for p in problems)
    assert any("traps" in p and "pit" in p and "island" not in p for p in problems)
    assert any("final state 'end' has outgoing transitions" in p for p in problems)
    assert len(problems) == 3


def test_tuko_is_sound_on_demand() -> None:
    """TUKO.problems() runs the same checks as building and finds nothing."""
    assert TUKO.problems() == []


def test_events_a_transition_emits_need_an_applier() -> None:
    """A protocol whose declared events have no applier is refused when built, naming the
    transitions and the events (the first command would otherwise fail deep inside)."""
    with pytest.raises(ProtocolDefinitionError) as broken:
        attrs.evolve(TUKO, appliers={})
    problems = broken.value.problems
    assert any("'notice_need'" in p and "NeedNoticed" in p for p in problems)
    assert all("no applier handles" in p for p in problems)


def test_events_the_intake_emits_need_an_applier() -> None:
    """MARAC's intake events (MaracCaseOpened, RiskAssessed) must be applied by MARAC."""
    with pytest.raises(ProtocolDefinitionError) as broken:
        attrs.evolve(MARAC, appliers={})
    assert any(p.startswith("the intake emits") for p in broken.value.problems)
