"""A run's services and scratch folder: set up by the controller before any worker starts."""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from migmatrix import service
from migmatrix.endpoint import ServiceInfo, safe_name
from migmatrix.model import Cell, EnvSpec
from migmatrix.plugin import scratch
from migmatrix.plugin.results_file import claim_results
from migmatrix.plugin.run_state import MatrixRun
from migmatrix.service import RunningService

DEFAULT_URL_ENV = "STAGING_URL"


def prepare_controller(
    run: MatrixRun, config: pytest.Config, running: list[RunningService], *, claim: bool = True
) -> scratch.Scratch:
    """Controller set-up before any worker starts: the scratch folder and the services.

    First the scratch folders of earlier runs whose controller was killed go
    (`scratch.sweep`); then this run's is made, and returned for `release_controller`.

    One service per key (`MatrixRun.service_key`) among the selected cells: one per
    env, or one per adapter state when the service's templates use `{adapter}`.
    They start concurrently (each waits for its health URL, a second or two for a
    server) and each in its own scratch folder, so servers of different states never
    share a database. One that cannot start is remembered with its log excerpt, so
    the tests of its cells become errors carrying it instead of the run stopping.
    A remote service (`STAGING_URL`) serves every cell of its env: nothing starts.
    `claim` False keeps the results file as it is (a resumed run, `resume`).
    """
    scratch.sweep()
    folder = scratch.make(run.run_id)
    run.workdir = folder.path
    if getattr(config.option, "collectonly", False):
        return folder
    if claim:  # not when resuming: the results file holds the journal to go on with
        claim_results(run)
    wanted: dict[str, tuple[EnvSpec, Cell]] = {}
    envs = {spec.name: spec for spec in run.matrix.envs}
    for cell in run.cells:
        key = run.service_key(cell)
        if key is not None:
            wanted.setdefault(key, (envs[cell.env], cell))
    if not wanted:
        return folder
    to_start: dict[str, tuple[EnvSpec, Cell]] = {}
    for key, (spec, cell) in sorted(wanted.items()):
        remote = remote_service_info(spec, os.environ)
        if remote is not None:
            run.services[key] = remote.to_dict()
        else:
            to_start[key] = (spec, cell)
    start_services(run, to_start, running)
    return folder


def start_services(
    run: MatrixRun, wanted: Mapping[str, tuple[EnvSpec, Cell]], running: list[RunningService]
) -> None:
    """Start the services `wanted` (key -> (env, a cell using it)) concurrently.

    Every started service is appended to `running` as soon as it is healthy, so
    `release_controller` stops it even if this is interrupted (Ctrl-C) while
    others are still starting; on such an interruption the starts under way are
    waited for (each is bounded by its startup timeout) before re-raising.
    """
    lock = threading.Lock()
    assert run.workdir is not None

    def start(key: str, spec: EnvSpec, cell: Cell) -> None:
        workdir = Path(run.workdir or ".") / "services" / safe_name(key)
        try:
            started = service.start_service(
                spec, workdir=workdir, log_dir=run.results_dir, cell=cell
            )
        except service.ServiceError as exc:
            with lock:
                run.service_problems[key] = str(exc)
            return
        with lock:
            running.append(started)
            run.services[key] = started.info().to_dict()

    if len(wanted) <= 1:
        for key, (spec, cell) in wanted.items():
            start(key, spec, cell)
        return
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=min(8, len(wanted)), thread_name_prefix="migmatrix-service"
    )
    try:
        futures = [pool.submit(start, key, *pair) for key, pair in sorted(wanted.items())]
        for future in futures:
            future.result()
    finally:
        # Also on KeyboardInterrupt: no start is abandoned half-way, so every
        # process started ends up in `running` and gets stopped.
        pool.shutdown(wait=True, cancel_futures=True)


def release_controller(
    run: MatrixRun, running: list[RunningService], folder: scratch.Scratch | None
) -> None:
    """Stop the services this run started (concurrently) and remove its scratch folder."""
    stopping = list(reversed(running))
    running.clear()
    if len(stopping) > 1:
        # A server takes a few hundred ms to shut down; one per adapter state adds up.
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(stopping))) as pool:
            list(pool.map(lambda started: started.stop(), stopping))
    for started in stopping:
        started.stop()  # idempotent; the only stop when there is one service
    if folder is not None:
        scratch.release(folder)


def url_from_environment(env: EnvSpec, environ: Mapping[str, str]) -> str | None:
    """The remote service URL the environment points at for this env, or None.

    The variable is the spec's `url_env` (default `STAGING_URL`); an empty value counts
    as unset. A trailing slash is dropped so `{url}/health` forms cleanly.
    """
    name = env.service.url_env if env.service is not None else DEFAULT_URL_ENV
    value = environ.get(name, "").strip()
    return value.rstrip("/") or None


def remote_service_info(env: EnvSpec, environ: Mapping[str, str]) -> ServiceInfo | None:
    """A `ServiceInfo` for the remote service the environment names, or None."""
    url = url_from_environment(env, environ)
    return None if url is None else ServiceInfo(env=env.name, url=url)
