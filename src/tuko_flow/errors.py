"""Every error tuko_flow raises, rooted at one base class.

The hierarchy::

    TukoFlowError
    ├── ProtocolDefinitionError     a protocol is broken; raised when it is built
    ├── ConfigurationError          a configuration value is not allowed
    ├── ValidationError             bad input: names the field and what is allowed
    ├── CaseNotFound                no case with this id in the store
    ├── CaseAlreadyExists           a case with this id was opened before
    ├── CommandRefused              guard rules refused a command; lists every failed rule
    │   └── CommandNotAllowedInState    the command has no transition from the case's state
    ├── ConcurrencyError            someone else changed the case since it was loaded
    ├── MigrationRefused            a migration to another protocol version was refused
    ├── EventStoreError             the event store could not do what was asked
    │   ├── StorageUnavailable          disk full, I/O error, connection lost: retry later
    │   └── CorruptEventError           a stored event cannot be read (names case and position)
    ├── SerializationError          an event could not be turned into or read from JSON
    ├── SubscriberFailed            a subscriber raised; the command *was* recorded
    └── ScenarioError               a scenario file cannot be read or run (names file and line;
                                    defined in tuko_flow.scenarios)

A refused command, a validation error or a concurrency error writes nothing: the case
and its stored history are exactly as before the call.

``ValidationError`` is also a :class:`ValueError` and ``CaseNotFound`` also a
:class:`LookupError`, so generic handlers in host applications keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "CaseAlreadyExists",
    "CaseNotFound",
    "CommandNotAllowedInState",
    "CommandRefused",
    "ConcurrencyError",
    "ConfigurationError",
    "CorruptEventError",
    "EventStoreError",
    "FieldProblem",
    "MigrationRefused",
    "ProtocolDefinitionError",
    "RuleFailure",
    "SerializationError",
    "StorageUnavailable",
    "SubscriberFailed",
    "TukoFlowError",
    "ValidationError",
]


class TukoFlowError(Exception):
    """Base class of every error raised by tuko_flow."""


@attrs.frozen
class RuleFailure:
    """One guard rule that did not pass: its name and the plain-language reason."""

    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}"


@attrs.frozen
class FieldProblem:
    """One problem with one input field: which field, what is wrong, what is allowed."""

    field: str
    problem: str
    allowed: str | None = None

    def __str__(self) -> str:
        text = f"{self.field}: {self.problem}"
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text


class ProtocolDefinitionError(TukoFlowError):
    """A protocol definition is broken. ``problems`` lists every problem found."""

    def __init__(self, protocol: str, problems: Sequence[str]) -> None:
        self.protocol = protocol
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"protocol {protocol!r} is not valid ({len(self.problems)} "
            f"problem{'' if len(self.problems) == 1 else 's'}):\n{lines}"
        )


class ConfigurationError(TukoFlowError):
    """A configuration value (risk-need matrix, competence table, timeframes) is not allowed."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"configuration is not valid:\n{lines}")


class ValidationError(TukoFlowError, ValueError):
    """Input was rejected. ``problems`` holds every field problem found, not just the first."""

    def __init__(
        self,
        problems: Sequence[FieldProblem],
        *,
        subject: str,
        case_id: str | None = None,
    ) -> None:
        self.problems = tuple(problems)
        self.subject = subject
        self.case_id = case_id
        where = f" for case {case_id!r}" if case_id else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{subject} is not valid{where}:\n{lines}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fields that have problems, in the order found."""
        return tuple(p.field for p in self.problems)


class CaseNotFound(TukoFlowError, LookupError):
    """No case with this id exists in the store."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(
            f"case {case_id!r} does not exist in this store (cases are opened with "
            "Engine.open_case)"
        )


