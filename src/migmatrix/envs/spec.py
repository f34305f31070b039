"""What each environment of a matrix is: pure functions of the loaded matrix.

`environments(matrix)` lists them in display order: `DEFAULT` (the in-process
adapters, if any) and then one per state of every environment adapter, a
versions sweep's `{version}` replaced in its requirements. `pins` are the
distributions a requirement pins exactly (`name==1.4.0`): after installing, each
must be at that version, and the test processes check the module they import
comes from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from migmatrix.model import AdapterSpec, Cell, Matrix
from migmatrix.sweep import expand_adapter

DEFAULT = "default"
"""The environment of the in-process adapters: the interpreter's own."""


@dataclasses.dataclass(frozen=True)
class Environment:
    """One environment: the state it runs and what it installs.

    `requirements` are PEP 508 strings, `{version}` already replaced;
    `requirements_file` an absolute path; `ref`/`repo`/`install` a git ref to
    check out and what to install from it (`repo` None = the matrix's own
    repository); `env` the variables of its test processes; `pins` the exact
    versions (canonical distribution name -> version) it must end up with.
    """

    name: str
    adapter: str = ""
    requirements: tuple[str, ...] = ()
    requirements_file: str | None = None
    ref: str | None = None
    repo: str | None = None
    install: str = "."
    env: tuple[tuple[str, str], ...] = ()
    pins: tuple[tuple[str, str], ...] = ()

    @property
    def installs(self) -> bool:
        """Whether it installs anything beyond the project (else only `env` sets it apart)."""
        return bool(self.requirements or self.requirements_file or self.ref)

    def spec_hash(self, *extra: str) -> str:
        """A digest of everything that decides its contents, plus `extra` (python, harness)."""
        data = [dataclasses.asdict(self), list(extra)]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def pins_of(requirements: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(canonical name, version) of every requirement that pins one exact version."""
    found: dict[str, str] = {}
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            found[canonicalize_name(requirement.name)] = specs[0].version
    return tuple(sorted(found.items()))


def _state_environment(matrix: Matrix, spec: AdapterSpec, state: str) -> Environment:
    version = state[len(spec.name) + 1 : -1] if spec.versions else ""
    requirements = tuple(text.replace("{version}", version) for text in spec.requirements)
    requirements_file = None
    if spec.requirements_file:
        requirements_file = str(Path(matrix.root, spec.requirements_file).resolve())
    repo = spec.repo
    if repo is not None and "://" not in repo and not repo.startswith("git@"):
        repo = str(Path(matrix.root, repo).resolve())
    return Environment(
        name=state,
        adapter=spec.name,
        requirements=requirements,
        requirements_file=requirements_file,
        ref=spec.ref,
        repo=repo,
        install=spec.install,
        env=spec.env,
        pins=pins_of(requirements),
    )


def environments(matrix: Matrix) -> tuple[Environment, ...]:
    """Every environment of the matrix in display order; DEFAULT first when it has adapters."""
    found: list[Environment] = []
    if any(not spec.has_environment for spec in matrix.adapters):
        found.append(Environment(DEFAULT))
    for spec in matrix.adapters:
        if spec.has_environment:
            found += [_state_environment(matrix, spec, s) for s, _, _ in expand_adapter(spec)]
    return tuple(found)


def environment_of(matrix: Matrix, cell: Cell) -> str:
    """The name of the environment a cell runs in: its state's, or DEFAULT."""
    base = cell.adapter_base or cell.adapter
    spec = next((s for s in matrix.adapters if s.name == base), None)
    return cell.adapter if spec is not None and spec.has_environment else DEFAULT


def cells_in(matrix: Matrix, cells: Sequence[Cell], name: str | None) -> tuple[Cell, ...]:
    """The cells of environment `name` (None = DEFAULT) among `cells`, order kept."""
    wanted = name or DEFAULT
    return tuple(cell for cell in cells if environment_of(matrix, cell) == wanted)


def named(matrix: Matrix, name: str) -> Environment:
    """The environment called `name`; a ValueError naming the known ones otherwise."""
    if name == DEFAULT:
        return Environment(DEFAULT)
    for environment in environments(matrix):
        if environment.name == name:
            return environment
    known = ", ".join(e.name for e in environments(matrix))
    msg = f"no environment {name!r} in {matrix.path} (its environments: {known})"
    raise ValueError(msg)


def ci_jobs(matrix: Matrix, cells: Sequence[Cell], shards: int) -> list[dict[str, str]]:
    """The CI job matrix: one job per (python, environment, shard) that has selected cells.

    Each job names the nox session that runs it (`run-3.12`, or `run-3.12(before)`
    once the matrix has environment adapters), so a workflow runs
    `nox -s "$SESSION" -- --shard "$SHARD"` whatever the environment.
    """
    names = [e.name for e in environments(matrix)]
    parametrized = names != [DEFAULT]
    present = {(c.python, environment_of(matrix, c)) for c in cells}
    jobs = []
    for python in matrix.python:
        for name in names:
            if (python, name) not in present:
                continue
            session = f"run-{python}({name})" if parametrized else f"run-{python}"
            for i in range(1, shards + 1):
                jobs.append(
                    {"python": python, "environment": name, "session": session,
                     "shard": f"{i}/{shards}"}
                )  # fmt: skip
    return jobs
