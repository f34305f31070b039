"""The `run` step: one pytest + xdist process per interpreter, over that interpreter's cells.

`build_command` is a pure function from the run's settings to the argv of
`python -m pytest --matrix ...`; `run_matrix` finds the interpreter, runs the
command as a subprocess from the current folder and returns a `RunSummary`:
pytest's exit code, the results file the plugin wrote (it says so in a manifest
file, so the shard chosen from CI variables and the run id need not be guessed
here) and whether that file is complete. The plugin inside that pytest does the
rest (parametrize, record, write the results file).

Deciding whether the matrix passed is the gate's job, not this one's: reproduction
tests are meant to fail, and pytest's exit code says nothing about whether they
failed as expected. So `RunSummary.exit_code` is OK whenever a complete results
file was written, INCOMPLETE when none (or a damaged one) was, USAGE when pytest
rejected its arguments; a nox session of the run then never aborts the gate that
follows it for a verdict the gate alone can give.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from migmatrix import plan, select
from migmatrix import run_options as options
from migmatrix.errors import ResultsError, UsageError
from migmatrix.outcomes import ExitCode
from migmatrix.results import read_results, sidecar

# pytest's own exit codes that still leave a results file worth gating: tests
# failed (1) and nothing collected (5) are outcomes, not run failures.
_PYTEST_RAN = frozenset({0, 1, 5})
_PYTEST_USAGE = 4


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What one `run_matrix` did: pytest's exit code and the results file it left.

    `results` is None when pytest wrote none (it stopped before the end: usage
    error, internal error); `complete` is True when the file has its footer and
    no damage; `nothing_to_run` when `allow_empty` found no cell to run.
    """

    pytest_code: int
    results: Path | None = None
    records: int = 0
    complete: bool = False
    shard: str | None = None
    shard_note: str | None = None
    nothing_to_run: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """OK for a complete results file of a run pytest finished; the verdict is the gate's."""
        if self.nothing_to_run:
            return ExitCode.OK
        if self.pytest_code == _PYTEST_USAGE:
            return ExitCode.USAGE
        if self.complete and self.pytest_code in _PYTEST_RAN:
            return ExitCode.OK
        return ExitCode.INCOMPLETE


def find_python(python: str | None) -> str:
    """The interpreter for `python`: None = this one, `3.12` = `python3.12` on PATH, or a path."""
    if python is None:
        return sys.executable
    version = python.removeprefix("py")
    if os.sep in python or python.startswith("."):
        if Path(python).is_file():
            return python
        msg = f"no interpreter at {python!r}; give a path to a python executable or X.Y"
        raise UsageError(msg)
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        msg = (
            f"no python{version} on PATH; install it (e.g. `pyenv install {version}`) or "
            "set PYENV_VERSION to the installed versions so every python3.X shim answers"
        )
        raise UsageError(msg)
    return found


# Prints the interpreter's X.Y (for the message), then imports what a matrix run needs.
_PROBE = "import sys; print('%d.%d' % sys.version_info[:2]); import migmatrix.plugin, pytest, xdist"


