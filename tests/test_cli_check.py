"""`tuko-flow validate`: shipped protocols are sound; each planted mistake is reported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import protocol_fixtures
import pytest

from tuko_flow._cli import main
from tuko_flow._registry import shipped_protocols

#: Each broken fixture protocol and the words its problem is reported in.
EXPECTED = {
    "UNREACHABLE": "these states cannot be reached from 'a': island",
    "TRAP": "no closed or final state can be reached (traps): pit",
    "FINAL_WITH_EXIT": "final state 'end' has outgoing transitions",
    "UNKNOWN_STATE": "goes to unknown state 'nowhere'",
    "UNKNOWN_RULE": "names unknown rule 'no_such_rule'",
    "DUPLICATE": "a transition for 'go' from 'a' exists already",
    "UNUSED_RULE": "these rules are defined but no transition uses them: spare",
    "AUTOMATIC_LOOP": "automatic transitions can loop forever",
}


def test_every_broken_fixture_is_checked_here() -> None:
    """The table above covers every broken fixture protocol."""
    assert set(EXPECTED) == set(protocol_fixtures.BROKEN)


def test_validate_passes_every_shipped_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """With no --protocol, every shipped protocol is checked and reported ok."""
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    for name, version in shipped_protocols():
        assert f"{name}@{version}: ok" in out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_reports_each_planted_mistake(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A protocol that fails to build is reported with its problems; exit code 1."""
    spec = f"protocol_fixtures:{name}"
    assert main(["validate", "--protocol", spec]) == 1
    out = capsys.readouterr().out
    assert f"{spec}: 1 problem(s), so it could not be built:" in out
    assert EXPECTED[name] in out


def test_validate_several_protocols_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--json lists each protocol with ok and its problems; one broken one makes exit 1."""
    argv = ["validate", "--protocol", "tuko@1", "--protocol", "protocol_fixtures:TRAP", "--json"]
    assert main(argv) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(d["protocol"], d["ok"]) for d in data] == [
        ("tuko@1", True),
        ("protocol_fixtures:TRAP", False),
    ]
    assert data[0]["problems"] == []
    assert EXPECTED["TRAP"] in data[1]["problems"][0]


def test_validate_reports_a_module_that_fails_on_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A team's module that builds a broken protocol on import: its problems are shown."""
    (tmp_path / "team_variant.py").write_text(
        "from protocol_fixtures import FINAL_WITH_EXIT as VARIANT\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "team_variant", raising=False)
    assert main(["validate", "--protocol", "team_variant:VARIANT"]) == 1
    assert EXPECTED["FINAL_WITH_EXIT"] in capsys.readouterr().out


def test_validate_a_sound_team_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    """A sound protocol from a module is ok; its label shows name and version."""
    assert main(["validate", "--protocol", "protocol_fixtures:WITH_FINAL"]) == 0
    assert "protocol_fixtures:WITH_FINAL (finishing@1): ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown protocol 'nope'"),
        ("tuko@9", "protocol 'tuko' has no version '9'"),
        ("no_such_module_xyz:P", "module 'no_such_module_xyz' cannot be imported"),
        ("protocol_fixtures:MISSING", "protocol_fixtures.MISSING is missing"),
    ],
)
def test_validate_unknown_protocols_exit_2(
    spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown name, version, module or attribute is an error (exit 2), not a problem."""
    assert main(["validate", "--protocol", spec]) == 2
    assert message in capsys.readouterr().err


def test_validate_json_lists_specs_that_name_no_protocol(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With --json an unknown spec is an entry of the JSON (ok false, the error), after the
    protocols checked; the exit code is still 2 and nothing goes to stderr."""
    argv = ["validate", "--protocol", "nope", "--protocol", "tuko@1", "--json"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == ""
    checked, unknown = json.loads(captured.out)
    assert (checked["protocol"], checked["ok"]) == ("tuko@1", True)
    assert unknown["protocol"] == "nope"
    assert unknown["ok"] is False
    assert "unknown protocol 'nope'" in unknown["error"]
    # in plain words it is said on stderr, as before
    assert main(["validate", "--protocol", "nope", "--protocol", "tuko@1"]) == 2
    captured = capsys.readouterr()
    assert "tuko@1: ok" in captured.out
    assert "tuko-flow: unknown protocol 'nope'" in captured.err


def test_check_with_a_broken_protocol_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scenario files cannot run on a protocol that does not build: exit 2 with its problems."""
    path = tmp_path / "any.toml"
    path.write_text("[case]\nat = 2026-01-05\n", encoding="utf-8")
    assert main(["check", str(path), "--protocol", "protocol_fixtures:TRAP"]) == 2
    assert EXPECTED["TRAP"] in capsys.readouterr().err


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` of check and validate show examples and exit codes."""
    for command in ("check", "validate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "examples:" in out
        assert "Exit codes" in out


@pytest.mark.parametrize(
    ("source", "named"),
    [("x = = 1\n", "SyntaxError"), ("raise RuntimeError('boom at import')\n", "RuntimeError")],
)
def test_a_team_module_that_fails_on_import_is_an_error_not_a_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
    named: str,
) -> None:
    """Whatever the module raises while it loads is reported in one line, exit 2."""
    name = f"teamfail_{named.lower()}"  # one package per case: packages stay imported
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert main(["validate", "--protocol", f"{name}.broken:V2"]) == 2
    err = capsys.readouterr().err
    assert "cannot be imported" in err
    assert named in err
    assert "Traceback" not in err


def test_a_team_module_in_the_current_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As with python -m, the current directory is searched for a team's module."""
    package = tmp_path / "teamhere"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "protocols.py").write_text(
        "import attrs\nfrom tuko_flow import TUKO\nV2 = attrs.evolve(TUKO, version='2')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert main(["validate", "--protocol", "teamhere.protocols:V2"]) == 0
    assert "tuko@2" in capsys.readouterr().out
