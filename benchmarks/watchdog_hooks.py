"""What the watchdog's hooks cost per test, before (c91f377) and now, without pytest around them.

The whole-run ratio of benchmarks/plugin_overhead.py moves with a shared machine's
load by more than the watchdog costs; this isolates it. Both versions' hooks are
called, directly, as pytest would for a test of three phases, N times, alternately
REPEAT times; the figure is the median time per test. The old watchdog armed
faulthandler's timer (a thread start) around each phase; the new one re-arms it
about once per second of tests (`plugin.watchdog`).

    .venv/bin/python benchmarks/watchdog_hooks.py [--baseline DIR] [--tests 20000] [--repeat 5]

DIR holds the baseline's src/migmatrix (default: a git worktree of c91f377, made by
benchmarks/faults.py's helper).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from faults import baseline_dir

ITEM = types.SimpleNamespace(nodeid="suites/a/test_x.py::test_1[alpha/old/unit/py3.12]")


def load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _through(hook: Any, *args: Any) -> None:
    """Drive a wrapper hook (a generator) the way pluggy does, with nothing inside."""
    gen = hook(*args)
    next(gen)
    with contextlib.suppress(StopIteration):
        gen.send(None)


def per_test_old(module: Any, folder: Path, tests: int) -> float:
    guard = module.WorkerWatchdog(folder / "old.txt", 300.0)
    started = time.perf_counter()
    for _ in range(tests):
        _through(guard.pytest_runtest_setup, ITEM)
        _through(guard.pytest_runtest_call, ITEM)
        _through(guard.pytest_runtest_teardown, ITEM, None)
    elapsed = time.perf_counter() - started
    guard.pytest_unconfigure(None)
    return elapsed / tests


def per_test_new(module: Any, folder: Path, tests: int) -> float:
    guard = module.WorkerWatchdog(folder / "new.txt", 300.0, lambda item: None)
    started = time.perf_counter()
    for _ in range(tests):
        guard.pytest_runtest_setup(ITEM)
        guard.pytest_runtest_call(ITEM)
        guard.pytest_runtest_teardown(ITEM, None)
        guard.pytest_runtest_logfinish(ITEM.nodeid, None)
    elapsed = time.perf_counter() - started
    guard.pytest_unconfigure(None)
    return elapsed / tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a folder holding the baseline's src/migmatrix")
    parser.add_argument("--tests", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    old = load(baseline_dir(args.baseline) / "src/migmatrix/plugin/watchdog.py", "old_watchdog")
    new = load(here / "src/migmatrix/plugin/watchdog.py", "new_watchdog")
    folder = Path(tempfile.mkdtemp(prefix="watchdog-hooks-"))
    runs: dict[str, list[float]] = {"before (c91f377)": [], "now": []}
    for _ in range(args.repeat):
        runs["before (c91f377)"].append(per_test_old(old, folder, args.tests) * 1e6)
        runs["now"].append(per_test_new(new, folder, args.tests) * 1e6)
    print(f"watchdog hooks, {args.tests} tests of 3 phases, {args.repeat} runs each")
    for name, values in runs.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:17} median {statistics.median(values):7.1f} us per test  [{shown}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
