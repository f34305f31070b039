# /// script
# dependencies = ["nox[uv]>=2025.2.9", "PyYAML>=6", "jsonschema>=4.20"]
# ///
"""Sessions of this repository, built from matrix.yaml by migmatrix's nox helpers.

`nox -s matrix` runs the whole matrix (one environment and one pytest-xdist run per
Python), then merges, gates and reports. `nox -s tests` runs the project's own tests.
`nox -l` lists the per-cell sessions; `nox -t deprecated` runs the cells of one tag.
Every session installs the harness and the reference system (reference/netra_backend).
"""

from __future__ import annotations

import glob
import os
import shutil
import sys

import nox

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "src"))
from migmatrix import noxhelpers as mm  # after sys.path: the harness need not be installed

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.sessions = ["matrix"]

AXES = mm.read_axes("matrix.yaml")
mm.expose_pyenv_interpreters(AXES.python)
TEST_PYTHON = "3.12"
# The reference system under test, a distribution of its own, installed beside the harness.
SUT = ["reference/netra_backend[server]"]


@nox.session(name="run", python=list(AXES.python), tags=["run"], default=False)
def run(session: nox.Session) -> None:
    """One pytest-xdist run over every selected cell of this interpreter."""
    if str(session.python) not in mm.selected_pythons(AXES, session.posargs):
        session.skip(f"no selected cell runs on Python {session.python}")
    mm.install_project(session, others=SUT)
    coverage = ["--matrix-coverage", mm.COVERAGE_DIR]
    if os.environ.get("MIGMATRIX_COVERAGE", "1") == "0":
        coverage = []
        # No data from an earlier run may stand in for this one's in the gate.
        shutil.rmtree(f"{mm.COVERAGE_DIR}/py{session.python}", ignore_errors=True)
    session.run(
        "migmatrix", "run", "--python", str(session.python),
        "--results-dir", mm.RESULTS_DIR, *coverage, *mm.selection_args(session.posargs),
    )  # fmt: skip


@nox.session(requires=[f"run-{py}" for py in AXES.python])
def matrix(session: nox.Session) -> None:
    """The whole matrix: every interpreter's run, then the gate and the reports."""
    mm.install_project(session, others=SUT)
    wanted = mm.selected_pythons(AXES, session.posargs)
    found = [py for py in wanted if mm.interpreter_available(py)]
    for py in wanted:
        if py not in found:
            session.warn(f"Python {py} not found on this machine: its cells were skipped")
    pythons = [arg for py in found for arg in ("--python", py)]
    # Exactly the files these runs wrote: a file left by an earlier run of another
    # Python (or another matrix.yaml) is not part of this verdict.
    files = [f"{mm.RESULTS_DIR}/py{py}.jsonl" for py in found]
    data = [f"{mm.COVERAGE_DIR}/py{py}" for py in found]
    _gate(session, [*pythons, *mm.gate_args(session.posargs)], files, data)


@nox.session
def gate(session: nox.Session) -> None:
    """Merge whatever results and coverage data exist, gate and report (CI's last job)."""
    mm.install_project(session, others=SUT)
    _gate(session, mm.gate_args(session.posargs))


def _gate(
    session: nox.Session,
    extra: list[str],
    results: list[str] | None = None,
    coverage_dirs: list[str] | None = None,
) -> None:
    os.makedirs(mm.REPORTS_DIR, exist_ok=True)
    folders = [
        folder
        for folder in coverage_dirs or [mm.COVERAGE_DIR]
        if glob.glob(os.path.join(folder, "**", ".coverage.*"), recursive=True)
    ]
    coverage = [arg for folder in folders for arg in ("--coverage-dir", folder)]
    if folders:
        coverage += ["--coverage-html", f"{mm.REPORTS_DIR}/coverage"]
    session.run(
        "migmatrix", "gate", *(results or [mm.RESULTS_DIR]), *coverage,
        "--json", f"{mm.REPORTS_DIR}/gate.json",
        "--junit", f"{mm.REPORTS_DIR}/junit.xml",
        "--markdown", f"{mm.REPORTS_DIR}/gate.md",
        "--html", f"{mm.REPORTS_DIR}/gate.html",
        *extra,
    )  # fmt: skip


@nox.session(python=list(AXES.python), default=False)
@nox.parametrize(
    "cell",
    [
        nox.param(f"{phase}/{adapter}/{env}", id=f"{phase}/{adapter}/{env}", tags=[phase, b, env])
        for phase, adapter, b, env in AXES.cells
    ],
)
def cell(session: nox.Session, cell: str) -> None:
    """One cell, for debugging it alone or fanning the matrix out by tag."""
    mm.install_project(session, others=SUT)
    exact = f"{cell}/py{session.python}"
    session.run(
        "migmatrix", "run", "--python", str(session.python), "--cells", exact,
        "--results-dir", mm.RESULTS_DIR, "--allow-empty", *session.posargs,
    )  # fmt: skip


@nox.session(python=TEST_PYTHON)
def tests(session: nox.Session) -> None:
    """The project's own test suite (harness, backend, server, suites, reports)."""
    mm.install_project(session, "test", others=SUT)
    session.run("pytest", "tests", "-n", "auto", "--dist", "worksteal", *session.posargs)


@nox.session(python=TEST_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict on both packages, the import contracts and dependency hygiene."""
    mm.install_project(session, "lint", others=SUT)
    session.run(
        "ruff", "check", "src", "reference", "tests", "adapters", "suites", "benchmarks",
        "noxfile.py",
    )  # fmt: skip
    session.run("ruff", "format", "--check", "src", "reference", "tests")
    # No paths: pyproject's [tool.mypy] names both packages and where each lives.
    session.run("mypy", "--strict")
    # docs/architecture.md's import rules (.importlinter), and the declared dependencies.
    session.run("lint-imports")
    session.run("deptry", "src")
