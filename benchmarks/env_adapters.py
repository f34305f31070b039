"""What environment adapters cost: two environments against the same cells in-process.

Issue 15's targets, measured side by side on one machine (shared machines are noisy,
so the ratio is the figure that means something):

- warm: `nox -s matrix` over two environment adapters (tomli 1.2.2 and 1.2.3 from
  PyPI, each state in its own reused uv environment, one pytest-xdist run each),
  against `nox -s matrix` over the same cells as two in-process adapters in one
  environment: at most 1.3x;
- cold: one (python, environment) made from nothing with a warm uv cache (create
  the virtualenv, one install of migmatrix - a built wheel, as from an index -,
  pytest and the pinned release, check the pins): at most 3 s.

Usage (from the repository root, nox on PATH, PyPI reachable for the first run):
    python benchmarks/env_adapters.py [--repeat 3] [--tests 40] [--keep DIR]

The projects are written into a temporary folder (or DIR, kept for timing them
again by hand: `DIR/environments` and `DIR/in_process`, each run with `nox -s
matrix`). Every timed run is a warm one: each project runs once untimed first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

SUITE = """\
import datetime

import pytest
import tomli


@pytest.mark.parametrize("n", range({tests}))
def test_{phase}(n):
    text = "when = 1979-05-27{t}07:32:00{z}\\nn = " + str(n)
    parsed = tomli.loads(text)
    assert parsed["n"] == n
    assert parsed["when"].tzinfo == datetime.timezone.utc
"""

ENVIRONMENTS = """\
python: ["{py}"]
phases: {{reproduction: suites/reproduction, controls: suites/controls}}
adapters:
  before: {{requirements: ["tomli==1.2.2"]}}
  after: {{requirements: ["tomli==1.2.3"]}}
envs: {{unit: {{}}}}
"""

IN_PROCESS = """\
python: ["{py}"]
phases: {{reproduction: suites/reproduction, controls: suites/controls}}
adapters:
  before: {{object: "states:before"}}
  after: {{object: "states:after"}}
envs: {{unit: {{}}}}
"""

NOXFILE = """\
import migmatrix.noxapi

migmatrix.noxapi.matrix_sessions(project={project!r}, coverage=False)
"""


def write_project(folder: Path, matrix: str, project: list[str], tests: int) -> None:
    # Both phases pass on both releases: the figure is the cost of the environments,
    # not of reporting a thousand expected failures (which both layouts pay alike).
    for phase, t, z in (("reproduction", "T", "Z"), ("controls", "T", "Z")):
        (folder / "suites" / phase).mkdir(parents=True)
        (folder / "suites" / phase / f"test_{phase}.py").write_text(
            SUITE.format(tests=tests, phase=phase, t=t, z=z), encoding="utf-8"
        )
    (folder / "matrix.yaml").write_text(matrix.format(py=PY), encoding="utf-8")
    (folder / "noxfile.py").write_text(NOXFILE.format(project=project), encoding="utf-8")
    (folder / "states.py").write_text("before = 'before'\nafter = 'after'\n", encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")


def nox_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("VIRTUAL_ENV", None)
    return env


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=nox_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        msg = f"benchmark command failed ({done.returncode}) in {cwd}: {' '.join(cmd)}"
        raise SystemExit(msg)
    return elapsed


def harness_wheel(folder: Path) -> str:
    """migmatrix as a built wheel, as a user installs it from an index: no build per install."""
    from migmatrix.envs import install

    out = folder / "wheel"
    subprocess.run(
        [install.find_uv(), "build", "-q", "--wheel", "-o", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("migmatrix-*.whl")
    return str(wheel)


def cold_environment(folder: Path, harness: str) -> float:
    """Create and install one environment from nothing (warm uv cache), as a session does."""
    from migmatrix import noxhelpers
    from migmatrix.envs import install
    from migmatrix.envs.spec import Environment, pins_of

    target = folder / "cold-env"
    shutil.rmtree(target, ignore_errors=True)
    requirements = ("tomli==1.2.2",)
    environment = Environment("before", "before", requirements, pins=pins_of(requirements))
    base = noxhelpers.migmatrix_install_args({"MIGMATRIX_REQUIREMENT": harness})
    start = time.perf_counter()
    subprocess.run([install.find_uv(), "venv", "-q", "-p", sys.executable, str(target)], check=True)
    install.install(
        environment,
        python=str(target / "bin" / "python"),
        prefix=str(target),
        args=install.install_args(environment, base, None),
        spec_hash=environment.spec_hash(PY, "cold"),
        log=lambda _: None,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tests", type=int, default=40, help="tests per phase")
    parser.add_argument("--keep", metavar="DIR", help="write the projects here and keep them")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="env-adapters-"))
    envs, inproc = root / "environments", root / "in_process"
    for folder in (envs, inproc):
        shutil.rmtree(folder, ignore_errors=True)
    write_project(envs, ENVIRONMENTS, [], args.tests)
    write_project(inproc, IN_PROCESS, ["tomli==1.2.3"], args.tests)
    nox = [sys.executable, "-m", "nox", "-s", "matrix"]
    try:
        # Untimed first runs make every environment; the timed ones are warm.
        for folder in (envs, inproc):
            subprocess.run(nox, cwd=folder, env=nox_env(), capture_output=True, check=False)
        pairs = [(timed(nox, envs), timed(nox, inproc)) for _ in range(args.repeat)]
        harness = harness_wheel(root)
        cold_environment(root, harness)  # untimed: fills uv's cache with every wheel
        cold = [cold_environment(root, harness) for _ in range(args.repeat)]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    a = statistics.median(p[0] for p in pairs)
    b = statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    cells = 2 * 2
    print(f"warm, {cells} cells x {args.tests} tests, Python {PY}, median of {args.repeat}:")
    print(f"  two environment adapters:       {a:6.2f} s")
    print(f"  the same cells in-process:      {b:6.2f} s")
    print(f"  ratio: {ratio:.2f}x (target <= 1.3)")
    print(f"cold (python, environment), warm uv cache: {statistics.median(cold):.2f} s (<= 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
