"""The documentation executes: every python block runs, and the reference pages stay current.

Each ``docs/*.md`` file (and ``README.md``) has its ```python blocks run in order in one
fresh namespace, so a reader can copy the blocks of a page one after the other and they
work. The Mermaid diagram in ``docs/architecture.md`` must equal the one generated from
``tuko_flow.TUKO``, and every block between ``<!-- diagram: SPEC FORMAT -->`` markers in
``docs/`` must be current; the module map must name every module under ``src/tuko_flow``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tuko_flow
from tuko_flow import TUKO, Protocol
from tuko_flow import diagrams as tuko_diagrams

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "src" / "tuko_flow"

_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)


def blocks(text: str, lang: str) -> list[tuple[int, str]]:
    """The fenced blocks of language ``lang`` in ``text``, with the line each starts on."""
    found = []
    for m in _FENCE.finditer(text):
        if m.group("lang") == lang:
            line = text.count("\n", 0, m.start()) + 2
            found.append((line, m.group("body")))
    return found


def doc_files() -> list[Path]:
    files = sorted(DOCS.glob("*.md"))
    readme = ROOT / "README.md"
    if readme.exists():
        files.append(readme)
    return files


def mermaid_state_diagram(protocol: Protocol) -> str:
    """The protocol as a Mermaid state diagram: every transition from every source state."""
    lines = ["stateDiagram-v2", f"    [*] --> {protocol.initial}"]
    for t in protocol.transitions:
        label = t.trigger + (" (automatic)" if t.auto else "")
        if t.rules:
            label += f" [{', '.join(t.rules)}]"
        for source in t.source:
            lines.append(f"    {source} --> {t.dest or source}: {label}")
    return "\n".join(lines)


def test_docs_folder_has_the_expected_pages() -> None:
    """The four documentation pages exist."""
    names = {p.name for p in DOCS.glob("*.md")}
    assert {"concepts.md", "tutorial.md", "architecture.md", "api.md"} <= names


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run_in_order(path: Path) -> None:
    """Every ```python block of the file runs, in order, in one shared namespace."""
    found = blocks(path.read_text(encoding="utf-8"), "python")
    if not found:
        pytest.skip(f"{path.name} has no python blocks")
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for line, body in found:
        # Pad with blank lines so tracebacks point at the line in the markdown file.
        code = compile("\n" * (line - 1) + body, str(path), "exec", dont_inherit=True)
        exec(code, namespace)


def test_tutorial_and_concepts_have_python_blocks() -> None:
    """The tutorial (and the concepts page) show code that the runner above executes."""
    for name in ("tutorial.md", "concepts.md"):
        assert blocks((DOCS / name).read_text(encoding="utf-8"), "python"), name


def test_mermaid_diagram_matches_the_protocol() -> None:
    """The state diagram in docs/architecture.md is the one generated from TUKO."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    diagrams = blocks(text, "mermaid")
    assert len(diagrams) == 1, "architecture.md should have exactly one mermaid block"
    # the page shows exactly what the library draws (regenerate: tuko-flow diagram) ...
    assert diagrams[0][1].strip() == tuko_diagrams.mermaid(TUKO).strip()
    # ... and, drawn independently here, every transition is on it
    for line in mermaid_state_diagram(TUKO).strip().splitlines():
        assert line in diagrams[0][1], line


def test_marked_diagrams_are_current() -> None:
    """Every `<!-- diagram: SPEC FORMAT -->` block in docs/ is what the library draws now."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert "<!-- diagram: tuko@1 mermaid -->" in text
    stale = [str(p.relative_to(ROOT)) for p in tuko_diagrams.update_docs(DOCS, write=False)]
    assert not stale, f"stale diagrams in {stale}: run `uv run tuko-flow diagram --update-docs`"


def test_mermaid_generator_covers_every_transition() -> None:
    """The generator emits one line per (transition, source) and names every rule used."""
    diagram = mermaid_state_diagram(TUKO)
    edges = [line for line in diagram.splitlines() if " --> " in line and "[*]" not in line]
    assert len(edges) == sum(len(t.source) for t in TUKO.transitions)
    used = {r for t in TUKO.transitions for r in t.rules}
    assert all(r in diagram for r in used)
    assert (
        "    awaiting_notice --> stage1_notice: assume_need (automatic) [always_assume_need]"
        in (diagram.splitlines())
    )


def test_architecture_maps_every_module() -> None:
    """docs/architecture.md names every .py module under src/tuko_flow (as `src/...` path)."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`([^`\n]+)`", text))
    modules = sorted(p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py"))
    missing = [m for m in modules if m not in mentioned]
    assert not missing, f"modules missing from the map in docs/architecture.md: {missing}"


def test_architecture_maps_the_top_level_folders() -> None:
    """The map also names tests/, examples/, benchmarks/ and docs/."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`([^`\n]+)`", text))
    assert {"tests/", "examples/", "benchmarks/", "docs/"} <= mentioned


def test_api_reference_lists_every_exported_name() -> None:
    """docs/api.md documents every name in tuko_flow.__all__."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`([A-Za-z_][\w.]*)", text))
    missing = [name for name in tuko_flow.__all__ if name not in mentioned]
    assert not missing, f"names missing from docs/api.md: {missing}"


def test_concepts_explains_every_guard_rule() -> None:
    """docs/concepts.md names every TUKO guard rule."""
    text = (DOCS / "concepts.md").read_text(encoding="utf-8")
    missing = [name for name in TUKO.rules if f"`{name}`" not in text]
    assert not missing, f"rules missing from docs/concepts.md: {missing}"
