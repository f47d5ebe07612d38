"""State names of the MARAC protocol and the checks its stage modules share."""

from __future__ import annotations

from .._case import Case
from .._config import MaracConfig
from .._machine import Firing
from .._marac_case import MaracFile

ASSESSMENT = "assessment"
REFERRED = "referred"
RECEIVED = "received"
LISTED = "listed"
DISCUSSED = "discussed"
NOT_REFERRED = "not_referred"
RETURNED = "returned"
MARAC_CLOSED = "closed"

#: States in which a MARAC case is being worked on.
ACTIVE = (ASSESSMENT, REFERRED, RECEIVED, LISTED, DISCUSSED)
#: States in which a MARAC case rests; a new incident or assessment starts a new round.
RESTING = (NOT_REFERRED, RETURNED, MARAC_CLOSED)


def marac_file(case: Case) -> MaracFile:
    """The case's MARAC file (every MARAC case has one from its opening event)."""
    assert case.marac is not None, f"case {case.case_id!r} is not a MARAC case"
    return case.marac


def settings(f: Firing) -> MaracConfig:
    """The configuration of the case's MARAC area."""
    return f.config.marac_for(marac_file(f.case).area)
