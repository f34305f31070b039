"""How fast `nox -s matrix` runs this repository's matrix, against its alternatives.

Issue targets, for one Python, on this repository's matrix, measured side by side in
one run (the machines are shared and noisy, so only the ratios mean much):

- `nox -s matrix` with reused environments and coverage off, against a direct
  `pytest --matrix matrix.yaml --cells pyX.Y -n auto` in the same environment:
  at most 1.2x;
- the same against the naive layout, one nox session per cell each running
  pytest (nox's `cell-X.Y(...)` sessions, each environment created beforehand so
  the naive layout is measured at its best): at least 5x faster;
- coverage on against coverage off: at most 1.5x.

Usage:
    python benchmarks/matrix_speed.py [--python 3.12] [--repeat 2] [--sample N]

`--sample N` times the naive layout on every k-th cell (N cells in all) and scales
the mean per cell to the whole plan; it says so when it does. Needs nox on PATH
(the README's set-up line) and is run from the repository root.
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


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one command; its output is kept only if it fails."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        msg = f"benchmark command failed ({done.returncode}): {' '.join(cmd)}"
        raise SystemExit(msg)
    return elapsed


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def cell_sessions(nox: str, python: str) -> list[str]:
    """The per-cell nox sessions of one Python, as `nox -l` names them."""
    listed = subprocess.run(
        [nox, "-l", "--json", "-k", "cell"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    import json

    names = [s["session"] for s in json.loads(listed)]
    return [n for n in names if n.startswith(f"cell-{python}(")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each fast layout")
    parser.add_argument("--sample", type=int, default=0, help="naive layout on N cells only")
    args = parser.parse_args()
    nox = shutil.which("nox")
    if nox is None:
        msg = "nox is not on PATH: python -m pip install 'nox[uv]'"
        raise SystemExit(msg)
    py = args.python
    selection = f"py{py}"
    env_python = ROOT / ".nox" / f"run-{py.replace('.', '-')}" / "bin" / "python"

    # Warm-up: create/reuse the run environment once (not timed).
    timed([nox, "-s", f"run-{py}", "--", selection], env_with(MIGMATRIX_COVERAGE="0"))

    scratch = Path(tempfile.mkdtemp(prefix="matrix-speed-"))
    matrix_cmd = [nox, "-s", "matrix", "--", selection]
    nox_off, direct, nox_on = [], [], []
    for _ in range(args.repeat):
        nox_off.append(timed(matrix_cmd, env_with(MIGMATRIX_COVERAGE="0")))
        direct.append(
            timed(
                [str(env_python), "-m", "pytest", "--matrix", "matrix.yaml", "--cells", selection,
                 "-n", "auto", "-q", "--results-dir", str(scratch / "direct")],
            )
        )  # fmt: skip
        nox_on.append(timed(matrix_cmd, env_with(MIGMATRIX_COVERAGE="1")))

    sessions = cell_sessions(nox, py)
    chosen = sessions
    if args.sample and args.sample < len(sessions):
        step = len(sessions) / args.sample
        chosen = [sessions[int(i * step)] for i in range(args.sample)]
    # The naive layout at its best: every per-cell environment exists before timing.
    timed([nox, "--install-only", "-s", *chosen], env_with(MIGMATRIX_COVERAGE="0"))
    naive = timed([nox, "-s", *chosen], env_with(MIGMATRIX_COVERAGE="0"))
    naive_total = naive * len(sessions) / len(chosen)

    a, b, c = statistics.median(nox_off), statistics.median(direct), statistics.median(nox_on)
    print(f"matrix speed, Python {py}, {len(sessions)} cells, medians of {args.repeat}")
    print(f"  nox -s matrix, reused envs, coverage off : {a:7.2f} s")
    print(f"  pytest --matrix -n auto (same cells)     : {b:7.2f} s")
    print(f"  nox -s matrix, coverage on               : {c:7.2f} s")
    scaled = "" if chosen is sessions else f" (timed {len(chosen)} cells, scaled)"
    print(f"  one nox session per cell                 : {naive_total:7.2f} s{scaled}")
    print(f"  ratio nox matrix / direct pytest   = {a / b:5.2f}  (target <= 1.2)")
    print(f"  ratio per-cell sessions / matrix   = {naive_total / a:5.2f}  (target >= 5)")
    print(f"  ratio coverage on / coverage off   = {c / a:5.2f}  (target <= 1.5)")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
