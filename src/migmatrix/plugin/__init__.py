"""The pytest plugin: `pytest --matrix matrix.yaml` runs phase suites over their cells.

Loaded into every pytest run of the environment by its pytest11 entry point
(`migmatrix.plugin`), it does nothing unless `--matrix` is given: this module
only declares the options (`migmatrix.run_options`) and, with `--matrix`, opens the run
(`run_state`) and registers the objects that hold the hooks, the way
pytest-xdist registers its `DSession` only on the controller:

- `controller.MatrixController` on the controller (the process without
  `workerinput`): services, the recorder, the results file and the manifest;
- `worker.MatrixWorker` on every process that runs tests (each xdist worker):
  parametrization, shards, the `cell` fixture, coverage contexts, time limits,
  raw outcomes;
- `sut`, the fixture that opens the cell's adapter (`adapter.open(cell)`); without
  `--matrix`, `sut.NoMatrix`, which adds to a missing `cell` fixture's error how to run.

Without xdist (`-n0`, `-p no:xdist`) the one process is both, and both are
registered. What the controller knows reaches the workers through xdist's
`workerinput` (`run_state.MatrixRun.to_workerinput`); the loaded run itself
through `handoff`, before the workers could read `workerinput`.
"""

from __future__ import annotations

from typing import Any

import pytest

from migmatrix import run_options as options

# The run's type stays unnamed here: naming it would load the matrix machinery.
RUN_KEY = pytest.StashKey[Any]()
HANDOFF_KEY = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migmatrix", "migmatrix: run phase suites over matrix cells")
    options.add_to_pytest(group)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # This is the last moment to change which paths pytest collects: with
    # --matrix and no paths, the phases' suite folders replace `testpaths`.
    known = early_config.known_args_namespace
    if not getattr(known, "matrix", None):
        return
    # Imported here, not at the top: pytest loads this module into every run of
    # the environment, and only a matrix run should pay for loading matrices.
    from migmatrix.errors import MigmatrixError
    from migmatrix.plugin import handoff, run_state

    where = early_config.invocation_params.dir
    given = (
        known.cells,
        known.shard,
        known.results_dir,
        known.matrix_timeout,
        known.run_id,
        known.matrix_durations,
        known.matrix_environment,
    )
    key = handoff.run_key(known.matrix, where, *given)
    run = handoff.take(key)
    if run is None:
        try:
            run = run_state.open_run(
                known.matrix,
                invocation_dir=where,
                cells=known.cells,
                shard=known.shard,
                results_dir=known.results_dir,
                timeout=known.matrix_timeout,
                run_id=known.run_id,
                durations=known.matrix_durations,
                environment=known.matrix_environment,
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
    from migmatrix.plugin import sut  # small: the `sut` fixture and the no-matrix hint

    run = config.stash.get(RUN_KEY, None)
    if run is None:
        config.pluginmanager.register(sut.NoMatrix(), "migmatrix-no-matrix")
        return
    config.pluginmanager.register(sut, "migmatrix-sut")
    # Imported here for the reason given in pytest_load_initial_conftests.
    from migmatrix.plugin import reruns
    from migmatrix.plugin.controller import MatrixController
    from migmatrix.plugin.environment import EnvironmentCheck
    from migmatrix.plugin.interrupt import terminate_as_interrupt
    from migmatrix.plugin.run_state import WORKERINPUT_KEY
    from migmatrix.plugin.worker import MatrixWorker

    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run.adopt_controller(workerinput[WORKERINPUT_KEY])
    # One phase's broken file must not stop the other phases: its collection
    # error becomes error records for that phase's cells instead.
    config.option.continue_on_collection_errors = True
    distributed = getattr(config.option, "dist", "no") != "no"
    if workerinput is None:
        controller = MatrixController(config, run, handoff_key=config.stash[HANDOFF_KEY])
        config.pluginmanager.register(controller, "migmatrix-controller")
        # Every attempt of a test pytest-rerunfailures runs again (`--reruns`).
        reruns.check_reruns(config)
        config.pluginmanager.register(reruns.RerunAttempts(controller.recorder), "migmatrix-reruns")
        # SIGTERM and SIGHUP end the run like Ctrl-C: services stopped, scratch removed.
        config.add_cleanup(terminate_as_interrupt())
    if workerinput is not None or not distributed:
        config.pluginmanager.register(MatrixWorker(config, run), "migmatrix-worker")
    config.pluginmanager.register(EnvironmentCheck(config, run), "migmatrix-environment")
