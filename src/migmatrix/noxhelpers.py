"""The nox-free pieces of the public nox API (`migmatrix.noxapi`, which registers the sessions).

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
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
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
    # The matrix's environments (migmatrix.envs.spec.Environment), DEFAULT first if any.
    environments: tuple[Any, ...] = ()
    # (python, environment name) of every planned cell's environment, in plan order.
    cell_environments: tuple[tuple[str, str], ...] = ()


def read_axes(path: str | os.PathLike[str] = "matrix.yaml") -> Axes:
    """Load and plan matrix.yaml with the harness itself, without importing adapters.

    The same loader as every other step, so a bad file gets the same file:line
    message here as everywhere; swept adapters are expanded into their states,
    so a per-cell session exists for every planned intermediate state.
    """
    from migmatrix.envs.spec import environment_of, environments
    from migmatrix.load import load_matrix  # needs PyYAML and jsonschema: the PEP 723 block
    from migmatrix.plan import plan_cells

    matrix = load_matrix(path)
    planned = plan_cells(matrix)
    seen: dict[tuple[str, str, str, str], None] = {}
    for cell in planned:
        seen.setdefault((cell.phase, cell.adapter, cell.adapter_base, cell.env), None)
    per_cell = dict.fromkeys((c.python, environment_of(matrix, c)) for c in planned)
    return Axes(
        matrix.python,
        tuple(seen),
        tuple((c.python, c.id) for c in planned),
        environments(matrix),
        tuple(per_cell),
    )


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
    session: Any,
    *extras: str,
    root: str | None = ".",
    others: Sequence[str] = (),
    migmatrix: Sequence[str] = (),
    editable: bool = True,
) -> None:
    """Install the project and `others` (with extras) into the session's env, once.

    `root` None installs no project of its own (a matrix folder that only holds
    suites). `others` are further projects of the repository, as pip specs relative to
    `root` (`path[extra,...]`), e.g. a system under test packaged apart, or
    requirements from an index (`somelib==1.2`). Local folders are installed
    editable unless `editable` is False. `migmatrix` is the harness's own install
    arguments (`migmatrix_install_args`), added to the same single install.

    A stamp holding the hash of every local project's pyproject.toml and of the
    specs is kept inside the environment; while it matches, nothing is installed,
    so a re-run with nothing changed pays no installer at all. UV_COMPILE_BYTECODE
    makes uv write .pyc files, which matters here because PYTHONDONTWRITEBYTECODE
    would otherwise make every reused environment recompile pytest at each start.
    """
    args, digest = install_plan(
        *extras, root=root, others=others, migmatrix=migmatrix, editable=editable
    )
    location = getattr(session.virtualenv, "location", None)
    stamp = Path(location) / _STAMP if location else None
    if stamp is not None and stamp.exists() and stamp.read_text() == digest:
        session.log("environment up to date: nothing to install")
        return
    if args:
        session.install(*args, env={"UV_COMPILE_BYTECODE": "1"})
    if stamp is not None:
        stamp.write_text(digest)


def install_plan(
    *extras: str,
    root: str | None = ".",
    others: Sequence[str] = (),
    migmatrix: Sequence[str] = (),
    editable: bool = True,
) -> tuple[list[str], str]:
    """The installer arguments of `install_project`, and the digest its stamp holds."""
    specs = [] if root is None else [f"{root}[{','.join(extras)}]" if extras else root]
    root = "." if root is None else root
    specs += [os.path.join(root, other) if _is_local(root, other) else other for other in others]
    digest = hashlib.sha256()
    args: list[str] = []
    for spec in specs:
        folder = Path(spec.partition("[")[0])
        if (folder / "pyproject.toml").is_file():
            digest.update((folder / "pyproject.toml").read_bytes())
            args += ["-e", spec] if editable else [spec]
        else:
            args.append(spec)
        digest.update(spec.encode() + b"\0")
    if migmatrix and not _same_folder(migmatrix[-1], specs):
        args += list(migmatrix)
        folder = Path(migmatrix[-1])
        if (folder / "pyproject.toml").is_file():
            digest.update((folder / "pyproject.toml").read_bytes())
    digest.update("\0".join(args).encode())
    return args, digest.hexdigest()


def _is_local(root: str, spec: str) -> bool:
    """Whether `spec` names a folder below `root` (rather than a requirement of an index)."""
    return Path(root, spec.partition("[")[0]).is_dir()


def _same_folder(arg: str, specs: Sequence[str]) -> bool:
    """Whether the harness's install argument is one of the projects' folders already.

    This repository is migmatrix itself: its project `.` is the harness, installed once.
    """
    if not Path(arg).is_dir():
        return False
    here = Path(arg).resolve()
    return any(
        Path(spec.partition("[")[0]).is_dir() and Path(spec.partition("[")[0]).resolve() == here
        for spec in specs
    )


# ----------------------------------------------------------------- the harness itself


def migmatrix_install_args(environ: Any = None) -> list[str]:
    """How to install, into a session, the same migmatrix that runs this noxfile.

    In order: the requirement `MIGMATRIX_REQUIREMENT` names (e.g. `migmatrix==0.2`
    or a path); else where this migmatrix was installed from, as its PEP 610
    `direct_url.json` records it (a folder, editable or not, a VCS commit, an
    archive); else, when it is imported from a source tree that no distribution
    records (a noxfile that puts `src/` on `sys.path`), that tree's folder; else
    `migmatrix==<version>` from the index.
    """
    environ = os.environ if environ is None else environ
    named = environ.get("MIGMATRIX_REQUIREMENT", "").strip()
    if named:
        return [named]
    import migmatrix

    here = Path(migmatrix.__file__).resolve().parent
    try:
        dist = importlib.metadata.distribution("migmatrix")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        direct = dist.read_text("direct_url.json")
        args = args_from_direct_url(direct) if direct else None
        if _dist_holds(dist, here, args):
            return args or [f"migmatrix=={dist.version}"]
    tree = source_tree(here)
    if tree is not None:
        return ["-e", str(tree)]
    return [f"migmatrix=={migmatrix.__version__}"]


def args_from_direct_url(text: str) -> list[str] | None:
    """Install arguments from a PEP 610 `direct_url.json` text; None when it says nothing usable."""
    try:
        data = json.loads(text)
        url = str(data["url"])
    except (ValueError, KeyError, TypeError):
        return None
    if "vcs_info" in data:
        info = data["vcs_info"]
        revision = info.get("commit_id") or info.get("requested_revision")
        suffix = f"@{revision}" if revision else ""
        subdirectory = data.get("subdirectory")
        fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
        return [f"migmatrix @ {info.get('vcs', 'git')}+{url}{suffix}{fragment}"]
    if "dir_info" in data and url.startswith("file://"):
        folder = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
        editable = bool(data["dir_info"].get("editable"))
        return ["-e", folder] if editable else [folder]
    return [f"migmatrix @ {url}"]


def _dist_holds(dist: importlib.metadata.Distribution, here: Path, args: list[str] | None) -> bool:
    """Whether the imported package `here` is the one `dist` installed (not a tree on sys.path)."""
    if args and args[0] == "-e":
        return here.is_relative_to(Path(args[1]).resolve())
    installed = Path(str(dist.locate_file("migmatrix"))).resolve()
    return installed == here


def source_tree(package: Path) -> Path | None:
    """The project folder of a migmatrix package imported from a source checkout, if it is one."""
    for folder in (package.parent, package.parent.parent):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and re.search(
            r'^name\s*=\s*"migmatrix"', pyproject.read_text(encoding="utf-8"), re.M
        ):
            return folder
    return None


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
