"""Test durations of earlier runs, read to balance shards (`--matrix-durations`)."""

from __future__ import annotations

from pathlib import Path

from migmatrix.errors import ResultsError
from migmatrix.results import read_results


def read_durations(source: Path) -> dict[str, float]:
    """Map "cell::test" -> seconds from earlier results: one file, or a folder's `*.jsonl`.

    Shards balance only with input given on purpose (`--matrix-durations`), never
    with whatever the results folder happens to hold: shards run one after another
    would otherwise see their siblings' files appear and split differently, and
    overlap or leave gaps. A key seen in several files keeps its longest time;
    damaged files and lines are skipped (the durations are a hint, not data).
    """
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
