"""Read YAML so that every value keeps the line and column it was written at.

The file is parsed with PyYAML's `compose()`, not `safe_load()`: a `Doc` holds the
plain data plus, for every path into it, the node of the value and of its key, so
any later check can name `file:line:column` and the dotted key. YAML's own traps
are refused here: syntax errors, duplicate keys (YAML silently keeps the last
one) and keys that are not strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import yaml

from migmatrix.errors import MatrixError
from migmatrix.model import Location

KeyPath = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


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
            out += f".{part}" if out else str(part)
    return out


def compose(file: str, text: str) -> Doc:
    """Parse `text` (read from `file`) into a `Doc`; raise `MatrixError` at the bad spot."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(file, exc, "; fix the syntax at this position") from None
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise MatrixError(msg, Location(file, 1, 1)) from None
    doc = Doc(file, None, {}, {})
    if root is None:
        msg = "the file is empty; it needs at least python, phases, adapters and envs"
        raise MatrixError(msg, Location(file, 1, 1))
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


def _convert(doc: Doc, constructor: yaml.SafeLoader, node: yaml.Node, path: KeyPath) -> Any:
    doc.values[path] = node
    if isinstance(node, yaml.ScalarNode):
        return constructor.construct_object(node, deep=True)
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
                    f"duplicate key {key!r} (first written at line {first.line}, column "
                    f"{first.column}); YAML would silently keep only the last one: rename or "
                    "remove one of them"
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
        value = constructor.construct_object(node, deep=True)
        if isinstance(value, str):
            return value
        msg = f'the key {node.value} is read by YAML as a {kind(value)}; quote it: "{node.value}"'
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
