"""Diagrams are drawn from the protocol's data, with a case's state and path when given."""

from __future__ import annotations

import re

import pytest

from tuko_flow import TUKO, Engine, ManualClock
from tuko_flow._cli import main
from tuko_flow.diagrams import dot, mermaid, path_of
from tuko_flow.testing import drive_to


def test_mermaid_draws_every_transition_from_every_source() -> None:
    """Each (source, trigger) pair of TUKO is an arrow labelled with its guard rules."""
    text = mermaid(TUKO)
    for t in TUKO.transitions:
        for source in t.source:
            arrow = f"{source} --> {t.dest or source}: {t.trigger}"
            assert any(line.strip().startswith(arrow) for line in text.splitlines()), arrow
            if t.rules:
                assert f"[{', '.join(t.rules)}]" in text


def test_closed_states_are_marked_in_both_formats() -> None:
    """closed and closed_no_need carry the 'closed' class (Mermaid) / a double border (DOT)."""
    assert "class closed_no_need,closed closed" in mermaid(TUKO)
    doubled = re.findall(r'"(\w+)" \[[^]]*peripheries=2', dot(TUKO))
    assert sorted(doubled) == ["closed", "closed_no_need"]


def test_automatic_transitions_are_distinguished() -> None:
    """assume_need is labelled automatic (Mermaid) and dashed (DOT)."""
    assert "assume_need (automatic) [always_assume_need]" in mermaid(TUKO)
    assert re.search(
        r'"awaiting_notice" -> "stage1_notice" \[label="assume_need.*dashed', dot(TUKO)
    )


def test_a_case_is_highlighted_with_its_path(engine: Engine, clock: ManualClock) -> None:
    """With a case, its current state is 'current' and the states it passed are 'visited'."""
    case = drive_to(engine, clock, "case-d1", "stage3_plan")
    history = engine.history("case-d1")
    assert path_of(history) == [
        "awaiting_notice",
        "stage1_notice",
        "stage2_evaluate",
        "stage3_plan",
    ]
    text = mermaid(TUKO, case=case, history=history)
    assert "class stage3_plan current" in text
    assert "class awaiting_notice,stage1_notice,stage2_evaluate visited" in text
    drawn = dot(TUKO, case=case, history=history)
    assert re.search(r'"stage3_plan" \[[^]]*fillcolor="#ffd966"', drawn)
    assert re.search(r'"stage2_evaluate" \[[^]]*fillcolor="#e8e8e8"', drawn)
    assert not re.search(r'"stage4_manage" \[[^]]*filled', drawn)


def test_dot_is_balanced_and_names_the_protocol() -> None:
    """The DOT text opens and closes one digraph named after the protocol and version."""
    text = dot(TUKO)
    assert text.startswith('digraph "tuko@1" {')
    assert text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")


def test_cli_diagram_prints_mermaid_and_needs_a_store_for_a_case(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tuko-flow diagram` prints the Mermaid diagram; --case without --store is an error."""
    assert main(["diagram"]) == 0
    assert capsys.readouterr().out.strip() == mermaid(TUKO)
    assert main(["diagram", "--case", "case-0001"]) == 2
    assert "--case needs --store" in capsys.readouterr().err
