"""The state of one `pytest --matrix` run in one process: the matrix, its cells, its settings.

`open_run` builds it once, very early (before pytest decides which paths to
collect), from the command-line options: it loads matrix.yaml, plans the cells,
keeps those of the running interpreter that the `--cells` selection names, and
fixes the run's identity (run id, start time, results folder, shard). Every
process of a run builds the same state from the same options, which is what
lets xdist workers parametrize and shard exactly like the controller expects;
what only the controller can know (service URLs, the scratch folder, recorded
durations) reaches the workers through xdist's `workerinput` and `adopt_controller`.

Errors are `UsageError`/`MatrixError` with complete messages; the plugin turns
them into pytest usage errors (no traceback).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from migmatrix.errors import UsageError
from migmatrix.model import Cell, Expectation, Matrix

WORKERINPUT_KEY = "migmatrix"


def interpreter_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def parse_shard_text(text: str | None) -> tuple[int, int] | None:
    """`"i/N"` -> (i, N), 1-based; None stays None. Uses `migmatrix.shard` when present."""
    if text is None:
        return None
    from migmatrix import shard

    parsed = shard.parse_shard(text)
    return (int(parsed[0]), int(parsed[1]))


@dataclasses.dataclass
class MatrixRun:
    """Everything one process of a matrix run needs; built by `open_run`.

    `cells` are the selected cells of this interpreter in plan order;
    `phase_dirs` maps every phase with at least one of them to its absolute suite
    folder. `services` maps env name -> its service (`service.ServiceInfo` as a
    dict) and `service_problems` env name -> why its service is unusable.
    `durations` maps "cell::test" to seconds from earlier results, for sharding.
    """

    matrix: Matrix
    python: str
    cells: tuple[Cell, ...]
    phase_dirs: dict[str, Path]
    selection: str | None
    shard: tuple[int, int] | None
    results_dir: Path
    run_id: str
    named_run: bool
    timeout: float
    started: str
    workdir: str | None = None
    services: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    service_problems: dict[str, str] = dataclasses.field(default_factory=dict)
    durations: dict[str, float] = dataclasses.field(default_factory=dict)
    _by_phase: dict[str, tuple[Cell, ...]] = dataclasses.field(default_factory=dict)
    _adapters: dict[str, object] = dataclasses.field(default_factory=dict)
    _expectations: dict[tuple[str, str], Expectation] = dataclasses.field(default_factory=dict)
    _located: dict[tuple[Path, str], tuple[str, str] | None] = dataclasses.field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        grouped: dict[str, list[Cell]] = {}
        for cell in self.cells:
            grouped.setdefault(cell.phase, []).append(cell)
        self._by_phase = {phase: tuple(cells) for phase, cells in grouped.items()}
        self._ids = {phase: {c.id: c for c in cells} for phase, cells in grouped.items()}
        # Longest folder first, so a phase nested inside another's folder wins.
        self._dirs_by_depth = sorted(
            self.phase_dirs.items(), key=lambda kv: len(kv[1].parts), reverse=True
        )

    # ------------------------------------------------------------------ lookups

    def cells_of(self, phase: str) -> tuple[Cell, ...]:
        return self._by_phase.get(phase, ())

    def phase_of(self, path: Path) -> tuple[str, Path] | None:
        """The phase whose suite folder holds `path`, and that folder; None outside all."""
        for phase, folder in self._dirs_by_depth:
            if path == folder or folder in path.parents:
                return phase, folder
        return None

    def cell_named(self, phase: str, cell_id: str) -> Cell | None:
        return self._ids.get(phase, {}).get(cell_id)

    def locate(self, rootpath: Path, file_part: str) -> tuple[str, str] | None:
        """(phase, path relative to its folder) of a node id's file part; None outside phases.

        Cached: every item of a file shares the answer, and resolving is a system call.
        """
        key = (rootpath, file_part)
        if key not in self._located:
            path = (rootpath / file_part).resolve() if file_part else rootpath.resolve()
            found = self.phase_of(path)
            self._located[key] = (
                None if found is None else (found[0], path.relative_to(found[1]).as_posix())
            )
        return self._located[key]

    def suite_args(self) -> list[str]:
        """The paths pytest collects when the command line names none: the phases' folders."""
        return [str(folder) for folder in self.phase_dirs.values()]

    @property
    def shard_text(self) -> str | None:
        return None if self.shard is None else f"{self.shard[0]}/{self.shard[1]}"

    def results_path(self) -> Path:
        """`DIR/<run id>.jsonl` for a named run, else `DIR/py3.12[-shard-1-of-3].jsonl`."""
        if self.named_run:
            stem = self.run_id
        else:
            stem = f"py{self.python}"
            if self.shard is not None:
                stem += f"-shard-{self.shard[0]}-of-{self.shard[1]}"
        return self.results_dir / f"{stem}.jsonl"

    def adapter_object(self, cell: Cell) -> object:
        """The object the cell's adapter names, imported once per process."""
        name = cell.adapter_base or cell.adapter
        if name not in self._adapters:
            from migmatrix import load

            self._adapters[name] = load.load_adapter_object(self.matrix, name)
        return self._adapters[name]

    def expectation(self, cell: Cell, test: str) -> Expectation:
        key = (cell.id, test)
        found = self._expectations.get(key)
        if found is None:
            from migmatrix import expect

            found, _rule = expect.expectation_for(self.matrix, cell, test)
            self._expectations[key] = found
        return found

    # ------------------------------------------------------------------ controller -> workers

    def to_workerinput(self) -> dict[str, Any]:
        """What a worker cannot compute itself: sent through xdist's `workerinput`."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "workdir": self.workdir,
            "services": dict(self.services),
            "service_problems": dict(self.service_problems),
            "durations": dict(self.durations),
        }

    def adopt_controller(self, data: Mapping[str, Any]) -> None:
        """Take the controller's run identity, services and durations (on a worker)."""
        self.run_id = str(data["run_id"])
        self.started = str(data["started"])
        self.workdir = data.get("workdir")
        self.services = dict(data.get("services", {}))
        self.service_problems = dict(data.get("service_problems", {}))
        self.durations = {str(k): float(v) for k, v in data.get("durations", {}).items()}


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def open_run(
    matrix_path: str,
    *,
    invocation_dir: Path,
    cells: str | None = None,
    shard: str | None = None,
    results_dir: str | None = None,
    timeout: float | None = None,
    run_id: str | None = None,
    python: str | None = None,
) -> MatrixRun:
    """Load and plan the matrix and select this interpreter's cells; errors name the fix."""
    from migmatrix import load, plan, select

    path = Path(matrix_path)
    if not path.is_absolute():
        path = invocation_dir / path
    matrix = load.load_matrix(str(path))
    python = python or interpreter_version()
    planned = plan.plan_cells(matrix)
    try:
        selected = select.select_cells(planned, expression=cells, python=[python])
    except UsageError as exc:
        msg = f"{path}: on Python {python}: {exc}"
        raise UsageError(msg) from None
    root = Path(matrix.root)
    with_cells = {cell.phase for cell in selected}
    phase_dirs = {
        spec.name: (root / spec.path).resolve() for spec in matrix.phases if spec.name in with_cells
    }
    folder = Path(results_dir) if results_dir else Path("results")
    if not folder.is_absolute():
        folder = invocation_dir / folder
    limit = timeout if timeout is not None else matrix.timeout
    return MatrixRun(
        matrix=matrix,
        python=python,
        cells=selected,
        phase_dirs=phase_dirs,
        selection=cells,
        shard=parse_shard_text(shard),
        results_dir=folder,
        run_id=run_id or uuid.uuid4().hex[:12],
        named_run=run_id is not None,
        timeout=limit,
        started=now_iso(),
    )


