"""`migmatrix check`: import every adapter object and collect every suite folder, before a run.

`plan` reads matrix.yaml only, so a bad `object:` or a suite that does not
import passed it and failed at `run`, once per cell. `check` does what a run does
first, and nothing else: it imports each declared adapter's object the way the
plugin does (`plugin.adapters`, the matrix folder on sys.path), and collects each
phase's folder with pytest (`--collect-only`, the project's conftests and its
import rules included, no test run, no results written). Every failure is one
located problem; none at all is the all-clear.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pytest

from migmatrix.errors import MigmatrixError
from migmatrix.model import Matrix
from migmatrix.outcomes import ExitCode
from migmatrix.plugin.adapters import load_adapter_object
from migmatrix.text import one_line


@dataclass
class CheckReport:
    """What `check` found: problems (each located), and what it did import and collect."""

    problems: list[str] = field(default_factory=list)
    adapters: int = 0
    tests: dict[str, int] = field(default_factory=dict)
    test_ids: dict[str, set[str]] = field(default_factory=dict)


class _Collected:
    """A pytest plugin that keeps collection failures and counts the items of each phase."""

    def __init__(self, phases: dict[Path, str]) -> None:
        self.phases = phases
        self.failures: list[str] = []
        self.items: list[pytest.Item] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failures.append(f"{report.nodeid or '.'}: {_last_line(report.longreprtext)}")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def _last_line(text: str) -> str:
    """The line of a collection error that says what failed (pytest's `E   ...` lines)."""
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return one_line(errors[-1] if errors else (lines[-1] if lines else "collection failed"))


def check_matrix(matrix: Matrix) -> CheckReport:
    """Import every adapter object and collect every phase folder of `matrix`."""
    report = CheckReport()
    for spec in matrix.adapters:
        if not spec.object:
            continue  # an environment adapter: nox installs its state, the suites import it
        try:
            load_adapter_object(matrix, spec.name)
        except MigmatrixError as exc:
            report.problems.append(str(exc))
        else:
            report.adapters += 1
    root = Path(matrix.root)
    folders = {(root / phase.path).resolve(): phase.name for phase in matrix.phases}
    present = {}
    for folder, name in folders.items():
        if folder.is_dir():
            present[folder] = name
        else:
            phase = next(p for p in matrix.phases if p.name == name)
            report.problems.append(
                f"{phase.location}: phases.{name}: folder {phase.path!r} does not exist"
            )
    if present:
        _collect(root, present, report)
    return report


def _collect(root: Path, phases: dict[Path, str], report: CheckReport) -> None:
    plugin = _Collected(phases)
    args = [
        *(str(folder) for folder in sorted(phases)),
        "--collect-only",
        "--rootdir",
        str(root),
        "-o",
        "addopts=",  # the project's own options may load what a collection does not need
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
    ]
    where = os.getcwd()
    sink = io.StringIO()
    try:
        os.chdir(root)
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[plugin])
    finally:
        os.chdir(where)
    report.problems.extend(plugin.failures)
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) and not plugin.failures:
        report.problems.append(
            f"pytest could not collect the suites (exit {int(code)}): {one_line(sink.getvalue())}"
        )
    for item in plugin.items:
        path = Path(str(item.path)).resolve()
        for folder, name in phases.items():
            if path == folder or folder in path.parents:
                report.tests[name] = report.tests.get(name, 0) + 1
                rel = path.relative_to(folder).as_posix()
                test = "::".join([rel, *item.nodeid.split("::")[1:]])
                report.test_ids.setdefault(name, set()).add(test)
    for folder, name in sorted(phases.items(), key=lambda kv: kv[1]):
        if not report.tests.get(name) and not any(name in f for f in plugin.failures):
            rel = os.path.relpath(folder, root)
            report.problems.append(
                f"phases.{name}: pytest collects no test in {rel}/ (files named test_*.py "
                "with functions named test_*); every cell of the phase would be missing"
            )


def phase_tests(matrix: Matrix, phase: str) -> set[str] | None:
    """The test ids pytest collects in `phase`'s folder, as records name them; None if it fails.

    Collected without `--matrix`, so a test id carries no cell parameter (`test_a.py::test_x`,
    `test_a.py::test_p[2]`).
    """
    spec = next(p for p in matrix.phases if p.name == phase)
    folder = (Path(matrix.root) / spec.path).resolve()
    if not folder.is_dir():
        return None
    report = CheckReport()
    _collect(Path(matrix.root), {folder: phase}, report)
    if report.problems and not report.tests:
        return None
    return report.test_ids.get(phase, set())


def run_check(matrix_path: str, out: TextIO) -> int:
    """`migmatrix check`: print each problem, or what was checked; exit 2 on any problem."""
    from migmatrix.load import load_matrix

    matrix = load_matrix(matrix_path)
    report = check_matrix(matrix)
    for problem in report.problems:
        out.write(f"{problem}\n")
    tests = ", ".join(f"{name} {n}" for name, n in sorted(report.tests.items()))
    objects = sum(1 for spec in matrix.adapters if spec.object)
    environments = len(matrix.adapters) - objects
    summary = f"{report.adapters} of {objects} adapter object(s) imported; "
    if environments:
        summary += f"{environments} environment adapter(s) (installed by `nox -s matrix`); "
    summary += f"tests collected per phase: {tests or 'none'}"
    if report.problems:
        out.write(f"migmatrix check: {len(report.problems)} problem(s); {summary}\n")
        return int(ExitCode.USAGE)
    out.write(f"migmatrix check: ok; {summary}\n")
    return int(ExitCode.OK)