def _require_migmatrix(interpreter: str, asked: str) -> None:
    """UsageError unless `interpreter` can import what a matrix run needs.

    `migmatrix run --python 3.12` starts pytest with that interpreter, which has its
    own site-packages: migmatrix installed for this one is not installed for it. A
    pyenv shim of a version that is not active fails the same probe.
    """
    probe = subprocess.run(
        [interpreter, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0:
        return
    said = [line for line in (probe.stderr or probe.stdout).splitlines() if line.strip()]
    why = said[-1].strip() if said else f"exit {probe.returncode}"
    printed = probe.stdout.split()
    version = printed[0] if printed else asked.removeprefix("py")
    msg = (
        f"migmatrix is not installed for {interpreter} ({why}): `migmatrix run --python "
        f"{asked}` runs pytest with that interpreter. Run `nox -s run-{version}` instead "
        "(it makes an environment of that Python with the project and migmatrix), or "
        f"install migmatrix, pytest and pytest-xdist for {interpreter}"
    )
    raise UsageError(msg)


def build_command(
    matrix_path: str,
    *,
    interpreter: str,
    cells: str | None = None,
    shard: str | None = None,
    results_dir: str = "results",
    workers: int | str = "auto",
    coverage_dir: str | None = None,
    durations: str | None = None,
    manifest: str | None = None,
    timeout: float | None = None,
    run_id: str | None = None,
    overwrite: bool = False,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argv of one matrix run; `workers` 0 runs in-process without xdist.

    The flags are the plugin's own (`plugin.options`), under the names
    `migmatrix run` takes them by.
    """
    argv = [interpreter, "-m", "pytest", options.MATRIX.flag, matrix_path]
    argv += [options.RESULTS_DIR.flag, results_dir]
    if cells:
        argv += [options.CELLS.flag, cells]
    if shard:
        argv += [options.SHARD.flag, shard]
    if durations:
        argv += [options.DURATIONS.flag, durations]
    if manifest:
        # One word: pytest takes an existing path among its arguments into its rootdir
        # guess, and the manifest (in the temp folder) exists once a run has begun.
        argv += [f"{options.MANIFEST.flag}={manifest}"]
    if str(workers) in ("0", ""):
        argv += ["-p", "no:xdist"]
    else:
        argv += ["-n", str(workers)]
    if coverage_dir:
        argv += [options.COVERAGE.flag, coverage_dir]
    if timeout is not None:
        argv += [options.TIMEOUT.flag, str(timeout)]
    if run_id:
        argv += [options.RUN_ID.flag, run_id]
    if overwrite:
        argv += [options.OVERWRITE.flag]
    argv += list(extra_args)
    return argv


def run_matrix(
    matrix_path: str = "matrix.yaml",
    *,
    cells: str | None = None,
    python: str | None = None,
    shard: str | None = None,
    results_dir: str = "results",
    workers: int | str = "auto",
    extra_args: Sequence[str] = (),
    coverage_dir: str | None = None,
    pytest_args: Sequence[str] = (),
    durations: str | None = None,
    timeout: float | None = None,
    run_id: str | None = None,
    allow_empty: bool = False,
    overwrite: bool = False,
) -> RunSummary:
    """Run the matrix's cells of one interpreter in one pytest process; summarize what it left.

    Paths are taken relative to the current folder; the command runs there, so
    pytest's rootdir and the node ids in the results are those of the project.
    `pytest_args` is an alias of `extra_args` (both are appended, in that order).
    Coverage data, when asked for, goes to `coverage_dir` (`--matrix-coverage`). Without
    `shard`, the plugin takes it from the CI's parallelism variables, if set.
    `durations` (earlier results, a file or folder) balances the shards.
    `allow_empty`: a selection naming no cell of this interpreter runs nothing and
    is no error (nox's per-cell sessions exist for every Python of the matrix).
    """
    if not Path(matrix_path).is_file():
        msg = f"matrix file {matrix_path!r} does not exist; pass the right path with --matrix"
        raise UsageError(msg)
    interpreter = find_python(python)
    if interpreter != sys.executable:
        _require_migmatrix(interpreter, python or interpreter)
    if allow_empty and not _has_cells(matrix_path, cells, python):
        return RunSummary(pytest_code=0, nothing_to_run=True)
    fd, manifest = tempfile.mkstemp(prefix="migmatrix-run-", suffix=".json")
    os.close(fd)
    try:
        os.unlink(manifest)  # the plugin creates it only once the results file is written
        argv = build_command(
            matrix_path,
            interpreter=interpreter,
            cells=cells,
            shard=shard,
            results_dir=results_dir,
            workers=workers,
            coverage_dir=coverage_dir,
            durations=durations,
            manifest=manifest,
            timeout=timeout,
            run_id=run_id,
            overwrite=overwrite,
            extra_args=[*extra_args, *pytest_args],
        )
        code = call_forwarding_signals(argv)
        # A run of one process its watchdog ended: resumed where it stopped (plugin.resume).
        seen = -1
        while (progress := resumable(Path(manifest))) is not None and progress > seen:
            seen = progress
            code = call_forwarding_signals(argv, env={**os.environ, RESUME_ENV: "1"})
        return summarize(code, Path(manifest))
    finally:
        Path(manifest).unlink(missing_ok=True)


# The variable `plugin.resume` reads (the plugin is not imported here: it brings pytest).
RESUME_ENV = "MIGMATRIX_RESUME"


def resumable(manifest: Path) -> int | None:
    """For a run its watchdog ended (a note beside a results file without footer): how far
    it got (records and tests begun), so a resume that gets no further stops; else None."""
    try:
        note = json.loads(manifest.read_text(encoding="utf-8"))
        path = Path(str(note["results"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if sidecar.first_line(path) is None:
        return None
    try:
        found = read_results(path)
    except ResultsError:
        return None
    if found.footer is not None:
        return None
    return len(found.records) + len(found.unfinished)


def call_forwarding_signals(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run `argv`, passing SIGTERM, SIGINT and SIGHUP on to it; returns its return code.

    `migmatrix run` is only the pytest's parent: a signal meant to stop the run (CI's
    cancel, `timeout`, a closed terminal) must reach the pytest, whose controller then
    stops its services and cleans up, and `migmatrix run` waits for it to finish, so
    nothing is left running under init. A Ctrl-C typed at the terminal reaches both
    processes already (they share the foreground process group), so SIGINT is passed
    on only when this process is not in the terminal's foreground; a second SIGINT to
    the pytest would cut its clean-up short. The handlers are in place before the child
    starts (a signal in between is passed on as soon as it exists) and are restored after.
    """
    pending: list[int] = []
    child: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT and _terminal_foreground():
            return
        if child:
            with contextlib.suppress(ProcessLookupError):
                child[0].send_signal(signum)
        else:
            pending.append(signum)

    previous = _install(_FORWARDED, forward)
    try:
        child.append(subprocess.Popen(list(argv), env=None if env is None else dict(env)))
        for signum in pending:
            with contextlib.suppress(ProcessLookupError):
                child[0].send_signal(signum)
        return child[0].wait()
    finally:
        if child and child[0].poll() is None:
            # Only an exception in this process gets here: the child must not outlive it.
            child[0].kill()
            child[0].wait()
        _install_each(previous)


_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _install(
    signums: Sequence[int], handler: Callable[[int, FrameType | None], None]
) -> dict[int, Any]:
    """Install `handler` for `signums` (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {signum: signal.getsignal(signum) for signum in signums}
    for signum in signums:
        signal.signal(signum, handler)
    return previous


def _install_each(handlers: dict[int, Any]) -> None:
    for signum, handler in handlers.items():
        if handler is not None:
            signal.signal(signum, handler)


def _terminal_foreground() -> bool:
    """Whether this process's group is its terminal's foreground group (so a typed Ctrl-C
    reached every process of the group, the child included)."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def summarize(pytest_code: int, manifest: Path) -> RunSummary:
    """The `RunSummary` of a finished pytest from the manifest its plugin wrote (if any)."""
    try:
        note = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return RunSummary(pytest_code=pytest_code)
    path = Path(str(note["results"]))
    try:
        found = read_results(path)
    except ResultsError:
        return RunSummary(pytest_code=pytest_code, results=path)
    return RunSummary(
        pytest_code=pytest_code,
        results=path,
        records=len(found.records),
        complete=bool(found.complete),
        shard=note.get("shard"),
        shard_note=note.get("shard_note"),
    )


def _has_cells(matrix_path: str, cells: str | None, python: str | None) -> bool:
    """Whether the selection names a cell of `python` (for a path to an interpreter: assume so).

    A malformed expression or a Python the matrix lacks is still an error: only
    "valid, but matches nothing here" counts as empty.
    """
    if python is not None and (os.sep in python or python.startswith(".")):
        return True
    # Imported here: the loader brings jsonschema, and only --allow-empty needs it on this side.
    from migmatrix import load

    version = python.removeprefix("py") if python else None
    version = version or f"{sys.version_info.major}.{sys.version_info.minor}"
    planned = plan.plan_cells(load.load_matrix(matrix_path))
    mine = select.select_cells(planned, python=[version])
    if cells is None:
        return True
    predicate = select.compile_expression(cells)
    return any(predicate(cell.id) for cell in mine)
