"""The part of a matrix run on every process that runs tests: each xdist worker, or the only one.

It parametrizes the phase suites over their cells and keeps this shard's items
(`collect`), gives tests the `cell` fixture (`cell`), switches coverage to the
cell's context around each test (`covctl`), holds each test to the time limit
(`timeouts`) and attaches the raw outcome to each report (`record.raw_outcome`),
which reaches the controller's recorder with the report.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from migmatrix.covctl import CellCoverage
from migmatrix.errors import MigmatrixError
from migmatrix.model import Cell
from migmatrix.plugin import RUN_KEY, adapters, collect
from migmatrix.plugin.cell import CellContext, cell_context
from migmatrix.plugin.record import RAW_ATTR, raw_outcome
from migmatrix.plugin.run_state import MatrixRun
from migmatrix.plugin.watchdog import WorkerWatchdog, watchdog_path
from migmatrix.timeouts import time_limit


class MatrixWorker:
    """The hooks and fixture of a matrix run on a process that runs tests."""

    def __init__(self, config: pytest.Config, run: MatrixRun) -> None:
        self.config = config
        self.run = run
        self.switch_context: Callable[[str], None] | None = None
        self.own_coverage: CellCoverage | None = None
        self.before_selection: list[pytest.Item] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        workerinput = getattr(self.config, "workerinput", None)
        limit = self.run.timeout
        matrix = self.run.matrix
        has_memory = (
            matrix.memory is not None
            or any(phase.memory for phase in matrix.phases)
            or any(adapter.memory for adapter in matrix.adapters)
        )
        timed = limit is not None and limit > 0
        if (timed or has_memory) and not self.config.option.collectonly:
            # Ends this process when a test overruns its limits where the alarm cannot reach:
            # an xdist worker's note goes to the scratch folder, the one process's beside
            # its results file, where `migmatrix run` finds it to resume the run.
            if workerinput is None:
                path = self.run.watchdog_note()
            elif self.run.workdir:
                path = watchdog_path(self.run.workdir, str(workerinput.get("workerid", "gw")))
            else:
                path = None
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                pytest_timer = float(self.config.getini("faulthandler_timeout") or 0) > 0
                guard = WorkerWatchdog(
                    path, limit if timed else None, self._memory_of, rearm_always=pytest_timer
                )
                self.config.pluginmanager.register(guard, "migmatrix-watchdog")
        # Runs after the controller's (tryfirst) set-up, which empties the coverage folder.
        folder = self.config.getoption("matrix_coverage")
        if folder:
            own = Path(folder).resolve() / self.run.results_path().stem
            self.own_coverage = CellCoverage(own)
            self.switch_context = self.own_coverage.switch
        else:
            current = _current_coverage()
            self.switch_context = None if current is None else current.switch_context
        # What an adapter module imports at its top runs here, before any cell's
        # coverage context opens: a cell is charged with what it runs, not with
        # being the first to import a module (see coverage_rules).
        with contextlib.suppress(MigmatrixError):  # the controller reported it already
            adapters.import_all(self.run.matrix, (c.adapter for c in self.run.cells))

    def _memory_of(self, item: pytest.Item) -> int | None:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("cell") if callspec is not None else None
        return self.run.memory_limit(param) if isinstance(param, Cell) else self.run.matrix.memory

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.own_coverage is not None:
            self.own_coverage.stop()

    # ------------------------------------------------------------------ collection

    @pytest.hookimpl(trylast=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        collect.parametrize(metafunc, self.run)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        # Every item before any plugin (-k, -m, --deselect, --lf) drops some: a
        # planned test must never vanish silently (see `collect.restore_deselected`).
        self.before_selection = list(items)
        return (yield)

    # A second impl of the hook (pytest reads only `pytest_` names; `specname` maps it).
    @pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
    def pytest_select_matrix_items(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        items[:] = collect.restore_deselected(self.before_selection, items, config, self.run)
        self.before_selection = []
        kept, deselected = collect.apply(items, config, self.run)
        done = self.run.done_nodeids
        if done:  # a resumed run: what was recorded before is not run again
            deselected += [item for item in kept if item.nodeid in done]
            kept = [item for item in kept if item.nodeid not in done]
        if deselected:
            items[:] = kept
            config.hook.pytest_deselected(items=deselected)

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        # A resumed run leaves out the module that hung at import (recorded already).
        if self.run.skip_modules and os.path.abspath(collection_path) in self.run.skip_modules:
            return True
        return None

    # ------------------------------------------------------------------ running

    @pytest.fixture(scope="module")
    @classmethod
    def cell(cls, request: pytest.FixtureRequest) -> CellContext:
        """The matrix cell this test runs in: adapter, env, features, service URL, workdir."""
        return cell_context(request.config.stash[RUN_KEY], request)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self.switch_context is not None:
            callspec = getattr(item, "callspec", None)
            param = callspec.params.get("cell") if callspec is not None else None
            self.switch_context(getattr(param, "id", "") or "")

    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        if self.switch_context is not None and nextitem is None:
            self.switch_context("")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        with time_limit(self.run.timeout):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        setattr(report, RAW_ATTR, raw_outcome(call))
        return report


def _current_coverage() -> Any:
    """The running coverage.py measurement, if any, so each test runs in its cell's context."""
    # Looked up, not imported: a run without coverage must not load coverage.py.
    module = sys.modules.get("coverage")
    if module is None:
        return None
    return module.Coverage.current()