class CaseAlreadyExists(TukoFlowError):
    """A case with this id was opened before; case ids are never reused."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id!r} already exists; case ids are never reused")


class CommandRefused(TukoFlowError):
    """Guard rules refused a command. Nothing was written.

    Attributes: ``case_id``, ``state`` (the case's state, unchanged), ``command`` (its
    name), ``failures`` (every failed rule with its reason) and ``allowed`` (the commands
    whose rules pass now for the same actor).
    """

    def __init__(
        self,
        *,
        case_id: str,
        state: str,
        command: str,
        failures: Sequence[RuleFailure],
        allowed: Sequence[str],
    ) -> None:
        self.case_id = case_id
        self.state = state
        self.command = command
        self.failures = tuple(failures)
        self.allowed = tuple(allowed)
        super().__init__(self._message())

    @property
    def rules(self) -> tuple[str, ...]:
        """Names of the failed rules."""
        return tuple(f.rule for f in self.failures)

    def _message(self) -> str:
        lines = "\n".join(f"  - {f}" for f in self.failures)
        allowed = ", ".join(self.allowed) if self.allowed else "none"
        return (
            f"case {self.case_id!r} in state {self.state!r}: command {self.command!r} was "
            f"refused because {len(self.failures)} rule(s) failed:\n{lines}\n"
            f"Commands allowed now: {allowed}"
        )


class CommandNotAllowedInState(CommandRefused):
    """The command has no transition from the case's current state at all."""


class ConcurrencyError(TukoFlowError):
    """The case changed since it was loaded (another writer won). Reload and retry."""

    def __init__(self, case_id: str, *, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"case {case_id!r} was changed by someone else: expected version {expected}, "
            f"found version {actual}; reload the case and decide again"
        )


class MigrationRefused(TukoFlowError):
    """Cases could not be moved to another protocol version. Nothing was written.

    ``target`` names the protocol version (``"tuko@2"``), ``cases`` maps each case that
    blocks the migration to the reason in words (empty when the migration as a whole is
    not possible), and ``allowed`` says what would be accepted.
    """

    def __init__(self, target: str, *, reason: str, cases: Mapping[str, str], allowed: str) -> None:
        self.target = target
        self.reason = reason
        self.cases = dict(cases)
        self.allowed = allowed
        lines = "".join(f"\n  - case {cid!r}: {why}" for cid, why in self.cases.items())
        super().__init__(
            f"migration to {target} refused, nothing was written: {reason}{lines}\n"
            f"Allowed: {allowed}"
        )

    @property
    def case_ids(self) -> tuple[str, ...]:
        """The ids of the cases that block the migration."""
        return tuple(self.cases)


class EventStoreError(TukoFlowError):
    """The event store could not do what was asked; the message says what and for which case."""


class StorageUnavailable(EventStoreError):
    """The storage itself failed (disk full, I/O error, lost connection). Nothing was stored;
    the store is consistent and the same call may be retried."""


class CorruptEventError(EventStoreError):
    """A stored event cannot be read: unknown type, bad payload, or not the event expected.

    Never skipped silently: ``case_id``, ``version`` and ``position`` say where it is.
    """

    def __init__(self, case_id: str, version: int, position: int | None, problem: str) -> None:
        self.case_id = case_id
        self.version = version
        self.position = position
        self.problem = problem
        where = f" at position {position}" if position is not None else ""
        super().__init__(
            f"case {case_id!r}: stored event version {version}{where} cannot be read: {problem}"
        )


class SerializationError(TukoFlowError):
    """An event could not be turned into JSON or read back from it."""


class SubscriberFailed(TukoFlowError):
    """A subscriber raised while being told about new events.

    The command **was** recorded (its events are in the store); only the notification failed.
    ``errors`` holds what each failing subscriber raised.
    """

    def __init__(self, case_id: str, errors: Sequence[BaseException]) -> None:
        self.case_id = case_id
        self.errors = tuple(errors)
        names = ", ".join(type(e).__name__ for e in self.errors)
        super().__init__(
            f"case {case_id!r}: the command was recorded, but {len(self.errors)} subscriber(s) "
            f"raised ({names})"
        )
