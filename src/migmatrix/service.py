"""Start, watch and stop the service an env needs (the staging server), once per run.

An env's `ServiceSpec` declares a command and a health URL with placeholders. The
harness picks a free loopback port, fills the placeholders, starts the command with
its output going to a log file kept beside the results, and polls the health URL
until the service answers 200. A port taken by another process between the choice
and the service's bind (the service exits saying "address already in use") is not a
failure: the service starts again on another port (`BIND_ATTEMPTS`). When the env's
`url_env` variable (default `STAGING_URL`) is set, nothing is started: the tests run
against that remote service instead (`plugin.services.remote_service_info`).

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

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from migmatrix import keeper
from migmatrix.endpoint import (
    ServiceInfo,
    cell_placeholders,
    probe,
    read_log_excerpt,
    safe_name,
    service_key,
)
from migmatrix.errors import MigmatrixError
from migmatrix.model import Cell, EnvSpec, ServiceSpec

LOOPBACK = "127.0.0.1"
_POLL_INTERVAL = 0.05
# Seconds a stopped service gets to exit on SIGTERM before its keeper SIGKILLs its group;
# below `RunningService.stop`'s default timeout, so the keeper, which knows the group, acts.
KEEPER_GRACE = 5.0
# Seconds a keeper gets to answer a second SIGTERM (SIGKILL its service's group, then exit).
_KEEPER_ANSWER = 5.0
# Starts a service gets when its port was taken between choosing and binding it: each
# retry takes a new port, so only a machine whose every port is contested runs out.
BIND_ATTEMPTS = 8
# How a program says its port is taken: the errno text (Linux, macOS) and its name.
_ADDRESS_IN_USE = ("address already in use", "eaddrinuse", "only one usage of each socket")


class ServiceError(MigmatrixError):
    """The service could not be started, or is not answering; the message has its log excerpt."""


class PortTakenError(ServiceError):
    """The service exited at start because another process had taken its port."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port free on `host` right now (the kernel's choice; closed before returning).

    Free *now* only: `RunningService` retries a start whose port was taken meanwhile.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


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
        # Where this start's part of the log begins (the log is appended to on restarts).
        self._log_start = 0

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

    def _launch(self, *, keep_port: bool = False) -> None:
        """Start the command and wait until it is healthy, moving off a port taken meanwhile.

        `free_port` can only pick a port that is free when asked: the service binds it
        later, and on a busy machine another process may take it in between. A start
        that fails that way (the service exits and its log since this start says
        "address already in use") is retried on a new port, up to `BIND_ATTEMPTS` times.
        With `keep_port` (a restart, whose clients know the URL) the same port is tried
        again first: the old process has just released it.
        """
        attempts = 0
        while True:
            attempts += 1
            try:
                self._launch_once()
            except PortTakenError:
                if attempts >= BIND_ATTEMPTS:
                    raise
                if not (keep_port and attempts == 1):
                    self.port = free_port(self.host)
                continue
            return

    def _launch_once(self) -> None:
        command = self.command
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self._log_start = self._log.tell()
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
                taken = self._port_taken()
                self.stop()
                if taken:
                    msg = f"service {self.key!r}: port {self.port} was taken before it bound it"
                    raise PortTakenError(msg)
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

    def _port_taken(self) -> bool:
        """Whether this start's log says the port was in use (read after the process exited)."""
        if self._log is not None:
            self._log.flush()
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start)
                text = log.read(64 * 1024).decode("utf-8", "replace").lower()
        except OSError:
            return False
        return any(sign in text for sign in _ADDRESS_IN_USE)

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

        Overrides accumulate over restarts (a later one wins per key). Should another
        process have taken the port meanwhile, the service moves to a new one: read
        `url` again after a restart.
        """
        self.stop(timeout=timeout)
        self._overrides.update(env_overrides)
        self._process = None
        self._launch(keep_port=True)

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
    port: int | None = None,
) -> RunningService:
    """Start `env`'s service on a free port of `host` and wait until its health URL says 200.

    `port` is the first port to try (default: one `free_port` picks); if it is taken
    by the time the service binds it, the service is started again on another.

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
        port=free_port(host) if port is None else port,
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


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
