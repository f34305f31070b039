"""The phase suites, adapters and matrix.yaml catch what they are there to catch.

Each test copies the repository's src/, adapters/, suites/ and matrix.yaml into a
temporary folder, optionally breaks the copy's netra_backend on purpose, runs the
matrix on the copy (`python -m pytest --matrix matrix.yaml --cells unit -n 2`,
with PYTHONPATH so the COPY's netra_backend is the one imported) and gates the
results (`python -m migmatrix gate`). The gate's JSON report then says which
(cell, test) pairs changed verdict:

- untouched, the gate passes with the seed's pattern (reproduced failures on the
  old states, passes on ssot);
- with UserExecutionEngine's bookkeeping shared between instances, the gate fails
  with regressions in exactly the ssot cells' isolation tests;
- with the deprecated engine made correct (the cache keyed by user, events routed
  by their own run), the reproduction test of contamination shows unexpected-pass
  in exactly the deprecated and partial cells.

Only the unit env and the running interpreter are used, to keep each run to about
10 s on two cores; the three runs make this file slow (~30 s), hence the `slow` mark.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
UNIT_ADAPTERS = ("deprecated", "partial[engine+factory]", "ssot")


def _copy_repository(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")
    for folder in ("src", "adapters", "suites"):
        shutil.copytree(REPO / folder, target / folder, ignore=ignore)
    shutil.copy2(REPO / "matrix.yaml", target / "matrix.yaml")
    return target


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy / "src"), str(copy)])
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("COVERAGE_PROCESS_START", None)
    return env


def _patch(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: expected exactly one {old!r} to patch"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    copy = _copy_repository(tmp_path / "repo")
    probe = subprocess.run(
        [sys.executable, "-c", "import netra_backend; print(netra_backend.__file__)"],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    # The whole point: the copy's (possibly broken) backend is the one under test.
    assert Path(probe.stdout.strip()).is_relative_to(copy), probe.stdout
    return copy


def run_and_gate(copy: Path) -> tuple[int, dict[str, Any], str]:
    """Run the unit cells of the running Python on the copy; return the gate's code and JSON."""
    results = copy / "results"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--matrix",
            "matrix.yaml",
            "--cells",
            "unit",
            "-n",
            "2",
            "--results-dir",
            str(results),
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert list(results.glob("*.jsonl")), f"no results written:\n{run.stdout}\n{run.stderr}"
    report = copy / "gate.json"
    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "migmatrix",
            "gate",
            str(results),
            "--matrix",
            "matrix.yaml",
            "--python",
            PY,
            "--cells",
            "unit",
            "--json",
            str(report),
        ],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (
        gate.returncode,
        json.loads(report.read_text(encoding="utf-8")),
        gate.stdout + gate.stderr,
    )


def verdicts(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(cell, test) -> verdict for every judged pair that is not plainly as-expected."""
    return {(r["cell"], r["test"]): r["verdict"] for r in report["results"]}


def cell_counts(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """cell id -> {verdict: count}, for the cells that have results."""
    return {c["id"]: dict(c["verdicts"]) for c in report["cells"] if not c["no_results"]}


def unexpected(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    expected = {"as-expected", "reproduced", "flaky"}
    return {key: v for key, v in verdicts(report).items() if v not in expected}


def cell(phase: str, adapter: str) -> str:
    return f"{phase}/{adapter}/unit/py{PY}"


def test_untouched_copy_passes_the_gate_with_the_seed_pattern(repo_copy: Path) -> None:
    code, report, text = run_and_gate(repo_copy)
    assert code == 0, text
    assert unexpected(report) == {}
    seen = verdicts(report)
    contamination = (
        "test_user_context_contamination.py::test_user_context_contamination_reproduction"
    )
    assert seen[(cell("reproduction", "deprecated"), contamination)] == "reproduced"
    assert seen[(cell("reproduction", "partial[engine+factory]"), contamination)] == "reproduced"
    counts = cell_counts(report)
    # The seed's pattern: every reproduction test fails (for its reason) on deprecated and
    # passes on ssot; the partial state reproduces only what its features leave broken.
    assert counts[cell("reproduction", "deprecated")] == {"reproduced": 4}
    assert counts[cell("validation", "deprecated")] == {"as-expected": 1, "reproduced": 4}
    assert counts[cell("reproduction", "ssot")] == {"as-expected": 4}
    assert counts[cell("validation", "ssot")] == {"as-expected": 5}
    assert counts[cell("reproduction", "partial[engine+factory]")] == {
        "as-expected": 3,
        "reproduced": 1,
    }
    # Every phase that runs in the unit env has results in every one of its cells.
    phases = {cell_id.split("/")[0] for cell_id in counts}
    assert phases == {
        "reproduction",
        "validation",
        "golden_path",
        "websocket",
        "rollback",
        "business",
    }
    assert len(counts) == 6 * 3 - 1  # rollback has no deprecated cell


def test_shared_ssot_bookkeeping_is_caught_as_regressions_in_ssot_cells(repo_copy: Path) -> None:
    engine = repo_copy / "src/netra_backend/app/agents/supervisor/user_execution_engine.py"
    # One RunBook for every UserExecutionEngine: stats, history, active runs shared.
    _patch(engine, "        self._book = RunBook()\n", "        self._book = _SHARED_BOOK\n")
    _patch(
        engine,
        "DEFAULT_MAX_CONCURRENT = 5\n",
        "DEFAULT_MAX_CONCURRENT = 5\n_SHARED_BOOK = RunBook()\n",
    )

    code, report, text = run_and_gate(repo_copy)
    assert code == 1, text
    # Only where the state is isolated does an engine's own book matter: the ssot cell.
    assert unexpected(report) == {
        (
            cell("validation", "ssot"),
            "test_ssot_compliance_validation.py::test_execution_stats_isolated",
        ): "regression",
    }, text


def test_correct_deprecated_engine_shows_unexpected_pass_in_reproduction(repo_copy: Path) -> None:
    run_core = repo_copy / "src/netra_backend/app/agents/supervisor/run_core.py"
    routing = repo_copy / "src/netra_backend/app/legacy/routing.py"
    # The shared cache keyed by who asked, and events routed by their own run: the two
    # deprecated bugs the contamination reproduction exists to show, fixed in place.
    _patch(
        run_core,
        "        return (ctx.agent_name, ctx.user_input)\n",
        "        return (ctx.user_id, ctx.thread_id, ctx.agent_name, ctx.user_input)\n",
    )
    _patch(routing, "        return current_run() or self.own\n", "        return self.own\n")

    code, report, text = run_and_gate(repo_copy)
    assert code == 1, text
    contamination = (
        "test_user_context_contamination.py::test_user_context_contamination_reproduction"
    )
    isolation = "test_ssot_compliance_validation.py::test_user_context_isolation_after_migration"
    assert unexpected(report) == {
        (cell("reproduction", "deprecated"), contamination): "unexpected-pass",
        (cell("reproduction", "partial[engine+factory]"), contamination): "unexpected-pass",
        (cell("validation", "deprecated"), isolation): "unexpected-pass",
        (cell("validation", "partial[engine+factory]"), isolation): "unexpected-pass",
    }, text
