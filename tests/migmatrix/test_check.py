"""`migmatrix check`: every adapter object imported, every suite collected, failures located."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from migmatrix.cli import main
from migmatrix.outcomes import ExitCode

MATRIX = """\
python: ["3.12"]
phases:
  reproduction: suites/reproduction
  golden_path: suites/golden_path
  empty: suites/empty
adapters:
  legacy: {object: "checkadapters.legacy:adapter"}
  ssot: {object: "checkadapters.ssot:adaptor"}
envs: {unit: {}}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "matrix.yaml").write_text(MATRIX, encoding="utf-8")
    adapters = tmp_path / "checkadapters"
    adapters.mkdir()
    (adapters / "__init__.py").write_text("", encoding="utf-8")
    (adapters / "legacy.py").write_text("adapter = object()\n", encoding="utf-8")
    (adapters / "ssot.py").write_text("adapter = object()\n", encoding="utf-8")
    for phase in ("reproduction", "golden_path", "empty"):
        (tmp_path / "suites" / phase).mkdir(parents=True)
    (tmp_path / "suites" / "reproduction" / "test_bug.py").write_text(
        "def test_bug(cell):\n    pass\n", encoding="utf-8"
    )
    (tmp_path / "suites" / "golden_path" / "test_path.py").write_text(
        "import pricing_that_does_not_exist\n\ndef test_path(cell):\n    pass\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_names_the_bad_object_the_broken_suite_and_the_empty_phase(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == ExitCode.USAGE
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "matrix.yaml:8:18: adapters.ssot.object: cannot import "
        "'checkadapters.ssot:adaptor': module 'checkadapters.ssot' imported, but "
        "'checkadapters.ssot' has no attribute 'adaptor'"
    ), lines[0]
    assert lines[1] == (
        "suites/golden_path/test_path.py: ModuleNotFoundError: "
        "No module named 'pricing_that_does_not_exist'"
    )
    assert lines[2].startswith("phases.empty: pytest collects no test in suites/empty/")
    assert lines[3] == (
        "migmatrix check: 3 problem(s); 1 of 2 adapter object(s) imported; "
        "tests collected per phase: reproduction 1"
    )


@pytest.mark.slow  # a migmatrix process
def test_check_passes_a_sound_project(project: Path) -> None:
    (project / "checkadapters" / "ssot.py").write_text("adaptor = object()\n", encoding="utf-8")
    (project / "suites" / "golden_path" / "test_path.py").write_text(
        "def test_path(cell):\n    pass\n", encoding="utf-8"
    )
    (project / "suites" / "empty" / "test_e.py").write_text("def test_e():\n    pass\n")
    # In a process of its own: the suite modules of the test above are imported in this one.
    done = subprocess.run(
        [sys.executable, "-m", "migmatrix", "check"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert done.stdout == (
        "migmatrix check: ok; 2 of 2 adapter object(s) imported; "
        "tests collected per phase: empty 1, golden_path 1, reproduction 1\n"
    )
