"""Running the real nox on a project folder, as a user does: the nox API and envs tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def nox(project: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`python -m nox ARGS` in `project`, with this interpreter's folder first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for name in ("VIRTUAL_ENV", "MIGMATRIX_REQUIREMENT", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "nox", "--no-color", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr
