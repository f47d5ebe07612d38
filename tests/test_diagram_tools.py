"""Drawing any protocol: final states, SVG through Graphviz, and diagrams kept current in docs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from protocol_fixtures import WITH_FINAL

from tuko_flow import TUKO
from tuko_flow._cli import main
from tuko_flow.diagrams import dot, mermaid, svg, update_docs
from tuko_flow.errors import TukoFlowError

FAKE_DOT = """#!{python}
import sys
source = sys.stdin.read()
if sys.argv[1:] != ["-Tsvg"] or not source.startswith("digraph"):
    sys.exit("bad call")
print('<svg xmlns="http://www.w3.org/2000/svg"><!-- %d bytes of DOT --></svg>' % len(source))
"""


def _fake_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str = FAKE_DOT) -> None:
    """Put a stand-in for Graphviz's `dot` first on PATH (so the tests need no Graphviz)."""
    program = tmp_path / "dot"
    program.write_text(body.format(python=sys.executable), encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_final_states_are_marked_in_both_formats() -> None:
    """A final state ends in [*] (Mermaid) and has a bold double border and an end point (DOT)."""
    text = mermaid(WITH_FINAL)
    assert "    end --> [*]" in text.splitlines()
    assert "class end final" in text
    assert "class b closed" in text
    drawn = dot(WITH_FINAL)
    assert '"end" [label="end", peripheries=2, penwidth=2];' in drawn
    assert '"end" -> "__end__";' in drawn
    assert "penwidth" not in dot(TUKO)  # TUKO has no final state: its diagrams are unchanged


def test_cli_diagram_draws_the_named_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """--protocol draws that protocol instead of TUKO."""
    assert main(["diagram", "--protocol", "protocol_fixtures:WITH_FINAL"]) == 0
    assert capsys.readouterr().out.strip() == mermaid(WITH_FINAL)
    assert main(["diagram", "--protocol", "tuko@1", "--format", "dot"]) == 0
    assert capsys.readouterr().out.strip() == dot(TUKO)
    assert main(["diagram", "--protocol", "tuko@5"]) == 2
    assert "no version '5'" in capsys.readouterr().err


def test_svg_is_rendered_by_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format svg pipes the DOT text through `dot -Tsvg` and prints what it returns."""
    _fake_dot(tmp_path, monkeypatch)
    expected = f"<!-- {len(dot(TUKO))} bytes of DOT -->"
    assert expected in svg(TUKO)
    assert main(["diagram", "--format", "svg"]) == 0
    assert expected in capsys.readouterr().out


def test_svg_without_graphviz_says_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No `dot` on PATH: exit 2 and a message saying to install Graphviz."""
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory
    with pytest.raises(TukoFlowError, match="install Graphviz"):
        svg(TUKO)
    assert main(["diagram", "--format", "svg"]) == 2
    assert "install Graphviz" in capsys.readouterr().err


def test_svg_reports_a_failing_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When `dot` fails, its exit code and message are shown."""
    _fake_dot(tmp_path, monkeypatch, "#!{python}\nimport sys\nsys.exit('syntax error in line 1')\n")
    with pytest.raises(TukoFlowError, match=r"failed \(exit code 1\): syntax error in line 1"):
        svg(TUKO)


PAGE = """# A page

Text before.

<!-- diagram: tuko@1 mermaid -->
```mermaid
an old drawing
```
<!-- /diagram -->

<!-- diagram: protocol_fixtures:WITH_FINAL dot -->
<!-- /diagram -->

Text after.
"""


def test_update_docs_rewrites_marked_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blocks between markers are regenerated; the rest of the page is kept as it was."""
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    (tmp_path / "plain.md").write_text("# No diagrams\n", encoding="utf-8")
    assert main(["diagram", "--update-docs", str(tmp_path), "--check"]) == 1
    assert f"stale: {page}" in capsys.readouterr().out
    assert page.read_text(encoding="utf-8") == PAGE  # --check writes nothing
    assert main(["diagram", "--update-docs", str(tmp_path)]) == 0
    assert f"updated: {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# A page\n\nText before.\n\n<!-- diagram: tuko@1 mermaid -->\n")
    assert f"```mermaid\n{mermaid(TUKO)}\n```\n<!-- /diagram -->" in text
    assert f"```dot\n{dot(WITH_FINAL)}\n```\n<!-- /diagram -->" in text
    assert text.endswith("<!-- /diagram -->\n\nText after.\n")
    assert update_docs(tmp_path, write=False) == []
    assert main(["diagram", "--update-docs", str(tmp_path), "--check"]) == 0
    assert "is current" in capsys.readouterr().out


def test_markers_inside_code_blocks_are_examples(tmp_path: Path) -> None:
    """A marker shown inside a fenced code block (documenting the syntax) is left alone."""
    page = tmp_path / "howto.md"
    text = (
        "How to mark a diagram:\n\n````text\n<!-- diagram: tuko@1 mermaid -->\n"
        "```mermaid\n(generated)\n```\n<!-- /diagram -->\n````\n"
    )
    page.write_text(text, encoding="utf-8")
    assert update_docs(tmp_path) == []
    assert page.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("<!-- diagram: tuko@1 mermaid -->\nnever closed\n", "line 1: diagram marker never closed"),
        ("<!-- diagram: tuko@1 png -->\n<!-- /diagram -->\n", "line 1: the marker must read"),
        ("text\n<!-- diagram: tuko@4 dot -->\n<!-- /diagram -->\n", "line 2: protocol 'tuko'"),
        ("<!-- /diagram -->\n", "line 1: <!-- /diagram --> without an opening"),
        (
            "<!-- diagram: tuko dot -->\n<!-- diagram: tuko dot -->\n<!-- /diagram -->\n",
            "line 1: diagram marker not closed before the next one (line 2)",
        ),
    ],
)
def test_broken_markers_name_file_and_line(
    tmp_path: Path, page: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken marker is an error (exit 2) naming the page and line; nothing is written."""
    path = tmp_path / "broken.md"
    path.write_text(page, encoding="utf-8")
    assert main(["diagram", "--update-docs", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, {message}" in err
    assert path.read_text(encoding="utf-8") == page


def test_a_page_that_is_not_utf8_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page that is not UTF-8 text is an error naming the page (exit 2), not a traceback."""
    page = tmp_path / "latin1.md"
    page.write_bytes("# Päev\n".encode("latin-1"))
    with pytest.raises(TukoFlowError, match=r"latin1\.md: not UTF-8 text \("):
        update_docs(tmp_path, write=False)
    assert main(["diagram", "--update-docs", str(tmp_path), "--check"]) == 2
    assert f"{page}: not UTF-8 text (" in capsys.readouterr().err


def test_update_docs_needs_a_directory(tmp_path: Path) -> None:
    """A path that is not a directory is refused, saying so."""
    with pytest.raises(TukoFlowError, match="is not a directory"):
        update_docs(tmp_path / "missing")


def test_help_documents_the_marker_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    """`tuko-flow diagram --help` shows the marker syntax."""
    with pytest.raises(SystemExit):
        main(["diagram", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "<!-- diagram: SPEC FORMAT -->" in out
    assert "<!-- /diagram -->" in out
