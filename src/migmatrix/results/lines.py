"""What one line of a results file means: the header's fields, a record, a shard.

`results.read` streams a file and hands each parsed line here. A header becomes a
`ResultsHeader` (and a list of what is damaged in it, never a guess); a record line
becomes a `Record`, in one step on the common, well-formed line (`_fast_record`),
field by field otherwise (`_slow_record`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migmatrix._speed import tuple_maker
from migmatrix.errors import ResultsError
from migmatrix.model import RESULTS_SCHEMA, RESULTS_SCHEMAS_READ, Record, ResultsHeader
from migmatrix.outcomes import Outcome
from migmatrix.results.write import HEADER_KEYS
from migmatrix.shard import shard_of
from migmatrix.text import shorten

SCHEMA_FAMILY = RESULTS_SCHEMA.split("/", 1)[0] + "/"

_RECORD_FIELDS = Record._fields
# The exact key set the writer produces for a record line: the fast path applies to it.
_RECORD_LINE_SIZE = len(_RECORD_FIELDS) + 1  # the fields and "kind"
_OUTCOMES = {o.value: o for o in Outcome}
_RECORD_DEFAULTS: dict[str, Any] = dict(Record._field_defaults)
SCALARS = frozenset({str, int, float, bool, type(None)})
_new_record: Callable[[tuple[Any, ...]], Record] = tuple_maker(Record)


def header_from(obj: dict[str, Any], where: str) -> ResultsHeader:
    schema = obj.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_FAMILY):
        msg = (
            f"{where}: not a migmatrix results file (header schema {schema!r}); "
            f"expected {RESULTS_SCHEMA!r} as written by `migmatrix run`"
        )
        raise ResultsError(msg)
    if schema not in RESULTS_SCHEMAS_READ:
        msg = (
            f"{where}: results schema {schema!r} is not supported by this migmatrix "
            f"(it reads {' and '.join(map(repr, RESULTS_SCHEMAS_READ))}); gate with the "
            "migmatrix version that wrote it"
        )
        raise ResultsError(msg)
    extra = {k: v for k, v in obj.items() if k not in HEADER_KEYS and k not in ("kind", "schema")}
    return ResultsHeader(
        run_id=str(obj.get("run_id", "")),
        python=str(obj.get("python", "")),
        platform=str(obj.get("platform", "")),
        matrix_digest=str(obj.get("matrix_digest", "")),
        selection=obj.get("selection"),
        shard=obj.get("shard"),
        started=str(obj.get("started", "")),
        schema=schema,
        extra=extra,
    )


_HEADER_STRINGS = ("run_id", "python", "platform", "matrix_digest", "started")


def header_damage(obj: dict[str, Any]) -> list[str]:
    """What is wrong with a header's own keys: each a short reason, empty when nothing is.

    A header is what a merge trusts to know which interpreter and which shard a
    file stands for; a wrong type there (or a shard that is not INDEX/TOTAL)
    makes the whole file doubtful, so the file is judged incomplete.
    """
    damage = [
        f"header {key!r} must be a string, got {shorten(repr(obj.get(key)))}"
        for key in _HEADER_STRINGS
        if not isinstance(obj.get(key, ""), str)
    ]
    if not obj.get("python") or not obj.get("run_id"):
        damage.append("header has no 'python' or no 'run_id'")
    selection = obj.get("selection")
    if selection is not None and not isinstance(selection, str):
        damage.append(
            f"header 'selection' must be a string or null, got {shorten(repr(selection))}"
        )
    shard = obj.get("shard")
    if shard is not None and shard_of(shard) is None:
        damage.append(
            f"header 'shard' must be \"INDEX/TOTAL\" (1 <= INDEX <= TOTAL), "
            f"got {shorten(repr(shard))}"
        )
    return damage


def fast_record(obj: Any, share: Callable[[str, str], str]) -> Record | None:
    """A Record from a writer-shaped record line, or None for anything else.

    For a line with exactly the writer's keys and well-typed scalar values, the
    tuple is built in one step (`tuple.__new__`) from the values already in hand
    for the checks, instead of through the named tuple's generated `__new__`:
    the same Record (tests/migmatrix/test_results.py proves it), without a
    Python-level call. Anything unusual returns None and takes the checking path
    (`_slow_record`).
    """
    # Ten keys, all of them the writer's: exactly the writer's key set.
    if type(obj) is not dict or len(obj) != _RECORD_LINE_SIZE:
        return None
    try:
        kind, cell, test, outcome = obj["kind"], obj["cell"], obj["test"], obj["outcome"]
        duration, attempt, nodeid = obj["duration"], obj["attempt"], obj["nodeid"]
        exc_type, message, worker = obj["exc_type"], obj["message"], obj["worker"]
    except KeyError:
        return None
    if (
        kind != "record"
        or type(cell) is not str
        or type(test) is not str
        or type(outcome) is not str
        or not cell
        or not test
    ):
        return None
    found = _OUTCOMES.get(outcome)
    if (
        found is None
        or (type(duration) is not float and type(duration) is not int)
        or type(attempt) is not int
        or (exc_type is not None and type(exc_type) is not str)
        or (message is not None and type(message) is not str)
        or (worker is not None and type(worker) is not str)
        or (nodeid is not None and type(nodeid) is not str)
    ):
        return None
    # Values that repeat across lines (see _Reader.share) become one shared string.
    if worker is not None:
        worker = share(worker, worker)
    if exc_type is not None:
        exc_type = share(exc_type, exc_type)
    if message is not None:
        message = share(message, message)
    cell, test = share(cell, cell), share(test, test)
    # In Record's field order (`_speed.RECORD_ORDER`, pinned by tests/migmatrix/test_speed.py).
    return _new_record((cell, test, found, duration, exc_type, message, worker, attempt, nodeid))


def slow_record(obj: dict[str, Any]) -> Record:
    """Build a Record from any record line, raising ValueError with the reason."""
    cell, test = obj.get("cell"), obj.get("test")
    if not isinstance(cell, str) or not cell or not isinstance(test, str) or not test:
        msg = f"record needs non-empty string 'cell' and 'test', got {cell!r} and {test!r}"
        raise ValueError(msg)
    outcome = Outcome.from_str(str(obj.get("outcome")))
    values: dict[str, Any] = {k: obj.get(k, _RECORD_DEFAULTS.get(k)) for k in _RECORD_FIELDS}
    values["outcome"] = outcome
    duration = values["duration"]
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        msg = f"record duration must be a number, got {duration!r}"
        raise ValueError(msg)
    attempt = values["attempt"]
    if not isinstance(attempt, int) or isinstance(attempt, bool):
        msg = f"record attempt must be an integer, got {attempt!r}"
        raise ValueError(msg)
    for key in ("exc_type", "message", "worker", "nodeid"):
        if values[key] is not None and not isinstance(values[key], str):
            values[key] = str(values[key])
    return Record(**values)