def platform_name() -> str:
    return f"{sys.platform}-{platform.machine() or 'unknown'}-{platform.python_implementation()}"


# --------------------------------------------------------------------------- the cell fixture


class ServiceUnavailable(RuntimeError):
    """The env's service is not running; the message carries its log excerpt."""


@dataclasses.dataclass(frozen=True)
class CellContext:
    """What the `cell` fixture gives a test (docs/contracts.md "The `cell` fixture")."""

    id: str
    phase: str
    adapter: str
    adapter_base: str
    env: str
    python: str
    components: tuple[str, ...]
    features: frozenset[str]
    service_url: str | None
    workdir: str | None
    _run: MatrixRun = dataclasses.field(repr=False, compare=False)
    _cell: Cell = dataclasses.field(repr=False, compare=False)

    def __repr__(self) -> str:
        # Short and stable: assertion messages print it, and records must not
        # differ between runs by a scratch path.
        return f"<cell {self.id}>"

    @property
    def adapter_object(self) -> object:
        """The adapter's object, imported on first use, once per process."""
        return self._run.adapter_object(self._cell)


def cell_context(run: MatrixRun, request: Any) -> CellContext:
    """Build the `cell` fixture's value; a dead service of the env fails the test's setup."""
    cell = getattr(request, "param", None)
    if not isinstance(cell, Cell):
        msg = (
            "the `cell` fixture exists only for tests in a phase folder of the matrix "
            f"({', '.join(sorted(run.phase_dirs))}); move the test there or stop requesting `cell`"
        )
        raise UsageError(msg)
    problem = service_problem(run, cell.env)
    if problem is not None:
        raise ServiceUnavailable(problem)
    service = run.services.get(cell.env)
    return CellContext(
        id=cell.id,
        phase=cell.phase,
        adapter=cell.adapter,
        adapter_base=cell.adapter_base or cell.adapter,
        env=cell.env,
        python=cell.python,
        components=cell.components,
        features=cell.features,
        service_url=None if service is None else str(service["url"]),
        workdir=run.workdir,
        _run=run,
        _cell=cell,
    )


def service_problem(run: MatrixRun, env: str) -> str | None:
    """Why the env's service cannot be used (start failure, or it died since), or None."""
    if env in run.service_problems:
        return run.service_problems[env]
    info = run.services.get(env)
    if info is None:
        return None
    from migmatrix import service

    return service.service_problem(service.ServiceInfo.from_dict(info))


