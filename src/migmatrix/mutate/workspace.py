"""Scratch copies of the project: the baseline and every mutant run in one, never in the original.

All copies live in one scratch folder made by `migmatrix.plugin.scratch` (locked by
this process, removed on every exit it lives through, swept by a later run if it was
SIGKILLed). Each parallel slot gets its own copy; a mutant writes its text over the
target in that copy, runs, and puts the original text back, so copies are made once
per slot, not per mutant. The interpreter and its installed packages (the
environment) are reused: the copy's source roots go first on PYTHONPATH, so the
mutated module is imported from the copy even where the project is installed
editable, and no byte-code is written that a same-size mutant could be mistaken for.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from migmatrix.plugin import scratch

# Not copied: version control, environments, caches and earlier outputs.
IGNORED = (
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".nox",
    ".tox",
    "__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
    "*.egg-info",
    "results",
    "reports",
    "htmlcov",
    ".coverage*",
)


def module_name(root: Path, target: str) -> str | None:
    """The dotted name `target` imports as (None when it is not below a package root)."""
    parts = list(Path(target).with_suffix("").parts)
    folder = root / Path(target).parent
    name = [parts[-1]] if parts[-1] != "__init__" else []
    while (folder / "__init__.py").exists():
        name.insert(0, folder.name)
        folder = folder.parent
    return ".".join(name) or None


class Workspace:
    """The scratch folder of one `migmatrix mutate` and the project copies in it."""

    def __init__(self, project: Path, targets: Iterable[str]) -> None:
        self.project = project
        self.targets = sorted(targets)
        self._scratch = scratch.make("mutate")
        self.path = Path(self._scratch.path)

    def copy(self, name: str) -> Path:
        dest = self.path / name
        shutil.copytree(self.project, dest, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
        return dest

    def environ(self, copy: Path, base: Mapping[str, str]) -> dict[str, str]:
        roots = []
        for target in self.targets:
            root = str(copy / _package_root(self.project, target))
            if root not in roots:
                roots.append(root)
        roots.append(str(copy))
        environ = dict(base)
        old = environ.get("PYTHONPATH")
        environ["PYTHONPATH"] = os.pathsep.join(roots + ([old] if old else []))
        environ["PYTHONDONTWRITEBYTECODE"] = "1"
        # Whatever the runs put in the temp directory (pytest's, the matrix's own scratch
        # folders) lives in the copy and goes with it, even from a run that was killed.
        temp = copy / ".mutate" / "tmp"
        temp.mkdir(parents=True, exist_ok=True)
        environ["TMPDIR"] = str(temp)
        return environ

    def release(self) -> None:
        scratch.release(self._scratch)


def _package_root(project: Path, target: str) -> Path:
    folder = Path(target).parent
    while str(folder) not in ("", ".") and (project / folder / "__init__.py").exists():
        folder = folder.parent
    return folder
