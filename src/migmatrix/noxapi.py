"""The public nox API: one call builds every session of a matrix from its matrix.yaml.

A project's whole noxfile::

    # /// script
    # dependencies = ["nox[uv]", "migmatrix"]
    # ///
    import migmatrix.noxapi

    migmatrix.noxapi.matrix_sessions(project=["."])

The call reads matrix.yaml (with migmatrix's own loader, so a bad file gets the
same `file:line` message as everywhere) and registers, through `nox.session`:

- ``run-X.Y`` for every Python of the matrix: one uv environment per
  interpreter, reused, and ONE pytest-xdist run over every selected cell of it;
- ``matrix`` (the default session): every ``run-X.Y``, then the gate over
  exactly the files those runs wrote, and the reports;
- ``gate``: merge, gate and report whatever results exist (CI's last job);
- ``cell-X.Y(phase/adapter/env)``: one cell, for debugging it alone or running
  the cells of one tag (``nox -t deprecated``).

Every session installs, in ONE install guarded by a stamp (a re-run with nothing
changed installs nothing): the project (`project`, pip specs; local folders
editable unless `editable=False`) and the same migmatrix that runs nox, from
where it was installed, as its PEP 610 `direct_url.json` records it (a folder, a
VCS commit), else `migmatrix==<version>`; the environment variable
`MIGMATRIX_REQUIREMENT` names another requirement instead.

nox keeps its sessions in one registry that `nox.session` fills when it is
called, so sessions registered from inside this function are the noxfile's
sessions like any decorated at its top level. The returned `MatrixSessions`
installs the same things into a project's own further sessions
(`sessions.install(session, "test")`).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import nox

from migmatrix import noxhelpers as helpers
from migmatrix.envs import git, install
from migmatrix.envs.spec import DEFAULT, Environment
from migmatrix.envs.unavailable import write_unavailable
from migmatrix.errors import MigmatrixError
from migmatrix.outcomes import ExitCode


@dataclasses.dataclass(frozen=True)
class MatrixSessions:
    """What `matrix_sessions` registered, and how its sessions install the project.

    `axes` is the planned matrix as nox sees it (its Pythons and cells);
    `install(session, *extras)` installs the project (extras on its first spec)
    and migmatrix into any session, so a project's own `tests` or `lint`
    session gets the same environment contents.
    """

    axes: helpers.Axes
    project: tuple[str, ...]
    editable: bool
    migmatrix: tuple[str, ...]
    results_dir: str
    reports_dir: str
    coverage_dir: str

    def install(self, session: nox.Session, *extras: str) -> None:
        """Install the project (with `extras` on its first spec) and migmatrix, once."""
        wanted, layout = self._layout(extras, self.project)
        helpers.install_project(session, *wanted, **layout)

    def install_plan(self, *, replace_project: str | None = None) -> tuple[list[str], str]:
        """The arguments of the project's install and their digest.

        `replace_project` installs that folder (a checked-out ref) instead of the
        first spec, not editable.
        """
        project = self.project
        if replace_project is not None and project:
            project = project[1:]
        wanted, layout = self._layout((), project)
        args, digest = helpers.install_plan(*wanted, **layout)
        if replace_project is not None:
            args = [replace_project, *args]
        return args, digest

    def _layout(
        self, extras: Sequence[str], project: Sequence[str]
    ) -> tuple[list[str], dict[str, Any]]:
        """(extras of the first spec, install_project's keywords) for `project`."""
        common = {"migmatrix": self.migmatrix, "editable": self.editable}
        if not project:
            return [], {"root": None, **common}
        first, *rest = project
        folder, _, listed = first.partition("[")
        root = folder or "."
        wanted = [e.strip() for e in listed.rstrip("]").split(",") if e.strip()]
        wanted += [e for e in extras if e not in wanted]
        # install_project takes further projects relative to the first one's folder.
        others = [
            os.path.relpath(spec, root) if os.path.isdir(spec.partition("[")[0]) else spec
            for spec in rest
        ]
        return wanted, {"root": root, "others": others, **common}


def matrix_sessions(
    matrix: str = "matrix.yaml",
    *,
    project: Sequence[str] = (".",),
    editable: bool = True,
    results_dir: str = helpers.RESULTS_DIR,
    reports_dir: str = helpers.REPORTS_DIR,
    coverage: bool = True,
) -> MatrixSessions:
    """Register the matrix's sessions (run-X.Y, matrix, gate, cell-X.Y) and return them.

    `matrix` is the matrix file; `project` the pip specs every session installs
    (the first is the project itself; `"."`, `".[server]"`, a further folder, or a
    requirement); `editable` whether local folders are installed editable;
    `results_dir` and `reports_dir` where the runs write results and the gate its
    reports; `coverage` whether the runs record per-cell coverage (the
    environment variable MIGMATRIX_COVERAGE=0 turns it off for one call too).

    It also sets nox's options a matrix needs: uv environments, reused, and
    `matrix` as the default session (unless `nox.options.sessions` was set). A
    noxfile that wants others sets them after the call.
    """
    try:
        axes = helpers.read_axes(matrix)
    except MigmatrixError as error:
        # The noxfile is a command's entry point: one line and exit 2, as `migmatrix` gives.
        print(f"migmatrix: error: {error}", file=sys.stderr)
        raise SystemExit(int(ExitCode.USAGE)) from None
    helpers.expose_pyenv_interpreters(axes.python)
    nox.options.default_venv_backend = "uv"
    nox.options.reuse_venv = "yes"
    if not nox.options.sessions:
        nox.options.sessions = ["matrix"]
    built = MatrixSessions(
        axes=axes,
        project=tuple(project),
        editable=editable,
        migmatrix=tuple(helpers.migmatrix_install_args()),
        results_dir=results_dir,
        reports_dir=reports_dir,
        coverage_dir=f"{results_dir}/coverage",
    )
    _register(built, matrix, coverage=coverage)
    return built


def _register(mm: MatrixSessions, matrix: str, *, coverage: bool) -> None:
    """The sessions themselves: closures over `mm`, registered in nox's registry."""
    axes = mm.axes
    matrix_args = ["--matrix", matrix]

    def run_default(session: nox.Session) -> None:
        if str(session.python) not in helpers.selected_pythons(axes, session.posargs):
            session.skip(f"no selected cell runs on Python {session.python}")
        mm.install(session)
        cov = ["--matrix-coverage", mm.coverage_dir]
        if not coverage or os.environ.get("MIGMATRIX_COVERAGE", "1") == "0":
            cov = []
            # No data from an earlier run may stand in for this one's in the gate.
            shutil.rmtree(f"{mm.coverage_dir}/py{session.python}", ignore_errors=True)
        selection = helpers.selection_args(session.posargs)
        if selection[:1] == ["--cells"]:
            # `nox -s matrix -- SEL` gates exactly this selection: replacing the
            # interpreter's earlier results is what was asked for.
            selection.insert(2, "--overwrite-results")
        session.run(
            "migmatrix", "run", *matrix_args, "--python", str(session.python),
            "--results-dir", mm.results_dir, *cov, *selection,
        )  # fmt: skip

    def run_environment(session: nox.Session, name: str) -> None:
        python = str(session.python)
        if (python, name) not in axes.cell_environments:
            session.skip(f"environment {name} has no cell on Python {python}")
        if not _prepare_environment(session, mm, matrix, name):
            return
        env = dict(_environment(axes, name).env)
        session.run(
            "migmatrix", "run", *matrix_args, "--python", python, "--matrix-environment", name,
            "--results-dir", mm.results_dir, "--allow-empty",
            *helpers.selection_args(session.posargs),
            env=env,
        )  # fmt: skip

    names = [e.name for e in axes.environments]
    if names and names != [DEFAULT]:
        # Environment adapters: one session per (Python, environment), `run-3.12(before)`
        # beside `run-3.12(default)`; `nox -s run-3.12` runs all of that Python's.
        @nox.session(name="run", python=list(axes.python), tags=["run"], default=False)
        @nox.parametrize("environment", [nox.param(n, id=n, tags=[n]) for n in names])
        def run_each(session: nox.Session, environment: str) -> None:
            """One pytest-xdist run over every selected cell of this (Python, environment)."""
            if environment == DEFAULT:
                run_default(session)
            else:
                run_environment(session, environment)

        runs = [f"run-{py}({n})" for py in axes.python for n in names]
    else:

        @nox.session(name="run", python=list(axes.python), tags=["run"], default=False)
        def run(session: nox.Session) -> None:
            """One pytest-xdist run over every selected cell of this interpreter."""
            run_default(session)

        runs = [f"run-{py}" for py in axes.python]

    @nox.session(name="matrix", requires=runs)
    def matrix_session(session: nox.Session) -> None:
        """The whole matrix: every interpreter's run, then the gate and the reports."""
        mm.install(session)
        wanted = helpers.selected_pythons(axes, session.posargs)
        found = [py for py in wanted if helpers.interpreter_available(py)]
        for py in wanted:
            if py not in found:
                session.warn(f"Python {py} not found on this machine: its cells were skipped")
        pythons = [arg for py in found for arg in ("--python", py)]
        # Exactly the files these runs wrote: a file left by an earlier run of another
        # Python (or another matrix.yaml) is not part of this verdict.
        files = [f"{mm.results_dir}/py{py}.jsonl" for py in found]
        files += [
            f"{mm.results_dir}/py{py}-{name}.jsonl"
            for py, name in axes.cell_environments
            if py in found and name != DEFAULT
        ]
        files = [f for f in files if os.path.exists(f)] or files
        data = [f"{mm.coverage_dir}/py{py}" for py in found]
        extra = [*pythons, *helpers.gate_args(session.posargs)]
        if not coverage or os.environ.get("MIGMATRIX_COVERAGE", "1") == "0":
            # Turned off on purpose: the rules go unchecked and the reports say so,
            # rather than the gate being incomplete for want of data.
            extra.append("--no-coverage-rules")
        _gate(session, mm, matrix_args, extra, files, data)

    @nox.session(name="gate")
    def gate(session: nox.Session) -> None:
        """Merge whatever results and coverage data exist, gate and report (CI's last job)."""
        mm.install(session)
        _gate(session, mm, matrix_args, helpers.gate_args(session.posargs))

    @nox.session(name="cell", python=list(axes.python), default=False)
    @nox.parametrize(
        "cell",
        [nox.param(f"{p}/{a}/{e}", id=f"{p}/{a}/{e}", tags=[p, b, e]) for p, a, b, e in axes.cells],
    )
    def cell(session: nox.Session, cell: str) -> None:
        """One cell, for debugging it alone or fanning the matrix out by tag."""
        exact = f"{cell}/py{session.python}"
        name = next((n for p, i, n in _cell_envs(axes) if i == exact), DEFAULT)
        extra: list[str] = []
        env: dict[str, str] = {}
        if name == DEFAULT:
            mm.install(session)
        else:
            if not _prepare_environment(session, mm, matrix, name, cells=exact):
                return
            extra = ["--matrix-environment", name]
            env = dict(_environment(axes, name).env)
        session.run(
            "migmatrix", "run", *matrix_args, "--python", str(session.python), "--cells", exact,
            "--results-dir", mm.results_dir, "--allow-empty", *extra, *session.posargs, env=env,
        )  # fmt: skip


def _environment(axes: helpers.Axes, name: str) -> Environment:
    found: Environment = next(e for e in axes.environments if e.name == name)
    return found


def _cell_envs(axes: helpers.Axes) -> list[tuple[str, str, str]]:
    """(python, cell id, environment name) of every planned cell."""
    by_state = {e.name for e in axes.environments if e.name != DEFAULT}
    found = []
    for python, cell_id in axes.cell_ids:
        state = cell_id.split("/")[1]
        found.append((python, cell_id, state if state in by_state else DEFAULT))
    return found


def _prepare_environment(
    session: nox.Session,
    mm: MatrixSessions,
    matrix: str,
    name: str,
    cells: str | None = None,
) -> bool:
    """Install environment `name` into the session's environment, in ONE install, once.

    False when it cannot be installed: its cells' `unavailable` records are written
    instead (the installer's message in each), and the session ends successfully,
    so the gate judges them. A ref that does not exist or a pin the install did
    not honour stops the session with one line.
    """
    environment = _environment(mm.axes, name)
    python = str(session.python)
    location = str(session.virtualenv.location)
    exe = os.path.join(session.bin, "python")
    ref: dict[str, str] | None = None
    checkout: str | None = None
    try:
        if environment.ref is not None:
            repo = environment.repo or _repository_root(matrix)
            folder, commit = git.checkout(repo, environment.ref, _ref_cache())
            checkout = str(folder)
            ref = {"ref": environment.ref, "repo": repo, "commit": commit}
        replace = None
        if checkout is not None and environment.repo is None:
            replace = install.install_args(environment, (), checkout)[0]
        base, digest = mm.install_plan(replace_project=replace)
        if replace is None:
            args = install.install_args(environment, base, checkout)
        else:
            args = [*base, *install.install_args(environment, (), None)]
        spec = environment.spec_hash(python, digest, *args, ref["commit"] if ref else "")
        done = install.install(
            environment, python=exe, prefix=location, args=args, spec_hash=spec, ref=ref,
            log=session.log,
        )  # fmt: skip
    except MigmatrixError as error:
        session.error(str(error))
    if done.unavailable is None:
        return True
    session.warn(f"environment {name} cannot be installed on Python {python}: {done.unavailable}")
    args = list(session.posargs)
    shard = args[args.index("--shard") + 1] if "--shard" in args[:-1] else None
    if shard is not None and not shard.startswith("1/"):
        # One shard of a split writes the environment's records; the others would repeat them.
        return False
    written = write_unavailable(
        matrix, python=python, environment=name, message=done.unavailable,
        results_dir=mm.results_dir, cells=cells,
    )  # fmt: skip
    if written is not None:
        session.log(f"its cells are unavailable: {written}")
    return False


def _repository_root(matrix: str) -> str:
    """The git repository holding the matrix file (a `ref` without `repo` is one of its refs)."""
    return os.path.dirname(os.path.abspath(matrix)) or "."


def _ref_cache() -> str:
    """Where checked-out refs are kept: one folder per commit, shared by every session."""
    return os.path.join(".nox", "_migmatrix_refs")


def _gate(
    session: nox.Session,
    mm: MatrixSessions,
    matrix_args: list[str],
    extra: list[str],
    results: list[str] | None = None,
    coverage_dirs: list[str] | None = None,
) -> None:
    reports = mm.reports_dir
    os.makedirs(reports, exist_ok=True)
    folders = [
        folder
        for folder in coverage_dirs or [mm.coverage_dir]
        if glob.glob(os.path.join(folder, "**", ".coverage.*"), recursive=True)
    ]
    coverage = [arg for folder in folders for arg in ("--coverage-dir", folder)]
    if folders:
        coverage += ["--coverage-html", f"{reports}/coverage"]
    session.run(
        "migmatrix", "gate", *(results or [mm.results_dir]), *matrix_args, *coverage,
        "--json", f"{reports}/gate.json",
        "--junit", f"{reports}/junit.xml",
        "--markdown", f"{reports}/gate.md",
        "--html", f"{reports}/gate.html",
        *extra,
    )  # fmt: skip
