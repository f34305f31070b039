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
from migmatrix.model import Cell, EnvSpec, Expectation, Matrix

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
    folder. `services` maps a service key (`service.service_key`: the env's name,
    or e.g. `staging[ssot]` for a service started per adapter state) -> its service
    (`service.ServiceInfo` as a dict) and `service_problems` key -> why that
    service is unusable. `durations` maps "cell::test" to seconds from the
    earlier results named by `durations_source` (`--matrix-durations`), for
    balancing shards. `shard_note` says where the shard came from when that is
    worth a line (CI variables used, or ignored for an explicit --shard).
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
    durations_source: str | None = None
    shard_note: str | None = None
    phase_paths: dict[str, Path] = dataclasses.field(default_factory=dict)
    _by_phase: dict[str, tuple[Cell, ...]] = dataclasses.field(default_factory=dict)
    _adapters: dict[str, object] = dataclasses.field(default_factory=dict)
    _expectations: dict[tuple[str, str], Expectation] = dataclasses.field(default_factory=dict)
    _located: dict[tuple[Path, str], tuple[str, str] | None] = dataclasses.field(
        default_factory=dict
    )
    _service_keys: dict[str, str | None] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        grouped: dict[str, list[Cell]] = {}
        for cell in self.cells:
            grouped.setdefault(cell.phase, []).append(cell)
        self._by_phase = {phase: tuple(cells) for phase, cells in grouped.items()}
        self._ids = {phase: {c.id: c for c in cells} for phase, cells in grouped.items()}
        # Longest folder first, so a phase nested inside another's folder wins. Both
        # the resolved folder and the one as written (through a symlink) locate a phase:
        # pytest names items by the path it was given, not the resolved one.
        known = {*self.phase_dirs.items(), *self.phase_paths.items()}
        self._dirs_by_depth = sorted(known, key=lambda kv: (len(kv[1].parts), kv), reverse=True)

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
        return [str(self.phase_paths.get(p, folder)) for p, folder in self.phase_dirs.items()]

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

    def service_key(self, cell: Cell) -> str | None:
        """The key of the service `cell` uses (`service.service_key`), or None if its env has none.

        The controller starts services under these keys and the `cell` fixture looks
        them up by the same keys, on any process.
        """
        if cell.id not in self._service_keys:
            spec = next((e for e in self.matrix.envs if e.name == cell.env), None)
            key = None
            if spec is not None and spec.service is not None:
                from migmatrix import service

                key = service.service_key(spec, cell)
            self._service_keys[cell.id] = key
        return self._service_keys[cell.id]

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
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


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
    durations: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> MatrixRun:
    """Load and plan the matrix and select this interpreter's cells; errors name the fix.

    Without `shard`, the CI's parallelism variables in `environ` (default: the
    process environment) choose it (`choose_shard`). `durations` names earlier
    results (a file or a folder of them) to balance the shards by; without it the
    split is the plain deterministic one.
    """
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
    phase_paths = {
        spec.name: Path(os.path.abspath(root / spec.path))
        for spec in matrix.phases
        if spec.name in with_cells
    }
    phase_dirs = {name: folder.resolve() for name, folder in phase_paths.items()}
    folder = Path(results_dir) if results_dir else Path("results")
    if not folder.is_absolute():
        folder = invocation_dir / folder
    limit = timeout if timeout is not None else matrix.timeout
    chosen, note = choose_shard(shard, os.environ if environ is None else environ)
    durations_path = None
    if durations:
        durations_path = Path(durations)
        if not durations_path.is_absolute():
            durations_path = invocation_dir / durations_path
        if not durations_path.exists():
            msg = (
                f"durations {durations!r}: no such file or folder; pass a results file "
                "(*.jsonl) or a folder of them from an earlier run, or leave the option out"
            )
            raise UsageError(msg)
    return MatrixRun(
        matrix=matrix,
        python=python,
        cells=selected,
        phase_dirs=phase_dirs,
        phase_paths=phase_paths,
        selection=cells,
        shard=chosen,
        results_dir=folder,
        run_id=run_id or uuid.uuid4().hex[:12],
        named_run=run_id is not None,
        timeout=limit,
        started=now_iso(),
        # Read here, on every process from the same input, so every shard of a split
        # (and every xdist worker) balances with exactly the same numbers.
        durations=read_durations(durations_path) if durations_path and chosen else {},
        durations_source=None if durations_path is None else str(durations_path),
        shard_note=note,
    )


def choose_shard(
    explicit: str | None, environ: Mapping[str, str]
) -> tuple[tuple[int, int] | None, str | None]:
    """The shard of this run and the line that says where it came from (None: nothing to say).

    An explicit `--shard` wins; the note then names the CI variables it overrode,
    if any are set. Without it, a CI's parallelism variables
    (`shard.from_environment`) choose the shard, and the note names them, so a run
    that quietly did a third of the work explains itself.
    """
    from migmatrix import shard

    present = [
        f"{index}/{total}"
        for index, total, _ in shard.CI_VARIABLES
        if index in environ and total in environ
    ]
    if explicit is not None:
        chosen = parse_shard_text(explicit)
        assert chosen is not None
        note = None
        if present:
            note = (
                f"migmatrix: shard {chosen[0]}/{chosen[1]} from --shard "
                f"(ignoring {', '.join(present)} set in the environment)"
            )
        return chosen, note
    found = shard.from_environment(environ)
    if found is None:
        return None, None
    index, total, source = found
    return (index, total), f"migmatrix: shard {index}/{total} from {source}"


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
    key = run.service_key(cell)
    problem = None if key is None else service_problem(run, key)
    if problem is not None:
        raise ServiceUnavailable(problem)
    service = None if key is None else run.services.get(key)
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


