"""Finding protocols by name: the shipped ones, and the ones a team declares in its own code.

A protocol is named by a *spec*:

* ``"tuko"`` or ``"tuko@1"``: a protocol that ships with tuko_flow (the newest version
  when no version is given);
* ``"package.module:NAME"``: a :class:`~tuko_flow.Protocol` object in importable code
  (a team's variant), optionally ``"package.module:NAME@2"`` to insist on a version. As
  with ``python -m``, a module in the current directory is found too.

Unknown names, versions, modules or attributes raise
:class:`~tuko_flow.errors.TukoFlowError` saying which and what is known.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

from ._protocol import Protocol
from .errors import ProtocolDefinitionError, TukoFlowError


def shipped_protocols() -> dict[tuple[str, str], Protocol]:
    """Every protocol that ships with tuko_flow, by ``(name, version)``."""
    from .stages import TUKO
    from .stages.marac import MARAC

    return {(p.name, p.version): p for p in (TUKO, MARAC)}


def _import(module_name: str) -> ModuleType:
    """Import a team's module; like ``python -m``, the current directory is searched too."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        top = module_name.split(".")[0]
        if exc.name is None or exc.name.split(".")[0] != top or here in sys.path:
            raise
        sys.path.insert(0, here)
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError:
            sys.path.remove(here)
            raise


def load_object(spec: str, what: str) -> object:
    """The object a ``"package.module:NAME"`` spec names in a team's code.

    ``what`` names the spec in messages (``"protocol 'x:Y'"``, ``"--inputs 'x:Y'"``). Any
    failure while the module loads — not found, a syntax error, whatever it raises — is
    one :class:`~tuko_flow.errors.TukoFlowError` saying which; a protocol that fails to
    build raises its :class:`~tuko_flow.errors.ProtocolDefinitionError` as it is.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise TukoFlowError(f"{what}: expected 'package.module:NAME'")
    try:
        module = _import(module_name)
    except ProtocolDefinitionError:
        raise  # the module's protocol is broken: its problems say how
    except Exception as exc:  # ImportError, SyntaxError, or whatever the module raised
        raise TukoFlowError(
            f"{what}: module {module_name!r} cannot be imported ({type(exc).__name__}: {exc})"
        ) from None
    if not hasattr(module, attr):
        raise TukoFlowError(f"{what}: {module_name}.{attr} is missing")
    return getattr(module, attr)


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in version.split("."))


def resolve_protocol(spec: str) -> Protocol:
    """The protocol named by ``spec`` (see the module docstring)."""
    if not isinstance(spec, str) or not spec.strip():
        raise TukoFlowError(
            f"{spec!r} names no protocol (allowed: 'tuko', 'tuko@1', 'pkg.mod:NAME')"
        )
    name, _, version = spec.strip().partition("@")
    if ":" in name:
        found = load_object(name, f"protocol {spec!r}")
        if not isinstance(found, Protocol):
            raise TukoFlowError(
                f"protocol {spec!r}: {name.replace(':', '.')} is a {type(found).__name__}, "
                "not a Protocol"
            )
        if version and found.version != version:
            raise TukoFlowError(
                f"protocol {spec!r}: {name.replace(':', '.')} is version {found.version!r}, "
                f"not {version!r}"
            )
        return found
    shipped = shipped_protocols()
    versions = sorted((v for n, v in shipped if n == name), key=_version_key)
    if not versions:
        known = ", ".join(sorted({n for n, _ in shipped}))
        raise TukoFlowError(
            f"unknown protocol {name!r} (known: {known}; or 'package.module:NAME' for your own)"
        )
    if not version:
        return shipped[(name, versions[-1])]
    if version not in versions:
        raise TukoFlowError(
            f"protocol {name!r} has no version {version!r} (known versions: {', '.join(versions)})"
        )
    return shipped[(name, version)]
