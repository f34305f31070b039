"""Coverage rules of matrix.yaml (`gates.coverage`), checked on combined coverage data.

The runs record coverage with dynamic contexts set to cell ids, so one combined
data file answers "which lines did the ssot cells run?". A rule selects files
(globs over paths relative to the matrix folder, `*` crossing folders) and
cells (a glob over contexts), then bounds what those cells covered in those
files:

- `max_lines: 0` = no line of those files ran in any of those cells (proof that
  nothing reaches the legacy code);
- `min_percent: 80` = those cells covered at least 80% of those files'
  statements (statements come from coverage.py's analysis of the source).

A context written as `cell|test` (pytest-cov's style) counts for its cell.

Lines that run only when their module is imported (imports, `def` and `class`
statements, decorators, module and class bodies) never count for a cell: which
cell happened to import a module first is an accident of ordering, not something
the cell's code did. A file's import-only lines are every line outside the bodies
of its functions and lambdas (`import_only_lines`, from the file's syntax tree);
they are left out of `max_lines` counts and of `min_percent`'s statements alike.
The plugin also imports every adapter object before the first test, outside any
cell's context, so what an adapter imports at its top runs there.
"""

from __future__ import annotations

import ast
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import coverage
from coverage.exceptions import CoverageException

from migmatrix.errors import UsageError
from migmatrix.match import glob_match
from migmatrix.model import CoverageRule, CoverageVerdict, Matrix


