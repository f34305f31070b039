"""Seed 8: find every ExecutionEngine import in netra_backend's source and resolve it.

The scan is static (`ast` over the package's .py files); the resolution is
dynamic, in the migration state in effect: the legacy modules serve
`ExecutionEngine` through a module `__getattr__`, so the same import statement
gives the legacy class in one state and `UserExecutionEngine` in another. That
is exactly the seed's "same import paths resolve to different classes".

An import site is either an import statement that imports or binds the name
`ExecutionEngine` (`from m import ExecutionEngine`, `from m import
UserExecutionEngine as ExecutionEngine`, wherever it sits, module level or in a
function), or a module that itself offers `ExecutionEngine` as an import path
(an alias of that name, or a module `__getattr__` that serves it): both are
places code can get an ExecutionEngine from. Class definitions are not sites
(see `_offers`).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path
from typing import Any

NAME = "ExecutionEngine"
SSOT_MODULE = "netra_backend.app.agents.supervisor.user_execution_engine"
SSOT_NAME = "UserExecutionEngine"


@dataclasses.dataclass(frozen=True, order=True)
class ImportSite:
    """One place netra_backend's code gets an ExecutionEngine from.

    `file` is relative to the package's parent folder (e.g.
    `netra_backend/app/services/execution_engine.py`); `module` and `name` say
    what the site imports (`name` is the attribute looked up on `module`);
    `statement` is the source text, for messages.
    """

    file: str
    line: int
    module: str
    name: str
    statement: str
    kind: str  # "import" or "export"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.statement}"


def package_root() -> Path:
    """The folder of the netra_backend package that is imported (a copy's, under a copy)."""
    import netra_backend

    return Path(netra_backend.__file__).resolve().parent


def _module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    # A package's own __init__ is its level-1 anchor; a module's anchor is its parent.
    drop = level - 1 if is_package else level
    anchor = base[: len(base) - drop] if drop else base
    return ".".join([*anchor, module] if module else anchor)


def _targets(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _offers(node: ast.stmt, mentions_name: bool) -> bool:
    """Whether a module-level statement makes `module.ExecutionEngine` an import path.

    An alias (`ExecutionEngine = ...`) does; so does a module `__getattr__`
    (defined or assigned, as netra_backend's legacy paths do with a resolver) in
    a module that speaks of ExecutionEngine at all. A class definition does not:
    it is an implementation, not a path callers are meant to import (the legacy
    classes live in netra_backend.app.legacy and are reached through the paths).
    """
    if NAME in _targets(node):
        return True
    is_getattr = (isinstance(node, ast.FunctionDef) and node.name == "__getattr__") or (
        "__getattr__" in _targets(node)
    )
    return is_getattr and mentions_name


def sites_in_file(path: Path, root: Path) -> list[ImportSite]:
    """The ExecutionEngine import sites of one source file."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    importer = _module_name(path, root)
    is_package = path.name == "__init__.py"
    shown = path.relative_to(root.parent).as_posix()
    sites: list[ImportSite] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if NAME in (alias.name, alias.asname):
                    module = _absolute(node.module, node.level, importer, is_package)
                    text = ast.get_source_segment(source, node) or ast.unparse(node)
                    sites.append(
                        ImportSite(
                            shown, node.lineno, module, alias.name, " ".join(text.split()), "import"
                        )
                    )
    serves_by_getattr = NAME in source
    for node in tree.body:
        if _offers(node, serves_by_getattr):
            sites.append(
                ImportSite(
                    shown, node.lineno, importer, NAME, f"{importer}.{NAME} (served here)", "export"
                )
            )
    return sites


def find_execution_engine_imports(root: Path | None = None) -> list[ImportSite]:
    """Every ExecutionEngine import site in netra_backend's source, sorted by file and line."""
    base = root or package_root()
    sites: list[ImportSite] = []
    for path in sorted(base.rglob("*.py")):
        sites.extend(sites_in_file(path, base))
    return sorted(set(sites))


def import_execution_engine_from_file(site: ImportSite) -> Any:
    """What `site` gives its code right now: the class its import resolves to in this state."""
    module = importlib.import_module(site.module)
    return getattr(module, site.name)


def ssot_class() -> Any:
    return getattr(importlib.import_module(SSOT_MODULE), SSOT_NAME)


def describe(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', repr(cls))}"


def scan_for_execution_engine_imports() -> list[tuple[str, ImportSite, Any]]:
    """(file, site, resolved class) for every site, resolved in the state in effect."""
    return [
        (s.file, s, import_execution_engine_from_file(s)) for s in find_execution_engine_imports()
    ]


def scan_for_deprecated_execution_engine_imports() -> list[tuple[ImportSite, Any]]:
    """The sites that, in the state in effect, give something else than UserExecutionEngine."""
    target = ssot_class()
    return [
        (site, cls) for _, site, cls in scan_for_execution_engine_imports() if cls is not target
    ]
