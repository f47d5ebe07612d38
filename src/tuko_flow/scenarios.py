"""Scenario files: a case told as data, run against a protocol, differences said in words.

Protocol experts who do not write Python describe a case in a TOML file: the case's
facts (the intake), then steps — the command by its trigger name and its arguments, who
does it, when, and what should happen (the new state, the events emitted, a refusal and
the rules that refuse, or invalid input naming the fields)::

    title = "Only the case leader informs the network"

    [case]
    at = 2026-01-05T09:00:00Z
    case_id = "case-s1"
    client = "client-7f3a"
    offence = "domestic_violence"
    people_at_risk = [{ ref = "victim-91c2", relation = "victim" }]
    network = [
      { member_id = "m-po", agency = "probation", person = "po-101", case_leader = true },
      { member_id = "m-pol", agency = "police", person = "pol-202" },
    ]

    [[steps]]
    command = "notice_need"
    by = "m-pol"
    at = 2026-01-06T10:00:00Z
    what = "Call-out after threats."
    expect = { state = "stage1_notice" }

A MARAC scenario (``protocol = "marac@1"``) opens its case with ``OpenMaracCase`` and
writes the DASH as a ``checklist`` table: the instrument by ``name@version``, the answers
as ``answers = { q1 = "yes", ... }`` or ``yes = [...]`` (the rest no), asked by the step's
``by`` at its ``at`` unless the table says otherwise.

:func:`load` (or :func:`loads`) reads a file, :func:`run` runs it on a real
:class:`~tuko_flow.Engine` with a :class:`~tuko_flow.ManualClock` and returns a
:class:`ScenarioResult` with one :class:`StepResult` per step. A file that cannot be read
or understood raises :class:`ScenarioError`, naming the file and line of every problem.
The format is described key by key in ``docs/scenarios.md``; ``tuko-flow check`` is the
command line for it.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import structlog

from ._clock import ManualClock
from ._config import TukoConfig
from ._engine import ALLOWED_IN_STATE, Engine
from ._protocol import Command, Protocol
from ._registry import resolve_protocol
from ._values import Actor, NetworkMember
from .errors import (
    CaseNotFound,
    CommandRefused,
    ConfigurationError,
    FieldProblem,
    RuleFailure,
    TukoFlowError,
    ValidationError,
)
from .events import Event
from .rules.dash import SAFELIVES_DASH, Checklist, Instrument, answers_from
from .stores import InMemoryEventStore

__all__ = [
    "Expectation",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "ScenarioResult",
    "Step",
    "StepResult",
    "load",
    "loads",
    "run",
]

#: The keys a scenario file may have at its top level.
TOP_KEYS = ("title", "description", "protocol", "timezone", "config", "case", "steps")
#: Keys of a step (and of ``[case]``) that are not arguments of its command.
STEP_KEYS = ("command", "by", "at", "expect", "note", "args")
#: Keys of an ``expect`` table.
EXPECT_KEYS = ("state", "events", "refused", "invalid")

_DEFAULT_PROTOCOL = "tuko"


# --- errors ------------------------------------------------------------------------------


def _where(source: str, line: int | None) -> str:
    """Where a message is about: the file and, when known, the line."""
    return f"{source}, line {line}" if line else source


@attrs.frozen
class ScenarioProblem:
    """One problem with a scenario file: the file, the line (when known) and what is wrong."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{_where(self.source, self.line)}: {self.message}"


class ScenarioError(TukoFlowError):
    """A scenario file cannot be read or run: missing, not TOML, or not a valid scenario.

    ``problems`` holds every problem found, each naming the file and line.
    """

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            source = self.problems[0].source if self.problems else "scenario"
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{source} is not a valid scenario ({len(self.problems)} problems):\n{lines}"
        super().__init__(text)


# --- the scenario as data ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Expectation:
    """What a step should do.

    ``refused``/``invalid``: ``False`` (the command is expected to be accepted), ``True``
    (refused / invalid, for any reason) or the rule names / field names expected. ``state``
    is the case's state after the step; ``events`` the type names of the events emitted,
    in order.
    """

    state: str | None = None
    events: tuple[str, ...] | None = None
    refused: bool | tuple[str, ...] = False
    invalid: bool | tuple[str, ...] = False

    @property
    def outcome(self) -> str:
        """``"accepted"``, ``"refused"`` or ``"invalid"``."""
        if self.refused is not False:
            return "refused"
        if self.invalid is not False:
            return "invalid"
        return "accepted"


@attrs.frozen(kw_only=True)
class Step:
    """One step of a scenario, as written: number 0 is the intake (the ``[case]`` table)."""

    number: int
    line: int | None
    command: str | None  # None: the protocol's intake command
    by: str | None
    at: datetime | None
    args: Mapping[str, Any]
    expect: Expectation
    note: str = ""
    #: the line of each argument and key, for messages
    key_lines: Mapping[str, int] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def what(self) -> str:
        """How messages name the step: ``"the case"`` (the intake) or ``"step N"``."""
        return _step_name(self.number)

    def line_of(self, key: str) -> int | None:
        """The line of ``key`` (an argument, or a value inside one such as
        ``checklist.asked_by`` or ``people_at_risk[0]``); else the step's own line."""
        first = re.split(r"[.\[]", key, maxsplit=1)[0]
        return self.key_lines.get(first, self.line) if first else self.line


def _step_name(number: int) -> str:
    return "the case" if number == 0 else f"step {number}"


