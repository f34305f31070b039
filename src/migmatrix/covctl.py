"""Coverage measurement with one dynamic context per cell.

Each process that runs tests (every xdist worker, or the only process) starts its
own coverage.py collector, writing a parallel data file into the run's coverage
folder, and switches the dynamic context to the cell id around every test; the
gate combines the files of every interpreter, shard and CI job afterwards. This is
pytest-cov's approach, minus its reporting: contexts named by cell let a rule ask
"did any ssot cell reach a line of the legacy engine?".

The core is pinned to the C tracer (`core = "ctrace"` in the project's coverage
configuration, and here as a fallback) because sys.monitoring does not record
dynamic contexts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DATA_NAME = ".coverage"


class CellCoverage:
    """A started coverage collector for one test process."""

    def __init__(self, data_dir: str | os.PathLike[str], config_file: str | bool = True) -> None:
        import coverage  # imported lazily: a run without coverage never pays for it

        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self._cov: Any = coverage.Coverage(
            data_file=str(Path(data_dir) / DATA_NAME),
            data_suffix=True,
            config_file=config_file,
        )
        # The C tracer is the only core that records dynamic contexts; pin it
        # even when the project's configuration does not say so.
        if self._cov.config.get_option("run:core") in (None, ""):
            self._cov.config.set_option("run:core", "ctrace")
        self._cov.start()

    def switch(self, context: str) -> None:
        """Attribute the lines run from now on to `context` (a cell id, or "" between tests)."""
        self._cov.switch_context(context)

    def stop(self) -> None:
        """Stop measuring and write this process's data file."""
        self._cov.stop()
        self._cov.save()


def clear_run_folder(data_dir: Path, stem: str) -> Path:
    """Empty (or create) `data_dir/stem`, the data folder of one run (py3.12, py3.12-shard-1-of-3).

    Parallel data files carry no run name, so an earlier run's files left in a
    shared folder would be combined with this run's; one folder per results file,
    emptied when the run starts, keeps the coverage and the results of a run together.
    """
    folder = data_dir / stem
    if folder.is_dir():
        for stale in folder.glob(f"{DATA_NAME}*"):
            stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def html_report(data_file: str | os.PathLike[str], directory: str | os.PathLike[str]) -> float:
    """Write coverage.py's HTML report with contexts shown; returns the total percent."""
    import coverage

    cov = coverage.Coverage(data_file=str(data_file), config_file=True)
    cov.load()
    total: float = cov.html_report(directory=str(directory), show_contexts=True)
    return total
