"""Run the baseline and the mutants in scratch copies, and classify each mutant.

The baseline runs the selected cells of this interpreter once, with per-cell
coverage, and must pass the gate: a matrix that already fails cannot tell a mutant
from the original. Then each mutant, in a parallel slot's copy:

- incompetent when its text does not compile or its module does not import;
- not covered when no cell's context reached its statement (no run at all);
- else its cells run (`pytest --matrix ... --cells <those ids>`) and the gate judges
  them: killed when the gate fails (with the cells and verdicts that caught it),
  survived when it passes, timeout when the run outlives its limit. With
  `expect_unexpected_pass` (code that must stay broken, e.g. legacy), only an
  unexpected-pass verdict counts as caught; a mutant caught otherwise survives,
  with what it did shown.

Every child runs in a session of its own, so an interrupt kills each run's whole
process group; the scratch copies go with the workspace.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from migmatrix.coverage_rules import combine_folder
from migmatrix.errors import UsageError
from migmatrix.mutate.mutants import Mutant, compiles
from migmatrix.mutate.reach import Reach, read_reach
from migmatrix.mutate.workspace import Workspace, module_name
from migmatrix.outcomes import EXPECTED_VERDICTS, MutantOutcome, Verdict

# A mutant's run may take this many times the baseline's (plus a floor) before it is a timeout.
TIMEOUT_FACTOR = 3.0
TIMEOUT_FLOOR = 30.0
# Seconds an interrupted run gets to stop on SIGTERM before its group is SIGKILLed.
STOP_GRACE = 5.0


@dataclasses.dataclass(frozen=True)
class Settings:
    """What `migmatrix mutate` was asked to do (paths relative to `project`)."""

    project: Path
    matrix: str
    targets: tuple[str, ...]
    cells: str | None = None
    max_mutants: int | None = None
    budget: float | None = None
    jobs: int = 1
    expect_unexpected_pass: bool = False
    python: str = sys.executable


@dataclasses.dataclass(frozen=True)
class Caught:
    cell: str
    test: str
    verdict: str


@dataclasses.dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    outcome: MutantOutcome
    cells: tuple[str, ...] = ()
    caught: tuple[Caught, ...] = ()
    seconds: float = 0.0
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class Baseline:
    cells: tuple[str, ...]
    seconds: float
    reach: Reach


@dataclasses.dataclass(frozen=True)
class MutateRun:
    settings: Settings
    baseline: Baseline
    results: tuple[MutantResult, ...]
    not_run: int
    seconds: float


class Children:
    """The process groups running right now, so an interrupt can kill every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self.stopping = threading.Event()

    def run(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float | None
    ) -> tuple[int | None, str]:
        """Run `argv`; (exit code, output tail), exit code None on timeout."""
        if self.stopping.is_set():
            raise KeyboardInterrupt
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with self._lock:
            self._live.add(process)
        if self.stopping.is_set():  # the interrupt came while it started
            _kill_group(process)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            return None, ""
        except BaseException:
            # Interrupted while waiting (Ctrl-C reaches the main thread here): this run's
            # group is stopped with the others; it stays listed until then.
            self.kill_all()
            raise
        with self._lock:
            self._live.discard(process)
        if self.stopping.is_set():
            raise KeyboardInterrupt
        return process.returncode, out.decode("utf-8", "replace")[-4000:]

    def kill_all(self) -> None:
        """SIGTERM every live run's group (a matrix run stops its services on it), then
        SIGKILL what is left after `STOP_GRACE` seconds."""
        self.stopping.set()
        with self._lock:
            live = list(self._live)
        for process in live:
            _kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        for process in live:
            _kill_group(process)
            with contextlib.suppress(Exception):
                process.wait(timeout=10)


def _kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def python_version(python: str) -> str:
    if python == sys.executable:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _selection(user: str | None, version: str) -> str:
    mine = f"py{version}"
    return f"({user}) and {mine}" if user else mine