def _relative(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        rel = path
    return rel.replace(os.sep, "/")


def _cell_of(context: str) -> str:
    return context.split("|", 1)[0]


def import_only_lines(source: str) -> frozenset[int]:
    """The lines of `source` that run only when its module is imported.

    Every line outside the bodies of its functions and lambdas: module and class
    bodies, imports, decorators, `def` headers with their defaults. A one-line
    `def f(): return 1` shares its line with its body and is kept (it may run in a
    cell); source that does not parse gives no lines, so nothing is left out.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    last = len(source.splitlines())
    called: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start, end = node.body[0].lineno, node.end_lineno or node.body[-1].lineno
        elif isinstance(node, ast.Lambda):
            start, end = node.body.lineno, node.body.end_lineno or node.body.lineno
        else:
            continue
        called.update(range(start, end + 1))
    return frozenset(line for line in range(1, last + 1) if line not in called)


def _import_only(path: str) -> frozenset[int]:
    try:
        with open(path, encoding="utf-8") as source:
            return import_only_lines(source.read())
    except (OSError, UnicodeDecodeError):
        return frozenset()  # source gone: every recorded line counts


def _line_ranges(lines: Iterable[int]) -> str:
    """10,11,12,15 -> '10-12,15': every line, in as few characters as they take."""
    parts: list[str] = []
    ordered = sorted(lines)
    start = prev = ordered[0] if ordered else 0
    for line in ordered[1:]:
        if line != prev + 1:
            parts.append(f"{start}-{prev}" if prev > start else str(start))
            start = line
        prev = line
    if ordered:
        parts.append(f"{start}-{prev}" if prev > start else str(start))
    return ",".join(parts)


def read_data(path: str) -> coverage.CoverageData:
    """Read a combined coverage data file, or UsageError when it is not one."""
    if not os.path.isfile(path):
        msg = f"coverage data file {path!r} does not exist; run `coverage combine` first"
        raise UsageError(msg)
    data = coverage.CoverageData(basename=path)
    try:
        data.read()
    except CoverageException as exc:
        msg = f"{path}: not a coverage.py data file ({exc})"
        raise UsageError(msg) from None
    return data


def check_rule(
    rule: CoverageRule,
    data: coverage.CoverageData,
    root: str,
    statements: dict[str, set[int]] | None = None,
) -> CoverageVerdict:
    """Judge one rule; `statements` maps files to their statement lines (for min_percent)."""
    files = sorted(
        f
        for f in data.measured_files()
        if any(glob_match(pattern, _relative(f, root)) for pattern in rule.files)
    )
    contexts = {c for c in data.measured_contexts() if glob_match(rule.cells, _cell_of(c))}
    at_import = {name: _import_only(name) for name in files}
    covered: dict[str, set[int]] = {}
    for name in files:
        lines = {
            line
            for line, line_contexts in data.contexts_by_lineno(name).items()
            if line not in at_import[name] and any(c in contexts for c in line_contexts)
        }
        if lines:
            covered[name] = lines
    count = sum(len(lines) for lines in covered.values())
    problems: list[str] = []
    if not contexts:
        # Nothing measured for the rule's cells proves nothing, in either direction.
        problems.append(
            f"no coverage data of any cell matching {rule.cells!r}: did those cells run "
            "with --matrix-coverage?"
        )
    details: list[str] = [
        f"{len(files)} file(s), {len(contexts)} context(s) matching {rule.cells!r}"
    ]
    if rule.max_lines is not None:
        details.append(f"{count} line(s) covered (max {rule.max_lines})")
        if count > rule.max_lines:
            # Every counted line, as ranges: a message that counts 40 lines names 40.
            where = "; ".join(
                f"{_relative(name, root)}:{_line_ranges(lines)}"
                for name, lines in sorted(covered.items())
            )
            problems.append(f"reached at {where}")
    if rule.min_percent is not None:
        if not files:
            problems.append("no measured file matches the rule's files")
            details.append(f"0% (min {rule.min_percent:g}%)")
        else:
            known = {
                name: set(lines) - at_import.get(name, frozenset())
                for name, lines in (statements or {}).items()
            }
            total = sum(len(known.get(name, ())) for name in files)
            hit = sum(len(covered.get(name, set()) & known.get(name, set())) for name in files)
            percent = 100.0 * hit / total if total else 0.0
            details.append(f"{percent:.2f}% of {total} statements (min {rule.min_percent:g}%)")
            if percent < rule.min_percent:
                problems.append("below the minimum")
    return CoverageVerdict(rule=rule, passed=not problems, detail="; ".join(details + problems))


def _statements(path: str, files: Iterable[str]) -> tuple[dict[str, set[int]], float | None]:
    """Statement lines per file and the total percent, from coverage.py's source analysis."""
    cov = coverage.Coverage(data_file=path, config_file=False)
    cov.load()
    statements: dict[str, set[int]] = {}
    for name in files:
        try:
            _, lines, _, _, _ = cov.analysis2(name)
        except (CoverageException, OSError):
            continue  # source gone or not Python: the rule sees zero statements
        statements[name] = set(lines)
    try:
        total: float | None = cov.report(file=io.StringIO(), ignore_errors=True)
    except CoverageException:
        total = None
    return statements, total


def combine_folder(folder: str | Sequence[str], target: str) -> str:
    """Combine the parallel data files below `folder` (one or several) into `target`.

    Inputs are kept, so a second gate over the same folders sees the same data.
    Each run keeps its data in a folder of its own (py3.12/, py3.12-shard-2-of-3/)
    and CI jobs download theirs side by side, so every `.coverage.*` file below
    each folder is combined.
    """
    folders = [folder] if isinstance(folder, str) else list(folder)
    parts: list[str] = []
    for one in folders:
        if not os.path.isdir(one):
            msg = f"coverage folder {one!r} does not exist; pass the folder of .coverage.* files"
            raise UsageError(msg)
        found = sorted(str(p) for p in Path(one).rglob(".coverage.*") if p.is_file())
        if not found:
            msg = f"coverage folder {one!r} holds no .coverage.* data files; run with coverage"
            raise UsageError(msg)
        parts.extend(found)
    cov = coverage.Coverage(data_file=target, config_file=False)
    try:
        cov.combine(parts, keep=True)
    except CoverageException as exc:
        msg = f"{', '.join(folders)}: cannot combine coverage data ({exc})"
        raise UsageError(msg) from None
    cov.save()
    return target


def evaluate_coverage(
    matrix: Matrix, data_path: str
) -> tuple[tuple[CoverageVerdict, ...], float | None]:
    """Check every coverage rule of the matrix; also return the total percent (None if unknown)."""
    data = read_data(data_path)
    statements, total = _statements(data_path, sorted(data.measured_files()))
    verdicts = tuple(
        check_rule(rule, data, matrix.root, statements) for rule in matrix.gates.coverage
    )
    return verdicts, total
