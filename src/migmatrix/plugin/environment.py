"""Which code the test processes really import: the environment check of a matrix run.

An environment adapter's cells must test the release its environment installed.
The trap: running a suite from inside a source tree can put that tree first on
`sys.path` (pytest's rootdir insertion, a conftest at the top), and then the
"old release" cells silently import the new source. So, in the process that runs
the tests, after collection (when the suites have imported what they import),
every pinned distribution's top-level module is looked at: its version and its
file, which must be one of the files that distribution installed.

What was seen goes into the results file's header (`environment`): the
environment's name, the interpreter, the versions of the pinned distributions
and of migmatrix and pytest, and the commit of a ref (from the stamp the
install left in the environment). The gate (`migmatrix.envs.check`) refuses a
file whose environment imported the wrong thing.

With xdist the workers collect, not the controller: each worker sends its
observation back through `workeroutput`, and the controller keeps every one.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from migmatrix.envs import spec as envspec
from migmatrix.envs.install import STAMP_NAME
from migmatrix.errors import UsageError
from migmatrix.model import Cell, Matrix

OUTPUT_KEY = "migmatrix_environment"


def environment_cells(matrix: Matrix, cells: Sequence[Cell], name: str | None) -> tuple[Cell, ...]:
    """The cells of environment `name` (None: the in-process adapters'); a bad name is refused."""
    if name is not None:
        known = [e.name for e in envspec.environments(matrix)]
        if name not in known:
            msg = (
                f"--matrix-environment {name!r}: {matrix.path} has no such environment "
                f"(its environments: {', '.join(known) or 'none'})"
            )
            raise UsageError(msg)
    return envspec.cells_in(matrix, cells, name)


def _top_level_modules(dist: importlib.metadata.Distribution) -> list[str]:
    listed = (dist.read_text("top_level.txt") or "").split()
    if listed:
        return sorted(listed)
    names = set()
    for file in dist.files or ():
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first in ("__pycache__", "..", "bin"):
            continue
        if len(file.parts) > 1 or first.endswith(".py"):
            names.add(first.removesuffix(".py"))
    return sorted(n for n in names if n.isidentifier())


def observe_pin(name: str, expected: str) -> dict[str, Any]:
    """What this process imports for the pinned distribution `name`, and whether it is the pin."""
    seen: dict[str, Any] = {"expected": expected, "found": None, "module": None, "file": None}
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        seen["problem"] = f"{name} is not installed (expected {expected})"
        return seen
    seen["found"] = dist.version
    if dist.version != expected:
        seen["problem"] = f"{name} {dist.version} is installed, expected {expected}"
        return seen
    installed = {str(Path(str(dist.locate_file(file))).resolve()) for file in dist.files or ()}
    for module_name in _top_level_modules(dist):
        try:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
        except Exception as exc:  # any import failure is what this reports
            seen["problem"] = f"importing {module_name} failed: {type(exc).__name__}: {exc}"
            return seen
        file = getattr(module, "__file__", None)
        seen["module"], seen["file"] = module_name, file
        if file is None or str(Path(file).resolve()) not in installed:
            seen["problem"] = (
                f"{module_name} is imported from {file}, not from the installed {name} "
                f"{dist.version} (a source tree first on sys.path?)"
            )
            return seen
        version = getattr(module, "__version__", None)
        if isinstance(version, str) and version != expected:
            seen["problem"] = f"{module_name}.__version__ is {version}, expected {expected}"
            return seen
        break
    return seen


def observe(matrix: Matrix, name: str | None) -> dict[str, Any]:
    """The header's `environment` entry for environment `name` as this process sees it."""
    environment = envspec.named(matrix, name or envspec.DEFAULT)
    versions: dict[str, str | None] = {}
    for dist in ("migmatrix", "pytest"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    stamp = Path(sys.prefix, STAMP_NAME)
    stamped: dict[str, Any] = {}
    if stamp.is_file():
        try:
            stamped = json.loads(stamp.read_text(encoding="utf-8"))
        except ValueError:
            stamped = {}
    pins = {dist: observe_pin(dist, version) for dist, version in environment.pins}
    versions.update({dist: seen["found"] for dist, seen in pins.items()})
    return {
        "name": environment.name,
        "interpreter": sys.executable,
        "python_version": ".".join(map(str, sys.version_info[:3])),
        "versions": dict(sorted(versions.items())),
        "pins": pins,
        "ref": stamped.get("ref"),
    }


class EnvironmentCheck:
    """Observes the environment after collection, on whichever process collects.

    The observations of every process land in `run.header_extra["environment"]`
    (the controller's, or the one of a run without xdist): one entry, plus the
    first problem any process saw, so a worker that imported the wrong file is
    never outvoted.
    """

    def __init__(self, config: pytest.Config, run: Any) -> None:
        self.config = config
        self.run = run
        self.seen: dict[str, Any] | None = None

    def _keep(self, seen: dict[str, Any]) -> None:
        kept = self.run.header_extra.get("environment")
        if kept is None or any(p.get("problem") for p in seen["pins"].values()):
            self.run.header_extra["environment"] = seen

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.seen = observe(self.run.matrix, self.run.environment)
        if not hasattr(self.config, "workerinput"):
            self._keep(self.seen)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None and self.seen is not None:
            workeroutput[OUTPUT_KEY] = json.dumps(self.seen)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        sent = getattr(node, "workeroutput", {}).get(OUTPUT_KEY)
        if sent:
            self._keep(json.loads(sent))
