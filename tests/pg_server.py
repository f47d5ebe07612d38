"""A real, throwaway PostgreSQL server for the test session.

:func:`running_server` finds the PostgreSQL server programs (``initdb``, ``pg_ctl``,
``postgres``) on ``PATH`` or under ``/usr/lib/postgresql/<version>/bin`` (newest first),
creates a cluster in a temporary directory with ``trust`` authentication, starts it
listening on a Unix socket in that directory and on ``127.0.0.1`` at a free port, and stops
and deletes it afterwards. PostgreSQL refuses to run as root, so as root the programs run
as the ``postgres`` OS user. Without the programs it fails (never skips), saying what to
install: ``.ci/run`` installs Debian's ``postgresql`` package on a fresh machine.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_OS_USER = "postgres"  # PostgreSQL will not run as root; Debian's package creates this user
_INSTALL = (
    "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH or under "
    "/usr/lib/postgresql/*/bin. The PostgreSQL store's tests run against a real server: "
    "install Debian's `postgresql` package (`apt-get install -y postgresql`; .ci/run does "
    "this on a fresh machine) and run the tests again."
)


class ServerError(Exception):
    """The test server could not be found, set up or started."""


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: where it is and how to reach it."""

    bindir: Path
    base: Path
    port: int
    as_user: str | None

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "sock"

    @property
    def conninfo(self) -> str:
        """A libpq connection string over the Unix socket (superuser ``postgres``)."""
        return f"host={self.socket_dir} port={self.port} user=postgres dbname=postgres"

    @property
    def tcp_conninfo(self) -> str:
        """The same server over TCP on 127.0.0.1."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: PATH first, then the newest
    ``/usr/lib/postgresql/<version>/bin``."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.append(Path(initdb).resolve().parent)  # Debian symlinks into the bindir
        candidates.append(Path(initdb).parent)

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"/postgresql/([\d.]+)/bin$", path)
        return tuple(int(p) for p in found.group(1).split(".") if p) if found else ()

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates.extend(Path(p) for p in found)
    for bindir in candidates:
        if all(os.access(bindir / p, os.X_OK) for p in _PROGRAMS):
            return bindir
    raise ServerError(_INSTALL)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(server: PostgresServer, *args: str, timeout: float = 60) -> str:
    """Run a PostgreSQL program (as the ``postgres`` user when we are root)."""
    command = [str(server.bindir / args[0]), *args[1:]]
    if server.as_user is not None:
        if shutil.which("runuser"):
            command = ["runuser", "-u", server.as_user, "--", *command]
        else:
            command = ["su", server.as_user, "-s", "/bin/sh", "-c", shlex.join(command)]
    done = subprocess.run(
        command,
        cwd=server.base,  # a directory the server's user can enter
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "LC_ALL": "C", "TZ": "UTC"},
    )
    if done.returncode != 0:
        raise ServerError(
            f"{' '.join(args[:1])} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def _prepare(bindir: Path) -> PostgresServer:
    """A new cluster in a fresh temporary directory, owned by the user that will run it."""
    as_user: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_OS_USER)
        except KeyError:
            raise ServerError(
                f"running as root and there is no {_OS_USER!r} OS user to run PostgreSQL "
                "as (PostgreSQL refuses to run as root); install Debian's `postgresql` "
                "package, which creates it, or run the tests as another user"
            ) from None
        as_user = _OS_USER
    # /tmp: short enough for a Unix socket path, and traversable by the server's user
    parent = "/tmp" if os.access("/tmp", os.W_OK | os.X_OK) else None
    _reap_orphans(bindir, as_user, Path(parent or tempfile.gettempdir()))
    base = Path(tempfile.mkdtemp(prefix="tuko-pg-", dir=parent))
    (base / "sock").mkdir()
    (base / "owner.pid").write_text(str(os.getpid()))
    for path in (base, base / "sock"):
        path.chmod(0o755)
        if as_user is not None:
            shutil.chown(path, user=as_user)
    server = PostgresServer(bindir=bindir, base=base, port=0, as_user=as_user)
    _run(
        server,
        "initdb",
        "-D",
        str(server.datadir),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    )
    return server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap_orphans(bindir: Path, as_user: str | None, parent: Path) -> None:
    """Stop and delete test servers left behind by test runs that were killed."""
    for base in parent.glob("tuko-pg-*"):
        try:
            owner = int((base / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            _stop(PostgresServer(bindir=bindir, base=base, port=0, as_user=as_user))


def _start(server: PostgresServer, *, durable: bool = False) -> PostgresServer:
    """Start the cluster on a free port (a few tries, in case another process takes it).

    Not ``durable`` (for tests): ``fsync`` and ``full_page_writes`` off, as a throwaway
    server needs no protection against power loss. ``durable``: PostgreSQL's defaults.
    """
    log = server.base / "server.log"
    for _attempt in range(5):
        running = PostgresServer(server.bindir, server.base, _free_port(), server.as_user)
        options = " ".join(
            [
                f"-p {running.port}",
                f"-k {running.socket_dir}",
                "-c listen_addresses=127.0.0.1",
                f"-c fsync={'on' if durable else 'off'}",
                f"-c full_page_writes={'on' if durable else 'off'}",
                "-c shared_buffers=32MB",
                "-c max_connections=200",
            ]
        )
        try:
            _run(
                running,
                "pg_ctl",
                "start",
                "-D",
                str(running.datadir),
                "-l",
                str(log),
                "-w",
                "-t",
                "30",
                "-o",
                options,
            )
        except ServerError as exc:
            text = log.read_text(errors="replace") if log.exists() else ""
            if "could not bind" in text or "already in use" in text:
                continue
            raise ServerError(f"{exc}\nserver log:\n{text[-3000:]}") from None
        return running
    raise ServerError(f"no free port for the test server; server log:\n{log.read_text()}")


def _stop(server: PostgresServer) -> None:
    """Stop the server (fast shutdown) and delete its directory; never raises."""
    with contextlib.suppress(ServerError, subprocess.TimeoutExpired, OSError):
        if (server.datadir / "postmaster.pid").exists():
            _run(server, "pg_ctl", "stop", "-D", str(server.datadir), "-m", "fast", "-w")
    shutil.rmtree(server.base, ignore_errors=True)


@contextlib.contextmanager
def running_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A started throwaway server; stopped and deleted on exit (or at interpreter exit).

    ``durable=True`` keeps PostgreSQL's durable defaults (``fsync=on``), for benchmarks.
    """
    server = _prepare(find_bindir())
    try:
        server = _start(server, durable=durable)
    except BaseException:
        _stop(server)
        raise
    atexit.register(_stop, server)  # in case the caller never gets to the finally below
    try:
        yield server
    finally:
        _stop(server)
        atexit.unregister(_stop)
