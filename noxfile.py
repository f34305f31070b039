# /// script
# dependencies = ["nox[uv]>=2025.2.9", "PyYAML>=6", "jsonschema>=4.20"]
# ///
"""Sessions of this repository, built from matrix.yaml by migmatrix's public nox API.

`nox -s matrix` runs the whole matrix (one environment and one pytest-xdist run per
Python), then merges, gates and reports. `nox -s tests` runs the project's own tests.
`nox -l` lists the per-cell sessions; `nox -t deprecated` runs the cells of one tag.
Every session installs the harness and the reference system (reference/netra_backend).

A project that uses migmatrix names it in the script block instead and needs no
`sys.path` line (see the README); this repository is migmatrix's own source, so it
imports the API from `src/` and its sessions install that same tree.
"""

from __future__ import annotations

import os
import sys

import nox

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "src"))
from migmatrix.noxapi import matrix_sessions  # after sys.path: this is migmatrix's source

nox.needs_version = ">=2025.2.9"
nox.options.download_python = "never"
TEST_PYTHON = "3.12"

# The harness (this project) and, beside it, the reference system under test, a
# distribution of its own.
MATRIX = matrix_sessions("matrix.yaml", project=[".", "reference/netra_backend[server]"])


@nox.session(python=TEST_PYTHON)
def tests(session: nox.Session) -> None:
    """The project's own test suite (harness, backend, server, suites, reports)."""
    MATRIX.install(session, "test")
    session.run("pytest", "tests", "-n", "auto", "--dist", "worksteal", *session.posargs)


@nox.session(python=TEST_PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, mypy --strict on both packages, the import contracts and dependency hygiene."""
    MATRIX.install(session, "lint")
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
