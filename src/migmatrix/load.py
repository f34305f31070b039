"""Load matrix.yaml into a validated, typed `Matrix`, or say exactly what is wrong.

The file is parsed with PyYAML's `compose()`, not `safe_load()`, so every value
keeps the line and column it was written at; that is how each error names
`file:line:column` and the dotted key. Checking runs in three layers, each on
data the previous one has vouched for:

1. YAML itself: syntax, duplicate keys (YAML silently keeps the last one),
   keys that are not strings.
2. The shipped JSON Schema (`matrix.schema.json`, the same file editors use):
   unknown keys (with the closest valid key), wrong types (with the quoting fix
   for `3.10`, which YAML reads as the number 3.1), missing keys, bad words.
3. Meaning: suite folders exist, adapter objects import, names referenced by
   include/exclude/rules/states/rollback paths exist, regexes compile, excludes leave a cell.

Only the first error is the headline; the others follow it in file order, so one
run shows every problem. Nothing here prints.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import importlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import yaml

from migmatrix.errors import MatrixError
from migmatrix.model import (
    AdapterSpec,
    CellFilter,
    ComponentSpec,
    CoverageRule,
    EnvSpec,
    ExpectRule,
    GateSpec,
    Location,
    Matrix,
    PhaseSpec,
    ServiceSpec,
)
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Expected, Verdict
from migmatrix.plan import adapter_matches, glob_match, is_glob, plan_cells
from migmatrix.schema import load_schema
from migmatrix.sweep import ROLLBACK_KEYWORDS, expand_adapter, rollback_pairs

KeyPath = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


# --------------------------------------------------------------------------- YAML with marks


@dataclasses.dataclass
class _Doc:
    """Parsed data plus, for every path into it, the node of the value and of its key."""

    file: str
    data: Any
    values: dict[KeyPath, yaml.Node]
    keys: dict[KeyPath, yaml.Node]

    def at(self, path: KeyPath) -> Location:
        node = self.values.get(path)
        return _mark(self.file, node) if node is not None else Location(self.file, 1, 1)

    def key_at(self, path: KeyPath) -> Location:
        node = self.keys.get(path)
        return _mark(self.file, node) if node is not None else self.at(path)

    def raw(self, path: KeyPath) -> str | None:
        node = self.values.get(path)
        return node.value if isinstance(node, yaml.ScalarNode) else None


def _mark(file: str, node: yaml.Node) -> Location:
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


def _compose(file: str, text: str) -> _Doc:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(file, exc, "; fix the syntax at this position") from None
    except yaml.YAMLError as exc:
        msg = f"not valid YAML: {exc}"
        raise MatrixError(msg, Location(file, 1, 1)) from None
    doc = _Doc(file, None, {}, {})
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
    mark = exc.problem_mark or exc.context_mark
    loc = Location(file, mark.line + 1, mark.column + 1) if mark else None
    problem = " ".join(p for p in (exc.context, exc.problem) if p)
    msg = f"not valid YAML: {problem}{hint}"
    return MatrixError(msg, loc)


def _convert(doc: _Doc, constructor: yaml.SafeLoader, node: yaml.Node, path: KeyPath) -> Any:
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
                first = _mark(doc.file, seen[key])
                msg = (
                    f"duplicate key {key!r} (first written at line {first.line}, column "
                    f"{first.column}); YAML would silently keep only the last one: rename or "
                    "remove one of them"
                )
                raise MatrixError(msg, _mark(doc.file, key_node), dotted((*path, key)))
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
    raise MatrixError(msg, _mark(doc.file, node), dotted(path))


def _key(doc: _Doc, constructor: yaml.SafeLoader, node: yaml.Node, path: KeyPath) -> str:
    if isinstance(node, yaml.ScalarNode):
        value = constructor.construct_object(node, deep=True)
        if isinstance(value, str):
            return value
        msg = f'the key {node.value} is read by YAML as a {_kind(value)}; quote it: "{node.value}"'
    else:
        msg = "a key must be a plain string, not a list or mapping"
    raise MatrixError(msg, _mark(doc.file, node), dotted(path) or None)


def _kind(value: Any) -> str:
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


# --------------------------------------------------------------------------- schema layer

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}


@dataclasses.dataclass(frozen=True, order=True)
class _Problem:
    line: int
    column: int
    file: str
    key: str
    message: str

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, self.column)

    def error(self) -> MatrixError:
        return MatrixError(self.message, self.location, self.key or None)


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def _schema_problems(doc: _Doc) -> list[_Problem]:
    problems = [_explain(doc, error) for error in _validator().iter_errors(doc.data)]
    return sorted(set(problems))


def _closest(word: str, choices: Iterable[str]) -> str:
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


def _explain(doc: _Doc, error: jsonschema.ValidationError) -> _Problem:
    """Turn one jsonschema error into a located message that says how to fix it."""
    # anyOf / oneOf: report the branch that fits the value's kind, if one does.
    if error.validator in ("anyOf", "oneOf") and error.context:
        relevant = [
            sub for sub in error.context if not (sub.validator == "type" and not sub.relative_path)
        ]
        fix = error.schema.get("x-fix") if isinstance(error.schema, dict) else None
        only_required = all(sub.validator == "required" for sub in relevant)
        if relevant and not (fix and only_required):
            # The deepest complaint is the most precise one; an unknown key says more
            # than a missing one (a misspelt key is usually both).
            best = max(
                relevant,
                key=lambda sub: (len(sub.relative_path), sub.validator != "required"),
            )
            return _explain(doc, best)
        where = tuple(error.absolute_path)
        msg = f"{_show(error.instance)} is not valid here; {fix or 'see `migmatrix schema`'}"
        return _problem(doc.at(where), where, msg)

    path = tuple(error.absolute_path)
    value: Any = error.instance
    validator_value: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    fix = schema.get("x-fix")
    if "propertyNames" in error.schema_path:
        key_path = (*path, value)
        msg = f"the name {value!r} is not allowed; {fix or 'see `migmatrix schema`'}"
        return _problem(doc.key_at(key_path), key_path, msg)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(k for k in value if k not in allowed)
        name = unknown[0]
        key_path = (*path, name)
        msg = f"unknown key {name!r}{_closest(name, allowed)}"
        msg += f" (valid keys here: {', '.join(allowed)})"
        return _problem(doc.key_at(key_path), key_path, msg)
    if kind == "required":
        missing = [k for k in validator_value if k not in value]
        name = missing[0]
        about = schema.get("properties", {}).get(name, {}).get("description")
        msg = f"missing required key {name!r}" + (f" ({about})" if about else "")
        msg += "; add it"
        return _problem(doc.at(path), path, msg)
    if kind == "type":
        wanted = validator_value
        wanted_list = [wanted] if isinstance(wanted, str) else list(wanted)
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted_list)
        raw = doc.raw(path)
        if "string" in wanted_list and raw is not None and not isinstance(value, str):
            msg = (
                f"{raw} is read by YAML as the {_kind(value)} {_show(value)}, but "
                f'{words} is needed here; quote it: "{raw}"'
            )
        else:
            msg = f"expected {words}, got {_article(value)}"
        return _problem(doc.at(path), path, msg)
    if kind == "enum":
        choices = [str(c) for c in validator_value]
        msg = f"{_show(value)} is not one of: {', '.join(choices)}"
        if isinstance(value, str):
            msg += _closest(value, choices)
        return _problem(doc.at(path), path, msg)
    if kind == "pattern":
        msg = f"{_show(value)} is not valid here; {fix or 'see `migmatrix schema`'}"
        return _problem(doc.at(path), path, msg)
    if kind == "uniqueItems":
        seen: set[str] = set()
        for i, item in enumerate(value):
            token = json.dumps(item, sort_keys=True, default=str)
            if token in seen:
                item_path = (*path, i)
                msg = f"{_show(item)} is listed twice; remove the duplicate"
                return _problem(doc.at(item_path), item_path, msg)
            seen.add(token)
    if kind in ("minItems", "minProperties", "minLength"):
        msg = "must not be empty; give at least one entry or remove the key"
        if (
            kind == "minProperties"
            and error.validator_value == 1
            and path
            and isinstance(path[0], str)
            and path[0] in ("include", "exclude")
        ):
            msg = "an empty filter would match every cell; name a phase, adapter, env or python"
        elif kind == "minLength":
            msg = "must not be an empty string"
        return _problem(doc.at(path), path, msg)
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        relation = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[kind]
        msg = f"{_show(value)} is out of range; it must be {relation} {error.validator_value}"
        return _problem(doc.at(path), path, msg)
    msg = f"{error.message}; see `migmatrix schema`"
    return _problem(doc.at(path), path, msg)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, default=str)


def _article(value: Any) -> str:
    kind = _kind(value)
    if kind in ("null",):
        return "nothing (null)"
    if kind in ("list", "mapping"):
        return f"a {kind}"
    return f"the {kind} {_show(value)}"


def _problem(loc: Location, path: KeyPath, message: str) -> _Problem:
    return _Problem(loc.line, loc.column, loc.file, dotted(path), message)


def _raise_all(problems: Sequence[_Problem]) -> None:
    if not problems:
        return
    first, *rest = problems
    if not rest:
        raise first.error()
    lines = [first.message]
    lines += [f"also {p.location}: {p.key + ': ' if p.key else ''}{p.message}" for p in rest]
    raise MatrixError("\n".join(lines), first.location, first.key or None)


# --------------------------------------------------------------------------- meaning layer


def load_matrix(path: str | os.PathLike[str], *, import_adapters: bool = True) -> Matrix:
    """Read, validate and type `path`; raise `MatrixError` naming file:line:column otherwise.

    With `import_adapters` (the default) every adapter object is imported once, so a
    typo in an import path fails here and not in the middle of a run.
    """
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"matrix file {file!r} does not exist; pass the right path with --matrix"
        raise MatrixError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read matrix file {file!r}: {exc}"
        raise MatrixError(msg) from None
    doc = _compose(file, text)
    _raise_all(_schema_problems(doc))
    return _Builder(doc, Path(file).resolve(), import_adapters).build()


class _Builder:
    """Turns schema-valid data into the model, checking what a schema cannot."""

    def __init__(self, doc: _Doc, path: Path, import_adapters: bool) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.path = path
        self.root = str(path.parent)
        self.import_adapters = import_adapters

    def fail(self, message: str, path: KeyPath, *, at_key: bool = False) -> MatrixError:
        loc = self.doc.key_at(path) if at_key else self.doc.at(path)
        return MatrixError(message, loc, dotted(path))

    def build(self) -> Matrix:
        data = self.data
        python = tuple(data["python"])
        phases = self.phases()
        adapters = self.adapters()
        envs = self.envs()
        known = _Names(python, phases, adapters, envs)
        include = self.filters("include", known)
        exclude = self.filters("exclude", known)
        expect = data.get("expect", {})
        default = _outcomes(expect.get("default", "pass"))
        rules = self.rules(expect.get("rules", []), known)
        gates = self.gates(data.get("gates", {}))
        matrix = Matrix(
            path=str(self.path),
            root=self.root,
            digest=digest(data),
            python=python,
            phases=phases,
            adapters=adapters,
            envs=envs,
            include=include,
            exclude=exclude,
            default=default,
            rules=rules,
            gates=gates,
            timeout=float(data.get("timeout", 300.0)),
            rollback_paths=self.rollback(data.get("rollback", {}), known),
        )
        self.check_not_empty(matrix)
        if self.import_adapters:
            for spec in adapters:
                try:
                    _import_object(self.root, spec.object)
                except _ImportProblem as exc:
                    raise self.fail(str(exc), ("adapters", spec.name, "object")) from None
        return matrix

    def phases(self) -> tuple[PhaseSpec, ...]:
        out = []
        for name, value in self.data["phases"].items():
            rel = value if isinstance(value, str) else value["path"]
            where: KeyPath = (
                ("phases", name) if isinstance(value, str) else ("phases", name, "path")
            )
            folder = Path(self.root, rel)
            if not folder.is_dir():
                what = "is not a folder" if folder.exists() else "does not exist"
                msg = (
                    f"suite folder {rel!r} {what} (looked for {folder}); create it or fix "
                    "the path, which is relative to the matrix file"
                )
                raise self.fail(msg, where)
            out.append(PhaseSpec(name, rel, self.doc.key_at(("phases", name))))
        return tuple(out)

    def adapters(self) -> tuple[AdapterSpec, ...]:
        out = []
        for name, value in self.data["adapters"].items():
            base: KeyPath = ("adapters", name)
            components = []
            seen: set[str] = set()
            for i, comp in enumerate(value.get("components", [])):
                if comp["name"] in seen:
                    msg = f"component {comp['name']!r} is declared twice; remove one"
                    raise self.fail(msg, (*base, "components", i, "name"))
                seen.add(comp["name"])
                components.append(ComponentSpec(comp["name"], tuple(comp.get("features", []))))
            sweep = value.get("sweep")
            states_raw = value.get("states", [])
            if (sweep or states_raw) and not components:
                word = "sweep" if sweep else "states"
                msg = f"`{word}` needs `components` to choose from; declare the components"
                raise self.fail(msg, (*base, word), at_key=True)
            if sweep and states_raw:
                msg = "give either `sweep` or `states`, not both"
                raise self.fail(msg, (*base, "states"), at_key=True)
            states = []
            seen_states: dict[frozenset[str], int] = {}
            for i, state in enumerate(states_raw):
                for j, comp_name in enumerate(state):
                    if comp_name not in seen:
                        msg = (
                            f"state names component {comp_name!r}, which adapter {name!r} does "
                            f"not declare (components: {', '.join(c.name for c in components)})"
                            f"{_closest(comp_name, seen)}"
                        )
                        raise self.fail(msg, (*base, "states", i, j))
                key = frozenset(state)
                if key in seen_states:
                    msg = (
                        f"state {sorted(state)} is listed twice (also as entry {seen_states[key]})"
                    )
                    raise self.fail(msg, (*base, "states", i))
                seen_states[key] = i
                states.append(tuple(state))
            if components and not sweep and not states:
                msg = (
                    "components need `sweep: chain` (the rollout order), `pairwise`, `all`, "
                    "or explicit `states: [[...], ...]` to say which states become cells"
                )
                raise self.fail(msg, (*base, "components"), at_key=True)
            out.append(
                AdapterSpec(
                    name=name,
                    object=value["object"],
                    features=tuple(value.get("features", [])),
                    components=tuple(components),
                    sweep=sweep,
                    states=tuple(states),
                    location=self.doc.key_at(base),
                )
            )
        return tuple(out)

    def envs(self) -> tuple[EnvSpec, ...]:
        out = []
        for name, value in self.data["envs"].items():
            service = None
            if "service" in value:
                s = value["service"]
                defaults = ServiceSpec(command=(), health="")
                service = ServiceSpec(
                    command=tuple(s["command"]),
                    health=s["health"],
                    url=s.get("url", defaults.url),
                    env=tuple(s.get("env", {}).items()),
                    startup_timeout=float(s.get("startup_timeout", defaults.startup_timeout)),
                    url_env=s.get("url_env", defaults.url_env),
                )
            out.append(
                EnvSpec(
                    name, tuple(value.get("features", [])), service, self.doc.key_at(("envs", name))
                )
            )
        return tuple(out)

    def filters(self, section: str, known: _Names) -> tuple[CellFilter, ...]:
        out = []
        for i, item in enumerate(self.data.get(section, [])):
            for axis, pattern in item.items():
                self.check_selector(known, axis, pattern, (section, i, axis))
            out.append(_cell_filter(item))
        return tuple(out)

    def check_selector(self, known: _Names, axis: str, pattern: str, path: KeyPath) -> None:
        """A selector naming nothing that exists is a typo, not a rule for later."""
        if axis == "adapter":
            found = any(
                adapter_matches(pattern, state, base) for base, state in known.adapter_states
            )
            names = [base for base, _ in known.adapter_states] + [
                state for base, state in known.adapter_states if state != base
            ]
        else:
            names = list(known.axis(axis))
            found = any(glob_match(pattern, n) for n in names)
        if found:
            return
        shown = ", ".join(dict.fromkeys(names))
        if is_glob(pattern):
            msg = f"the glob {pattern!r} matches no {axis} (known: {shown})"
        else:
            msg = f"unknown {axis} {pattern!r} (known: {shown}){_closest(pattern, names)}"
        raise self.fail(msg, path)

    def rules(self, raw: list[dict[str, Any]], known: _Names) -> tuple[ExpectRule, ...]:
        out = []
        for i, item in enumerate(raw):
            base: KeyPath = ("expect", "rules", i)
            for axis in ("phase", "adapter", "env", "python"):
                if axis in item:
                    self.check_selector(known, axis, item[axis], (*base, axis))
            for word in ("requires", "unless"):
                for j, feature in enumerate(item.get(word, [])):
                    if feature not in known.features:
                        msg = (
                            f"no adapter, component or env declares the feature {feature!r}, "
                            "so this rule could never "
                            f"{'apply' if word == 'requires' else 'be switched off'} (declared "
                            f"features: {', '.join(sorted(known.features)) or 'none'})"
                            f"{_closest(feature, known.features)}"
                        )
                        raise self.fail(msg, (*base, word, j))
            both = set(item.get("requires", [])) & set(item.get("unless", []))
            if both:
                msg = (
                    f"feature {sorted(both)[0]!r} is both required and excluded (`unless`), so "
                    "this rule can never apply; keep it in one of the two lists"
                )
                raise self.fail(msg, (*base, "unless"), at_key=True)
            if "match" in item:
                try:
                    re.compile(item["match"])
                except re.error as exc:
                    msg = (
                        f"`match` is not a valid regular expression: {exc}; escape special "
                        "characters with a backslash, e.g. \\( or \\["
                    )
                    raise self.fail(msg, (*base, "match")) from None
            out.append(
                ExpectRule(
                    index=i,
                    where=_cell_filter(item),
                    test=item.get("test"),
                    requires=tuple(item.get("requires", [])),
                    unless=tuple(item.get("unless", [])),
                    outcomes=_outcomes(item["outcome"]),
                    raises=item.get("raises"),
                    match=item.get("match"),
                    bug=item.get("bug"),
                    owner=item.get("owner"),
                    reason=item.get("reason"),
                    location=self.doc.at(base),
                )
            )
        return tuple(out)

    def rollback(self, raw: dict[str, Any], known: _Names) -> tuple[tuple[str, str], ...]:
        """The declared rollback paths; each must name states and switch at least one."""
        out = []
        swept = [spec.name for spec in known.adapters if spec.components]
        for i, item in enumerate(raw.get("paths", [])):
            base: KeyPath = ("rollback", "paths", i)
            frm, to = item["from"], item["to"]
            self.check_selector(known, "adapter", frm, (*base, "from"))
            if to in ROLLBACK_KEYWORDS:
                if not swept:
                    msg = (
                        f"`to: {to}` steps back along a rollout, but no adapter declares "
                        "`components`; name the target state instead, e.g. `to: deprecated`"
                    )
                    raise self.fail(msg, (*base, "to"))
            else:
                self.check_selector(known, "adapter", to, (*base, "to"))
            pairs = rollback_pairs(known.adapters, [(frm, to)])
            if not pairs:
                msg = (
                    f"the path from {frm!r} to {to!r} switches nothing: no state it names "
                    "differs from the state it starts in by a migrated component; "
                    "fix `from` or `to`, or remove the path"
                )
                raise self.fail(msg, base)
            out.append((frm, to))
        return tuple(out)

    def gates(self, raw: dict[str, Any]) -> GateSpec:
        if "fail_on" in raw:
            fail_on = frozenset(Verdict(v) for v in raw["fail_on"])
        else:
            fail_on = UNEXPECTED_VERDICTS
        coverage = []
        seen: set[str] = set()
        for i, item in enumerate(raw.get("coverage", [])):
            if item["name"] in seen:
                msg = f"coverage rule {item['name']!r} is declared twice; give each a unique name"
                raise self.fail(msg, ("gates", "coverage", i, "name"))
            seen.add(item["name"])
            files = item["files"]
            min_percent = item.get("min_percent")
            coverage.append(
                CoverageRule(
                    name=item["name"],
                    files=(files,) if isinstance(files, str) else tuple(files),
                    cells=item.get("cells", "*"),
                    max_lines=item.get("max_lines"),
                    min_percent=None if min_percent is None else float(min_percent),
                    location=self.doc.at(("gates", "coverage", i)),
                )
            )
        return GateSpec(fail_on=fail_on, coverage=tuple(coverage))

    def check_not_empty(self, matrix: Matrix) -> None:
        if plan_cells(matrix):
            return
        lone = dataclasses.replace(matrix, include=())
        for i, item in enumerate(matrix.exclude):
            if not plan_cells(dataclasses.replace(lone, exclude=(item,))):
                msg = (
                    "this exclude removes every cell of the matrix; narrow it (name a phase, "
                    "adapter, env or python) or add an include"
                )
                raise self.fail(msg, ("exclude", i))
        msg = (
            "together the excludes remove every cell of the matrix; narrow them or add an "
            "include for the cells you want"
        )
        raise self.fail(msg, ("exclude",), at_key=True)


@dataclasses.dataclass(frozen=True)
class _Names:
    """Everything a selector or feature list may refer to."""

    python: tuple[str, ...]
    phases: tuple[PhaseSpec, ...]
    adapters: tuple[AdapterSpec, ...]
    envs: tuple[EnvSpec, ...]

    def axis(self, axis: str) -> tuple[str, ...]:
        if axis == "phase":
            return tuple(p.name for p in self.phases)
        if axis == "env":
            return tuple(e.name for e in self.envs)
        return self.python

    @functools.cached_property
    def adapter_states(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (spec.name, state) for spec in self.adapters for state, _, _ in expand_adapter(spec)
        )

    @functools.cached_property
    def features(self) -> frozenset[str]:
        found: set[str] = set()
        for spec in self.adapters:
            found.update(spec.features)
            for comp in spec.components:
                found.update(comp.features)
        for env in self.envs:
            found.update(env.features)
        return frozenset(found)


def _cell_filter(item: Mapping[str, Any]) -> CellFilter:
    return CellFilter(
        phase=item.get("phase"),
        adapter=item.get("adapter"),
        env=item.get("env"),
        python=item.get("python"),
    )


def _outcomes(value: str | list[str]) -> frozenset[Expected]:
    words = [value] if isinstance(value, str) else value
    return frozenset(Expected(w) for w in words)


def digest(data: Any) -> str:
    """sha256 of the parsed content as canonical JSON: comments and layout do not change it."""
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- adapter objects


class _ImportProblem(Exception):
    """An adapter object could not be imported; the message says which part failed and why."""


def load_adapter_object(matrix: Matrix, adapter_name: str) -> object:
    """The object an adapter names, imported once per process with the matrix folder on sys.path.

    `adapter_name` is a declared adapter or one of its states (`partial[engine]`).
    """
    base = adapter_name.split("[", 1)[0]
    for spec in matrix.adapters:
        if spec.name == base:
            try:
                return _import_object(matrix.root, spec.object)
            except _ImportProblem as exc:
                raise MatrixError(str(exc), spec.location, f"adapters.{spec.name}.object") from None
    names = ", ".join(spec.name for spec in matrix.adapters)
    msg = f"unknown adapter {adapter_name!r}{_closest(base, [s.name for s in matrix.adapters])}"
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
                f"{_closest(part, names)}"
            )
            raise _ImportProblem(msg)
        obj = getattr(obj, part)
        done.append(part)
    return obj