def _ids_selection(cells: Sequence[str]) -> str:
    return " or ".join(sorted(cells))


class Session:
    """One `migmatrix mutate`: a workspace, the baseline, then the mutants."""

    def __init__(self, settings: Settings, workspace: Workspace, children: Children) -> None:
        self.settings = settings
        self.workspace = workspace
        self.children = children
        self.version = python_version(settings.python)

    def _matrix_run(
        self,
        copy: Path,
        cells: str,
        out: Path,
        coverage: Path | None,
        workers: int,
        timeout: float | None,
    ) -> tuple[int | None, str]:
        argv = [self.settings.python, "-m", "pytest", "--matrix", self.settings.matrix]
        argv += ["--cells", cells, "--results-dir", str(out), "-q", "-p", "no:cacheprovider"]
        # pytest's own temp folders inside the copy, so they go with it.
        argv += ["--basetemp", str(out / "basetemp")]
        argv += ["-n", str(workers)] if workers > 1 else ["-p", "no:xdist"]
        if coverage is not None:
            argv += ["--matrix-coverage", str(coverage)]
        return self.children.run(argv, copy, self._environ(copy), timeout)

    def _gate(
        self, copy: Path, results: Path, cells: str, report: Path
    ) -> tuple[int, dict[str, Any]]:
        argv = [self.settings.python, "-m", "migmatrix", "gate", str(results)]
        argv += ["--matrix", self.settings.matrix, "--cells", cells, "--json", str(report)]
        code, output = self.children.run(argv, copy, self._environ(copy), None)
        assert code is not None
        if code == 2:
            msg = f"the gate could not judge a run in {copy}: {output.strip()[-1000:]}"
            raise UsageError(msg)
        data: dict[str, Any] = json.loads(report.read_text()) if report.is_file() else {}
        return code, data

    def _environ(self, copy: Path) -> dict[str, str]:
        return self.workspace.environ(copy, os.environ)

    def baseline(self) -> Baseline:
        copy = self.workspace.copy("baseline")
        started = time.monotonic()
        cells = _selection(self.settings.cells, self.version)
        out = copy / ".mutate" / "baseline"
        coverage = out / "coverage"
        code, output = self._matrix_run(copy, cells, out, coverage, self.settings.jobs, None)
        seconds = time.monotonic() - started
        gate_code, report = self._gate(copy, out, cells, out / "gate.json")
        if code is None or gate_code != 0:
            caught = _caught(report)
            shown = "; ".join(f"{c.cell} {c.test}: {c.verdict}" for c in caught[:5])
            msg = (
                f"the baseline (the unmutated code, cells {cells!r}) does not pass the gate "
                f"(exit {gate_code}: {shown or output.strip()[-500:]}); a mutation score needs "
                "a matrix that passes: fix it or narrow --cells"
            )
            raise UsageError(msg)
        ran = tuple(sorted(cell["id"] for cell in report.get("cells", [])))
        combined = str(out / "combined.coverage")
        try:
            combine_folder(str(coverage), combined)
        except UsageError as exc:
            msg = f"the baseline recorded no coverage ({exc}); the mutants' cells cannot be chosen"
            raise UsageError(msg) from None
        reach = read_reach(combined, copy, self.settings.targets, ran)
        return Baseline(cells=ran, seconds=seconds, reach=reach)

    def mutant(self, mutant: Mutant, copy: Path, baseline: Baseline, index: int) -> MutantResult:
        started = time.monotonic()

        def done(outcome: MutantOutcome, **kw: Any) -> MutantResult:
            return MutantResult(mutant, outcome, seconds=time.monotonic() - started, **kw)

        if not compiles(mutant):
            return done(MutantOutcome.INCOMPETENT, detail="does not compile")
        cells = tuple(
            sorted(
                baseline.reach.cells_for(mutant.target, mutant.statement_lines, mutant.import_time)
            )
        )
        if not cells:
            return done(MutantOutcome.NOT_COVERED)
        path = copy / mutant.target
        original = path.read_bytes()
        path.write_text(mutant.mutated, encoding="utf-8")
        try:
            name = module_name(copy, mutant.target)
            if name is not None:
                code, output = self.children.run(
                    [self.settings.python, "-c", f"import {name}"],
                    copy,
                    self._environ(copy),
                    TIMEOUT_FLOOR,
                )
                if code != 0:
                    last = output.strip().splitlines()[-1:] or ["timed out"]
                    return done(MutantOutcome.INCOMPETENT, cells=cells, detail=last[0])
            out = copy / ".mutate" / f"m{index}"
            selection = _ids_selection(cells)
            limit = max(TIMEOUT_FLOOR, TIMEOUT_FACTOR * baseline.seconds)
            code, _ = self._matrix_run(copy, selection, out, None, 1, limit)
            if code is None:
                return done(MutantOutcome.TIMEOUT, cells=cells)
            gate_code, report = self._gate(copy, out, selection, out / "gate.json")
        finally:
            path.write_bytes(original)
        caught = _caught(report)
        if gate_code == 3 and not caught:
            caught = (Caught("", "", "incomplete"),)
        if self.settings.expect_unexpected_pass:
            wanted = tuple(c for c in caught if c.verdict == Verdict.UNEXPECTED_PASS.value)
            if wanted:
                return done(MutantOutcome.KILLED, cells=cells, caught=wanted)
            detail = "; ".join(f"{c.cell} {c.test}: {c.verdict}" for c in caught[:3])
            return done(MutantOutcome.SURVIVED, cells=cells, detail=detail)
        if gate_code == 0:
            return done(MutantOutcome.SURVIVED, cells=cells)
        return done(MutantOutcome.KILLED, cells=cells, caught=caught)


