"""A new user's first ten minutes, from the built wheel: install, `migmatrix init`, `nox -s matrix`.

The wheel is built with `build`, installed with its `nox` extra into a fresh virtual
environment (nothing of this repository on its path), and a toy project (a
pyproject.toml and one module) gets `migmatrix init` and `nox -s matrix`, with no
other step: the skeleton's own example must give a passing verdict, the sessions
installing the toy project and the same migmatrix wheel (PEP 610 direct_url.json).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

TOY_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "toy-pricing"
version = "0.1.0"

[tool.setuptools]
py-modules = ["pricing"]
"""


def run(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # Nothing of this repository or of this test's environment may leak in.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTEST_ADDOPTS", "PYTHONPATH", "VIRTUAL_ENV", "MIGMATRIX_REQUIREMENT")
    }
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_wheel_then_init_then_nox_matrix_gives_a_passing_verdict(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(
        sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO), cwd=REPO
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("migmatrix-*.whl")

    venv = tmp_path / "venv"
    made = run(
        sys.executable, "-m", "uv", "venv", "-q", "-p", sys.executable, str(venv), cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    installed = run(
        sys.executable, "-m", "uv", "pip", "install", "-q", "--python", str(bin_dir / "python"),
        f"migmatrix[nox] @ {wheel.as_uri()}",
        cwd=tmp_path,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr

    toy = tmp_path / "toy"
    toy.mkdir()
    (toy / "pyproject.toml").write_text(TOY_PYPROJECT, encoding="utf-8")
    (toy / "pricing.py").write_text("def to_cents(price):\n    return round(price * 100)\n")

    init = run(str(bin_dir / "migmatrix"), "init", cwd=toy)
    assert init.returncode == 0, init.stdout + init.stderr
    assert 'matrix_sessions(project=["."])' in (toy / "noxfile.py").read_text(encoding="utf-8")

    matrix = run(str(bin_dir / "nox"), "-s", "matrix", cwd=toy)
    assert matrix.returncode == 0, matrix.stdout[-3000:] + matrix.stderr[-3000:]
    report = json.loads((toy / "reports" / "gate.json").read_text(encoding="utf-8"))
    assert report["status"] == "passed"
    assert report["totals"] == {**report["totals"], "as-expected": 3, "reproduced": 1}