def service_problem(run: MatrixRun, key: str) -> str | None:
    """Why the service `key` cannot be used (start failure, or it died since), or None."""
    if key in run.service_problems:
        return run.service_problems[key]
    info = run.services.get(key)
    if info is None:
        return None
    from migmatrix import service

    return service.service_problem(service.ServiceInfo.from_dict(info))


# --------------------------------------------------------------------------- controller


def prepare_controller(run: MatrixRun, config: Any, running: list[Any]) -> None:
    """Controller set-up before any worker starts: the scratch folder and the services.

    One service per key (`MatrixRun.service_key`) among the selected cells: one per
    env, or one per adapter state when the service's templates use `{adapter}`.
    They start concurrently (each waits for its health URL, a second or two for a
    server) and each in its own scratch folder, so servers of different states never
    share a database. One that cannot start is remembered with its log excerpt, so
    the tests of its cells become errors carrying it instead of the run stopping.
    A remote service (`STAGING_URL`) serves every cell of its env: nothing starts.
    """
    import tempfile

    run.workdir = tempfile.mkdtemp(prefix=f"migmatrix-{run.run_id}-")
    if getattr(config.option, "collectonly", False):
        return
    claim_results(run)
    wanted: dict[str, tuple[EnvSpec, Cell]] = {}
    envs = {spec.name: spec for spec in run.matrix.envs}
    for cell in run.cells:
        key = run.service_key(cell)
        if key is not None:
            wanted.setdefault(key, (envs[cell.env], cell))
    if not wanted:
        return
    from migmatrix import service

    to_start: dict[str, tuple[EnvSpec, Cell]] = {}
    for key, (spec, cell) in sorted(wanted.items()):
        remote = service.remote_service_info(spec, os.environ)
        if remote is not None:
            run.services[key] = remote.to_dict()
        else:
            to_start[key] = (spec, cell)
    start_services(run, to_start, running)


def start_services(
    run: MatrixRun, wanted: Mapping[str, tuple[EnvSpec, Cell]], running: list[Any]
) -> None:
    """Start the services `wanted` (key -> (env, a cell using it)) concurrently.

    Every started service is appended to `running` as soon as it is healthy, so
    `release_controller` stops it even if this is interrupted (Ctrl-C) while
    others are still starting; on such an interruption the starts under way are
    waited for (each is bounded by its startup timeout) before re-raising.
    """
    import concurrent.futures
    import threading

    from migmatrix import service

    lock = threading.Lock()
    assert run.workdir is not None

    def start(key: str, spec: EnvSpec, cell: Cell) -> None:
        workdir = Path(run.workdir or ".") / "services" / service.safe_name(key)
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


def release_controller(run: MatrixRun, running: list[Any]) -> None:
    """Stop the services this run started (concurrently) and remove its scratch folder."""
    import concurrent.futures
    import shutil

    stopping = list(reversed(running))
    running.clear()
    if len(stopping) > 1:
        # A server takes a few hundred ms to shut down; one per adapter state adds up.
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(stopping))) as pool:
            list(pool.map(lambda started: started.stop(), stopping))
    for started in stopping:
        started.stop()  # idempotent; the only stop when there is one service
    if run.workdir:
        shutil.rmtree(run.workdir, ignore_errors=True)


def read_durations(source: Path) -> dict[str, float]:
    """Map "cell::test" -> seconds from earlier results: one file, or a folder's `*.jsonl`.

    Shards balance only with input given on purpose (`--durations`), never with
    whatever the results folder happens to hold: shards run one after another
    would otherwise see their siblings' files appear and split differently, and
    overlap or leave gaps. A key seen in several files keeps its longest time;
    damaged files and lines are skipped (the durations are a hint, not data).
    """
    from migmatrix.errors import ResultsError
    from migmatrix.results import read_results

    paths = sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    durations: dict[str, float] = {}
    for path in paths:
        try:
            found = read_results(path)
        except ResultsError:
            continue
        for record in found.records:
            key = f"{record.cell}::{record.test}"
            durations[key] = max(durations.get(key, 0.0), float(record.duration))
    return durations


def _header(run: MatrixRun) -> Any:
    from migmatrix.model import ResultsHeader

    return ResultsHeader(
        run_id=run.run_id,
        python=run.python,
        platform=platform_name(),
        matrix_digest=run.matrix.digest,
        selection=run.selection,
        shard=run.shard_text,
        started=run.started,
    )


def claim_results(run: MatrixRun) -> Path:
    """Put the header alone, without a footer, where this run's results file goes.

    An earlier run's complete file under the same name would otherwise stand in
    for this run if this one died before writing: a run that never finishes must
    leave an incomplete file, which the gate refuses loudly (exit 3), never a
    stale one that passes. The finished file replaces it atomically.
    """
    import json

    from migmatrix.results import header_to_dict

    path = run.results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.claim")
    line = json.dumps(header_to_dict(_header(run)), sort_keys=True, ensure_ascii=False)
    scratch.write_text(line + "\n", encoding="utf-8")
    os.replace(scratch, path)
    return path


def write_records(run: MatrixRun, recorder: Any) -> Path:
    """Write the run's results file once, atomically; returns its path."""
    from migmatrix.results import write_results

    path = run.results_path()
    write_results(path, _header(run), recorder.finish(), finished=now_iso())
    return path


def write_manifest(
    path: Path, run: MatrixRun, written: Path, *, records: int, exitstatus: int
) -> None:
    """A JSON note of the results file this run wrote, for the process that started pytest."""
    import json

    note = {
        "results": str(written),
        "records": records,
        "shard": run.shard_text,
        "shard_note": run.shard_note,
        "exitstatus": exitstatus,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(note, sort_keys=True) + "\n", encoding="utf-8")


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
