"""Turn JSON Schema errors into located messages that say how to fix the matrix.

The shipped schema (`matrix.schema.json`, the same file editors use) catches unknown
keys, wrong types, missing keys and bad words. jsonschema's own messages name
neither the line nor the fix, so each validator kind has one small handler here,
chosen from `_HANDLERS` by the validator's name; a kind without a handler gets
jsonschema's message and a pointer to `migmatrix schema`. Every problem is found
in one pass; `raise_all` makes the first the headline and lists the rest.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import jsonschema

from migmatrix.errors import MatrixError
from migmatrix.load.yamldoc import Doc, KeyPath, dotted, kind
from migmatrix.model import Location
from migmatrix.schema import load_schema
from migmatrix.text import closest, shorten

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}

_RELATIONS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}


MAX_LISTED = 20
"""Problems listed after the headline: enough to fix in one go, not a page per bad key."""


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One located complaint; problems sort in file order."""

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


def schema_problems(doc: Doc) -> list[Problem]:
    """Every schema problem of the document, once each, in file order."""
    problems = [explain(doc, error) for error in _validator().iter_errors(doc.data)]
    return sorted(set(problems))


def raise_all(problems: Sequence[Problem]) -> None:
    """Raise the first problem as the headline, the others as `also ...` lines after it."""
    if not problems:
        return
    first, *rest = problems
    if not rest:
        raise first.error()
    lines = [first.message]
    shown = rest[:MAX_LISTED]
    lines += [f"also {p.location}: {p.key + ': ' if p.key else ''}{p.message}" for p in shown]
    if len(rest) > len(shown):
        lines.append(f"... and {len(rest) - len(shown)} more problems after these; fix these first")
    raise MatrixError("\n".join(lines), first.location, first.key or None)


def explain(doc: Doc, error: jsonschema.ValidationError) -> Problem:
    """Turn one jsonschema error into a located message that says how to fix it."""
    path = tuple(error.absolute_path)
    if "propertyNames" in error.schema_path:
        # A bad key name: point at the key, whatever validator found it.
        key_path = (*path, _value(error))
        msg = f"the name {_show(_value(error))} is not allowed; {_fix(error)}"
        return _problem(doc.key_at(key_path), key_path, msg)
    handler = _HANDLERS.get(str(error.validator))
    found = handler(doc, error, path) if handler else None
    if found is not None:
        return found
    msg = f"{error.message}; see `migmatrix schema`"
    return _problem(doc.at(path), path, msg)


_Handler = Callable[[Doc, jsonschema.ValidationError, KeyPath], Problem | None]


