"""Guard rules: named checks with a plain-language reason and the seed passage they encode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from ..errors import RuleFailure

if TYPE_CHECKING:
    from .._case import Case
    from .._config import TukoConfig
    from .._values import Actor


class RuleContext:
    """What a rule may look at: the case as it is, who asks, the clock's time, the config.

    Rules only read it. (The engine passes the object that carries the command being
    decided, which has these four attributes and more.)
    """

    __slots__ = ("actor", "case", "config", "now")

    def __init__(self, *, case: Case, actor: Actor, now: datetime, config: TukoConfig) -> None:
        self.case = case
        self.actor = actor
        self.now = now
        self.config = config

    def __repr__(self) -> str:
        return (
            f"RuleContext(case={self.case.case_id!r}, state={self.case.state!r}, "
            f"actor={self.actor!r}, now={self.now.isoformat()})"
        )


#: A rule's check: ``True`` passes; ``False`` fails with the rule's reason; a string fails
#: with that string as a more specific reason.
Check = Callable[[RuleContext], "bool | str"]


@attrs.frozen
class Rule:
    """A named guard rule.

    ``reason`` says in plain words what must hold (shown when the rule fails); ``source``
    quotes the seed passage the rule encodes.
    """

    name: str
    reason: str
    source: str
    check: Check = attrs.field(repr=False)

    def evaluate(self, ctx: RuleContext) -> RuleFailure | None:
        """``None`` when the rule passes, else the failure with its reason."""
        result = self.check(ctx)
        if result is True:
            return None
        return RuleFailure(self.name, result if isinstance(result, str) else self.reason)


def rule(name: str, *, reason: str, source: str) -> Callable[[Check], Rule]:
    """Decorator: turn a check function into a :class:`Rule`."""

    def make(check: Check) -> Rule:
        return Rule(name=name, reason=reason, source=source, check=check)

    return make
