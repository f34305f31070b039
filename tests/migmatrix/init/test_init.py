"""`migmatrix init`: a skeleton that passes its gate, then a toy migration filled in, then a bug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migmatrix.cli import main
from migmatrix.errors import UsageError
from migmatrix.init import init_project
from migmatrix.outcomes import ExitCode

RUNTIME_FILES = (
    "adapters/__init__.py",
    "adapters/migration.py",
    "matrix.yaml",
    "noxfile.py",
    "suites/__init__.py",
    "suites/golden_path/__init__.py",
    "suites/golden_path/test_golden_path.py",
    "suites/reproduction/__init__.py",
    "suites/reproduction/test_reproduction.py",
)

# A toy migration: pricing.to_cents truncated (legacy); the new code rounds. The switch
# is a module setting, as in many real runtime migrations.
PRICING = """\
USE_NEW = False


def to_cents(price):
    if USE_NEW:
        return round(price * 100)
    return int(price * 100)
"""

ADAPTER = """\
import contextlib

import pricing


class PricingAdapter:
    def __init__(self, use_new):
        self.use_new = use_new

    @contextlib.contextmanager
    def open(self, cell):
        before = pricing.USE_NEW
        pricing.USE_NEW = self.use_new
        try:
            yield pricing
        finally:
            pricing.USE_NEW = before


legacy = PricingAdapter(False)
ssot = PricingAdapter(True)
"""


def migmatrix(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A process of its own: the skeleton's `adapters` and `suites` packages would meet
    # this repository's own in this one.
    return subprocess.run(
        [sys.executable, "-m", "migmatrix", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def run_and_gate(folder: Path) -> subprocess.CompletedProcess[str]:
    ran = migmatrix(folder, "run", "--workers", "0", "--", "-p", "no:cacheprovider")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return migmatrix(folder, "gate", "results", "--json", "gate.json")


def test_init_writes_the_runtime_skeleton_and_keeps_what_exists(tmp_path: Path) -> None:
    report = init_project(tmp_path)
    assert report.written == RUNTIME_FILES
    assert report.kept == ()
    before = {name: (tmp_path / name).read_bytes() for name in RUNTIME_FILES}
    (tmp_path / "matrix.yaml").write_text("# mine\n", encoding="utf-8")
    again = init_project(tmp_path)
    assert again.written == ()
    assert again.kept == RUNTIME_FILES
    assert (tmp_path / "matrix.yaml").read_text(encoding="utf-8") == "# mine\n"
    assert all((tmp_path / n).read_bytes() == before[n] for n in RUNTIME_FILES[:2])
    noxfile = (tmp_path / "noxfile.py").read_text(encoding="utf-8")
    assert "migmatrix.noxapi.matrix_sessions(project=[])" in noxfile  # no pyproject here
    assert '# dependencies = ["nox[uv]", "migmatrix"]' in noxfile


def test_init_names_every_file_it_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "noxfile.py").write_text("# my sessions\n", encoding="utf-8")
    assert main(["init", "--dir", str(tmp_path)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "kept  noxfile.py (it exists; not overwritten)\n" in out
    assert "wrote matrix.yaml\n" in out
    assert (tmp_path / "noxfile.py").read_text(encoding="utf-8") == "# my sessions\n"


def test_the_versions_shape_has_no_adapter_module_and_needs_its_releases(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--package NAME --old X\.Y\.Z --new X\.Y\.Z"):
        init_project(tmp_path, "versions")
    report = init_project(tmp_path, "versions", package="tomli", old="1.2.2", new="1.2.3")
    assert "adapters/migration.py" not in report.written
    matrix = (tmp_path / "matrix.yaml").read_text(encoding="utf-8")
    assert 'requirements: ["tomli==1.2.2"]' in matrix
    assert 'requirements: ["tomli==1.2.3"]' in matrix


@pytest.mark.slow  # migmatrix processes: check, run, gate, three times
def test_init_then_a_toy_migration_passes_then_a_planted_bug_fails(tmp_path: Path) -> None:
    assert main(["init", "--dir", str(tmp_path)]) == ExitCode.OK
    checked = migmatrix(tmp_path, "check")
    assert checked.returncode == 0, checked.stdout

    # The skeleton as written: its example passes its own gate.
    first = run_and_gate(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr

    # The user fills in a toy migration: their code, and the adapter's switch for it.
    (tmp_path / "pricing.py").write_text(PRICING, encoding="utf-8")
    (tmp_path / "adapters" / "migration.py").write_text(ADAPTER, encoding="utf-8")
    filled = run_and_gate(tmp_path)
    assert filled.returncode == 0, filled.stdout + filled.stderr
    assert "gate PASSED (exit 0): 3 as-expected, 1 reproduced" in filled.stdout

    # A planted bug in the new code: the reproduction passes nowhere, the gate fails.
    (tmp_path / "pricing.py").write_text(
        PRICING.replace("round(price * 100)", "int(price * 100)"), encoding="utf-8"
    )
    broken = run_and_gate(tmp_path)
    assert broken.returncode == ExitCode.GATE_FAILED, broken.stdout + broken.stderr
    assert "regression" in broken.stdout
    assert "reproduction/ssot/unit/py" in broken.stdout
