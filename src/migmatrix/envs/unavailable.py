"""The results file of an environment that could not be installed: `unavailable` records.

Nothing ran, yet every planned cell of the environment on this Python must show
up in the gate, or it reads as `missing`. So the session that failed to install
writes one record per cell, for the test `*`, with the outcome `unavailable` and
the installer's message, into the file the run would have written
(`py3.12-<environment>.jsonl`). The gate judges it against what matrix.yaml
expects of the cell (`outcome: unavailable`, or the unexpected verdict).
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

from migmatrix.envs.spec import cells_in
from migmatrix.load import load_matrix
from migmatrix.model import Record, ResultsHeader
from migmatrix.outcomes import Outcome
from migmatrix.plan import plan_cells
from migmatrix.results import write_results
from migmatrix.select import select_cells

ALL_TESTS = "*"


def write_unavailable(
    matrix_path: str,
    *,
    python: str,
    environment: str,
    message: str,
    results_dir: str | os.PathLike[str] = "results",
    cells: str | None = None,
) -> Path | None:
    """Write the `unavailable` records of `environment` on `python`; None when it has no cell."""
    matrix = load_matrix(matrix_path)
    planned = select_cells(plan_cells(matrix), python=[python])
    chosen = cells_in(matrix, planned, environment)
    if cells:
        chosen = select_cells(chosen, expression=cells) if chosen else chosen
    if not chosen:
        return None
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    header = ResultsHeader(
        run_id=f"py{python}-{environment}",
        python=python,
        platform=f"{sys.platform}-{platform.machine() or 'unknown'}-unavailable",
        matrix_digest=matrix.digest,
        selection=cells,
        shard=None,
        started=started,
        extra={"environment": {"name": environment, "unavailable": message}},
    )
    records = [Record(c.id, ALL_TESTS, Outcome.UNAVAILABLE, message=message) for c in chosen]
    path = Path(results_dir) / f"py{python}-{environment}.jsonl"
    write_results(path, header, records)
    return path