@attrs.frozen(kw_only=True)
class Scenario:
    """A scenario read from a file: its facts (``intake``) and its ``steps``."""

    source: str
    title: str
    description: str
    protocol: str | None
    timezone: str
    config: TukoConfig | None
    intake: Step
    steps: tuple[Step, ...]
    protocol_line: int | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class StepResult:
    """What one step did, and how that differs from what it should have done.

    ``outcome`` is ``"accepted"``, ``"refused"``, ``"invalid"`` or ``"error"``; ``state``
    the case's state after the step (``None`` when there is no case); ``events`` the type
    names of the events emitted; ``failures`` the failed rules of a refusal; ``problems``
    the field problems of invalid input; ``error`` the message of any other error.
    ``differences`` says, in words, each way the step differs from its expectation.
    """

    step: Step
    label: str
    at: datetime
    outcome: str
    state: str | None
    events: tuple[str, ...] = ()
    failures: tuple[RuleFailure, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    error: str | None = None
    differences: tuple[str, ...] = ()
    source: str = ""

    @property
    def ok(self) -> bool:
        """True when the step did what was expected."""
        return not self.differences

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the rules that refused the command."""
        return tuple(f.rule for f in self.failures)

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the invalid fields."""
        return tuple(p.field for p in self.problems)

    def explain(self) -> list[str]:
        """One line per difference: file, line, the step and what differs."""
        where = _where(self.source, self.step.line)
        return [f"{where}: {self.label}: {d}" for d in self.differences]

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-compatible data."""
        return {
            "step": self.step.number,
            "line": self.step.line,
            "label": self.label,
            "at": self.at.isoformat(),
            "outcome": self.outcome,
            "state": self.state,
            "events": list(self.events),
            "rules": [{"rule": f.rule, "reason": f.reason} for f in self.failures],
            "fields": [
                {"field": p.field, "problem": p.problem, "allowed": p.allowed}
                for p in self.problems
            ],
            "error": self.error,
            "ok": self.ok,
            "differences": list(self.differences),
        }


@attrs.frozen(kw_only=True)
class ScenarioResult:
    """The result of running a scenario: every step's result, intake first."""

    scenario: Scenario
    protocol: str
    steps: tuple[StepResult, ...]

    @property
    def ok(self) -> bool:
        """True when every step did what was expected."""
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> tuple[StepResult, ...]:
        """The steps that differ from their expectation."""
        return tuple(s for s in self.steps if not s.ok)

    def report(self) -> str:
        """A plain-language report: a PASS or FAIL line, then every difference."""
        head = "PASS" if self.ok else "FAIL"
        count = len(self.scenario.steps)
        lines = [
            f"{head} {self.scenario.source}: {self.scenario.title} "
            f"({count} step{'s' if count != 1 else ''}, {self.protocol})"
        ]
        for step in self.failed:
            lines.extend(f"  {line}" for line in step.explain())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-compatible data."""
        return {
            "path": self.scenario.source,
            "title": self.scenario.title,
            "protocol": self.protocol,
            "ok": self.ok,
            "steps": [s.to_dict() for s in self.steps],
        }


# --- reading a file ------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")


class _Lines:
    """Where things are in the file's text: tomllib keeps no positions, so look for them."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str, bool]] = []  # (line, table name, is array item)
        for number, line in enumerate(self.lines, start=1):
            m = _HEADER.match(line)
            if m:
                name = re.sub(r"\s+", "", m.group(1)).replace('"', "").replace("'", "")
                self.headers.append((number, name, line.strip().startswith("[[")))

    def _section(self, start: int, name: str) -> tuple[int, int]:
        """Lines [start, end) that belong to the table starting at ``start``."""
        end = len(self.lines) + 1
        for number, header, _ in self.headers:
            if number > start and not header.startswith(name + "."):
                end = number
                break
        return start, end

    def _find_key(self, key: str, start: int, end: int, table: str) -> int | None:
        own = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*[=.]")
        sub = re.compile(rf"^\s*\[\[?\s*{re.escape(table + '.' + key)}\b")
        for number in range(start, min(end, len(self.lines) + 1)):
            line = self.lines[number - 1]
            if own.match(line) or (table and sub.match(line)):
                return number
        return None

    def top(self, key: str) -> int | None:
        end = self.headers[0][0] if self.headers else len(self.lines) + 1
        found = self._find_key(key, 1, end, "")
        if found is None:
            for number, header, _ in self.headers:
                if header == key or header.startswith(key + "."):
                    return number
        return found

    def case(self) -> tuple[int | None, dict[str, int]]:
        for number, header, is_array in self.headers:
            if header == "case" and not is_array:
                return number, self._keys(number, "case")
        line = self.top("case")
        return line, {}

    def steps(self, count: int) -> list[tuple[int | None, dict[str, int]]]:
        starts = [n for n, header, is_array in self.headers if header == "steps" and is_array]
        if len(starts) != count:  # steps written another way: point at the key
            line = self.top("steps")
            return [(line, {}) for _ in range(count)]
        return [(n, self._keys(n, "steps")) for n in starts]

    def _keys(self, start: int, table: str) -> dict[str, int]:
        begin, end = self._section(start, table)
        found: dict[str, int] = {}
        key = re.compile(r"^\s*[\"']?([A-Za-z0-9_-]+)[\"']?\s*[=.]")
        sub = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\.([A-Za-z0-9_-]+)")
        for number in range(begin + 1, min(end, len(self.lines) + 1)):
            line = self.lines[number - 1]
            m = key.match(line) or sub.match(line)
            if m and m.group(1) not in found:
                found[m.group(1)] = number
        return found


class _Reader:
    """Turns parsed TOML into a :class:`Scenario`, collecting every problem."""

    def __init__(self, source: str, lines: _Lines) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[ScenarioProblem] = []

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(ScenarioProblem(self.source, line, message))

    def text(self, data: Mapping[str, Any], key: str, line: int | None, what: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(line, f"{what}: {key!r} must be non-empty text, not {value!r}")
            return None
        return value

    def when(self, value: object, line: int | None, what: str, tz: tzinfo) -> datetime | None:
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=tz)
        if isinstance(value, date):
            return datetime.combine(value, time(0, 0), tzinfo=tz)
        self.problem(
            line,
            f"{what}: 'at' is {value!r}, not a date or time "
            "(write it unquoted, e.g. at = 2026-01-05T09:00:00Z or at = 2026-01-05)",
        )
        return None

    def expectation(self, value: object, line: int | None, what: str) -> Expectation:
        if value is None:
            return Expectation()
        if not isinstance(value, dict):
            self.problem(line, f"{what}: 'expect' must be a table, e.g. expect = {{ state = ... }}")
            return Expectation()
        unknown = sorted(set(value) - set(EXPECT_KEYS))
        if unknown:
            self.problem(
                line,
                f"{what}: unknown key(s) in 'expect': {', '.join(unknown)} "
                f"(allowed: {', '.join(EXPECT_KEYS)})",
            )
        state = value.get("state")
        if state is not None and not isinstance(state, str):
            self.problem(line, f"{what}: expect.state must be a state name, not {state!r}")
            state = None
        events = self._names(value.get("events"), line, what, "events", "event type names")
        refused = self._flag(value.get("refused", False), line, what, "refused", "rule names")
        invalid = self._flag(value.get("invalid", False), line, what, "invalid", "field names")
        if refused is not False and invalid is not False:
            self.problem(line, f"{what}: expect has both 'refused' and 'invalid'; choose one")
        if events is not None and (refused is not False or invalid is not False):
            self.problem(
                line, f"{what}: a refused or invalid command emits no events; drop expect.events"
            )
        return Expectation(state=state, events=events, refused=refused, invalid=invalid)

    def _names(
        self, value: object, line: int | None, what: str, key: str, kind: str
    ) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(line, f"{what}: expect.{key} must be a list of {kind}, not {value!r}")
            return None
        return tuple(value)

    def _flag(
        self, value: object, line: int | None, what: str, key: str, kind: str
    ) -> bool | tuple[str, ...]:
        if isinstance(value, bool):
            return value
        names = self._names(value, line, what, key, kind)
        if names is None:
            return False
        if not names:
            self.problem(line, f"{what}: expect.{key} is an empty list; use true or name them")
            return False
        return names

    def actor(self, value: object, line: int | None, what: str) -> str | None:
        if value is None:
            return None
        text = _actor_text(value)
        if text is None:
            self.problem(line, f"{what}: 'by' is {value!r}; {_SOMEONE}")
        return text

    def step(
        self,
        data: object,
        number: int,
        line: int | None,
        key_lines: dict[str, int],
        tz: tzinfo,
    ) -> Step | None:
        what = _step_name(number)
        if not isinstance(data, dict):
            self.problem(line, f"{what} must be a table, not {data!r}")
            return None
        command: str | None = None
        if number > 0:
            command = self.text(data, "command", key_lines.get("command", line), what)
            if command is None and "command" not in data:
                self.problem(line, f"{what} has no 'command' (the trigger name, e.g. notice_need)")
        elif "command" in data:
            self.problem(
                key_lines.get("command", line),
                "the case is opened by the protocol's intake command; drop 'command'",
            )
        at: datetime | None = None
        if "at" in data:
            at = self.when(data["at"], key_lines.get("at", line), what, tz)
        elif number == 0:
            self.problem(line, "the case has no 'at': when is it opened? (e.g. at = 2026-01-05)")
        by = self.actor(data.get("by"), key_lines.get("by", line), what)
        if number > 0 and "by" not in data:
            self.problem(line, f"{what} has no 'by': who does it? (a network member id)")
        note = data.get("note", "")
        if not isinstance(note, str):
            self.problem(key_lines.get("note", line), f"{what}: 'note' must be text")
            note = ""
        expect = self.expectation(data.get("expect"), key_lines.get("expect", line), what)
        args = {k: _localize(v, tz) for k, v in data.items() if k not in STEP_KEYS}
        extra = data.get("args")
        if extra is not None:
            if not isinstance(extra, dict):
                self.problem(key_lines.get("args", line), f"{what}: 'args' must be a table")
            else:
                for k, v in extra.items():
                    if k in args:
                        self.problem(
                            key_lines.get("args", line), f"{what}: argument {k!r} is given twice"
                        )
                    args[k] = _localize(v, tz)
        return Step(
            number=number,
            line=line,
            command=command,
            by=by,
            at=at,
            args=args,
            expect=expect,
            note=note,
            key_lines=key_lines,
        )


#: How to name someone, said when a value names no one.
_SOMEONE = (
    'name a network member id ("m-po"), an agency and person ("police/pol-202") '
    "or { agency = ..., person = ... }"
)


def _actor_text(value: object) -> str | None:
    """Someone as written for ``by`` (a member id, ``"agency/person"`` or a table with
    ``agency`` and ``person``) as text, a member id or ``agency/person``; ``None`` when
    ``value`` names no one. The actor itself is made (and judged) when the step runs."""
    if isinstance(value, dict) and set(value) == {"agency", "person"}:
        agency, person = value["agency"], value["person"]
        if isinstance(agency, str) and isinstance(person, str):
            return f"{agency}/{person}"
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _localize(value: Any, tz: tzinfo) -> Any:
    """Local (zone-less) datetimes anywhere in ``value`` get the scenario's time zone."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    if isinstance(value, list):
        return [_localize(v, tz) for v in value]
    if isinstance(value, dict):
        return {k: _localize(v, tz) for k, v in value.items()}
    return value


def load(path: str | Path) -> Scenario:
    """Read the scenario file at ``path``. Raises :class:`ScenarioError` naming file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([ScenarioProblem(str(p), None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([ScenarioProblem(str(p), None, f"not UTF-8 text ({exc})")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScenarioError([ScenarioProblem(str(p), None, f"cannot be read ({reason})")]) from None
    return loads(text, source=str(p), default_title=p.stem)


def loads(text: str, *, source: str = "<scenario>", default_title: str = "scenario") -> Scenario:
    """Read a scenario from TOML text; ``source`` names it in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POSITION.search(message)
        line = int(m.group(1)) if m else None
        if m:
            message = f"{message[: m.start()]} (column {m.group(2)})"
        bad = (
            text.splitlines()[line - 1]
            if line is not None and line <= len(text.splitlines())
            else ""
        )
        if re.search(r"=\s*\d", bad):  # a value starting with a digit: a date or time, likely
            message += (
                "; dates and times are written unquoted, like 2026-01-06T10:00:00Z (a time, "
                "with its offset) or 2026-01-06 (a date)"
            )
        raise ScenarioError([ScenarioProblem(source, line, f"not valid TOML: {message}")]) from None
    lines = _Lines(text)
    reader = _Reader(source, lines)
    for key in sorted(set(data) - set(TOP_KEYS)):
        reader.problem(lines.top(key), f"unknown key {key!r} (allowed: {', '.join(TOP_KEYS)})")
    title = reader.text(data, "title", lines.top("title"), "the scenario") or default_title
    description = reader.text(data, "description", lines.top("description"), "the scenario")
    protocol = reader.text(data, "protocol", lines.top("protocol"), "the scenario")
    zone = reader.text(data, "timezone", lines.top("timezone"), "the scenario") or "UTC"
    tz: tzinfo
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.problem(
            lines.top("timezone"),
            f"unknown time zone {zone!r} (allowed: an IANA name such as 'UTC' or 'Europe/Tallinn')",
        )
        tz = ZoneInfo("UTC")
    config: TukoConfig | None = None
    if "config" in data:
        if not isinstance(data["config"], dict):
            reader.problem(lines.top("config"), "'config' must be a table")
        else:
            try:
                config = TukoConfig.from_dict(data["config"])
            except ConfigurationError as exc:
                for problem in exc.problems:
                    reader.problem(lines.top("config"), f"config: {problem}")
    case_line, case_keys = lines.case()
    intake: Step | None = None
    if "case" not in data:
        reader.problem(None, "no [case] table: the case's facts (the intake) are missing")
    else:
        intake = reader.step(data["case"], 0, case_line, case_keys, tz)
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        reader.problem(lines.top("steps"), "'steps' must be [[steps]] tables")
        raw_steps = []
    steps: list[Step] = []
    for number, ((line, keys), raw) in enumerate(
        zip(lines.steps(len(raw_steps)), raw_steps, strict=True), start=1
    ):
        built = reader.step(raw, number, line, keys, tz)
        if built is not None:
            steps.append(built)
    previous = intake
    for step in steps:
        if step.at is None:
            continue
        if previous is not None and previous.at is not None and step.at < previous.at:
            earlier = "the case's opening" if previous.number == 0 else previous.what
            reader.problem(
                step.line_of("at"),
                f"{step.what}: at {_clock_text(step.at, tz)} is before {earlier} "
                f"({_clock_text(previous.at, tz)}); time only moves forward",
            )
        previous = step
    if reader.problems or intake is None:
        raise ScenarioError(reader.problems)
    return Scenario(
        source=source,
        title=title,
        description=description or "",
        protocol=protocol,
        protocol_line=lines.top("protocol"),
        timezone=zone,
        config=config,
        intake=intake,
        steps=tuple(steps),
    )


# --- building commands from plain data -----------------------------------------------------


class _Malformed(Exception):
    """The data does not fit the command's fields (a scenario-file error)."""

    def __init__(self, path: str, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.path = path  # where the value is (empty: the command itself)
        self.message = message
        self.key = key if key is not None else path  # what to find the line of


class _Invalid(Exception):
    """A value rejected its data (a tuko_flow ValidationError): the step's outcome."""

    def __init__(self, problems: tuple[FieldProblem, ...]) -> None:
        super().__init__(problems)
        self.problems = problems


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # a type defined where it cannot be resolved: take values as they are
        return {}


def _fields(cls: type) -> dict[str, attrs.Attribute[Any]]:
    """The fields of an attrs class that its constructor takes, by argument name."""
    return {f.alias: f for f in attrs.fields(cls) if f.init}


def _allowed(cls: type) -> str:
    names = [n for n in _fields(cls) if n != "command_id"]
    return ", ".join(names) if names else "none"


class _Context:
    """What a value may take from its step: who does it, when, and the known instruments.

    ``resolve`` turns a ``by``-style text (a member id, ``agency/person``) into an actor;
    ``used`` is set when a value took the step's actor, because then the command is built
    again when the step runs and the actor is known (members can join on the way).
    """

    def __init__(
        self,
        actor: Actor,
        at: datetime,
        resolve: Callable[[str, str], Actor],
        instruments: Mapping[str, Instrument],
    ) -> None:
        self.actor = actor
        self.at = at
        self.resolve = resolve
        self.instruments = instruments
        self.used = False

    def actor_for(self, who: object, path: str) -> Actor:
        """``who`` (as written for ``by``; ``None``: the step's own actor) as an actor."""
        self.used = True
        if who is None:
            return self.actor
        text = _actor_text(who)
        if text is None:
            raise _Malformed(path, f"{who!r} is not someone: {_SOMEONE}")
        return self.resolve(text, path)


def _structure(value: Any, tp: Any, path: str, ctx: _Context) -> Any:
    """``value`` (plain TOML data) shaped as ``tp``.

    Texts, numbers, booleans, dates and enum values are passed as they are: the library's
    own validation judges them and names the field. Tables become attrs values, lists
    become tuples; a value with one required field may be given as that field's value
    (``client = "client-7f3a"``). A few types are read their own way (``_READERS``).
    """
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or len(options) != 1:
            return value
        return _structure(value, options[0], path, ctx)
    if origin in (tuple, list) or (isinstance(origin, type) and issubclass(origin, Sequence)):
        if not isinstance(value, list):
            return value
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return tuple(_structure(v, item, f"{path}[{i}]", ctx) for i, v in enumerate(value))
    reader = _READERS.get(tp) if isinstance(tp, type) else None
    if reader is not None:
        return reader(value, path, ctx)
    if isinstance(tp, type) and attrs.has(tp):
        return _build(tp, value, path, ctx)
    return value


def _build(cls: type, value: Any, path: str, ctx: _Context) -> Any:
    fields = _fields(cls)
    required = [name for name, f in fields.items() if f.default is attrs.NOTHING]
    if not isinstance(value, dict):
        if len(required) == 1 and not isinstance(value, list | bool):
            value = {required[0]: value}
        else:
            return value  # not a table: the library reports what it expected
    unknown = sorted(set(value) - set(fields))
    if unknown:
        hint = _suggest(unknown[0], fields)
        raise _Malformed(
            path,
            f"{cls.__name__} has no field {', '.join(map(repr, unknown))}{hint} "
            f"(its fields: {_allowed(cls)})",
            key=_join(path, unknown[0]),
        )
    missing = [name for name in required if name not in value]
    if missing:
        raise _Malformed(path, f"{cls.__name__} needs {', '.join(map(repr, missing))}")
    hints = _hints(cls)
    kwargs = {
        name: _structure(v, hints.get(fields[name].name, Any), _join(path, name), ctx)
        for name, v in value.items()
    }
    try:
        return cls(**kwargs)
    except ValidationError as exc:
        raise _Invalid(
            tuple(FieldProblem(_join(path, p.field), p.problem, p.allowed) for p in exc.problems)
        ) from None
    except (TypeError, ValueError) as exc:
        raise _Malformed(path, f"{cls.__name__}: {exc}") from None


# --- values read their own way: an instrument by name@version, a checklist's answers -----

#: The keys of a checklist table beyond the fields of :class:`Checklist`.
CHECKLIST_KEYS = ("yes", "dont_know", "source", "asked_by", "asked_at")
#: The keys of one answer written as a table (``q3 = { value = "yes", source = ... }``).
ANSWER_KEYS = ("value", "source", "asked_by", "asked_at")
#: The instruments a checklist may name, by ``name@version``: the shipped ones.
_SHIPPED_INSTRUMENTS: tuple[Instrument, ...] = (SAFELIVES_DASH,)


def _instrument_table(instruments: Iterable[Instrument]) -> dict[str, Instrument]:
    return {f"{i.name}@{i.version}": i for i in instruments}


def _read_instrument(value: Any, path: str, ctx: _Context) -> Instrument:
    """An instrument named ``name@version``, one of the instruments the run knows."""
    if isinstance(value, Instrument):
        return value
    known = ", ".join(ctx.instruments) or "none"
    if not isinstance(value, str):
        raise _Malformed(
            path, f"{value!r} is not an instrument: write name@version (known: {known})"
        )
    found = ctx.instruments.get(value)
    if found is None:
        hint = _suggest(value, ctx.instruments)
        raise _Malformed(path, f"unknown instrument {value!r}{hint} (known: {known})")
    return found


def _read_checklist(value: Any, path: str, ctx: _Context) -> Any:
    """A :class:`Checklist` from a table: the instrument by name@version, the answers as
    ``answers = { q1 = "yes", ... }`` and/or ``yes = [...]``, ``dont_know = [...]`` (then
    every question not listed is answered no), asked by the step's actor at its time unless
    ``asked_by`` / ``asked_at`` say otherwise; ``source`` when the victim did not answer.

    Answers are made with :func:`~tuko_flow.rules.dash.answers_from` and the checklist by
    :class:`Checklist`, so unknown question ids, missing answers and bad values are the
    library's own problems (fields ``checklist.answers``, ``checklist.answers['q3'].value``).
    """
    if not isinstance(value, dict):
        return value  # not a table: the command reports what it expected
    fields = _fields(Checklist)
    keys = [*fields, *CHECKLIST_KEYS]
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise _Malformed(
            path,
            f"Checklist has no field {', '.join(map(repr, unknown))}"
            f"{_suggest(unknown[0], keys)} (its fields: {', '.join(keys)})",
            key=_join(path, unknown[0]),
        )
    if "instrument" not in value:
        known = ", ".join(ctx.instruments) or "none"
        raise _Malformed(path, f"Checklist needs 'instrument' (name@version; known: {known})")
    instrument = _read_instrument(value["instrument"], _join(path, "instrument"), ctx)
    asked_by = ctx.actor_for(value.get("asked_by"), _join(path, "asked_by"))
    asked_at = value.get("asked_at", ctx.at)
    source = value.get("source")
    given: dict[str, tuple[Any, Actor, Any, Any]] = {}

    def put(qid: Any, entry: tuple[Any, Actor, Any, Any], where: str) -> None:
        if not isinstance(qid, str):
            raise _Malformed(where, f"{qid!r} is not a question id (such as 'q1')")
        if qid in given:
            raise _Malformed(where, f"question {qid!r} is answered twice")
        given[qid] = entry

    for kind in ("yes", "dont_know"):
        listed = value.get(kind)
        if listed is None:
            continue
        where = _join(path, kind)
        if not isinstance(listed, list):
            raise _Malformed(where, f"'{kind}' must be a list of question ids, e.g. [\"q1\"]")
        for qid in listed:
            put(qid, (kind, asked_by, asked_at, source), where)
    answers = value.get("answers", {})
    where = _join(path, "answers")
    if not isinstance(answers, dict):
        raise _Malformed(where, '\'answers\' must be a table: { q1 = "yes", q2 = "no", ... }')
    for qid, answer in answers.items():
        if not isinstance(answer, dict):
            put(qid, (answer, asked_by, asked_at, source), where)
            continue
        at = f"{where}.{qid}"
        extra = sorted(set(answer) - set(ANSWER_KEYS))
        if extra or "value" not in answer:
            raise _Malformed(
                at,
                f"an answer table has the keys {', '.join(ANSWER_KEYS)} ('value' required)"
                + (f", not {', '.join(map(repr, extra))}" if extra else ""),
                key=where,
            )
        who = answer.get("asked_by")
        entry = (
            answer["value"],
            asked_by if who is None else ctx.actor_for(who, f"{at}.asked_by"),
            answer.get("asked_at", asked_at),
            answer.get("source", source),
        )
        put(qid, entry, where)
    if "yes" in value or "dont_know" in value:
        for qid in instrument.ids:
            given.setdefault(qid, ("no", asked_by, asked_at, source))
    made: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for qid, (answer_value, by, when, src) in given.items():
        try:
            made |= answers_from(
                {qid: answer_value}, instrument=instrument, asked_by=by, asked_at=when, source=src
            )
        except ValidationError as exc:
            problems.extend(
                FieldProblem(_join(path, p.field), p.problem, p.allowed) for p in exc.problems
            )
    if problems:
        raise _Invalid(tuple(problems))
    rest = {k: v for k, v in value.items() if k in fields}
    return _build(Checklist, {**rest, "instrument": instrument, "answers": made}, path, ctx)


_READERS: dict[type, Callable[[Any, str, _Context], Any]] = {
    Instrument: _read_instrument,
    Checklist: _read_checklist,
}


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- running -------------------------------------------------------------------------------


@attrs.frozen
class _Prepared:
    step: Step
    cls: type[Command]
    command: Command | None  # None when building it found invalid input
    invalid: tuple[FieldProblem, ...]
    #: built with a stand-in for the actor: build it again when the step runs
    rebuild: bool = False


#: Who a value is said to come from while the file is checked, before the step runs.
_STAND_IN = Actor(agency="scenario", person="stand-in")


def _make(
    cls: type[Command], step: Step, ctx: _Context
) -> tuple[Command | None, tuple[FieldProblem, ...]]:
    """The step's command (or the invalid input it holds); :class:`_Malformed` otherwise."""
    try:
        return _build(cls, dict(step.args), "", ctx), ()
    except _Invalid as exc:
        return None, exc.problems


def _prepare(
    scenario: Scenario, protocol: Protocol, instruments: Mapping[str, Instrument]
) -> list[_Prepared]:
    problems: list[ScenarioProblem] = []
    prepared: list[_Prepared] = []
    label = f"{protocol.name}@{protocol.version}"
    at = scenario.intake.at
    for step in (scenario.intake, *scenario.steps):
        at = step.at or at
        assert at is not None  # load() requires the intake's
        cls: type[Command] | None
        if step.command is None:
            cls = protocol.intake
        else:
            cls = protocol.commands.get(step.command)
            if cls is None:
                problems.append(
                    ScenarioProblem(
                        scenario.source,
                        step.line_of("command"),
                        f"{step.what}: unknown command {step.command!r}"
                        f"{_suggest(step.command, protocol.commands)} (the commands of "
                        f"{label}: {', '.join(protocol.commands)})",
                    )
                )
                continue
        ctx = _Context(_STAND_IN, at, lambda who, path: _STAND_IN, instruments)
        try:
            command, invalid = _make(cls, step, ctx)
        except _Malformed as exc:
            where = f" ({exc.path})" if exc.path else ""
            problems.append(
                ScenarioProblem(
                    scenario.source, step.line_of(exc.key), f"{step.what}{where}: {exc.message}"
                )
            )
            continue
        prepared.append(_Prepared(step, cls, command, invalid, rebuild=ctx.used))
    if problems:
        raise ScenarioError(problems)
    return prepared


def _protocol_for(scenario: Scenario, protocol: Protocol | str | None) -> Protocol:
    if isinstance(protocol, Protocol):
        return protocol
    spec = protocol if protocol is not None else scenario.protocol or _DEFAULT_PROTOCOL
    try:
        return resolve_protocol(spec)
    except TukoFlowError as exc:
        if protocol is not None:
            raise
        line = scenario.protocol_line if scenario.protocol is not None else None
        raise ScenarioError([ScenarioProblem(scenario.source, line, str(exc))]) from None


def _quiet_logger() -> Any:
    """A structlog logger that drops everything: a scenario run prints only its report."""
    return structlog.wrap_logger(structlog.ReturnLogger())


def _clock_text(when: datetime, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _resolve_actor(
    who: str, network: Iterable[object], source: str, step: Step, key: str = "by"
) -> Actor | ScenarioProblem:
    line, what = step.line_of(key), step.what
    if "/" in who:
        agency, _, person = who.partition("/")
        try:
            return Actor(agency=agency, person=person)
        except ValidationError as exc:
            return ScenarioProblem(source, line, f"{what}: '{key}' {who!r} is not valid: {exc}")
    members = [m for m in network if isinstance(m, NetworkMember)]
    for m in members:
        if m.member_id == who:
            return Actor(agency=m.agency, person=m.person)
    known = ", ".join(m.member_id for m in members) or "none"
    return ScenarioProblem(
        source,
        line,
        f"{what}: '{key}' names {who!r}, who is not in the case's network (members: {known}; "
        "or write agency/person, e.g. 'police/pol-202')",
    )


def _intake_network(
    item: _Prepared, at: datetime, instruments: Mapping[str, Instrument]
) -> tuple[object, ...]:
    """The network the intake names, even when other values of the intake are invalid (so
    that an invalid intake's report still names its case leader); ``()`` when the network
    itself cannot be read."""
    network: object = getattr(item.command, "network", ())
    if item.command is None and "network" in item.step.args:
        hint = _hints(item.cls).get("network", Any)
        ctx = _Context(_STAND_IN, at, lambda who, key: _STAND_IN, instruments)
        try:
            network = _structure(item.step.args["network"], hint, "network", ctx)
        except (_Malformed, _Invalid):
            network = ()
    return tuple(network) if isinstance(network, tuple | list) else ()


def _leader(network: Iterable[object]) -> str | None:
    """The member id of the network's (first) case leader, if it names one."""
    leaders = [m for m in network if isinstance(m, NetworkMember) and m.case_leader]
    return leaders[0].member_id if leaders else None


def _label(item: _Prepared, by: str, now: datetime, tz: tzinfo) -> str:
    return f"{item.step.what} ({item.cls.name} by {by} at {_clock_text(now, tz)})"


def _judged(result: StepResult, protocol: Protocol) -> StepResult:
    """``result`` with every way it differs from its step's expectation, and beside them
    hints for names in the expectation that the protocol does not know."""
    expect = result.step.expect
    found = _differences(expect, result)
    if found:
        found += _unknown_names(expect, protocol)
    return attrs.evolve(result, differences=tuple(found))


def run(
    scenario: Scenario,
    *,
    protocol: Protocol | str | None = None,
    logger: Any = None,
    instruments: Iterable[Instrument] | None = None,
) -> ScenarioResult:
    """Run ``scenario`` on a fresh engine (in-memory store, manual clock).

    ``protocol`` overrides the file's ``protocol`` key (a :class:`~tuko_flow.Protocol` or a
    spec such as ``"tuko@1"``; default: the file's, else the newest TUKO). ``instruments``
    are the risk checklists a ``checklist`` may name by ``name@version`` (default: the
    shipped ones, ``safelives-dash@2009``). Raises :class:`ScenarioError` when the file
    names an unknown command, field, instrument, protocol or network member; every other
    outcome is reported in the result.
    """
    proto = _protocol_for(scenario, protocol)
    known = _instrument_table(_SHIPPED_INSTRUMENTS if instruments is None else instruments)
    prepared = _prepare(scenario, proto, known)
    tz = ZoneInfo(scenario.timezone)
    start = scenario.intake.at
    assert start is not None  # load() requires it
    clock = ManualClock(start)
    engine = Engine(
        InMemoryEventStore(),
        clock=clock,
        config=scenario.config,
        protocols=(proto,),
        logger=logger if logger is not None else _quiet_logger(),
    )
    emitted: list[Event] = []
    engine.subscribe(emitted.append)
    intake_command = prepared[0].command
    case_id = str(getattr(intake_command, "case_id", scenario.intake.args.get("case_id", "")))
    results: list[StepResult] = []
    for item in prepared:
        step = item.step
        if step.at is not None:
            clock.set(step.at)
        now = clock.now()
        if step.number == 0 and item.command is None:
            # invalid input is never executed, so it needs no actor: 'by' is not looked up
            # (the network it would be found in may be what is invalid)
            leader = _leader(_intake_network(item, now, known))
            result = StepResult(
                step=step,
                label=_label(item, step.by or leader or "the case leader", now, tz),
                at=now,
                outcome="invalid",
                state=None,
                problems=item.invalid,
                source=scenario.source,
            )
            results.append(_judged(result, proto))
            continue
        network: Iterable[object]
        if step.number == 0:
            network = _intake_network(item, now, known)
        else:
            try:
                network = engine.case(case_id).network
            except CaseNotFound:  # the intake failed: say so at each step, do not run it
                result = StepResult(
                    step=step,
                    label=_label(item, step.by or "?", now, tz),
                    at=now,
                    outcome="error",
                    state=None,
                    error=f"there is no case {case_id!r}: the [case] step did not open it",
                    source=scenario.source,
                )
                results.append(_judged(result, proto))
                continue
        by = step.by or _leader(network)  # only the intake may leave 'by' out
        if by is None:
            raise ScenarioError(
                [
                    ScenarioProblem(
                        scenario.source,
                        step.line,
                        "the case has no 'by' and its network names no case leader to open "
                        "it: write by = a member id or agency/person",
                    )
                ]
            )
        actor = _resolve_actor(by, network, scenario.source, step)
        if isinstance(actor, ScenarioProblem):
            raise ScenarioError([actor])
        command, problems = item.command, item.invalid
        if item.rebuild:  # values that take who does the step (a checklist's answers)

            def resolve(
                who: str, key: str, network: Iterable[object] = network, step: Step = step
            ) -> Actor:
                found = _resolve_actor(who, network, scenario.source, step, key)
                if isinstance(found, ScenarioProblem):
                    raise ScenarioError([found])
                return found

            command, problems = _make(item.cls, step, _Context(actor, now, resolve, known))
        emitted.clear()
        outcome, error = "accepted", None
        failures: tuple[RuleFailure, ...] = ()
        if command is None:
            outcome = "invalid"
        else:
            try:
                if step.number == 0:
                    engine.open_case(command, actor=actor)
                else:
                    engine.execute(case_id, command, actor=actor)
            except CommandRefused as refusal:
                outcome, failures = "refused", refusal.failures
            except ValidationError as invalid:
                outcome, problems = "invalid", invalid.problems
            except TukoFlowError as exc:
                outcome, error = "error", str(exc)
        try:
            state: str | None = engine.case(case_id).state
        except CaseNotFound:
            state = None
        result = StepResult(
            step=step,
            label=_label(item, by, now, tz),
            at=now,
            outcome=outcome,
            state=state,
            events=tuple(type(e).__name__ for e in emitted),
            failures=tuple(failures),
            problems=tuple(problems),
            error=error,
            source=scenario.source,
        )
        results.append(_judged(result, proto))
    return ScenarioResult(
        scenario=scenario, protocol=f"{proto.name}@{proto.version}", steps=tuple(results)
    )


# --- saying what differs -------------------------------------------------------------------


def _list(names: Iterable[str]) -> str:
    return ", ".join(names) or "no events"


def _actual(r: StepResult) -> str:
    if r.outcome == "refused":
        return "a refusal: " + "; ".join(str(f) for f in r.failures)
    if r.outcome == "invalid":
        return "invalid input: " + "; ".join(str(p) for p in r.problems)
    if r.outcome == "error":
        return f"an error: {r.error}"
    return f"the command accepted (state {r.state}; events {_list(r.events)})"


def _wanted(e: Expectation) -> str:
    parts = []
    if e.outcome == "refused":
        parts.append(
            "a refusal" + (f" by {', '.join(e.refused)}" if isinstance(e.refused, tuple) else "")
        )
    elif e.outcome == "invalid":
        parts.append(
            "invalid input"
            + (f" in {', '.join(e.invalid)}" if isinstance(e.invalid, tuple) else "")
        )
    if e.state is not None:
        parts.append(f"state {e.state}")
    if e.events is not None:
        parts.append(f"events {_list(e.events)}")
    return " and ".join(parts) if parts else "the command to be accepted"


def _unknown_names(e: Expectation, protocol: Protocol) -> list[str]:
    """Hints for names in a failed expectation that the protocol does not know (a typo, or
    a name of another version): said beside the difference, in plain words."""
    label = f"{protocol.name}@{protocol.version}"
    hints: list[str] = []
    states = [s.name for s in protocol.states]
    if e.state is not None and e.state not in states:
        hints.append(f"note: {e.state!r} is not a state of {label}{_suggest(e.state, states)}")
    rules = [*protocol.rules, ALLOWED_IN_STATE]
    if isinstance(e.refused, tuple):
        for name in e.refused:
            if name not in rules:
                hints.append(f"note: {name!r} is not a rule of {label}{_suggest(name, rules)}")
    if e.events is not None:
        known = {t.__name__ for t in protocol.all_appliers}
        for name in e.events:
            if name not in known:
                hints.append(
                    f"note: {name!r} is not an event type of {label}{_suggest(name, known)}"
                )
    return hints


def _differences(e: Expectation, r: StepResult) -> list[str]:
    if r.outcome != e.outcome:
        return [f"expected {_wanted(e)}, got {_actual(r)}"]
    found: list[str] = []
    if isinstance(e.refused, tuple) and set(e.refused) != set(r.rules):
        found.append(f"expected a refusal by {', '.join(e.refused)}, got {_actual(r)}")
    if isinstance(e.invalid, tuple) and set(e.invalid) != set(r.fields):
        found.append(f"expected invalid input in {', '.join(e.invalid)}, got {_actual(r)}")
    if e.state is not None and r.state != e.state:
        found.append(f"expected state {e.state}, got state {r.state}")
    if e.events is not None and tuple(e.events) != r.events:
        found.append(f"expected events {_list(e.events)}, got events {_list(r.events)}")
    return found
