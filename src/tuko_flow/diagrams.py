"""Diagrams of protocols: Mermaid and Graphviz DOT, read from the protocol's own data.

Every transition is drawn from each of its source states, labelled with its trigger and
the guard rules that must pass; automatic transitions say so; closed states (where a case
rests when the work is done) are marked. Given a case, its current state and the states
its history passed through are highlighted.

>>> from tuko_flow import TUKO
>>> print(mermaid(TUKO).splitlines()[1])
    [*] --> awaiting_notice

``transitions`` has its own diagram extension, but it needs Graphviz bindings at run
time and draws one machine's configuration; these functions need nothing beyond the
protocol, so docs and tests can regenerate diagrams anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._case import Case
from ._protocol import Protocol, TransitionSpec
from .events import Event, StageChanged

__all__ = ["dot", "mermaid", "path_of"]


def _label(t: TransitionSpec) -> str:
    label = t.trigger + (" (automatic)" if t.auto else "")
    if t.rules:
        label += f" [{', '.join(t.rules)}]"
    return label


def path_of(history: Iterable[Event]) -> list[str]:
    """The states a case's history passed through, in order (from its stage changes)."""
    states: list[str] = []
    for event in history:
        if isinstance(event, StageChanged):
            if not states:
                states.append(event.from_state)
            states.append(event.to_state)
    return states


def mermaid(protocol: Protocol, *, case: Case | None = None, history: Iterable[Event] = ()) -> str:
    """The protocol as a Mermaid ``stateDiagram-v2``.

    With ``case`` (and its ``history``), the current state and the states passed through
    are highlighted with the ``current`` and ``visited`` classes.
    """
    lines = ["stateDiagram-v2", f"    [*] --> {protocol.initial}"]
    for t in protocol.transitions:
        for source in t.source:
            lines.append(f"    {source} --> {t.dest or source}: {_label(t)}")
    closed = [s.name for s in protocol.states if s.closed]
    if closed:
        lines.append("    classDef closed stroke-width:3px")
        lines.append(f"    class {','.join(closed)} closed")
    if case is not None:
        visited = [s for s in dict.fromkeys(path_of(history)) if s != case.state]
        if visited:
            lines.append("    classDef visited fill:#e8e8e8")
            lines.append(f"    class {','.join(visited)} visited")
        lines.append("    classDef current fill:#ffd966,stroke-width:3px")
        lines.append(f"    class {case.state} current")
    return "\n".join(lines)


def dot(protocol: Protocol, *, case: Case | None = None, history: Iterable[Event] = ()) -> str:
    """The protocol as a Graphviz DOT digraph (render it with ``dot -Tsvg``).

    Closed states are drawn with a double border; with ``case``, the current state is
    filled and the states its history passed through are shaded.
    """
    visited = set(path_of(history)) if case is not None else set()
    lines = [f'digraph "{protocol.name}@{protocol.version}" {{', "    rankdir=LR;"]
    lines.append('    node [shape=box, style=rounded, fontname="Helvetica"];')
    lines.append('    "__start__" [shape=point, label=""];')
    for s in protocol.states:
        attrs = [f'label="{s.name}"']
        if s.closed:
            attrs.append("peripheries=2")
        if case is not None and s.name == case.state:
            attrs.append('style="rounded,filled,bold", fillcolor="#ffd966"')
        elif s.name in visited:
            attrs.append('style="rounded,filled", fillcolor="#e8e8e8"')
        lines.append(f'    "{s.name}" [{", ".join(attrs)}];')
    lines.append(f'    "__start__" -> "{protocol.initial}";')
    for t in protocol.transitions:
        style = ", style=dashed" if t.auto else ""
        for source in t.source:
            label = _label(t).replace('"', '\\"')
            lines.append(f'    "{source}" -> "{t.dest or source}" [label="{label}"{style}];')
    lines.append("}")
    return "\n".join(lines)