def _any_of(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem | None:
    """anyOf / oneOf: report the branch that fits the value's kind, if one does."""
    if not error.context:
        return None
    relevant = [
        sub for sub in error.context if not (sub.validator == "type" and not sub.relative_path)
    ]
    fix = _schema(error).get("x-fix")
    only_required = all(sub.validator == "required" for sub in relevant)
    if relevant and not (fix and only_required):
        # The deepest complaint is the most precise one; an unknown key says more
        # than a missing one (a misspelt key is usually both).
        best = max(
            relevant,
            key=lambda sub: (len(sub.relative_path), sub.validator != "required"),
        )
        return explain(doc, best)
    msg = f"{_show(_value(error))} is not valid here; {_fix(error)}"
    return _problem(doc.at(path), path, msg)


def _additional(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    allowed = sorted(_schema(error).get("properties", {}))
    name = sorted(k for k in _value(error) if k not in allowed)[0]
    key_path = (*path, name)
    msg = f"unknown key {_show(name)}{closest(name, allowed)}"
    msg += f" (valid keys here: {', '.join(allowed)})"
    return _problem(doc.key_at(key_path), key_path, msg)


def _required(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    name = next(k for k in _wanted(error) if k not in _value(error))
    about = _schema(error).get("properties", {}).get(name, {}).get("description")
    msg = f"missing required key {name!r}" + (f" ({about})" if about else "")
    msg += "; add it"
    return _problem(doc.at(path), path, msg)


def _type(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    wanted = _wanted(error)
    wanted_list = [wanted] if isinstance(wanted, str) else list(wanted)
    words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted_list)
    value = _value(error)
    raw = doc.raw(path)
    if "string" in wanted_list and raw is not None and not isinstance(value, str):
        # `python: [3.10]` is the number 3.1 to YAML; the fix is quoting.
        msg = (
            f"{shorten(raw)} is read by YAML as the {kind(value)} {_show(value)}, but "
            f'{words} is needed here; quote it: "{shorten(raw)}"'
        )
    else:
        msg = f"expected {words}, got {_article(value)}"
    return _problem(doc.at(path), path, msg)


def _enum(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    choices = [str(c) for c in _wanted(error)]
    msg = f"{_show(_value(error))} is not one of: {', '.join(choices)}"
    if isinstance(_value(error), str):
        msg += closest(_value(error), choices)
    return _problem(doc.at(path), path, msg)


def _pattern(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    msg = f"{_show(_value(error))} is not valid here; {_fix(error)}"
    return _problem(doc.at(path), path, msg)


def _unique(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem | None:
    seen: set[str] = set()
    for i, item in enumerate(_value(error)):
        token = json.dumps(item, sort_keys=True, default=str)
        if token in seen:
            item_path = (*path, i)
            msg = f"{_show(item)} is listed twice; remove the duplicate"
            return _problem(doc.at(item_path), item_path, msg)
        seen.add(token)
    return None


def _min_items(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    msg = "must not be empty; give at least one entry or remove the key"
    return _problem(doc.at(path), path, msg)


def _min_properties(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    msg = "must not be empty; give at least one entry or remove the key"
    if (
        _wanted(error) == 1
        and path
        and isinstance(path[0], str)
        and path[0] in ("include", "exclude")
    ):
        msg = "an empty filter would match every cell; name a phase, adapter, env or python"
    return _problem(doc.at(path), path, msg)


def _min_length(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    return _problem(doc.at(path), path, "must not be an empty string")


def _range(doc: Doc, error: jsonschema.ValidationError, path: KeyPath) -> Problem:
    relation = _RELATIONS[str(error.validator)]
    msg = f"{_show(_value(error))} is out of range; it must be {relation} {_wanted(error)}"
    return _problem(doc.at(path), path, msg)


_HANDLERS: dict[str, _Handler] = {
    "anyOf": _any_of,
    "oneOf": _any_of,
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "pattern": _pattern,
    "uniqueItems": _unique,
    "minItems": _min_items,
    "minProperties": _min_properties,
    "minLength": _min_length,
    **dict.fromkeys(_RELATIONS, _range),
}


def _value(error: jsonschema.ValidationError) -> Any:
    """The value the schema refused (typed loosely: it is whatever the YAML held)."""
    return error.instance


def _wanted(error: jsonschema.ValidationError) -> Any:
    """The validator's own argument: the required keys, the allowed words, the bound..."""
    return error.validator_value


def _schema(error: jsonschema.ValidationError) -> dict[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


def _fix(error: jsonschema.ValidationError) -> str:
    """The schema's own advice (`x-fix`) for this spot, or a pointer to the schema."""
    return str(_schema(error).get("x-fix") or "see `migmatrix schema`")


def _show(value: Any) -> str:
    """A value as a message quotes it: repr for text, JSON otherwise, cut by `shorten`."""
    if isinstance(value, str):
        return shorten(repr(value))
    return shorten(json.dumps(value, default=str))


def _article(value: Any) -> str:
    what = kind(value)
    if what == "null":
        return "nothing (null)"
    if what in ("list", "mapping"):
        return f"a {what}"
    return f"the {what} {_show(value)}"


def _problem(loc: Location, path: KeyPath, message: str) -> Problem:
    return Problem(loc.line, loc.column, loc.file, dotted(path), message)
