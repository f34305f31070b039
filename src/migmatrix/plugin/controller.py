"""The controller's part of a matrix run: services, recorder, results file, manifest.

Registered only on the controller (the process without `workerinput`; without
xdist, the only process, which then also holds a `worker.MatrixWorker`). It
starts the services before xdist starts its workers (so they get their URLs
through `workerinput`), folds every test report into one record per (cell,
test), appends each event to the results file as it happens (`journal`: a run
killed from outside keeps every record it had) and replaces it with the final,
sorted file at session finish.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from migmatrix.covctl import clear_run_folder
from migmatrix.errors import MigmatrixError
from migmatrix.outcomes import Outcome
from migmatrix.plugin import adapters, collect, handoff, record, resume, services, watchdog
from migmatrix.plugin.journal import Journal
from migmatrix.plugin.record import Recorder
from migmatrix.plugin.results_file import refuse_overwrite, write_manifest, write_records
from migmatrix.plugin.run_state import WORKERINPUT_KEY, MatrixRun
from migmatrix.plugin.scratch import Scratch
from migmatrix.service import RunningService


class MatrixController:
    """The controller's hooks of a matrix run."""

    def __init__(self, config: pytest.Config, run: MatrixRun, *, handoff_key: str) -> None:
        self.config = config
        self.run = run
        self.handoff_key = handoff_key
        self.handoff_file: str | None = None
        self.recorder = Recorder()
        self.services: list[RunningService] = []
        self.scratch: Scratch | None = None
        self.written: Path | None = None
        self.journal: Journal | None = None
        # A bad `object:` fails the run here, once, with the file, line and key to fix.
        try:
            adapters.import_all(run.matrix, (c.adapter_base or c.adapter for c in run.cells))
            if not getattr(config.option, "collectonly", False):
                refuse_overwrite(run, overwrite=bool(config.getoption("overwrite_results")))
        except MigmatrixError as exc:
            raise pytest.UsageError(str(exc)) from None

    @property
    def distributed(self) -> bool:
        return getattr(self.config.option, "dist", "no") != "no"

    # ------------------------------------------------------------------ set-up and tear-down

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Generator[None, None, None]:
        # Before xdist starts its workers (its hook is trylast): they get what this sets.
        # A run of one process its watchdog ended, started again by `migmatrix run`.
        resumed = resume.take(
            self.run,
            self.config.rootpath,
            collect_only=bool(getattr(self.config.option, "collectonly", False)),
        )
        self.scratch = services.prepare_controller(
            self.run, self.config, self.services, claim=resumed is None
        )
        if not getattr(self.config.option, "collectonly", False):
            self.journal = Journal(self.run.results_path())
            if resumed is not None:
                self._resume(resumed, self.journal)
            self.recorder.on_record = self.journal.record
            self._resumed_records(resumed)
            manifest = self.config.getoption("matrix_manifest")
            if manifest:
                # Early, so `migmatrix run` finds the journal of a run that dies.
                write_manifest(
                    Path(manifest), self.run, self.run.results_path(), records=0, exitstatus=-1
                )
        note = self.run.shard_note
        if note and self.config.get_verbosity() < 0:
            # -q hides the report header, but where a shard came from must show.
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(note)
        folder = self.config.getoption("matrix_coverage")
        if folder:
            # Before any process starts measuring: this run's own folder, emptied.
            clear_run_folder(Path(folder).resolve(), self.run.results_path().stem)
        if not self.distributed:
            return (yield)
        # In the scratch folder, so the sweep of a killed run's folder takes it too.
        self.handoff_file = handoff.save(self.run, folder=self.run.workdir)
        # The variable lives only while xdist starts the workers, inside this call.
        with handoff.offered(self.handoff_key, self.handoff_file):
            return (yield)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # A worker the watchdog ended while it imported a test module: that module is an
        # error of its phase's cells, and the workers xdist starts next leave it out
        # (`workerinput`), or each would hang on it again.
        worker = getattr(getattr(node, "gateway", None), "id", None)
        if error is None or worker is None or self.run.workdir is None:
            return
        fired = watchdog.read_fired(
            watchdog.watchdog_path(self.run.workdir, str(worker)), self.run.timeout
        )
        if fired is None or fired.collecting is None:
            return
        rootpath = self.config.rootpath
        self.run.skip_modules |= {os.path.abspath(rootpath / fired.collecting)}
        located = collect.collection_test_id(fired.collecting, rootpath, self.run)
        if located is not None:
            cells = self.run.cells_of(located[0])
            self.recorder.collection_problem(cells, located[1], Outcome.TIMEOUT, fired.message)

    def _resume(self, resumed: resume.Resumed, journal: Journal) -> None:
        for earlier in resumed.earlier:
            self.recorder.records.setdefault(earlier.key, earlier)  # in the journal already
        if resumed.collected_written:
            journal.collected({})  # once per run: the first process wrote them

    def _resumed_records(self, resumed: resume.Resumed | None) -> None:
        if resumed is None:
            return
        for made in resumed.new:
            self.recorder.add(made)
        if resumed.hung_module is not None:
            phase, test, message = resumed.hung_module
            self.recorder.collection_problem(
                self.run.cells_of(phase), test, Outcome.TIMEOUT, message
            )

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKERINPUT_KEY] = self.run.to_workerinput()

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        handoff.remove(self.handoff_file)
        services.release_controller(self.run, self.services, self.scratch)

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

    # ------------------------------------------------------------------ recording

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        ids = [item.nodeid for item in session.items]
        self.recorder.expect(collect.node_map(ids, self.config.rootpath, self.run))
        if not self.distributed and self.journal is not None:
            self.journal.collected(self.recorder.collected())

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self.recorder.expect(collect.node_map(ids, self.config.rootpath, self.run))
        # Every worker collects the same items (xdist checks it): the first one tells.
        if self.journal is not None:
            self.journal.collected(self.recorder.collected())

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        # "began": what a run that dies mid-test was running (an xdist worker's start too).
        name = self.recorder.names.get(nodeid)
        if name is not None and self.journal is not None and name not in self.recorder.records:
            self.journal.began(name[0], name[1], nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.passed:
            record.collection_report(self.recorder, report, self.config.rootpath, self.run)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A worker the watchdog ended: its test timed out, with the traceback as the message.
        worker = record.worker_of(report)
        self.recorder.report(
            watchdog.as_recorded(report, self.run.workdir, worker, self.run.timeout)
        )

    # ------------------------------------------------------------------ the results file

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.journal is not None:
            self.journal.close()  # the final file replaces it; late records are in it
            self.recorder.on_record = None
        self.written = write_records(self.run, self.recorder)
        manifest = self.config.getoption("matrix_manifest")
        if manifest:
            write_manifest(
                Path(manifest),
                self.run,
                self.written,
                records=len(self.recorder.records),
                exitstatus=int(exitstatus),
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written is not None:
            count = len(self.recorder.records)
            where = os.path.relpath(self.written, self.config.invocation_params.dir)
            terminalreporter.write_line(f"migmatrix: {count} records written to {where}")
