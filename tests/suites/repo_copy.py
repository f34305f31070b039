"""Run this repository's matrix on a copy of it, possibly broken on purpose, and gate it.

The copy holds src/, reference/netra_backend/src/, adapters/, suites/ and
matrix.yaml; PYTHONPATH puts the COPY's netra_backend first, so a patch to it is
what the suites exercise. Used by the gate tests of tests/suites (unit cells in
test_suites_gate.py, staging cells in test_staging_gate.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
REFERENCE_SRC = "reference/netra_backend/src"  # the reference system's import root


def copy_repository(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")
    for folder in ("src", REFERENCE_SRC, "adapters", "suites"):
        shutil.copytree(REPO / folder, target / folder, ignore=ignore)
    shutil.copy2(REPO / "matrix.yaml", target / "matrix.yaml")
    return target


def copy_env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(copy / "src"), str(copy / REFERENCE_SRC), str(copy)])
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("COVERAGE_PROCESS_START", None)
    return env


def patch(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: expected exactly one {old!r} to patch"
    path.write_text(text.replace(old, new), encoding="utf-8")


def run_and_gate(
    copy: Path, selection: str
) -> tuple[int, dict[str, Any], list[dict[str, Any]], str]:
    """Run the selected cells of the running Python on the copy with `-n 2`, then gate them.

    Returns the gate's exit code, its JSON report, the raw records of the results
    file and the text both commands printed (for assertion messages).
    """
    results = copy / "results"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", "--cells", selection,
         "-n", "2", "--results-dir", str(results), "-p", "no:cacheprovider", "-q"],
        cwd=copy, env=copy_env(copy), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    files = list(results.glob("*.jsonl"))
    assert files, f"no results written:\n{run.stdout}\n{run.stderr}"
    records = [
        record
        for line in files[0].read_text(encoding="utf-8").splitlines()
        if (record := json.loads(line)).get("kind") == "record"
    ]
    report = copy / "gate.json"
    gate = subprocess.run(
        [sys.executable, "-m", "migmatrix", "gate", str(results), "--matrix", "matrix.yaml",
         "--python", PY, "--cells", selection, "--json", str(report),
         "--no-coverage-rules"],  # these runs judge verdicts; coverage has tests of its own
        cwd=copy, env=copy_env(copy), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return (
        gate.returncode,
        json.loads(report.read_text(encoding="utf-8")),
        records,
        gate.stdout + gate.stderr + run.stdout[-3000:],
    )