def _caught(report: Mapping[str, Any]) -> tuple[Caught, ...]:
    expected = {v.value for v in EXPECTED_VERDICTS}
    found = {
        Caught(str(item.get("cell", "")), str(item.get("test", "")), str(item.get("verdict", "")))
        for item in report.get("results", [])
        if item.get("verdict") not in expected
    }
    return tuple(sorted(found, key=lambda c: (c.cell, c.test, c.verdict)))


def run_mutants(
    settings: Settings,
    mutants: Sequence[Mutant],
    *,
    progress: Callable[[MutantResult], None] | None = None,
) -> MutateRun:
    """Baseline, then every mutant in up to `settings.jobs` slots, within the budget.

    Raises KeyboardInterrupt after killing every child and removing every copy.
    """
    started = time.monotonic()
    children = Children()
    workspace = Workspace(settings.project, settings.targets)
    try:
        session = Session(settings, workspace, children)
        baseline = session.baseline()
        jobs = max(1, min(settings.jobs, len(mutants) or 1))
        free: list[Path] = [workspace.copy(f"slot{i}") for i in range(jobs)]
        slots_lock = threading.Lock()
        deadline = None if settings.budget is None else started + settings.budget

        def one(index: int, mutant: Mutant) -> MutantResult | None:
            if deadline is not None and time.monotonic() > deadline:
                return None
            with slots_lock:
                copy = free.pop()
            try:
                return session.mutant(mutant, copy, baseline, index)
            finally:
                with slots_lock:
                    free.append(copy)

        results: list[MutantResult] = []
        not_run = 0
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(one, i, m) for i, m in enumerate(mutants)]
            try:
                for future in futures:
                    result = future.result()
                    if result is None:
                        not_run += 1
                        continue
                    results.append(result)
                    if progress is not None:
                        progress(result)
            except BaseException:
                children.kill_all()
                for future in futures:
                    future.cancel()
                raise
        return MutateRun(
            settings=settings,
            baseline=baseline,
            results=tuple(results),
            not_run=not_run,
            seconds=time.monotonic() - started,
        )
    except BaseException:
        children.kill_all()
        raise
    finally:
        workspace.release()
