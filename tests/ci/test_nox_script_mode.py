"""nox installed in a virtualenv that is not on PATH, as pipx or `uv tool install` do.

The noxfile's PEP 723 block makes such a nox run itself again inside
`.nox/_nox_script_mode`, an environment built from that block alone. Every session
here is made with uv, so the block must bring uv (`nox[uv]`): otherwise, with no
uv on PATH either, every session fails with "No backends present". This runs a
real session that way: a fresh virtualenv holding nox, called by its path, with
a PATH that has an interpreter but no nox and no uv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_noxfile_asks_for_uv_in_its_script_block() -> None:
    block = REPO.joinpath("noxfile.py").read_text(encoding="utf-8").split("# ///", 2)[1]
    assert '"nox[uv]' in block


def test_nox_from_a_virtualenv_off_path_runs_a_session(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is needed to make the virtualenv that holds nox")
    venv = tmp_path / "nox-venv"
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, timeout=120)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "nox[uv]"],
        check=True,
        timeout=300,
    )
    # An interpreter for the session (a folder holding only python3.X, the base
    # interpreter: this one's own folder may hold uv, which the test extras bring),
    # and system folders; no pyenv shims, so neither nox nor uv can come from PATH.
    alone = tmp_path / "python-only"
    alone.mkdir()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (alone / version).symlink_to(base)
    bare = [str(alone), "/usr/bin", "/bin"]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "NOX_DEFAULT_VENV")}
    env["PATH"] = os.pathsep.join(bare)
    assert not any(Path(folder, "uv").exists() for folder in bare)
    done = subprocess.run(
        [str(venv / "bin" / "nox"), "--envdir", str(tmp_path / "envs"), "-s", "lint"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert "No backends present" not in output
    assert done.returncode == 0, output[-3000:]
