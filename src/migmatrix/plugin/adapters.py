"""Adapter objects: the `module:attribute` an adapter's `object:` names, imported for a run.

Only the run side imports them (a test calls `cell.adapter_object`); the judge
never does. Each is imported with the matrix folder on sys.path, once per
process. The controller imports every adapter of its cells at configure time
(`import_all`), so a bad `object:` stops the run at once with the file, line
and key to fix, not one error per test.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from migmatrix.errors import MatrixError
from migmatrix.model import Matrix
from migmatrix.text import closest


class _ImportProblem(Exception):
    """An adapter object could not be imported; the message says which part failed and why."""


def load_adapter_object(matrix: Matrix, adapter_name: str) -> object:
    """The object an adapter names, imported once per process with the matrix folder on sys.path.

    `adapter_name` is a declared adapter or one of its states (`partial[engine]`).
    """
    base = adapter_name.split("[", 1)[0]
    for spec in matrix.adapters:
        if spec.name == base:
            if not spec.object:
                return None  # an environment adapter: its suites import the installed code
            try:
                return _import_object(matrix.root, spec.object)
            except _ImportProblem as exc:
                where = spec.object_location
                raise MatrixError(str(exc), where, f"adapters.{spec.name}.object") from None
    declared = [spec.name for spec in matrix.adapters]
    names = ", ".join(declared)
    msg = f"unknown adapter {adapter_name!r}{closest(base, declared)}"
    msg += f" (declared: {names})"
    raise MatrixError(msg)


def _set_aside_foreign(top: str, root: str) -> dict[str, ModuleType]:
    """Take out of sys.modules a package of the same name imported from elsewhere.

    An adapter is named relative to its matrix folder: `adapters.ssot:adapter` means
    that folder's `adapters` package, even when a process has already imported
    another project's `adapters` (a test process driving several matrices does).
    Python would answer from its module cache, so the other package is set aside
    for this import and put back after it. Returns what was set aside.
    """
    loaded = sys.modules.get(top)
    if loaded is None:
        return {}
    here = Path(root)
    if not ((here / top).is_dir() or (here / f"{top}.py").is_file()):
        return {}  # not in the matrix folder: an installed package, taken as it is
    places = [getattr(loaded, "__file__", None), *list(getattr(loaded, "__path__", []) or [])]
    real_root = os.path.realpath(root)
    if any(p and os.path.realpath(p).startswith(real_root + os.sep) for p in places):
        return {}
    return {
        name: sys.modules.pop(name)
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]
    }


@functools.cache
def _import_object(root: str, target: str) -> object:
    module_name, _, attr = target.partition(":")
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    shadowed = _set_aside_foreign(module_name.partition(".")[0], root)
    try:
        importlib.invalidate_caches()
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing and (module_name == missing or module_name.startswith(missing + ".")):
                msg = (
                    f"cannot import {target!r}: there is no module {missing!r} in the matrix "
                    f"folder {root} or on sys.path; create it or fix the `module:attribute` path"
                )
            else:
                msg = (
                    f"cannot import {target!r}: importing module {module_name!r} failed because "
                    f"{exc}; install or fix that dependency"
                )
            raise _ImportProblem(msg) from None
        except (Exception, SystemExit) as exc:
            msg = (
                f"cannot import {target!r}: importing module {module_name!r} raised "
                f"{type(exc).__name__}: {exc}; fix the module so it imports cleanly"
            )
            raise _ImportProblem(msg) from None
    finally:
        if added and root in sys.path:
            sys.path.remove(root)
        if shadowed:
            # Put the other project's modules back; the adapter keeps its own.
            top = module_name.partition(".")[0]
            for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
                del sys.modules[name]
            sys.modules.update(shadowed)
    obj: object = module
    done: list[str] = []
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            owner = ".".join([module_name, *done])
            msg = (
                f"cannot import {target!r}: module {module_name!r} imported, but {owner!r} has "
                f"no attribute {part!r}; define it or fix the attribute after the colon"
                f"{closest(part, names)}"
            )
            raise _ImportProblem(msg)
        obj = getattr(obj, part)
        done.append(part)
    return obj


def import_all(matrix: Matrix, adapter_names: Iterable[str]) -> None:
    """Import the object of every adapter named (states count as their base adapter)."""
    for name in sorted({n.split("[", 1)[0] for n in adapter_names}):
        load_adapter_object(matrix, name)
