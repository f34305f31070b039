"""The repository's two distributions: the harness (`migmatrix`) and the reference system.

Installing the harness must never install the reference system under test (whose
server needs extras the harness does not): each wheel holds its own top-level
package alone. Both wheels and sdists are built with `build` (PyPI reachable for
the build backend) and pass `check-wheel-contents` and `twine check`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECTS = {
    "migmatrix": (REPO, "migmatrix"),
    "netra-backend": (REPO / "reference" / "netra_backend", "netra_backend"),
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("build", "twine")),
        reason="build and twine are not installed (the `test` extra)",
    ),
]


def run(*args: str, cwd: Path = REPO, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTHONPATH")}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def console_script(name: str) -> str:
    """A console script installed next to this interpreter (the test env's), else its name."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else name


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """(wheel, sdist) of each distribution, built into a temporary folder."""
    out = tmp_path_factory.mktemp("dist")
    found = {}
    for name, (source, _) in PROJECTS.items():
        target = out / name
        run(
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--sdist",
            "--outdir",
            str(target),
            str(source),
        )
        stem = name.replace("-", "_")
        (wheel,) = target.glob(f"{stem}-*.whl")
        (sdist,) = target.glob(f"{stem}-*.tar.gz")
        found[name] = (wheel, sdist)
    return found


def top_level(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}


@pytest.mark.parametrize("name", list(PROJECTS))
def test_each_wheel_holds_its_own_package_alone(
    built: dict[str, tuple[Path, Path]], name: str
) -> None:
    wheel, _ = built[name]
    assert top_level(wheel) == {PROJECTS[name][1]}


def test_the_harness_wheel_carries_its_data_files(built: dict[str, tuple[Path, Path]]) -> None:
    wheel, _ = built["migmatrix"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "migmatrix/py.typed" in names
    assert "migmatrix/matrix.schema.json" in names
    assert "migmatrix/init/templates/runtime/matrix.yaml.tmpl" in names  # `migmatrix init`
    assert "migmatrix/init/templates/common/suites/__init__.py.tmpl" in names
    assert not any(name.startswith("netra_backend/") for name in names)


def test_the_harness_sdist_leaves_the_reference_system_out(
    built: dict[str, tuple[Path, Path]],
) -> None:
    _, sdist = built["migmatrix"]
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("/src/migmatrix/gate.py") for name in names)
    assert not any("/reference/" in name or "netra_backend" in name for name in names)


@pytest.mark.parametrize("name", list(PROJECTS))
def test_check_wheel_contents_passes(built: dict[str, tuple[Path, Path]], name: str) -> None:
    wheel, _ = built[name]
    out = run(console_script("check-wheel-contents"), str(wheel))
    assert "OK" in out, out


@pytest.mark.parametrize("name", list(PROJECTS))
def test_twine_check_passes_strictly(built: dict[str, tuple[Path, Path]], name: str) -> None:
    out = run(sys.executable, "-m", "twine", "check", "--strict", *map(str, built[name]))
    assert out.count("PASSED") == 2, out
