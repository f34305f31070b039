"""The mutants of a target file, made by cosmic-ray's operators (no mutator of our own).

cosmic-ray is used as a library: its operator plugins (`cosmic_ray.plugins`) say where
each operator applies in a parso tree, and `cosmic_ray.mutating.mutate_code` applies
one occurrence of one operator to a source text. A mutant is that pair plus the
mutated text, its unified diff and the lines it changed. Operators that need
arguments (configured per session in cosmic-ray) are left out; so are mutants whose
text equals the original (no-op rewrites). Order is deterministic: by line, then
operator name, then occurrence.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path

from migmatrix.errors import UsageError
from migmatrix.match import glob_match


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One mutation of one target file (`target` relative to the project folder)."""

    target: str
    operator: str
    occurrence: int
    line: int
    statement_lines: tuple[int, ...]
    mutated: str
    diff: str
    # Its statement runs when the module is imported (module or class level, a def's
    # header with its defaults and decorators): every run that imports it reaches it.
    import_time: bool = False

    @property
    def id(self) -> str:
        return f"{self.target}:{self.line}:{self.operator}#{self.occurrence}"


def operators() -> list[tuple[str, object]]:
    """cosmic-ray's argument-free operators, as (name, instance), sorted by name."""
    try:
        from cosmic_ray import plugins
    except ImportError:
        msg = "migmatrix mutate needs cosmic-ray: pip install 'migmatrix[mutate]'"
        raise UsageError(msg) from None

    found = []
    for name in sorted(plugins.operator_names()):
        operator_class = plugins.get_operator(name)
        if operator_class.arguments():
            continue
        found.append((name, operator_class()))
    return found


def statement_lines(source: str) -> dict[int, int]:
    """For each line of `source`, the first line of the innermost statement holding it.

    coverage.py records a statement under its first line, while a mutation can sit on
    a continuation line; this maps one to the other.
    """
    return _analyse(source)[0]


def _analyse(source: str) -> tuple[dict[int, int], set[int], list[tuple[tuple[int, int], ...]]]:
    """(line -> statement start, starts of import-time statements, annotation spans).

    Annotation spans are given only under `from __future__ import annotations`, where
    annotations are never evaluated: a mutant inside one is equivalent by construction.
    """
    tree = ast.parse(source)
    starts: dict[int, int] = {}
    import_time: set[int] = set()
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            spans.append((node.lineno, node.end_lineno or node.lineno))
        if isinstance(node, (ast.Module, ast.ClassDef)):
            import_time.update(child.lineno for child in node.body)
    for first, last in sorted(spans):  # outer statements first: inner ones overwrite them
        for line in range(first, last + 1):
            starts[line] = first
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    annotations: list[tuple[tuple[int, int], ...]] = []
    if postponed:
        for node in ast.walk(tree):
            found: list[ast.expr | None] = []
            if isinstance(node, ast.arg):
                found.append(node.annotation)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(node.returns)
            elif isinstance(node, ast.AnnAssign):
                found.append(node.annotation)
            for annotation in found:
                if annotation is not None:
                    annotations.append(
                        (
                            (annotation.lineno, annotation.col_offset),
                            (
                                annotation.end_lineno or annotation.lineno,
                                annotation.end_col_offset or 0,
                            ),
                        )
                    )
    return starts, import_time, annotations


def _in_annotation(
    position: tuple[int, int], annotations: Sequence[tuple[tuple[int, int], ...]]
) -> bool:
    return any(start <= position < end for start, end in annotations)


def _positions(source: str, operator: object) -> list[tuple[tuple[int, int], int]]:
    """Each occurrence's (start (line, column), last line), in cosmic-ray's order."""
    from cosmic_ray.ast import ast_nodes, get_ast

    tree = get_ast(source)
    return [
        ((start[0], start[1]), end[0])
        for node in ast_nodes(tree)
        for start, end in operator.mutation_positions(node)  # type: ignore[attr-defined]
    ]


def make_mutants(root: Path, target: str, patterns: Sequence[str] | None = None) -> list[Mutant]:
    """Every mutant cosmic-ray's operators make of `root/target`."""
    from cosmic_ray.mutating import mutate_code

    path = root / target
    try:
        source = path.read_text(encoding="utf-8")
        starts, import_time, annotations = _analyse(source)
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        msg = f"--target {target}: cannot read it as Python source ({exc}); give a .py file"
        raise UsageError(msg) from None
    chosen = operators()
    if patterns:
        chosen = [(n, op) for n, op in chosen if any(glob_match(p, n) for p in patterns)]
        if not chosen:
            msg = (
                f"--operator {' '.join(patterns)}: matches none of cosmic-ray's operators; "
                "see `cosmic-ray operators` for their names"
            )
            raise UsageError(msg)
    mutants: list[Mutant] = []
    for name, operator in chosen:
        for occurrence, (start, last) in enumerate(_positions(source, operator)):
            first = start[0]
            if _in_annotation(start, annotations):
                continue  # never evaluated: equivalent by construction
            mutated = mutate_code(source, operator, occurrence)
            if mutated is None or mutated == source:
                continue
            # coverage.py's raw data keeps the line each bytecode ran on (a condition's
            # continuation line, say), so every line from the statement's start to the
            # mutation counts.
            lines = tuple(
                sorted(
                    {
                        covered
                        for line in range(first, last + 1)
                        for covered in range(starts.get(line, line), line + 1)
                    }
                )
            )
            mutants.append(
                Mutant(
                    target=target,
                    operator=name,
                    occurrence=occurrence,
                    line=first,
                    statement_lines=lines,
                    mutated=mutated,
                    diff=unified_diff(target, source, mutated),
                    import_time=any(line in import_time for line in lines),
                )
            )
    mutants.sort(key=lambda m: (m.line, m.operator, m.occurrence))
    return mutants


def unified_diff(target: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{target}",
            tofile=f"b/{target}",
        )
    )


def spread(mutants: Sequence[Mutant], limit: int | None) -> list[Mutant]:
    """At most `limit` mutants, evenly spread over the list (deterministic), or all of them."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    if limit <= 0:
        return []
    step = len(mutants) / limit
    return [mutants[int(i * step)] for i in range(limit)]


def compiles(mutant: Mutant) -> bool:
    """Whether the mutated text is still Python (else the mutant is incompetent)."""
    try:
        compile(mutant.mutated, mutant.target, "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def all_mutants(
    root: Path, targets: Iterable[str], patterns: Sequence[str] | None = None
) -> list[Mutant]:
    found: list[Mutant] = []
    for target in targets:
        found.extend(make_mutants(root, target, patterns))
    return found
