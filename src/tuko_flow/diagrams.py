"""Diagrams of protocols: Mermaid and Graphviz DOT, read from the protocol's own data.

Every transition is drawn from each of its source states, labelled with its trigger and
the guard rules that must pass; automatic transitions say so; closed states (where a case
rests when the work is done) and final states (never left) are marked. Given a case, its
current state and the states its history passed through are highlighted. :func:`svg`
renders the DOT text with Graphviz's ``dot`` program, and :func:`update_docs` rewrites
the diagrams in documentation pages between ``<!-- diagram: SPEC FORMAT -->`` and
``<!-- /diagram -->`` markers.

>>> from tuko_flow import TUKO
>>> print(mermaid(TUKO).splitlines()[1])
    [*] --> awaiting_notice

``transitions`` has its own diagram extension, but it needs Graphviz bindings at run
time and draws one machine's configuration; these functions need nothing beyond the
protocol (only :func:`svg` needs Graphviz), so docs and tests can regenerate diagrams
anywhere.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ._case import Case
from ._protocol import Protocol, TransitionSpec
from .errors import TukoFlowError
from .events import Event, StageChanged

__all__ = ["dot", "mermaid", "path_of", "svg", "update_docs"]


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
    final = [s.name for s in protocol.states if s.final]
    lines.extend(f"    {name} --> [*]" for name in final)
    closed = [s.name for s in protocol.states if s.closed]
    if closed:
        lines.append("    classDef closed stroke-width:3px")
        lines.append(f"    class {','.join(closed)} closed")
    if final:
        lines.append("    classDef final stroke-width:4px,font-weight:bold")
        lines.append(f"    class {','.join(final)} final")
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

    Closed states are drawn with a double border, final states with a bold double border
    and an arrow to an end point; with ``case``, the current state is filled and the
    states its history passed through are shaded.
    """
    visited = set(path_of(history)) if case is not None else set()
    lines = [f'digraph "{protocol.name}@{protocol.version}" {{', "    rankdir=LR;"]
    lines.append('    node [shape=box, style=rounded, fontname="Helvetica"];')
    lines.append('    "__start__" [shape=point, label=""];')
    for s in protocol.states:
        attrs = [f'label="{s.name}"']
        if s.closed or s.final:
            attrs.append("peripheries=2")
        if s.final:
            attrs.append("penwidth=2")
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
    final = [s.name for s in protocol.states if s.final]
    if final:
        lines.append('    "__end__" [shape=doublecircle, label="", width=0.15];')
        lines.extend(f'    "{name}" -> "__end__";' for name in final)
    lines.append("}")
    return "\n".join(lines)


def svg(
    protocol: Protocol,
    *,
    case: Case | None = None,
    history: Iterable[Event] = (),
    program: str = "dot",
) -> str:
    """The protocol as SVG, rendered from :func:`dot` by Graphviz's ``dot`` program.

    Raises :class:`~tuko_flow.errors.TukoFlowError` when Graphviz is not installed (the
    message says how to install it) or when ``dot`` fails.
    """
    found = shutil.which(program)
    if found is None:
        raise TukoFlowError(
            f"SVG needs Graphviz's {program!r} program, which is not installed (not found on "
            "PATH); install Graphviz (https://graphviz.org/download/, e.g. 'apt-get install "
            "graphviz' or 'brew install graphviz'), or draw --format dot and render it elsewhere"
        )
    source = dot(protocol, case=case, history=history)
    try:
        done = subprocess.run(
            [found, "-Tsvg"], input=source, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise TukoFlowError(f"Graphviz's {program!r} could not be run: {exc}") from None
    if done.returncode != 0:
        raise TukoFlowError(
            f"Graphviz's {program!r} failed (exit code {done.returncode}): "
            f"{done.stderr.strip() or 'no message'}"
        )
    return done.stdout


def update_docs(directory: str | Path = "docs", *, write: bool = True) -> list[Path]:
    """Regenerate every marked diagram in ``directory``'s ``*.md`` pages.

    A marked diagram is a block between ``<!-- diagram: SPEC FORMAT -->`` and
    ``<!-- /diagram -->`` lines, where SPEC names a protocol (``tuko``, ``tuko@1``,
    ``package.module:NAME``) and FORMAT is ``mermaid`` or ``dot``; everything between the
    markers is replaced by a fenced block of the generated diagram. Returns the pages
    whose diagrams were stale (rewritten when ``write``, else only reported). Raises
    :class:`~tuko_flow.errors.TukoFlowError` naming the file and line of a broken marker.
    """
    from ._doc_diagrams import update_pages

    return update_pages(Path(directory), write=write)
