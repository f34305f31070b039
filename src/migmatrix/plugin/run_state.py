"""The state of one `pytest --matrix` run in one process: the matrix, its cells, its settings.

`open_run` builds it once, very early (before pytest decides which paths to
collect), from the command-line options: it loads matrix.yaml, plans the cells,
keeps those of the running interpreter that the `--cells` selection names, and
fixes the run's identity (run id, start time, results folder, shard). Every
process of a run builds the same state from the same options (or takes the
controller's, `handoff`), which is what lets xdist workers parametrize and shard
exactly like the controller expects; what only the controller can know (service
URLs, the scratch folder, recorded durations) reaches the workers through
xdist's `workerinput` (`to_workerinput` / `adopt_controller`).

Errors are `UsageError`/`MatrixError` with complete messages; the plugin turns
them into pytest usage errors (no traceback).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from migmatrix import endpoint, expect
from migmatrix import shard as sharding
from migmatrix.errors import UsageError
from migmatrix.model import Cell, Expectation, Matrix
from migmatrix.plugin import adapters
from migmatrix.plugin.durations import read_durations
from migmatrix.plugin.environment import environment_cells
from migmatrix.results.sidecar import sidecar_path

WORKERINPUT_KEY = "migmatrix"


def interpreter_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclasses.dataclass
class MatrixRun:
    """Everything one process of a matrix run needs; built by `open_run`.

    `cells` are the selected cells of this interpreter in plan order;
    `phase_dirs` maps every phase with at least one of them to its absolute suite
    folder. `services` maps a service key (`endpoint.service_key`: the env's name,
    or e.g. `staging[ssot]` for a service started per adapter state) -> its service
    (`endpoint.ServiceInfo` as a dict) and `service_problems` key -> why that
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
    environment: str | None = None  # --matrix-environment: None runs the in-process cells
    # Further header keys (`environment`: what the test processes imported, plugin/environment).
    header_extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    _by_phase: dict[str, tuple[Cell, ...]] = dataclasses.field(default_factory=dict)
    _adapters: dict[str, object] = dataclasses.field(default_factory=dict)
    _expectations: dict[tuple[str, str], Expectation] = dataclasses.field(default_factory=dict)
    _located: dict[tuple[Path, str], tuple[str, str] | None] = dataclasses.field(
        default_factory=dict
    )
    _service_keys: dict[str, str | None] = dataclasses.field(default_factory=dict)
    _memory: dict[str, int | None] = dataclasses.field(default_factory=dict)
    # A resumed run (`resume`): node ids recorded before, modules that hung at import.
    done_nodeids: frozenset[str] = frozenset()
    skip_modules: frozenset[str] = frozenset()

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
            if self.environment:
                stem += f"-{self.environment}"
            if self.shard is not None:
                stem += f"-shard-{self.shard[0]}-of-{self.shard[1]}"
        return self.results_dir / f"{stem}.jsonl"

    def adapter_object(self, cell: Cell) -> object:
        """The object the cell's adapter names, imported once per process."""
        name = cell.adapter_base or cell.adapter
        if name not in self._adapters:
            self._adapters[name] = adapters.load_adapter_object(self.matrix, name)
        return self._adapters[name]

    def service_key(self, cell: Cell) -> str | None:
        """The key of the service `cell` uses (`endpoint.service_key`), or None if its env has none.

        The controller starts services under these keys and the `cell` fixture looks
        them up by the same keys, on any process.
        """
        if cell.id not in self._service_keys:
            spec = next((e for e in self.matrix.envs if e.name == cell.env), None)
            key = None
            if spec is not None and spec.service is not None:
                key = endpoint.service_key(spec, cell)
            self._service_keys[cell.id] = key
        return self._service_keys[cell.id]

    def memory_limit(self, cell: Cell) -> int | None:
        """The `memory:` limit in bytes for a test of `cell`, None for none.

        The cell's phase's or adapter's own limit replaces the global one; when both
        have one, the smaller applies.
        """
        if cell.id not in self._memory:
            phase = next((p for p in self.matrix.phases if p.name == cell.phase), None)
            base = cell.adapter_base or cell.adapter
            adapter = next((a for a in self.matrix.adapters if a.name == base), None)
            own = [spec.memory for spec in (phase, adapter) if spec is not None and spec.memory]
            self._memory[cell.id] = min(own) if own else self.matrix.memory
        return self._memory[cell.id]

    def watchdog_note(self) -> Path:
        """Where the watchdog of a run of one process writes why it ended the run."""
        return sidecar_path(self.results_path())

    def expectation(self, cell: Cell, test: str) -> Expectation:
        key = (cell.id, test)
        found = self._expectations.get(key)
        if found is None:
            found, _rule = expect.expectation_for(self.matrix, cell, test)
            self._expectations[key] = found
        return found

    def __getstate__(self) -> dict[str, Any]:
        # The hand-off pickles a run for the workers: imported adapter objects stay
        # behind (a worker imports its own; they need not even be picklable).
        state = dict(self.__dict__)
        state["_adapters"] = {}
        return state

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
            "skip_modules": sorted(self.skip_modules),
        }

    def adopt_controller(self, data: Mapping[str, Any]) -> None:
        """Take the controller's run identity, services and durations (on a worker)."""
        self.run_id = str(data["run_id"])
        self.started = str(data["started"])
        self.workdir = data.get("workdir")
        self.services = dict(data.get("services", {}))
        self.service_problems = dict(data.get("service_problems", {}))
        self.durations = {str(k): float(v) for k, v in data.get("durations", {}).items()}
        self.skip_modules = frozenset(map(str, data.get("skip_modules", ())))


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
    environment: str | None = None,
) -> MatrixRun:
    """Load and plan the matrix and select this interpreter's cells; errors name the fix.

    Without `shard`, the CI's parallelism variables in `environ` (default: the
    process environment) choose it (`shard.choose_shard`). `durations` names earlier
    results (a file or a folder of them) to balance the shards by; without it the
    split is the plain deterministic one.
    """
    # Imported here, not at the top: a worker handed the controller's run (`handoff`)
    # never loads a matrix, and the loader brings jsonschema, a tenth of a second of
    # start-up per process (benchmarks/plugin_overhead.py).
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
    selected = environment_cells(matrix, selected, environment)
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
    chosen, note = sharding.choose_shard(shard, os.environ if environ is None else environ)
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
        environment=environment,
    )
