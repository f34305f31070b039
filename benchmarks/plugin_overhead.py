"""What the migmatrix pytest plugin costs on top of plain pytest-xdist.

A synthetic matrix of 21 cells (7 adapters x 3 envs, one phase, this Python) x
20 tests, each burning about 5 ms of CPU, run as `pytest --matrix ... -n 2`;
against it, plain `pytest -n 2 -p no:migmatrix` over the same 420 tests
parametrized by hand. The two are run alternately, REPEAT times, in one
process, and the medians compared; the target is a ratio of at most 1.15.

    .venv/bin/python benchmarks/plugin_overhead.py [--repeat 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
ADAPTERS = [f"a{i}" for i in range(7)]
ENVS = ["unit", "integration", "staging"]
TESTS = 20

BURN = """
import time

def burn(seconds=0.005):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
"""


def write_matrix_project(root: Path) -> None:
    adapters = "\n".join(
        f'  {name}: {{object: "benchadapters:adapter", features: []}}' for name in ADAPTERS
    )
    envs = "\n".join(f"  {name}: {{features: []}}" for name in ENVS)
    (root / "matrix.yaml").write_text(
        f'python: ["{PY}"]\nphases:\n  bench: suites/bench\n'
        f"adapters:\n{adapters}\nenvs:\n{envs}\nexpect:\n  default: pass\n"
    )
    (root / "benchadapters.py").write_text("adapter = object()\n")
    suite = root / "suites" / "bench"
    suite.mkdir(parents=True)
    tests = "\n".join(f"def test_{i}(cell):\n    burn()\n" for i in range(TESTS))
    (suite / "test_bench.py").write_text(BURN + "\n" + tests)


def write_plain_project(root: Path) -> None:
    cells = [f"bench/{a}/{e}/py{PY}" for a in ADAPTERS for e in ENVS]
    suite = root / "plain"
    suite.mkdir(parents=True)
    tests = "\n".join(
        f"@pytest.mark.parametrize('cell', CELLS)\ndef test_{i}(cell):\n    burn()\n"
        for i in range(TESTS)
    )
    (suite / "test_bench.py").write_text(
        "import pytest\n" + BURN + f"\nCELLS = {cells!r}\n\n" + tests
    )


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all processes: controller and workers) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0 or "420 passed" not in done.stdout:
        sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
        msg = f"benchmark run failed: {' '.join(argv)}"
        raise SystemExit(msg)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    common = ["-q", "-p", "no:cacheprovider", "-n", args.workers]
    with tempfile.TemporaryDirectory(prefix="migmatrix-bench-") as tmp:
        root = Path(tmp)
        write_matrix_project(root)
        write_plain_project(root)
        matrix_argv = [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", *common]
        plain_argv = [sys.executable, "-m", "pytest", "-p", "no:migmatrix", "plain", *common]
        timed(plain_argv, root)  # warm the file system cache; not counted
        matrix_runs, plain_runs = [], []
        for _ in range(args.repeat):
            plain_runs.append(timed(plain_argv, root))
            matrix_runs.append(timed(matrix_argv, root))
        records = (root / "results" / f"py{PY}.jsonl").read_text().count('"kind": "record"')
    plain = statistics.median(w for w, _ in plain_runs)
    matrix = statistics.median(w for w, _ in matrix_runs)
    plain_cpu = statistics.median(c for _, c in plain_runs)
    matrix_cpu = statistics.median(c for _, c in matrix_runs)
    print(f"21 cells x {TESTS} tests (~5 ms CPU each), -n {args.workers}, {args.repeat} runs each")
    for name, runs in (("plain pytest   ", plain_runs), ("pytest --matrix", matrix_runs)):
        walls = [round(w, 2) for w, _ in runs]
        cpus = [round(c, 2) for _, c in runs]
        print(f"{name}  wall {walls}  cpu {cpus}")
    print(f"records written: {records}")
    print(f"wall ratio matrix/plain (medians): {matrix / plain:.3f} (target <= 1.15)")
    # CPU time is steadier than wall time on a shared machine; it shows the
    # plugin's own cost (start-up of three processes, hooks per test).
    print(f"cpu ratio matrix/plain (medians): {matrix_cpu / plain_cpu:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
