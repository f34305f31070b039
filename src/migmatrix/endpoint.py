"""What a run knows of a service without owning its process.

The controller starts and stops services (`migmatrix.service`); every process of
the run, workers included, needs only this: the service's `ServiceInfo` (its wire
form between controller and workers), the key that names the service a cell uses,
the cell's placeholder values, a health probe, and a dead service turned into a
message carrying its log excerpt (`service_problem`), so a cell's tests become
errors that say why instead of skips.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import string
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from migmatrix.model import Cell, EnvSpec, ServiceSpec

CELL_PLACEHOLDERS = ("adapter", "adapter_base", "components")


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
    if info.pid is not None and not pid_alive(info.pid):
        return died_message(info.env, f"process {info.pid} is gone", info.log_path)
    if info.health is None:
        return None
    status = probe(info.health, timeout=timeout)
    if status == 200:
        return None
    answer = "no answer" if status is None else f"HTTP {status}"
    return died_message(info.env, f"{info.health} gave {answer}", info.log_path)


def safe_name(name: str) -> str:
    """`name` as a file name: anything but letters, digits and `-_.` becomes `_`."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def pid_alive(pid: int) -> bool:
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


def died_message(env: str, what: str, log_path: str | None) -> str:
    excerpt = read_log_excerpt(log_path)
    return f"service of env {env!r} is down ({what}); log {log_path}:\n{excerpt}"
