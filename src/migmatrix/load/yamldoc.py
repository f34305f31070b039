"""Read YAML so that every value keeps the line and column it was written at.

The file is parsed with PyYAML's `compose()`, not `safe_load()`: a `Doc` holds the
plain data plus, for every path into it, the node of the value and of its key, so
any later check can name `file:line:column` and the dotted key. YAML's own traps
are refused here: syntax errors, duplicate keys (YAML silently keeps the last
one) and keys that are not strings. So are inputs that would exhaust the loader
before any check runs: nesting deeper than `MAX_DEPTH`, aliases that expand to
more than `MAX_VALUES` values (a "billion laughs" file), aliases that contain
themselves, numbers too long to read, and numbers that are not finite.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from migmatrix.errors import MatrixError
from migmatrix.model import Location
from migmatrix.text import shorten

KeyPath = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_DEPTH = 50
"""Nesting levels a matrix may use; this repository's needs 6, PyYAML recurses per level."""
MAX_VALUES = 100_000
"""Values (scalars, lists, mappings) a matrix may hold once its aliases are expanded."""
MAX_NUMBER = 10**15
"""Largest magnitude a number may have: far above any timeout, count or percentage."""


@dataclasses.dataclass
class Doc:
    """Parsed data plus, for every path into it, the node of the value and of its key."""

    file: str
    data: Any
    values: dict[KeyPath, yaml.Node]
    keys: dict[KeyPath, yaml.Node]

    def at(self, path: KeyPath) -> Location:
        node = self.values.get(path)
        return mark(self.file, node) if node is not None else Location(self.file, 1, 1)

    def key_at(self, path: KeyPath) -> Location:
        node = self.keys.get(path)
        return mark(self.file, node) if node is not None else self.at(path)

    def raw(self, path: KeyPath) -> str | None:
        node = self.values.get(path)
        return node.value if isinstance(node, yaml.ScalarNode) else None


