"""Environment adapters end to end: real PyPI releases, real git refs, the real nox.

- examples/tomli_upgrade: tomli 1.2.2 -> 1.2.3 (changelog: 'Allow lower case "t"
  and "z" in datetimes'); the reproduction fails on 1.2.2 for the stated reason
  and passes on 1.2.3, the controls pass on both, the gate passes; a re-run
  installs nothing; a source tree that shadows the installed release is refused;
- a release that needs a newer Python than the cell's yields `unavailable`;
- a git repository with a buggy and a fixing commit, one `ref` adapter each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nox_project import REPO, nox, output

pytestmark = pytest.mark.slow

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def example(tmp_path: Path) -> Path:
    project = tmp_path / "tomli_upgrade"
    shutil.copytree(
        REPO / "examples" / "tomli_upgrade",
        project,
        ignore=shutil.ignore_patterns(".nox", "results", "reports", "__pycache__"),
    )
    text = (project / "matrix.yaml").read_text(encoding="utf-8")
    (project / "matrix.yaml").write_text(text.replace('["3.12"]', f'["{PY}"]'), encoding="utf-8")
    return project


def test_the_tomli_example_reproduces_the_bug_on_the_old_release_only(tmp_path: Path) -> None:
    project = example(tmp_path)
    listed = nox(project, "-l")
    assert f"run-{PY}(before)" in listed.stdout
    assert f"run-{PY}(after)" in listed.stdout

    done = nox(project)
    text = output(done)
    assert done.returncode == 0, text[-4000:]
    assert "gate PASSED (exit 0): 7 as-expected, 1 reproduced" in text
    report = json.loads((project / "reports" / "gate.json").read_text(encoding="utf-8"))
    reproduced = [r for r in report["results"] if r["verdict"] == "reproduced"]
    assert [r["cell"] for r in reproduced] == [f"reproduction/before/unit/py{PY}"]
    header = json.loads((project / "results" / f"py{PY}-before.jsonl").read_text().splitlines()[0])
    seen = header["environment"]
    assert seen["name"] == "before"
    assert seen["versions"]["tomli"] == "1.2.2"
    assert seen["pins"]["tomli"]["file"].startswith(str(project / ".nox"))
    assert {"migmatrix", "pytest"} <= set(seen["versions"])

    again = nox(project, "-s", f"run-{PY}(before)")
    assert "environment 'before' up to date: nothing to install" in output(again)

    # The trap: a source tree named like the release, first on sys.path (the
    # project folder, where `python -m pytest` runs). The old-release cells would
    # silently test it; the gate refuses the file instead.
    (project / "tomli").mkdir()
    (project / "tomli" / "__init__.py").write_text(
        "class TOMLDecodeError(ValueError):\n    pass\n\n\ndef loads(text):\n    return {}\n",
        encoding="utf-8",
    )
    trapped = nox(project)
    text = output(trapped)
    assert trapped.returncode != 0
    assert "gate INCOMPLETE (exit 3)" in text, text[-3000:]
    report = json.loads((project / "reports" / "gate.json").read_text(encoding="utf-8"))
    shadowed = str(project / "tomli" / "__init__.py")
    (before,) = [p for p in report["problems"] if "environment 'before'" in p]
    assert f"cell controls/before/unit/py{PY}" in before
    assert f"expected tomli 1.2.2, found 1.2.2 at {shadowed}" in before


MATRIX_NEEDS_NEWER_PYTHON = """\
python: ["3.10"]
phases:
  smoke: suites
adapters:
  current: {requirements: ["tomli==2.0.1"]}
  # Sphinx 8.2 requires Python >= 3.11: it cannot be installed on 3.10.
  newest: {requirements: ["sphinx==8.2.0"]}
envs:
  unit: {}
