"""The controller's files: the results file (claimed early, written once) and the manifest."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from migmatrix.errors import UsageError
from migmatrix.model import ResultsHeader
from migmatrix.plugin.record import Recorder
from migmatrix.plugin.run_state import MatrixRun, now_iso
from migmatrix.results import header_to_dict, read_results, write_results


def platform_name() -> str:
    return f"{sys.platform}-{platform.machine() or 'unknown'}-{platform.python_implementation()}"


def results_header(run: MatrixRun) -> ResultsHeader:
    return ResultsHeader(
        run_id=run.run_id,
        python=run.python,
        platform=platform_name(),
        matrix_digest=run.matrix.digest,
        selection=run.selection,
        shard=run.shard_text,
        started=run.started,
        extra=dict(run.header_extra),
    )


def refuse_overwrite(run: MatrixRun, *, overwrite: bool = False) -> None:
    """Stop a `--cells` run that would replace a complete results file of another selection.

    `pytest --matrix ... --cells SEL` writes `py3.12.jsonl` like a full run does, so
    a quick look at a few cells would silently replace the complete results of an
    earlier full run. Unless told to (`--overwrite-results`), such a run stops
    before anything runs, saying where else to write.
    """
    if run.selection is None or overwrite:
        return
    path = run.results_path()
    if not path.is_file():
        return
    found = read_results(path)
    if not found.complete or found.header.selection == run.selection:
        return
    earlier = found.header.selection
    what = "every planned cell" if earlier is None else f"the cells of --cells {earlier!r}"
    msg = (
        f"{path} holds the complete results of {what} ({len(found.records)} records); "
        f"this --cells {run.selection!r} run would replace them. Write it elsewhere "
        "(--results-dir DIR or --run-id NAME), or pass --overwrite-results to replace them"
    )
    raise UsageError(msg)


def claim_results(run: MatrixRun) -> Path:
    """Put the header alone, without a footer, where this run's results file goes.

    An earlier run's complete file under the same name would otherwise stand in
    for this run if this one died before writing: a run that never finishes must
    leave an incomplete file, which the gate refuses loudly (exit 3), never a
    stale one that passes. The finished file replaces it atomically.
    """
    path = run.results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.claim")
    line = json.dumps(header_to_dict(results_header(run)), sort_keys=True, ensure_ascii=False)
    scratch.write_text(line + "\n", encoding="utf-8")
    os.replace(scratch, path)
    return path


def write_records(run: MatrixRun, recorder: Recorder) -> Path:
    """Write the run's results file once, atomically; returns its path."""
    path = run.results_path()
    records = recorder.finish()
    write_results(
        path, results_header(run), records, finished=now_iso(), collected=recorder.collected()
    )
    return path


def write_manifest(
    path: Path, run: MatrixRun, written: Path, *, records: int, exitstatus: int
) -> None:
    """A JSON note of the results file this run wrote, for the process that started pytest."""
    note = {
        "results": str(written),
        "records": records,
        "shard": run.shard_text,
        "shard_note": run.shard_note,
        "exitstatus": exitstatus,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(note, sort_keys=True) + "\n", encoding="utf-8")
