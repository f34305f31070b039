"""The controller's loaded and planned run, handed to its xdist workers at start-up.

Workers would otherwise each read, validate (jsonschema) and plan the matrix
again before collecting, which costs about as much as a pytest start-up
(benchmarks/plugin_overhead.py at `-n 2`: 0.1-0.2 s wall and 0.2-0.4 s CPU of a
2.4-3.6 s run, enough to push the plugin's overhead past its 1.15 target).
xdist's `workerinput` cannot carry it: a worker needs the run in
`pytest_load_initial_conftests` (to name the paths it collects), before xdist
gives it its `workerinput`. So the hand-off is a file, found through one
environment variable.

Wire form: `MIGMATRIX_RUN_HANDOFF=<fingerprint>:<path>`, where `<fingerprint>`
is `run_key` of the run's inputs (24 hex digits) and `<path>` a private file
holding the `MatrixRun` pickled with the highest protocol of the controller's
Python (workers run the same interpreter). Everything else the controller
knows (run id, services, durations) still travels in `workerinput`.

The variable exists only while xdist starts its workers (`offered`), and a
worker takes it out of its own environment as it reads it (`take`), so no
service or test subprocess started later sees it. A process whose own
fingerprint differs (another matrix, other options, a nested pytest) ignores
it and loads the run for itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from migmatrix.plugin.run_state import MatrixRun

HANDOFF_ENV = "MIGMATRIX_RUN_HANDOFF"


def run_key(matrix_path: str, invocation_dir: Path, *options: object) -> str:
    """A fingerprint of one run's inputs: the matrix file (path, size, mtime) and the options."""
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


def save(run: MatrixRun, folder: str | None = None) -> str:
    """Pickle `run` to a new private file in `folder` (default: the temp directory);
    returns its path (the caller removes it)."""
    fd, name = tempfile.mkstemp(prefix="migmatrix-run-", suffix=".pickle", dir=folder)
    with os.fdopen(fd, "wb") as out:
        pickle.dump(run, out, protocol=pickle.HIGHEST_PROTOCOL)
    return name


@contextlib.contextmanager
def offered(key: str, name: str, environ: MutableMapping[str, str] | None = None) -> Iterator[None]:
    """Name the file `name` for fingerprint `key` in the environment, for the duration only."""
    env = os.environ if environ is None else environ
    env[HANDOFF_ENV] = f"{key}:{name}"
    try:
        yield
    finally:
        env.pop(HANDOFF_ENV, None)


def take(key: str, environ: MutableMapping[str, str] | None = None) -> MatrixRun | None:
    """The run handed over for fingerprint `key`, or None.

    The variable leaves `environ` either way: nothing this process starts inherits it.
    """
    env = os.environ if environ is None else environ
    value = env.pop(HANDOFF_ENV, "")
    found_key, _, name = value.partition(":")
    if found_key != key or not name:
        return None
    try:
        with open(name, "rb") as handle:
            run = pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
        return None
    return run if isinstance(run, MatrixRun) else None


def remove(name: str | None) -> None:
    if name:
        with contextlib.suppress(OSError):
            os.unlink(name)
