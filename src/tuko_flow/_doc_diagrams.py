"""Diagrams kept current inside documentation pages (``tuko-flow diagram --update-docs``).

A page marks a diagram like this::

    <!-- diagram: tuko@1 mermaid -->
    ```mermaid
    ...generated...
    ```
    <!-- /diagram -->

The opening marker names the protocol (any spec :func:`~tuko_flow._registry.resolve_protocol`
accepts) and the format (``mermaid`` or ``dot``); everything up to the closing marker is
replaced by the generated diagram in a fenced block. Markers inside fenced code blocks
(examples of the syntax, like the one above) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ._protocol import Protocol
from ._registry import resolve_protocol
from .diagrams import dot, mermaid
from .errors import TukoFlowError

_OPEN = re.compile(r"^\s*<!--\s*diagram:\s*(?P<args>.*?)\s*-->\s*$")
_CLOSE = re.compile(r"^\s*<!--\s*/diagram\s*-->\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")

#: The formats a marker may ask for (each also the language of its fenced block), and the
#: function drawing a protocol in it.
FORMATS: dict[str, Callable[[Protocol], str]] = {"mermaid": mermaid, "dot": dot}


def render(spec: str, fmt: str) -> list[str]:
    """The lines of the fenced block that a ``<!-- diagram: SPEC FORMAT -->`` marker holds."""
    body = FORMATS[fmt](resolve_protocol(spec))
    return [f"```{fmt}", *body.splitlines(), "```"]


def regenerate(text: str, source: str) -> str:
    """``text`` with every marked diagram regenerated (``source`` names it in errors)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:  # copy a fenced code block as it is: markers in it are examples
            end = _fence_end(lines, i, fence.group(1))
            out.extend(lines[i:end])
            i = end
            continue
        if _CLOSE.match(line):
            raise TukoFlowError(f"{source}, line {i + 1}: <!-- /diagram --> without an opening")
        m = _OPEN.match(line)
        if m is None:
            out.append(line)
            i += 1
            continue
        where = f"{source}, line {i + 1}"
        parts = m.group("args").split()
        if len(parts) != 2 or parts[1] not in FORMATS:
            raise TukoFlowError(
                f"{where}: the marker must read <!-- diagram: SPEC FORMAT --> with FORMAT one "
                f"of {', '.join(FORMATS)} (e.g. <!-- diagram: tuko@1 mermaid -->), not {line!r}"
            )
        end = i + 1
        while end < len(lines) and not _CLOSE.match(lines[end]):
            if _OPEN.match(lines[end]):
                raise TukoFlowError(
                    f"{where}: diagram marker not closed before the next one (line {end + 1}); "
                    "end it with <!-- /diagram -->"
                )
            end += 1
        if end == len(lines):
            raise TukoFlowError(f"{where}: diagram marker never closed with <!-- /diagram -->")
        try:
            block = render(parts[0], parts[1])
        except TukoFlowError as exc:
            raise TukoFlowError(f"{where}: {exc}") from None
        out.extend([line, *block, lines[end]])
        i = end + 1
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """The index after the line closing the fence opened at ``start`` (or the end)."""
    closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for i in range(start + 1, len(lines)):
        if closing.match(lines[i]):
            return i + 1
    return len(lines)


def update_pages(directory: Path, *, write: bool) -> list[Path]:
    """Pages in ``directory`` whose marked diagrams are stale; rewritten when ``write``."""
    if not directory.is_dir():
        raise TukoFlowError(f"{str(directory)!r} is not a directory of documentation pages")
    stale: list[Path] = []
    for page in sorted(directory.glob("*.md")):
        try:
            text = page.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TukoFlowError(f"{page}: not UTF-8 text ({exc})") from None
        new = regenerate(text, str(page))
        if new != text:
            stale.append(page)
            if write:
                page.write_text(new, encoding="utf-8")
    return stale