"""


def test_a_release_that_needs_a_newer_python_is_unavailable(tmp_path: Path) -> None:
    if shutil.which("python3.10") is None and shutil.which("pyenv") is None:
        pytest.skip("needs a Python 3.10 interpreter")
    project = tmp_path / "needs_newer"
    (project / "suites").mkdir(parents=True)
    (project / "suites" / "test_smoke.py").write_text(
        "def test_smoke():\n    assert True\n", encoding="utf-8"
    )
    (project / "matrix.yaml").write_text(MATRIX_NEEDS_NEWER_PYTHON, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "noxfile.py").write_text(
        "import migmatrix.noxapi\n\nmigmatrix.noxapi.matrix_sessions(project=[])\n",
        encoding="utf-8",
    )
    done = nox(project)
    text = output(done)
    if "Python 3.10 not found" in text or "Python interpreter 3.10 not found" in text:
        pytest.skip("nox finds no Python 3.10 here")
    assert done.returncode != 0
    assert "gate FAILED (exit 1): 1 as-expected, 1 unavailable" in text, text[-4000:]
    assert "3.11" in text  # the installer's own message says which Python it needs
    # Expected: the same files gate green, and the map marks the cell unavailable.
    with (project / "matrix.yaml").open("a", encoding="utf-8") as f:
        f.write("expect:\n  rules:\n    - {adapter: newest, outcome: unavailable}\n")
    gated = nox(project, "-s", "gate")
    assert gated.returncode == 0, output(gated)[-3000:]
    assert "∅" in output(gated) or " u " in output(gated)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


REF_MATRIX = """\
python: ["{py}"]
phases:
  reproduction: suites/reproduction
  golden: suites/golden
adapters:
  buggy: {{ref: "{buggy}"}}
  fixed: {{ref: main}}
envs:
  unit: {{}}
expect:
  default: pass
  rules:
    - {{phase: reproduction, adapter: buggy, outcome: fail, raises: AssertionError}}
"""


def test_two_refs_of_a_repository_gate_the_expected_pattern(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    repo = tmp_path / "calc"
    (repo / "src" / "calc").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "calc"\nversion = "0.1"\n',
        encoding="utf-8",
    )
    source = repo / "src" / "calc" / "__init__.py"
    source.write_text("def mean(xs):\n    return sum(xs) // len(xs)\n", encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "mean, with integer division (the bug)")
    buggy = git(repo, "rev-parse", "HEAD")
    source.write_text("def mean(xs):\n    return sum(xs) / len(xs)\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "mean: true division")
    # The suites, the matrix and the noxfile of the current checkout (uncommitted:
    # the suites always come from here, whatever ref a state installs).
    (repo / "suites" / "reproduction").mkdir(parents=True)
    (repo / "suites" / "golden").mkdir(parents=True)
    (repo / "suites" / "reproduction" / "test_mean.py").write_text(
        "import calc\n\n\ndef test_mean_of_one_and_two():\n    assert calc.mean([1, 2]) == 1.5\n",
        encoding="utf-8",
    )
    (repo / "suites" / "golden" / "test_golden.py").write_text(
        "import calc\n\n\ndef test_mean_of_equal_numbers():\n    assert calc.mean([4, 4]) == 4\n",
        encoding="utf-8",
    )
    (repo / "matrix.yaml").write_text(REF_MATRIX.format(py=PY, buggy=buggy), encoding="utf-8")
    (repo / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (repo / "noxfile.py").write_text(
        "import migmatrix.noxapi\n\nmigmatrix.noxapi.matrix_sessions(project=['.'])\n",
        encoding="utf-8",
    )
    done = nox(repo)
    text = output(done)
    assert done.returncode == 0, text[-4000:]
    assert "gate PASSED (exit 0): 3 as-expected, 1 reproduced" in text
    header = json.loads((repo / "results" / f"py{PY}-buggy.jsonl").read_text().splitlines()[0])
    assert header["environment"]["ref"]["commit"] == buggy

    # A ref that does not exist: one line naming it and the repository, exit 2... from nox.
    (repo / "matrix.yaml").write_text(
        REF_MATRIX.format(py=PY, buggy="no-such-branch"), encoding="utf-8"
    )
    bad = nox(repo, "-s", f"run-{PY}(buggy)")
    assert bad.returncode != 0
    assert "ref 'no-such-branch' does not exist in the git repository" in output(bad)
