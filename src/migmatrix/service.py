"""Start, watch and stop the service an env needs (the staging server), once per run.

An env's `ServiceSpec` declares a command and a health URL with placeholders. The
harness picks a free loopback port, fills the placeholders, starts the command with
its output going to a log file kept beside the results, and polls the health URL
until the service answers 200. When the env's `url_env` variable (default
`STAGING_URL`) is set, nothing is started: the tests run against that remote
service instead (`plugin.services.remote_service_info`).

Each service runs under a keeper (`migmatrix.keeper`): a small process that holds
the read end of a pipe whose write end only the controller holds, and stops the
service's process group when that pipe closes, so a service dies with the run even
when the controller is SIGKILLed. The pid the harness knows is the keeper's: it
lives exactly as long as the service.

The controller owns the process (`RunningService`); xdist workers only get a
`ServiceInfo` (plain strings, JSON-serializable) and use `service_problem()` to turn
a dead service into a message carrying its log excerpt, so the affected results
become errors instead of skips.

Placeholders in the command, the health URL, the service URL and the env values:
`{port}`, `{host}`, `{workdir}`, `{python}` (the interpreter running the harness,
or the one given) and `{secret}`: a random value made for this service, the same
across its restarts, never written to its log - so a matrix can hand the service a
signing key (`NETRA_JWT_SECRET: "{secret}"`) without a secret in the repository. A
bare `python` as the program also means that interpreter, so the service runs in
the environment where the system under test is installed.

A service may also depend on the cell: with `{adapter}` (the adapter state, e.g.
`partial[engine+factory]`), `{adapter_base}` or `{components}` (comma-separated) in
its templates, one service is started per distinct value among the run's cells -
e.g. `NETRA_MIGRATION: "{adapter}"` gives every adapter state its own server.
`service_key(env, cell)` names the service a cell uses; pass the cell to
`start_service` to fill those placeholders.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from migmatrix import keeper
from migmatrix.errors import MigmatrixError
from migmatrix.model import Cell, EnvSpec, ServiceSpec

LOOPBACK = "127.0.0.1"
CELL_PLACEHOLDERS = ("adapter", "adapter_base", "components")
_POLL_INTERVAL = 0.05
# Seconds a stopped service gets to exit on SIGTERM before its keeper SIGKILLs its group;
# below `RunningService.stop`'s default timeout, so the keeper, which knows the group, acts.
KEEPER_GRACE = 5.0
# Seconds a keeper gets to answer a second SIGTERM (SIGKILL its service's group, then exit).
_KEEPER_ANSWER = 5.0


class ServiceError(MigmatrixError):
    """The service could not be started, or is not answering; the message has its log excerpt."""


@dataclasses.dataclass(frozen=True)
class ServiceInfo:
    """What a worker needs to reach the service and to explain its death.

    `log_path` and `health` are None for a remote service (`STAGING_URL`): its log is
    not ours to read, and its health URL is unknown.
    """

    env: str
    url: str
    health: str | None = None
    log_path: str | None = None
    pid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceInfo:
        return cls(
            env=str(data["env"]),
            url=str(data["url"]),
            health=data.get("health"),
            log_path=data.get("log_path"),
            pid=data.get("pid"),
        )


def cell_placeholders(cell: Cell) -> dict[str, str]:
    """The placeholder values a cell gives a service's templates."""
    return {
        "adapter": cell.adapter,
        "adapter_base": cell.adapter_base or cell.adapter,
        "components": ",".join(cell.components),
    }


def _cell_fields(spec: ServiceSpec) -> tuple[str, ...]:
    """The cell placeholders the spec's templates use, in a fixed order."""
    templates = [*spec.command, spec.health, spec.url, *(value for _, value in spec.env)]
    used: set[str] = set()
    for template in templates:
        for _, field, _, _ in string.Formatter().parse(template):
            if field in CELL_PLACEHOLDERS:
                used.add(field)
    return tuple(name for name in CELL_PLACEHOLDERS if name in used)


