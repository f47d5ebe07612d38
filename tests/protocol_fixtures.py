"""Protocols for the command-line tests: one with a final state, and deliberately broken ones.

A broken protocol raises when it is built, so it cannot simply be a module attribute.
Each one here is built when it is asked for (``protocol_fixtures:TRAP``), just as a team's
module fails when it builds a broken protocol on import; ``tuko-flow validate`` must report
the problems either way. The definitions reuse the planted-mistake baseline of
``tests/test_protocol.py``.
"""

from __future__ import annotations

from typing import Any

from test_protocol import Fall, Finish, Go, _broken, _noop, always_passes

from tuko_flow import Protocol, StateSpec, TransitionSpec
from tuko_flow.rules import RuleContext, rule

_A = StateSpec(name="a", description="A.")
_B = StateSpec(name="b", description="B.", closed=True)
_GO = TransitionSpec(
    trigger="go", source=("a",), dest="b", rules=("always_passes",), handler=_noop, command=Go
)
_END = StateSpec(name="end", description="Final: never left.", final=True)
_FINISH = TransitionSpec(trigger="finish", source=("b",), dest="end", handler=_noop, command=Finish)

#: A sound protocol with a closed and a final state (for the diagram tests).
WITH_FINAL = Protocol(
    **_broken(name="finishing", states=(_A, _B, _END), transitions=(_GO, _FINISH))
)


@rule("spare", reason="never used", source="test")
def spare(ctx: RuleContext) -> bool:
    return True


def _definitions() -> dict[str, dict[str, Any]]:
    """Each broken definition plants one mistake in the valid baseline."""
    return {
        "UNREACHABLE": _broken(
            states=(_A, _B, StateSpec(name="island", description="No way in.", closed=True))
        ),
        "TRAP": _broken(
            states=(_A, _B, StateSpec(name="pit", description="No way out.")),
            transitions=(
                _GO,
                TransitionSpec(
                    trigger="fall", source=("a",), dest="pit", handler=_noop, command=Fall
                ),
            ),
        ),
        "FINAL_WITH_EXIT": _broken(
            states=(_A, _B, _END),
            transitions=(
                _GO,
                _FINISH,
                TransitionSpec(trigger="go", source=("end",), dest="a", handler=_noop, command=Go),
            ),
        ),
        "UNKNOWN_STATE": _broken(
            transitions=(
                _GO,
                TransitionSpec(
                    trigger="go", source=("b",), dest="nowhere", handler=_noop, command=Go
                ),
            )
        ),
        "UNKNOWN_RULE": _broken(
            transitions=(
                TransitionSpec(
                    trigger="go",
                    source=("a",),
                    dest="b",
                    rules=("always_passes", "no_such_rule"),
                    handler=_noop,
                    command=Go,
                ),
            )
        ),
        "DUPLICATE": _broken(
            transitions=(
                _GO,
                TransitionSpec(trigger="go", source=("a",), dest="a", handler=_noop, command=Go),
            )
        ),
        "UNUSED_RULE": _broken(rules={"always_passes": always_passes, "spare": spare}),
        "AUTOMATIC_LOOP": _broken(
            transitions=(
                _GO,
                TransitionSpec(trigger="back", source=("b",), dest="a", handler=_noop, auto=True),
                TransitionSpec(trigger="again", source=("a",), dest="b", handler=_noop, auto=True),
            )
        ),
    }


#: The names of the broken protocols this module builds on request.
BROKEN = tuple(_definitions())


def __getattr__(name: str) -> Protocol:
    definitions = _definitions()
    if name in definitions:
        return Protocol(**definitions[name])  # raises ProtocolDefinitionError
    raise AttributeError(name)