def mark(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def dotted(path: Iterable[str | int]) -> str:
    """`adapters.partial.components[0].name` for a path into the document."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = shorten(str(part))
            out += f".{name}" if out else name
    return out


class _TooDeep(Exception):
    """Raised by the bounded composer at the first node nested deeper than `MAX_DEPTH`."""

    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__()
        self.mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit: its composer recurses once per level, so
    a deeply nested file would otherwise end in RecursionError before anything is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.depth >= MAX_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _TooDeep(event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(file: str, text: str) -> Doc:
    """Parse `text` (read from `file`) into a `Doc`; raise `MatrixError` at the bad spot."""
    try:
        root = yaml.compose(text, Loader=_BoundedLoader)
    except _TooDeep as exc:
        msg = (
            f"the values here are nested more than {MAX_DEPTH} levels deep; a matrix needs a "
            "few levels: close the brackets or indentation levels opened above"
        )
        raise MatrixError(msg, Location(file, exc.mark.line + 1, exc.mark.column + 1)) from None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(file, exc, "; fix the syntax at this position") from None
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise MatrixError(msg, Location(file, 1, 1)) from None
    doc = Doc(file, None, {}, {})
    if root is None:
        msg = "the file is empty; it needs at least python, phases, adapters and envs"
        raise MatrixError(msg, Location(file, 1, 1))
    _check_expansion(file, root)
    constructor = yaml.SafeLoader("")
    try:
        doc.data = _convert(doc, constructor, root, ())
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(file, exc) from None
    return doc


def _yaml_error(file: str, exc: yaml.MarkedYAMLError, hint: str = "") -> MatrixError:
    """The matrix error for a YAML error: at its mark, its context and problem, then `hint`."""
    where = exc.problem_mark or exc.context_mark
    loc = Location(file, where.line + 1, where.column + 1) if where else None
    problem = " ".join(p for p in (exc.context, exc.problem) if p)
    msg = f"not valid YAML: {problem}{hint}"
    return MatrixError(msg, loc)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield key_node
            yield value_node


def _check_expansion(file: str, root: yaml.Node) -> None:
    """Refuse a node graph that has a cycle or expands to more than `MAX_VALUES` values.

    PyYAML composes an alias as the very node it names, so the graph is small even
    when its expansion is astronomical; sizes are summed over the graph once, with
    each node's expanded size remembered, and the walk keeps its own stack.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = {id(root)}
    stack: list[tuple[yaml.Node, Iterator[yaml.Node]]] = [(root, _children(root))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            open_nodes.discard(id(node))
            size = 1 + sum(sizes[id(c)] for c in _children(node))
            if size > MAX_VALUES:
                msg = (
                    f"this value holds more than {MAX_VALUES:,} values once its YAML aliases "
                    "(*name) are expanded; a matrix needs far fewer: write the values out, "
                    "or refer to an anchor fewer times"
                )
                raise MatrixError(msg, mark(file, node))
            sizes[id(node)] = size
        elif id(child) in open_nodes:
            msg = (
                "the value anchored here contains an alias to itself (a recursive YAML alias), "
                "which has no end; point the alias at a value outside the anchored one"
            )
            raise MatrixError(msg, mark(file, child))
        elif id(child) not in sizes:
            open_nodes.add(id(child))
            stack.append((child, _children(child)))


def _scalar(
    doc: Doc, constructor: yaml.SafeLoader, node: yaml.ScalarNode, path: KeyPath, *, key: bool
) -> Any:
    """The value of a scalar, refused where Python cannot read it or it is no usable number."""
    where = dotted(path) or None
    try:
        value = constructor.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        msg = (
            f"{shorten(node.value)} cannot be read as the {node.tag.rsplit(':', 1)[-1]} its form "
            f"makes it ({shorten(str(exc))}); write a shorter or valid value, or quote it if it "
            "is text"
        )
        raise MatrixError(msg, mark(doc.file, node), where) from None
    if key or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        msg = (
            f"{shorten(node.value)} is read by YAML as a number that is not finite; give a "
            f'finite number, or quote it if it is text: "{shorten(node.value)}"'
        )
        raise MatrixError(msg, mark(doc.file, node), where)
    if abs(value) > MAX_NUMBER:
        msg = (
            f"{shorten(node.value)} is too large a number for a matrix (at most 10^15); give a "
            f'smaller number, or quote it if it is text: "{shorten(node.value)}"'
        )
        raise MatrixError(msg, mark(doc.file, node), where)
    return value


def _convert(doc: Doc, constructor: yaml.SafeLoader, node: yaml.Node, path: KeyPath) -> Any:
    doc.values[path] = node
    if isinstance(node, yaml.ScalarNode):
        return _scalar(doc, constructor, node, path, key=False)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(doc, constructor, item, (*path, i)) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = _key(doc, constructor, key_node, path)
            if key in seen:
                first = mark(doc.file, seen[key])
                msg = (
                    f"duplicate key {shorten(repr(key))} (first written at line {first.line}, "
                    f"column {first.column}); YAML would silently keep only the last one: rename "
                    "or remove one of them"
                )
                raise MatrixError(msg, mark(doc.file, key_node), dotted((*path, key)))
            seen[key] = key_node
        # `<<: *anchor` merges: later explicit keys override merged ones, as in YAML.
        constructor.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key(doc, constructor, key_node, path)
            key_path: KeyPath = (*path, key)
            doc.keys[key_path] = key_node
            out[key] = _convert(doc, constructor, value_node, key_path)
        return out
    msg = f"unsupported YAML node {node.tag}"  # pragma: no cover - compose yields only the 3 kinds
    raise MatrixError(msg, mark(doc.file, node), dotted(path))


def _key(doc: Doc, constructor: yaml.SafeLoader, node: yaml.Node, path: KeyPath) -> str:
    if isinstance(node, yaml.ScalarNode):
        value = _scalar(doc, constructor, node, path, key=True)
        if isinstance(value, str):
            return value
        raw = shorten(node.value)
        msg = f'the key {raw} is read by YAML as a {kind(value)}; quote it: "{raw}"'
    else:
        msg = "a key must be a plain string, not a list or mapping"
    raise MatrixError(msg, mark(doc.file, node), dotted(path) or None)


def kind(value: Any) -> str:
    """The YAML word for what `value` was read as: null, boolean, number, string, list..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__
