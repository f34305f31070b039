"""Helpers that build a project's nox sessions from its matrix.yaml.

A noxfile runs in nox's own interpreter, where migmatrix itself is usually not
installed: this repository's noxfile puts `src/` on `sys.path` and imports this
module from there. What that interpreter then needs, exactly:

- importing this module: the standard library only (it never imports nox: a
  session is whatever object nox passes, used through `install`, `log` and
  `virtualenv.location`);
- `read_axes`: `migmatrix.load` and `migmatrix.plan`, which need PyYAML and
  jsonschema (and what jsonschema itself depends on);
- `selected_pythons` with a cell selection: `migmatrix.select` and
  `migmatrix.errors`, standard library only.

The noxfile's PEP 723 block asks nox for nox, PyYAML and jsonschema. Validation
beyond the axes, the runs and the judging happen inside the session
environments, through the `migmatrix` command.

The layout it gives (see the README):

- ``run-X.Y``: one uv environment per interpreter, reused, and ONE pytest-xdist
  run over every selected cell of that interpreter;
- ``matrix``: every ``run-X.Y``, then the gate over what they wrote;
- ``gate``: merge, gate and report whatever results exist (CI's last job);
- ``cell-X.Y(phase/adapter/env)``: one cell, for debugging and CI fan-out.

`install_project` installs a project and, beside it, any further projects of the
same repository (this one's reference system under test is a distribution of
its own), all editable, guarded by one stamp.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

RESULTS_DIR = "results"
COVERAGE_DIR = "results/coverage"
REPORTS_DIR = "reports"
_STAMP = ".migmatrix-installed"


@dataclasses.dataclass(frozen=True)
class Axes:
    """What nox needs of a matrix: its Pythons and its planned (phase, adapter, env) cells."""

    python: tuple[str, ...]
    cells: tuple[tuple[str, str, str, str], ...]  # (phase, adapter state, adapter base, env)
    cell_ids: tuple[tuple[str, str], ...] = ()  # (python, cell id) of every planned cell


def read_axes(path: str | os.PathLike[str] = "matrix.yaml") -> Axes:
    """Load and plan matrix.yaml with the harness itself, without importing adapters.

    The same loader as every other step, so a bad file gets the same file:line
    message here as everywhere; swept adapters are expanded into their states,
    so a per-cell session exists for every planned intermediate state.
    """
    from migmatrix.load import load_matrix  # needs PyYAML and jsonschema: the PEP 723 block
    from migmatrix.plan import plan_cells

    matrix = load_matrix(path)
    planned = plan_cells(matrix)
    seen: dict[tuple[str, str, str, str], None] = {}
    for cell in planned:
        seen.setdefault((cell.phase, cell.adapter, cell.adapter_base, cell.env), None)
    return Axes(matrix.python, tuple(seen), tuple((c.python, c.id) for c in planned))


def selected_pythons(axes: Axes, posargs: Sequence[str]) -> tuple[str, ...]:
    """The Pythons that have at least one cell in the selection `nox ... -- SELECTION`.

    `nox -s matrix -- py3.12` should not start an interpreter that has nothing to
    run. An expression that does not parse is left to `migmatrix run`, which
    reports it with its column; here every Python is kept.
    """
    args = selection_args(posargs)
    if "--cells" not in args:
        return axes.python
    from migmatrix.errors import UsageError
    from migmatrix.select import compile_expression

    try:
        predicate = compile_expression(args[args.index("--cells") + 1])
    except UsageError:
        return axes.python
    hit = {python for python, cell_id in axes.cell_ids if predicate(cell_id)}
    return tuple(p for p in axes.python if p in hit)


# ----------------------------------------------------------------- interpreters


def expose_pyenv_interpreters(versions: Iterable[str], environ: Any = None) -> str | None:
    """Let nox find every wanted interpreter that pyenv has installed.

    pyenv answers `python3.X` only for the versions named in PYENV_VERSION (or its
    global file). Adding every installed version that the matrix wants makes each
    shim answer, without writing a machine path anywhere. The versions already in
    PYENV_VERSION stay first: pyenv's own shim sets it to the running version when
    it starts nox, and a user may have chosen an order. Returns the new value, or
    None when pyenv is absent or nothing needed adding.
    """
    environ = os.environ if environ is None else environ
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    try:
        listed = subprocess.run(
            [pyenv, "versions", "--bare"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    current = [v for v in environ.get("PYENV_VERSION", "").split(":") if v]
    added = [v for v in pick_versions(listed, versions) if v not in current]
    if not added:
        return None
    value = ":".join([*current, *added])
    environ["PYENV_VERSION"] = value
    return value


def pick_versions(installed: Sequence[str], wanted: Iterable[str]) -> list[str]:
    """The highest installed patch release of each wanted X.Y, in wanted order."""
    chosen = []
    for xy in wanted:
        pattern = re.compile(rf"^{re.escape(xy)}\.(\d+)$")
        matches = [(int(m.group(1)), v) for v in installed if (m := pattern.match(v))]
        if matches:
            chosen.append(max(matches)[1])
    return chosen


def interpreter_available(version: str) -> bool:
    """Whether an interpreter for `version` is on PATH as `pythonX.Y`.

    nox's own discovery is private; `pythonX.Y` on PATH is the name it looks for
    first on POSIX, and the one pyenv's shims answer once `expose_pyenv_interpreters`
    has named the installed versions. (nox may also find an interpreter elsewhere,
    e.g. one uv manages or through the Windows `py` launcher; such a Python is
    reported missing here.)
    """
    return shutil.which(f"python{version}") is not None


# ----------------------------------------------------------------- install


def install_project(
    session: Any, *extras: str, root: str = ".", others: Sequence[str] = ()
) -> None:
    """Install the project and `others` (editable, with extras) into the session's env, once.

    `others` are further projects of the repository, as pip specs relative to
    `root` (`path[extra,...]`), e.g. a system under test packaged apart. A
    stamp holding the hash of every project's pyproject.toml and of the specs is
    kept inside the environment; while it matches, nothing is installed, so a
    re-run with nothing changed pays no installer at all. UV_COMPILE_BYTECODE
    makes uv write .pyc files, which matters here because PYTHONDONTWRITEBYTECODE
    would otherwise make every reused environment recompile pytest at each start.
    """
    specs = [f"{root}[{','.join(extras)}]" if extras else root]
    specs += [os.path.join(root, other) for other in others]
    digest = hashlib.sha256()
    for spec in specs:
        digest.update((Path(spec.partition("[")[0]) / "pyproject.toml").read_bytes())
        digest.update(spec.encode() + b"\0")
    location = getattr(session.virtualenv, "location", None)
    stamp = Path(location) / _STAMP if location else None
    if stamp is not None and stamp.exists() and stamp.read_text() == digest.hexdigest():
        session.log("environment up to date: nothing to install")
        return
    editable = [arg for spec in specs for arg in ("-e", spec)]
    session.install(*editable, env={"UV_COMPILE_BYTECODE": "1"})
    if stamp is not None:
        stamp.write_text(digest.hexdigest())


def env_python(session_name: str, envdir: str = ".nox") -> Path:
    """The interpreter of another session's environment, by nox's naming rule."""
    folder = re.sub(r"[^\w\-]", "-", session_name).strip("-")
    folder = re.sub(r"-+", "-", folder)
    return Path(envdir) / folder / ("Scripts" if sys.platform == "win32" else "bin") / "python"


def selection_args(posargs: Sequence[str]) -> list[str]:
    """`nox -s matrix -- SELECTION [pytest args]`: the first bare word is a cell selection."""
    args = list(posargs)
    if args and not args[0].startswith("-"):
        return ["--cells", args[0], *args[1:]]
    return args


# Options of `migmatrix run` that `nox -s matrix -- ...` also hands to every session,
# but that mean nothing to the gate: `--reruns N` (issue 18).
RUN_ONLY = ("--reruns",)


def gate_args(posargs: Sequence[str]) -> list[str]:
    """`selection_args` without the run-only options (and their values) the gate refuses."""
    out: list[str] = []
    skip = False
    for arg in selection_args(posargs):
        if skip:
            skip = False
        elif arg in RUN_ONLY:
            skip = True
        elif not arg.startswith(tuple(f"{flag}=" for flag in RUN_ONLY)):
            out.append(arg)
    return out
