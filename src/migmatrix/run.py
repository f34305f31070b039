"""The `run` step: one pytest + xdist process per interpreter, over that interpreter's cells.

`build_command` is a pure function from the run's settings to the argv of
`python -m pytest --matrix ...`; `run_matrix` finds the interpreter, runs the
command as a subprocess from the matrix's folder and returns pytest's exit
code. The plugin inside that pytest does the rest (parametrize, record, write the
results file); deciding whether the matrix passed is the gate's job, not this one's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from migmatrix.errors import UsageError


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


def build_command(
    matrix_path: str,
    *,
    interpreter: str,
    cells: str | None = None,
    shard: str | None = None,
    results_dir: str = "results",
    workers: int | str = "auto",
    coverage_dir: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argv of one matrix run; `workers` 0 runs in-process without xdist."""
    argv = [interpreter, "-m", "pytest", "--matrix", matrix_path, "--results-dir", results_dir]
    if cells:
        argv += ["--cells", cells]
    if shard:
        argv += ["--shard", shard]
    if str(workers) in ("0", ""):
        argv += ["-p", "no:xdist"]
    else:
        argv += ["-n", str(workers)]
    if coverage_dir:
        argv += ["--matrix-coverage", coverage_dir]
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
    coverage: bool = False,
    pytest_args: Sequence[str] = (),
) -> int:
    """Run the matrix's cells of one interpreter in one pytest process; return its exit code.

    Paths are taken relative to the current folder; the command runs there, so
    pytest's rootdir and the node ids in the results are those of the project.
    `pytest_args` is an alias of `extra_args` (both are appended, in that order).
    Coverage data, when asked for, goes to `<results_dir>/coverage`.
    """
    if not Path(matrix_path).is_file():
        msg = f"matrix file {matrix_path!r} does not exist; pass the right path with --matrix"
        raise UsageError(msg)
    coverage_dir = str(Path(results_dir) / "coverage") if coverage else None
    argv = build_command(
        matrix_path,
        interpreter=find_python(python),
        cells=cells,
        shard=shard,
        results_dir=results_dir,
        workers=workers,
        coverage_dir=coverage_dir,
        extra_args=[*extra_args, *pytest_args],
    )
    return subprocess.call(argv)