def service_key(env: EnvSpec, cell: Cell | None = None) -> str:
    """The name of the service `cell` uses in `env`: the env's name, plus the cell's values
    of the cell placeholders the service's templates use (e.g. `staging[ssot]`).

    Cells with the same key share one running service; the key is also the log file's name.
    """
    if env.service is None or cell is None:
        return env.name
    fields = _cell_fields(env.service)
    if not fields:
        return env.name
    values = cell_placeholders(cell)
    return f"{env.name}[{','.join(values[f] for f in fields)}]"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on `host` right now (the kernel's choice; closed before returning)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def read_log_excerpt(path: str | Path | None, lines: int = 40) -> str:
    """The last `lines` lines of a log file, or a note saying why there is none."""
    if path is None:
        return "(no log: remote service)"
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            tail = collections.deque(handle, maxlen=lines)
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    return "".join(tail).rstrip("\n") or "(log is empty)"


def probe(url: str, timeout: float = 1.0) -> int | None:
    """The HTTP status `url` answers with, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


def service_problem(info: ServiceInfo, timeout: float = 2.0) -> str | None:
    """None if the service is healthy, else a message with its log excerpt (for a worker).

    Checks the pid first (cheap, and exact for a local process), then the health URL.
    A remote service without a health URL is taken as healthy: its failures show up
    in the tests themselves.
    """
    if info.pid is not None and not _pid_alive(info.pid):
        return _died_message(info.env, f"process {info.pid} is gone", info.log_path)
    if info.health is None:
        return None
    status = probe(info.health, timeout=timeout)
    if status == 200:
        return None
    answer = "no answer" if status is None else f"HTTP {status}"
    return _died_message(info.env, f"{info.health} gave {answer}", info.log_path)


class RunningService:
    """A service process started by `start_service`; stop it with `stop()` (idempotent).

    `restart(env_overrides)` stops it and starts the same command again on the same
    port and workdir with some environment variables changed (a rollback in staging:
    another NETRA_MIGRATION over the same database); the log file is appended to.
    """

    def __init__(
        self,
        env: EnvSpec,
        *,
        host: str,
        port: int,
        workdir: Path,
        log_path: Path,
        python: str,
        environ: Mapping[str, str],
        key: str | None = None,
        cell_values: Mapping[str, str] | None = None,
    ) -> None:
        self.env = env
        self.key = key or env.name
        self._cell_values = dict(cell_values or {})
        self.host = host
        self.port = port
        self.workdir = workdir
        self.log_path = log_path
        self.python = python
        self._base_environ = dict(environ)
        self._secret = secrets.token_urlsafe(32)
        self._overrides: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        # The write end of the pipe the service's keeper watches: open exactly as long as
        # the service should live, and closed by the kernel if this process dies.
        self._lifeline: int | None = None

    # -- derived ---------------------------------------------------------------------

    @property
    def spec(self) -> ServiceSpec:
        assert self.env.service is not None  # guaranteed by start_service
        return self.env.service

    @property
    def placeholders(self) -> dict[str, str]:
        return {
            "port": str(self.port),
            "host": self.host,
            "workdir": str(self.workdir),
            "python": self.python,
            "secret": self._secret,
            **self._cell_values,
        }

    @property
    def url(self) -> str:
        return _fill(self.spec.url, self.placeholders, "url").rstrip("/")

    @property
    def health_url(self) -> str:
        return _fill(self.spec.health, self.placeholders, "health")

    @property
    def command(self) -> list[str]:
        values = self.placeholders
        argv = [_fill(arg, values, "command") for arg in self.spec.command]
        if argv and argv[0] == "python":
            argv[0] = self.python
        return argv

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def info(self) -> ServiceInfo:
        return ServiceInfo(
            env=self.key,
            url=self.url,
            health=self.health_url,
            log_path=str(self.log_path),
            pid=self.pid,
        )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_excerpt(self, lines: int = 40) -> str:
        if self._log is not None:
            self._log.flush()
        return read_log_excerpt(self.log_path, lines)

    # -- life cycle ------------------------------------------------------------------

    def _environ(self) -> dict[str, str]:
        values = self.placeholders
        environ = dict(self._base_environ)
        for key, value in self.spec.env:
            environ[key] = _fill(value, values, f"env.{key}")
        environ.update(self._overrides)
        return environ

    def _launch(self) -> None:
        command = self.command
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        shown = [arg.replace(self._secret, "***") for arg in command]
        note = f"--- migmatrix: starting {shown} (overrides {sorted(self._overrides)})\n"
        self._log.write(note.encode())
        self._log.flush()
        if _program(command, self.workdir) is None:
            self._close_log()
            msg = (
                f"service {self.key!r}: cannot start {command}: no executable program "
                f"{command[0] if command else ''!r}; fix the command"
            )
            raise ServiceError(msg)
        read_end, self._lifeline = os.pipe()
        try:
            self._process = subprocess.Popen(
                keeper.keeper_command(sys.executable, read_end, KEEPER_GRACE, command),
                cwd=self.workdir,
                env=self._environ(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                pass_fds=(read_end,),
                # Its own session, so a Ctrl-C meant for the harness does not hit the
                # service twice; the keeper puts the service in a group of its own.
                start_new_session=True,
            )
        except OSError as exc:
            self._close_log()
            msg = f"service {self.key!r}: cannot start {command}: {exc}; fix the command"
            raise ServiceError(msg) from exc
        finally:
            os.close(read_end)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.spec.startup_timeout
        health = self.health_url
        while True:
            if not self.alive():
                code = self._process.returncode if self._process is not None else None
                excerpt = self.log_excerpt()
                self.stop()
                msg = (
                    f"service {self.key!r}: exited with code {code} before "
                    f"{health} answered; log {self.log_path}:\n{excerpt}"
                )
                raise ServiceError(msg)
            if probe(health, timeout=1.0) == 200:
                return
            if time.monotonic() > deadline:
                excerpt = self.log_excerpt()
                self.stop()
                msg = (
                    f"service {self.key!r}: {health} did not answer 200 within "
                    f"{self.spec.startup_timeout:g}s (raise service.startup_timeout if it "
                    f"is just slow); log {self.log_path}:\n{excerpt}"
                )
                raise ServiceError(msg)
            time.sleep(_POLL_INTERVAL)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the service; returns its exit code (negative: the signal that ended it).

        SIGTERM to the keeper, which passes it on; after `timeout` seconds a second
        SIGTERM, on which the keeper SIGKILLs the service's process group at once; and
        if the keeper itself does not answer, SIGKILL to it (its service then sees its
        pipe close, but nobody is left to stop it: only a keeper that hangs gets there).
        """
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=_KEEPER_ANSWER)
                except subprocess.TimeoutExpired:
                    # Done before reaping, while the group id cannot belong to anyone else.
                    _kill_group(process.pid)
                    process.wait()
        self._cut_lifeline()
        self._close_log()
        return process.returncode

    def restart(self, env_overrides: Mapping[str, str], timeout: float = 10.0) -> None:
        """Stop, then start again on the same port and workdir with `env_overrides` applied.

        Overrides accumulate over restarts (a later one wins per key).
        """
        self.stop(timeout=timeout)
        self._overrides.update(env_overrides)
        self._process = None
        self._launch()

    def _cut_lifeline(self) -> None:
        if self._lifeline is not None:
            with contextlib.suppress(OSError):
                os.close(self._lifeline)
            self._lifeline = None

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RunningService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningService({self.key!r}, url={self.url!r}, pid={self.pid})"


