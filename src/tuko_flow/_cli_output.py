"""How the ``tuko-flow`` subcommands answer: JSON with ``--json``, plain words otherwise.

Shared by :mod:`tuko_flow._cli_check` and :mod:`tuko_flow._cli_versions`.
"""

from __future__ import annotations

import json
from typing import Any


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    print(json.dumps(data, indent=2))


def answer(as_json: bool, data: Any, text: str, ok: bool) -> int:
    """Print ``data`` as JSON (``as_json``) or ``text``; the exit code: 0 if ``ok``, else 1."""
    if as_json:
        print_json(data)
    else:
        print(text)
    return 0 if ok else 1
