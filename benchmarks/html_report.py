"""How big and how fast is the HTML report for 300,000 results?

Builds a synthetic GateResult of 30 cells x 10,000 tests with a realistic mix of
verdicts and failure messages, renders it, and prints the file size (target
< 10 MB) and render time; then opens it from disk in Debian's headless Chromium
through Playwright and prints DOMContentLoaded (PerformanceNavigationTiming),
the median of 3 loads (target < 2 s), the time one filter takes to re-render
the map and the list over all results, and the time a click on a position of
the map takes to list its items. It prints figures and asserts nothing.

    .venv/bin/python benchmarks/html_report.py [--tests 10000] [--keep report.html]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from migmatrix.model import Cell, Expectation, GateResult, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report.html_ import render_html

# 3 phases x 5 adapter states (rollout order) x 2 envs x 1 Python = 30 cells.
PHASES = ("reproduction", "golden_path", "rollback")
ADAPTERS = ("deprecated", "partial[]", "partial[engine]", "partial[engine+factory]", "ssot")
ENVS = ("unit", "integration")
PYTHONS = ("3.12",)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]

MESSAGES = [
    "assert 'user-1' == 'user-2'\n  - user-2\n  + user-1",
    "AssertionError: events out of order: ['agent_started', 'tool_completed', 'tool_executing']",
    "KeyError: 'run_id'",
    "TimeoutError: agent_completed not received within 5.0 s",
    "RuntimeError: shared state leaked between users: thread t-{n} saw run r-{m}",
]


def _cells() -> list[Cell]:
    return [
        Cell(p, a, e, py, adapter_base=a.split("[")[0])
        for p in PHASES
        for a in ADAPTERS
        for e in ENVS
        for py in PYTHONS
    ]


def synthetic_result(tests_per_cell: int, seed: int = 7) -> GateResult:
    """30 cells x `tests_per_cell` judged results, mostly as expected."""
    rng = random.Random(seed)
    modules = [f"test_mod{m:03d}.py" for m in range(tests_per_cell // 50 + 1)]
    tests = [f"{modules[i // 50]}::test_case_{i:05d}[param-{i % 7}]" for i in range(tests_per_cell)]
    passing = Expectation(frozenset({Expected.PASS}))
    failing = Expectation(
        frozenset({Expected.FAIL}), bug="NETRA-1234", reason="old engine shares state"
    )
    flaky = Expectation(frozenset({Expected.PASS, Expected.FAIL}), owner="@platform", rule=3)
    judged: list[Judged] = []
    for cell in _cells():
        for i, test in enumerate(tests):
            cid = cell.id
            roll = rng.random()
            dur = round(rng.expovariate(20), 4)
            if cell.phase == "reproduction" and cell.adapter == "deprecated" and i % 10 == 0:
                msg = MESSAGES[i % 4]
                rec = Record(cid, test, Outcome.FAILED, dur, "AssertionError", msg)
                judged.append(Judged(cell, test, failing, rec, Verdict.REPRODUCED))
            elif roll < 0.004:
                msg = MESSAGES[4].format(n=rng.randrange(10**6), m=rng.randrange(10**6))
                rec = Record(cid, test, Outcome.FAILED, dur, "RuntimeError", msg)
                judged.append(
                    Judged(
                        cell, test, passing, rec, Verdict.REGRESSION, "expected pass, got failed"
                    )
                )
            elif roll < 0.006:
                judged.append(
                    Judged(
                        cell, test, passing, None, Verdict.MISSING, "planned but no result recorded"
                    )
                )
            elif roll < 0.02:
                rec = Record(cid, test, Outcome.FAILED, dur, "TimeoutError", MESSAGES[3])
                judged.append(Judged(cell, test, flaky, rec, Verdict.FLAKY))
            elif roll < 0.05:
                rec = Record(cid, test, Outcome.SKIPPED, 0.0, None, "needs staging service")
                judged.append(
                    Judged(
                        cell,
                        test,
                        Expectation(frozenset({Expected.SKIP})),
                        rec,
                        Verdict.AS_EXPECTED,
                    )
                )
            else:
                rec = Record(cid, test, Outcome.PASSED, dur)
                judged.append(Judged(cell, test, passing, rec, Verdict.AS_EXPECTED))
    return GateResult(
        judged=tuple(judged),
        exit_code=1,
        fail_on=frozenset(v for v in Verdict if not v.expected),
        problems=("results/py3.13-shard-2.jsonl: no footer (incomplete file)",),
        stale_rules=(),
        coverage=(),
        coverage_total=87.25,
        phases=PHASES,
        adapters=ADAPTERS,
        envs=ENVS,
        pythons=PYTHONS,
        duration=1234.5,
        sources=tuple(f"results/{n}.jsonl" for n in range(12)),
    )


def _dom_content_loaded(
    path: Path, runs: int, filter_ms: list[float], click_ms: list[float]
) -> list[float] | str:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright missing: .venv/bin/pip install playwright"
    exe = shutil.which("chromium")
    if exe is None:
        return "chromium missing: apt-get install -y chromium"
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page()
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector("body[data-ready='1']")
            ms = page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
            times.append(ms / 1000)
            # One synchronous re-render over all results: the "only unexpected" filter.
            filter_ms.append(
                page.evaluate(
                    "() => { const t = performance.now();"
                    " document.getElementById('f-unexpected').click();"
                    " return performance.now() - t; }"
                )
            )
            # A click on one position of the map: its items listed (the drill-down).
            click_ms.append(
                page.evaluate(
                    "() => { const t = performance.now();"
                    " document.querySelector('#map-table td button').click();"
                    " return performance.now() - t; }"
                )
            )
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000, help="tests per cell (30 cells)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="also write the report here")
    args = parser.parse_args()

    t0 = time.perf_counter()
    result = synthetic_result(args.tests)
    t1 = time.perf_counter()
    text = render_html(result, coverage_html="htmlcov/index.html")
    t2 = time.perf_counter()
    data = text.encode("utf-8")
    ncells = len({j.cell.id for j in result.judged})
    print(f"results:          {len(result.judged):,} in {ncells} cells")
    print(f"build input:      {t1 - t0:.2f} s")
    print(f"render_html:      {t2 - t1:.2f} s")
    print(
        f"file size:        {len(data) / 1e6:.2f} MB ({len(data) / len(result.judged):.1f} bytes "
        "per result; target < 10 MB)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_bytes(data)
        if args.keep:
            args.keep.write_bytes(data)
        filter_ms: list[float] = []
        click_ms: list[float] = []
        times = _dom_content_loaded(path, args.runs, filter_ms, click_ms)
    if isinstance(times, str):
        print(f"DOMContentLoaded: not measured ({times})")
    else:
        runs = ", ".join(f"{t:.3f}" for t in times)
        print(
            f"DOMContentLoaded: median {statistics.median(times):.3f} s of {len(times)} "
            f"({runs}; target < 2 s)"
        )
        print(f"'only unexpected' re-render: median {statistics.median(filter_ms):.0f} ms")
        print(f"click on a map position:     median {statistics.median(click_ms):.0f} ms")


if __name__ == "__main__":
    main()
