"""How fast load + plan and expectation lookup are, against the targets of issue 3.

Generates a matrix of 10 phases x 25 adapters x 10 envs x 4 pythons = 10,000 cells
(with excludes, includes and 40 expectation rules) in a temporary folder, then
times, side by side in one run:

- load_matrix + plan_cells of that file (target: under 1 s),
- expectation_for over 300,000 (cell, test) pairs (what the gate asks for a big run),
- the same lookups with no cache, as a naive scan of every rule per pair would do.

Run: .venv/bin/python benchmarks/plan_speed.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from migmatrix.expect import expectation_for, precedence, rule_expectation, selects_test, why_not
from migmatrix.load import load_matrix
from migmatrix.model import Cell, Expectation, Matrix
from migmatrix.plan import plan_cells

PHASES, ADAPTERS, ENVS, PYTHONS = 10, 25, 10, 4
TARGET_SECONDS = 1.0


def write_matrix(root: Path) -> Path:
    lines = ['python: ["3.10", "3.11", "3.12", "3.13"]', "phases:"]
    for p in range(PHASES):
        (root / "suites" / f"phase{p}").mkdir(parents=True)
        lines.append(f"  phase{p}: suites/phase{p}")
    (root / "bench_adapters.py").write_text("adapter = object()\n")
    lines.append("adapters:")
    for a in range(ADAPTERS):
        lines.append(f'  adapter{a}: {{object: "bench_adapters:adapter", features: [feat{a % 5}]}}')
    lines.append("envs:")
    for e in range(ENVS):
        lines.append(f"  env{e}: {{features: [envfeat{e % 3}]}}")
    # Excludes that remove some cells and an include that puts a few back.
    lines += [
        "exclude:",
        "  - {phase: phase9, env: env9, python: '3.10'}",
        "include:",
        "  - {phase: phase9, env: env9, python: '3.10', adapter: adapter0}",
        "expect:",
        "  default: pass",
        "  rules:",
    ]
    for r in range(40):
        sel = [f"phase: phase{r % PHASES}"]
        if r % 2:
            sel.append(f"adapter: 'adapter{r % 7}*'")
        if r % 3 == 0:
            sel.append(f"unless: [feat{r % 5}]")
        if r % 4 == 0:
            sel.append(f"test: 'test_mod{r % 6}.py::*'")
        lines.append(f"    - {{{', '.join(sel)}, outcome: fail}}")
    path = root / "matrix.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def naive(matrix: Matrix, cell: Cell, test: str) -> Expectation:
    best = None
    for rule in matrix.rules:
        applies = why_not(rule, cell) is None and (
            rule.test is None or selects_test(rule.test, test)
        )
        if applies and (best is None or precedence(rule) > precedence(best)):
            best = rule
    return rule_expectation(best) if best else Expectation(outcomes=matrix.default)


def best_of(runs: int, fn):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_matrix(Path(tmp))

        def load_and_plan() -> tuple[Matrix, tuple[Cell, ...]]:
            sys.modules.pop("bench_adapters", None)
            m = load_matrix(path)
            return m, plan_cells(m)

        best, median, (matrix, cells) = best_of(5, load_and_plan)
        print(f"cells planned: {len(cells)}")
        print(
            f"load + plan: best {best * 1000:.0f} ms, median {median * 1000:.0f} ms; "
            f"ratio to the {TARGET_SECONDS:.0f} s target: {median / TARGET_SECONDS:.2f}"
        )
        m0 = time.perf_counter()
        load_matrix(path)
        load_only = time.perf_counter() - m0
        p0 = time.perf_counter()
        plan_cells(matrix)
        plan_only = time.perf_counter() - p0
        print(f"  of which load {load_only * 1000:.0f} ms, plan {plan_only * 1000:.0f} ms")

        tests = [f"test_mod{i % 6}.py::test_{i}" for i in range(30)]
        pairs = [(c, t) for c in cells for t in tests][:300_000]
        start = time.perf_counter()
        cached = [expectation_for(matrix, c, t)[0] for c, t in pairs]
        fast = time.perf_counter() - start
        sample = pairs[::97]
        start = time.perf_counter()
        slow_sample = [naive(matrix, c, t) for c, t in sample]
        slow = (time.perf_counter() - start) * len(pairs) / len(sample)
        assert slow_sample == cached[::97], "cached lookup disagrees with the naive scan"
        print(
            f"expectation_for over {len(pairs)} pairs: {fast * 1000:.0f} ms "
            f"({fast / len(pairs) * 1e6:.2f} us/pair); naive scan of {len(matrix.rules)} rules "
            f"(extrapolated from {len(sample)} pairs): {slow * 1000:.0f} ms; "
            f"speed-up {slow / fast:.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