def start_service(
    env: EnvSpec,
    *,
    workdir: Path,
    log_dir: Path,
    python: str | None = None,
    host: str = LOOPBACK,
    environ: Mapping[str, str] | None = None,
    cell: Cell | None = None,
) -> RunningService:
    """Start `env`'s service on a free port of `host` and wait until its health URL says 200.

    `cell` fills the cell placeholders (see `service_key`); the log goes to
    `log_dir/service-<key>.log`. Raises `ServiceError` (with the log excerpt) if the
    process exits first or the health URL stays silent past the spec's
    `startup_timeout`; the process is stopped in both cases.
    """
    if env.service is None:
        msg = f"env {env.name!r} declares no service; add `service:` with command and health"
        raise ServiceError(msg)
    key = service_key(env, cell)
    service = RunningService(
        env,
        host=host,
        port=free_port(host),
        workdir=Path(workdir).resolve(),
        log_path=Path(log_dir).resolve() / f"service-{safe_name(key)}.log",
        python=python or sys.executable,
        environ=os.environ if environ is None else environ,
        key=key,
        cell_values=cell_placeholders(cell) if cell is not None else None,
    )
    service._launch()
    return service


# --------------------------------------------------------------------------- helpers


def _fill(template: str, values: Mapping[str, str], where: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        msg = (
            f"service {where} {template!r}: bad placeholder {exc}; "
            f"use only {{{'}, {'.join(sorted(values))}}} (double braces for a literal brace)"
        )
        raise ServiceError(msg) from exc


def safe_name(name: str) -> str:
    """`name` as a file name: anything but letters, digits and `-_.` becomes `_`."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def _program(command: list[str], cwd: Path) -> str | None:
    """The program `command` would run from `cwd`, or None when there is none to run.

    Checked before the keeper starts it, so a typo is the clear "cannot start" error
    rather than the keeper's exit code.
    """
    if not command:
        return None
    if os.sep not in command[0]:
        return shutil.which(command[0])
    path = cwd / command[0]
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the controller) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _died_message(env: str, what: str, log_path: str | None) -> str:
    excerpt = read_log_excerpt(log_path)
    return f"service of env {env!r} is down ({what}); log {log_path}:\n{excerpt}"
