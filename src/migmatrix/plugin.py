"""The pytest plugin: `pytest --matrix matrix.yaml` runs phase suites over their cells.

Loaded into every pytest run of the environment by its pytest11 entry point, it
does nothing unless `--matrix` is given: the module-level hooks only add the
options and, with `--matrix`, register a `MatrixPlugin` that holds the hooks and
the `cell` fixture. Like pytest-xdist's plugin.py, this file holds only hooks,
options and fixtures; the work is done by `session` (the run's state),
`collect` (parametrization, test ids, shards, expectation marks), `record`
(reports -> records) and `timeouts`, imported when a matrix run needs them.

Roles under xdist: every worker collects, parametrizes, shards and runs tests;
only the controller (the process without `workerinput`; the only process
without xdist) records, starts services and writes the results file, once, at
session finish.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from migmatrix.record import Recorder
    from migmatrix.service import RunningService
    from migmatrix.session import CellContext, MatrixRun

RUN_KEY = pytest.StashKey["MatrixRun"]()
HANDOFF_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migmatrix", "migmatrix: run phase suites over matrix cells")
    group.addoption(
        "--matrix",
        metavar="MATRIX_YAML",
        default=None,
        help="run the phase suites of this matrix.yaml over its cells and record the results",
    )
    group.addoption(
        "--cells",
        metavar="SELECTION",
        default=None,
        help="a -k style expression over cell ids selecting the cells to run",
    )
    group.addoption(
        "--shard",
        metavar="I/N",
        default=None,
        help="run only the I-th of N disjoint shards of the selected (cell, test) items "
        "(default: from CI_NODE_INDEX/CI_NODE_TOTAL, BUILDKITE_PARALLEL_JOB/_COUNT or "
        "CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL when set; else no sharding)",
    )
    group.addoption(
        "--matrix-durations",
        metavar="FILE_OR_DIR",
        default=None,
        help="balance shards by the test durations in these earlier results (a .jsonl "
        "file or a folder of them); every shard of a split must get the same input "
        "(default: no balancing, a plain deterministic split)",
    )
    group.addoption(
        "--results-dir",
        metavar="DIR",
        default=None,
        help="folder of the results file (default: results/ in the invocation folder)",
    )
    group.addoption(
        "--matrix-timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help="per-test time limit, overriding the matrix's `timeout` (0 = none)",
    )
    group.addoption(
        "--matrix-coverage",
        metavar="DIR",
        default=None,
        help="measure coverage in every test process, one dynamic context per cell, into DIR",
    )
    group.addoption(
        "--matrix-manifest",
        metavar="FILE",
        default=None,
        help="after writing the results file, write a JSON note of it to FILE "
        "(path, record count, shard, pytest's exit status; `migmatrix run` reads it)",
    )
    group.addoption(
        "--run-id",
        metavar="ID",
        default=None,
        help="name of this run: the results file is DIR/ID.jsonl (default: py<X.Y>[-shard])",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # This is the last moment to change which paths pytest collects: with
    # --matrix and no paths, the phases' suite folders replace `testpaths`.
    known = early_config.known_args_namespace
    if not getattr(known, "matrix", None):
        return
    from migmatrix import session
    from migmatrix.errors import MigmatrixError

    where = early_config.invocation_params.dir
    options = (
        known.cells,
        known.shard,
        known.results_dir,
        known.matrix_timeout,
        known.run_id,
        known.matrix_durations,
    )
    key = session.run_key(known.matrix, where, *options)
    run = session.from_controller(key)
    if run is None:
        try:
            run = session.open_run(
                known.matrix,
                invocation_dir=where,
                cells=known.cells,
                shard=known.shard,
                results_dir=known.results_dir,
                timeout=known.matrix_timeout,
                run_id=known.run_id,
                durations=known.matrix_durations,
            )
        except MigmatrixError as exc:
            raise pytest.UsageError(str(exc)) from None
    early_config.stash[RUN_KEY] = run
    early_config.stash[HANDOFF_KEY] = key
    if not known.file_or_dir:
        suites = run.suite_args()
        args.extend(suites)
        known.file_or_dir = list(suites)


def pytest_configure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run.adopt_controller(workerinput["migmatrix"])
    # One phase's broken file must not stop the other phases: its collection
    # error becomes error records for that phase's cells instead.
    config.option.continue_on_collection_errors = True
    controller = workerinput is None
    if controller and getattr(config.option, "dist", "no") != "no":
        from migmatrix import session

        session.hand_to_workers(run, config.stash[HANDOFF_KEY])
    config.pluginmanager.register(MatrixPlugin(config, run, controller), "migmatrix-run")


class MatrixPlugin:
    """The hooks and fixture of a matrix run (registered only with --matrix)."""

    def __init__(self, config: pytest.Config, run: MatrixRun, controller: bool) -> None:
        self.config = config
        self.run = run
        self.controller = controller
        self.recorder: Recorder | None = None
        self.services: list[RunningService] = []
        self.switch_context: Callable[[str], None] | None = None
        self.own_coverage: Any = None
        self.written: Path | None = None
        if controller:
            from migmatrix.record import Recorder

            self.recorder = Recorder()

    # ------------------------------------------------------------------ controller set-up

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # Before xdist starts its workers (its hook is trylast): they get what this sets.
        if self.controller:
            from migmatrix import session as matrix_session

            matrix_session.prepare_controller(self.run, self.config, self.services)
            note = self.run.shard_note
            if note and self.config.get_verbosity() < 0:
                # -q hides the report header, but where a shard came from must show.
                reporter = self.config.pluginmanager.get_plugin("terminalreporter")
                if reporter is not None:
                    reporter.write_line(note)
        runs_tests = not self.controller or getattr(self.config.option, "dist", "no") == "no"
        folder = self.config.getoption("matrix_coverage")
        if folder and self.controller:
            from migmatrix.covctl import clear_run_folder

            # Before any worker starts measuring: this run's own folder, emptied.
            clear_run_folder(Path(folder).resolve(), self.run.results_path().stem)
        if folder and runs_tests:
            from migmatrix.covctl import CellCoverage

            own = Path(folder).resolve() / self.run.results_path().stem
            self.own_coverage = CellCoverage(own)
            self.switch_context = self.own_coverage.switch
        elif runs_tests:
            current = _current_coverage()
            self.switch_context = None if current is None else current.switch_context

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        from migmatrix.session import WORKERINPUT_KEY

        node.workerinput[WORKERINPUT_KEY] = self.run.to_workerinput()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self.own_coverage is not None:
            self.own_coverage.stop()
        if self.controller:
            from migmatrix import session as matrix_session

            matrix_session.withdraw_handoff()
            matrix_session.release_controller(self.run, self.services)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        run = self.run
        selection = f", cells {run.selection!r}" if run.selection else ""
        shard = f", shard {run.shard_text}" if run.shard else ""
        lines = [
            f"migmatrix: {run.matrix.path}: {len(run.cells)} cells on Python "
            f"{run.python}{selection}{shard}; results -> {run.results_path()}"
        ]
        if run.shard_note:
            lines.append(run.shard_note)
        if run.shard and run.durations_source:
            lines.append(
                f"migmatrix: shards balanced by {len(run.durations)} durations "
                f"from {run.durations_source}"
            )
        return lines

    # ------------------------------------------------------------------ collection

    @pytest.hookimpl(trylast=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        from migmatrix import collect

        collect.parametrize(metafunc, self.run)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        from migmatrix import collect

        kept, deselected = collect.apply(items, config, self.run)
        if deselected:
            items[:] = kept
            config.hook.pytest_deselected(items=deselected)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.recorder is not None:
            from migmatrix import collect

            ids = [item.nodeid for item in session.items]
            self.recorder.expect(collect.node_map(ids, self.config.rootpath, self.run))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        if self.recorder is not None:
            from migmatrix import collect

            self.recorder.expect(collect.node_map(ids, self.config.rootpath, self.run))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if self.recorder is None or report.passed:
            return
        from migmatrix import record

        record.collection_report(self.recorder, report, self.config.rootpath, self.run)

    # ------------------------------------------------------------------ running

    @pytest.fixture(scope="module")
    @classmethod
    def cell(cls, request: pytest.FixtureRequest) -> CellContext:
        """The matrix cell this test runs in: adapter, env, features, service URL, workdir."""
        from migmatrix import session as matrix_session

        return matrix_session.cell_context(request.config.stash[RUN_KEY], request)

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
        from migmatrix.timeouts import time_limit

        with time_limit(self.run.timeout):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        from migmatrix.record import RAW_ATTR, raw_outcome

        setattr(report, RAW_ATTR, raw_outcome(call))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.recorder is not None:
            self.recorder.report(report)

    # ------------------------------------------------------------------ the results file

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.recorder is None:
            return
        from migmatrix import session as matrix_session

        self.written = matrix_session.write_records(self.run, self.recorder)
        manifest = self.config.getoption("matrix_manifest")
        if manifest:
            matrix_session.write_manifest(
                Path(manifest),
                self.run,
                self.written,
                records=len(self.recorder.records),
                exitstatus=int(exitstatus),
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None and self.recorder is not None:
            count = len(self.recorder.records)
            where = os.path.relpath(self.written, self.config.invocation_params.dir)
            terminalreporter.write_line(f"migmatrix: {count} records written to {where}")


def _current_coverage() -> Any:
    """The running coverage.py measurement, if any, so each test runs in its cell's context."""
    import sys

    module = sys.modules.get("coverage")
    if module is None:
        return None
    return module.Coverage.current()
