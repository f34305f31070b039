"""Install one environment with uv, in ONE resolution, then check the pins.

The adapter's requirements are resolved together with the project, migmatrix
and pytest in one `uv pip install`: a second, unpinned step could silently
replace a pin (pytest depends on `packaging`, say). Afterwards the installed
version of every pinned distribution must equal its pin, or the install is
refused with both versions named. A stamp in the environment (`STAMP_NAME`)
holds the spec's hash and what was installed; while it matches, a re-run
installs nothing.

An install the resolver refuses because of the interpreter (a release that needs
a newer Python) is not an error of the run: `InstallResult.unavailable` carries
the installer's message, and its cells get `unavailable` records
(`migmatrix.envs.unavailable`). Any other refusal (a release that does not
exist) is bad input: a UsageError naming the environment and the interpreter.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from migmatrix.envs.spec import Environment
from migmatrix.errors import UsageError

STAMP_NAME = ".migmatrix-environment.json"
# How uv and pip word a release that does not support the interpreter: "the current
# Python version (3.10.13) does not satisfy Python>=3.11", "requires-python".
_PYTHON_TOO_OLD_OR_NEW = re.compile(r"Python version|Python\s*[<>=!~]|[Rr]equires-[Pp]ython")
_TIMEOUT = 1800


@dataclasses.dataclass(frozen=True)
class InstallResult:
    """What `install` did: `unavailable` is the installer's message when it could not install."""

    installed: bool
    unavailable: str | None = None
    versions: tuple[tuple[str, str], ...] = ()


def find_uv() -> str:
    """The uv binary nox uses (the `uv` package of nox[uv]), else the one on PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        msg = "environment adapters are installed with uv; install it (`pip install 'nox[uv]'`)"
        raise UsageError(msg)
    return found


def install_args(environment: Environment, base: Sequence[str], checkout: str | None) -> list[str]:
    """Everything of one environment's single install: `base` (project, migmatrix) and its own."""
    args = list(base)
    if checkout is not None:
        folder, bracket, extras = environment.install.partition("[")
        args.append(str(Path(checkout, folder)) + (f"[{extras}" if bracket else ""))
    args += environment.requirements
    if environment.requirements_file:
        args += ["-r", environment.requirements_file]
    return args


def read_stamp(prefix: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(prefix, STAMP_NAME)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def installed_versions(python: str, names: Sequence[str]) -> dict[str, str | None]:
    """The installed version of each distribution in the environment of `python`."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "def v(n):\n"
        "    try:\n        return m.version(n)\n"
        "    except m.PackageNotFoundError:\n        return None\n"
        "print(json.dumps({n: v(n) for n in sys.argv[1:]}))\n"
    )
    done = subprocess.run(
        [python, "-c", code, *names], capture_output=True, text=True, timeout=120, check=True
    )
    found: dict[str, str | None] = json.loads(done.stdout)
    return found


def pin_problems(environment: Environment, versions: dict[str, str | None]) -> list[str]:
    """One line per pinned distribution whose installed version is not its pin."""
    return [
        f"environment {environment.name!r}: {name} {versions.get(name) or '(not installed)'} "
        f"is installed, but the adapter pins {name}=={pin}"
        for name, pin in environment.pins
        if versions.get(name) != pin
    ]


def install(
    environment: Environment,
    *,
    python: str,
    prefix: str,
    args: Sequence[str],
    spec_hash: str,
    ref: dict[str, str] | None = None,
    editable: Sequence[str] = (),
    log: Any = print,
) -> InstallResult:
    """Install `args` (and `-e` each of `editable`) into the environment at `prefix`, once.

    Returns at once when the stamp says this spec is installed. A resolver
    failure is returned as `unavailable`; a pin the install did not honour
    raises UsageError naming both versions.
    """
    stamp = read_stamp(prefix)
    if stamp.get("spec") == spec_hash:
        log(f"environment {environment.name!r} up to date: nothing to install")
        if stamp.get("unavailable"):
            return InstallResult(False, str(stamp["unavailable"]))
        return InstallResult(False, None, tuple(stamp.get("versions", {}).items()))
    argv = [find_uv(), "pip", "install", "--python", python]
    for folder in editable:
        argv += ["-e", folder]
    argv += list(args)
    log(" ".join(argv))
    env = dict(os.environ)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # Nothing would write .pyc files on import: compile them once, here, or every
        # reused environment recompiles pytest at each start. Otherwise the first run
        # writes those it imports, a fraction of what compiling everything costs
        # (benchmarks/env_adapters.py: the cold environment).
        env["UV_COMPILE_BYTECODE"] = "1"
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=_TIMEOUT, env=env, check=False
    )
    record: dict[str, Any] = {"spec": spec_hash, "name": environment.name, "ref": ref}
    if done.returncode != 0:
        message = _installer_message(done.stderr or done.stdout)
        if not _PYTHON_TOO_OLD_OR_NEW.search(message):
            # Not this interpreter's limit but a requirement nobody can install: bad input.
            msg = (
                f"environment {environment.name!r} cannot be installed on {python}: "
                f"{message}; fix the adapter's requirements in matrix.yaml"
            )
            raise UsageError(msg)
        record["unavailable"] = message
        Path(prefix, STAMP_NAME).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
        return InstallResult(False, message)
    names = sorted({*(n for n, _ in environment.pins), "migmatrix", "pytest"})
    versions = installed_versions(python, names)
    problems = pin_problems(environment, versions)
    if problems:
        msg = "; ".join(problems)
        raise UsageError(msg)
    record["versions"] = {k: v for k, v in versions.items() if v is not None}
    Path(prefix, STAMP_NAME).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
    return InstallResult(True, None, tuple(sorted(record["versions"].items())))


def _installer_message(text: str) -> str:
    """The installer's own words, without blank lines and progress noise, kept short."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.lstrip().startswith(("Resolved", "Prepared"))]
    joined = " ".join(line.strip() for line in lines)
    return joined[:2000] or "the installer failed without a message"
