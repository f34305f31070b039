"""migmatrix.noxapi: a project's noxfile is one call, and `nox -s matrix` gives a verdict.

The slow test builds a tiny project in a temporary folder (a package, two suites,
two in-process adapters, matrix.yaml, the documented three-line noxfile) and runs
the real nox on it: the gate passes, a second run installs nothing, and a planted
bug fails the gate.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from nox_project import nox

from migmatrix import noxapi
from migmatrix import noxhelpers as helpers

REPO = Path(__file__).resolve().parents[2]

NOXFILE = """\
# /// script
# dependencies = ["nox[uv]", "migmatrix"]
# ///
import migmatrix.noxapi

migmatrix.noxapi.matrix_sessions(project=["."])
"""

MATRIX = """\
python: ["{python}"]
phases:
  repro: suites/repro
  golden: suites/golden
adapters:
  old: {{object: "tiny_adapters:old", features: []}}
  new: {{object: "tiny_adapters:new", features: [fixed]}}
envs:
  unit: {{features: []}}
expect:
  default: pass
  rules:
    - {{phase: repro, unless: [fixed], outcome: fail}}
"""


class FakeSession:
    def __init__(self) -> None:
        self.virtualenv = SimpleNamespace(location=None)
        self.installs: list[tuple[str, ...]] = []

    def install(self, *args: str, env: dict[str, str]) -> None:
        self.installs.append(args)

    def log(self, message: str) -> None:
        pass


def test_this_repositorys_noxfile_installs_the_reference_system_beside_the_harness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its own noxfile uses the public call; the harness (`.`) is installed once."""
    tree = ast.parse((REPO / "noxfile.py").read_text(encoding="utf-8"))
    (call,) = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "matrix_sessions"
    ]
    project = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "project"))
    monkeypatch.chdir(REPO)
    sessions = noxapi.MatrixSessions(
        axes=helpers.Axes((), ()),
        project=tuple(project),
        editable=True,
        migmatrix=tuple(helpers.migmatrix_install_args({})),
        results_dir="results",
        reports_dir="reports",
        coverage_dir="results/coverage",
    )
    session = FakeSession()
    sessions.install(session, "test")  # type: ignore[arg-type]
    assert session.installs == [("-e", ".[test]", "-e", "./reference/netra_backend[server]")]


def tiny_project(root: Path) -> Path:
    (root / "src" / "tinylib").mkdir(parents=True)
    (root / "suites" / "repro").mkdir(parents=True)
    (root / "suites" / "golden").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "tinylib"\nversion = "0.1"\n',
        encoding="utf-8",
    )
    (root / "src" / "tinylib" / "__init__.py").write_text(
        "def add(a, b):\n    return a + b\n", encoding="utf-8"
    )
    (root / "tiny_adapters.py").write_text(
        "old = {'fixed': False}\nnew = {'fixed': True}\n", encoding="utf-8"
    )
    (root / "suites" / "repro" / "test_repro.py").write_text(
        "def test_fixed(cell):\n    assert cell.adapter_object['fixed']\n", encoding="utf-8"
    )
    (root / "suites" / "golden" / "test_golden.py").write_text(
        "import tinylib\n\ndef test_add():\n    assert tinylib.add(1, 2) == 3\n",
        encoding="utf-8",
    )
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    (root / "matrix.yaml").write_text(MATRIX.format(python=python), encoding="utf-8")
    (root / "noxfile.py").write_text(NOXFILE, encoding="utf-8")
    return root


@pytest.mark.slow
def test_a_three_line_noxfile_runs_the_matrix_and_gates_it(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny")
    listed = nox(project, "-l")
    assert listed.returncode == 0, listed.stderr
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in (f"run-{python}", "matrix", "gate", f"cell-{python}(repro/old/unit)"):
        assert name in listed.stdout

    first = nox(project)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output[-3000:]
    assert "gate PASSED" in output
    # The session installed the project and the same migmatrix as this test's.
    harness = helpers.migmatrix_install_args({})
    assert f"pip install -e . {' '.join(harness)}" in output

    again = nox(project, "-s", f"run-{python}")
    assert "environment up to date: nothing to install" in again.stdout + again.stderr

    # A planted bug in the library: the golden path fails, and so does the gate.
    (project / "src" / "tinylib" / "__init__.py").write_text(
        "def add(a, b):\n    return a - b\n", encoding="utf-8"
    )
    broken = nox(project)
    assert broken.returncode != 0
    assert "gate FAILED" in broken.stdout + broken.stderr


@pytest.mark.slow
def test_a_bad_matrix_gets_one_located_line_and_exit_2(tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "tiny")
    (project / "matrix.yaml").write_text("python: ['3.12']\nphases: 3\n", encoding="utf-8")
    done = nox(project, "-l")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "migmatrix: error: matrix.yaml:" in done.stderr
    assert "phases: expected a mapping, got the number 3" in done.stderr