# --------------------------------------------------------------------------- controller


def prepare_controller(run: MatrixRun, config: Any, running: list[Any]) -> None:
    """Controller set-up before any worker starts: scratch folder, durations, services.

    Services start once per run, for the envs that have selected cells; one that
    cannot start is remembered with its log excerpt, so the tests of its cells
    become errors carrying it instead of the run stopping.
    """
    import tempfile

    run.workdir = tempfile.mkdtemp(prefix=f"migmatrix-{run.run_id}-")
    if run.shard is not None:
        run.durations = read_durations(run.results_dir, skip_shards_of=run.shard[1])
    envs = {cell.env for cell in run.cells}
    needed = [spec for spec in run.matrix.envs if spec.name in envs and spec.service is not None]
    if not needed or getattr(config.option, "collectonly", False):
        return
    from migmatrix import service

    for spec in needed:
        remote = service.remote_service_info(spec, os.environ)
        if remote is not None:
            run.services[spec.name] = remote.to_dict()
            continue
        try:
            started = service.start_service(
                spec, workdir=Path(run.workdir), log_dir=run.results_dir
            )
        except service.ServiceError as exc:
            run.service_problems[spec.name] = str(exc)
            continue
        running.append(started)
        run.services[spec.name] = started.info().to_dict()


def release_controller(run: MatrixRun, running: list[Any]) -> None:
    """Stop the services this run started and remove its scratch folder."""
    import shutil

    while running:
        running.pop().stop()
    if run.workdir:
        shutil.rmtree(run.workdir, ignore_errors=True)


def read_durations(folder: Path, skip_shards_of: int | None = None) -> dict[str, float]:
    """Map "cell::test" -> seconds, from the results files already in `folder` (damage ignored).

    Every shard of a partition must balance with the same durations, or the
    shards overlap and leave gaps. Files written by shards of the same total
    (`skip_shards_of`) are ignored: they appear in the folder one by one as the
    sibling shards finish, so shards run one after another would read different
    durations. Unsharded runs and other partitions are stable inputs.
    """
    from migmatrix.errors import ResultsError
    from migmatrix.results import read_results

    durations: dict[str, float] = {}
    if not folder.is_dir():
        return durations
    for path in sorted(folder.glob("*.jsonl")):
        try:
            found = read_results(path)
        except ResultsError:
            continue
        shard = found.header.shard
        if skip_shards_of is not None and shard and shard.endswith(f"/{skip_shards_of}"):
            continue
        for record in found.records:
            key = f"{record.cell}::{record.test}"
            durations[key] = max(durations.get(key, 0.0), float(record.duration))
    return durations


def write_records(run: MatrixRun, recorder: Any) -> Path:
    """Write the run's results file once, atomically; returns its path."""
    from migmatrix.model import ResultsHeader
    from migmatrix.results import write_results

    header = ResultsHeader(
        run_id=run.run_id,
        python=run.python,
        platform=platform_name(),
        matrix_digest=run.matrix.digest,
        selection=run.selection,
        shard=run.shard_text,
        started=run.started,
    )
    path = run.results_path()
    write_results(path, header, recorder.finish(), finished=now_iso())
    return path


# --------------------------------------------------------------------------- early hand-off

HANDOFF_ENV = "MIGMATRIX_RUN_HANDOFF"


def run_key(matrix_path: str, invocation_dir: Path, *options: object) -> str:
    """A fingerprint of one run's inputs: the matrix file (path, size, mtime) and the options."""
    import hashlib

    path = Path(matrix_path)
    if not path.is_absolute():
        path = invocation_dir / path
    try:
        stat = path.stat()
        file_part = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        file_part = str(path)
    text = repr((file_part, str(invocation_dir), options))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def hand_to_workers(run: MatrixRun, key: str) -> None:
    """Let xdist workers reuse this process's loaded and planned run.

    Workers are started by the controller and inherit its environment; they
    would otherwise each read, validate (jsonschema) and plan the matrix again
    before collecting, which costs about as much as a pytest start-up. The run
    is pickled to a private file named, with the run's fingerprint, by an
    environment variable; a process whose own fingerprint differs (another
    matrix, other options, a nested pytest) ignores it and loads for itself.
    """
    import pickle
    import tempfile

    fd, name = tempfile.mkstemp(prefix="migmatrix-run-", suffix=".pickle")
    with os.fdopen(fd, "wb") as out:
        pickle.dump(run, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.environ[HANDOFF_ENV] = f"{key}:{name}"


def from_controller(key: str) -> MatrixRun | None:
    """The run the controller handed over for this fingerprint, or None."""
    import pickle

    value = os.environ.get(HANDOFF_ENV, "")
    found_key, _, name = value.partition(":")
    if found_key != key or not name:
        return None
    try:
        with open(name, "rb") as handle:
            run = pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError):
        return None
    return run if isinstance(run, MatrixRun) else None


def withdraw_handoff() -> None:
    import contextlib

    value = os.environ.pop(HANDOFF_ENV, "")
    name = value.partition(":")[2]
    if name:
        with contextlib.suppress(OSError):
            os.unlink(name)
