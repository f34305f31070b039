"""Reading and writing results files (JSON Lines, docs/contracts.md "Results files").

A results file is a header line, one record line per (cell, test) and a footer
line with the record count. The writer makes the file appear whole or not at
all (a temporary file in the same folder, then `os.replace`), with sorted keys so
the same records give the same bytes.

The reader is built for the judge: it never raises on damaged content. A missing
footer, a wrong count, an unreadable line or an unknown outcome becomes a
problem naming `file:line`, and every record that could be read is still
returned, so merge and gate can judge what exists and say what does not. Only a
file that is not a results file at all (unreadable, empty, no header, a foreign
schema) raises `ResultsError`.

Reading is on the hot path of the gate (hundreds of thousands of records), so
the common, well-formed record line is turned into a `Record` without the
per-field cost of the frozen dataclass constructor; see `_fast_record`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from migmatrix.errors import ResultsError
from migmatrix.model import RESULTS_SCHEMA, Record, ResultsFooter, ResultsHeader
from migmatrix.outcomes import Outcome

SCHEMA_FAMILY = RESULTS_SCHEMA.split("/", 1)[0] + "/"

_HEADER_KEYS = ("run_id", "python", "platform", "matrix_digest", "selection", "shard", "started")
_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(Record))
# The exact key set the writer produces for a record line: the fast path applies to it.
_RECORD_LINE_KEYS = frozenset((*_RECORD_FIELDS, "kind"))
_OUTCOMES = {o.value: o for o in Outcome}
_RECORD_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(Record) if f.default is not dataclasses.MISSING
}


@dataclasses.dataclass(frozen=True)
class ResultsFile:
    """One results file as read: what could be parsed, and what was wrong with it.

    `footer` is None when the file has no footer line. `problems` are human
    messages, each starting with `path:line:` (line 0 = the file as a whole).
    `digest_of_content` is the SHA-256 of the file's bytes; merge uses it to drop
    exact duplicate inputs. `complete` is True when nothing is wrong.
    """

    path: str
    header: ResultsHeader
    records: list[Record]
    footer: ResultsFooter | None
    problems: list[str]
    digest_of_content: str

    @property
    def complete(self) -> bool:
        return self.footer is not None and not self.problems


# --------------------------------------------------------------------------- writing


def header_to_dict(header: ResultsHeader) -> dict[str, Any]:
    """The header line as a JSON object; `extra` keys sit beside the known ones."""
    line: dict[str, Any] = dict(header.extra)
    line.update({key: getattr(header, key) for key in _HEADER_KEYS})
    line["schema"] = header.schema
    line["kind"] = "header"
    return line


def record_to_dict(record: Record) -> dict[str, Any]:
    """A record line as a JSON object: every field, `None` included, so lines share one shape."""
    line: dict[str, Any] = {name: getattr(record, name) for name in _RECORD_FIELDS}
    line["outcome"] = record.outcome.value
    line["kind"] = "record"
    return line


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def write_results(
    path: str | os.PathLike[str],
    header: ResultsHeader,
    records: Iterable[Record],
    finished: str | None = None,
) -> None:
    """Write a complete results file atomically: header, records, footer with the count.

    `finished` is the footer's ISO-8601 time; it defaults to the header's
    `started`, so callers that care about the end time pass it (the writer never
    reads a clock, which keeps its output a pure function of its arguments).
    The parent folder is created if needed.
    """
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(_dumps(header_to_dict(header)) + "\n")
            count = 0
            for record in records:
                out.write(_dumps(record_to_dict(record)) + "\n")
                count += 1
            footer = {"kind": "footer", "records": count, "finished": finished or header.started}
            out.write(_dumps(footer) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        # Leave no half-written temporary file behind; the target is untouched.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- reading


def _header_from(obj: dict[str, Any], where: str) -> ResultsHeader:
    schema = obj.get("schema")
    if not isinstance(schema, str) or not schema.startswith(SCHEMA_FAMILY):
        msg = (
            f"{where}: not a migmatrix results file (header schema {schema!r}); "
            f"expected {RESULTS_SCHEMA!r} as written by `migmatrix run`"
        )
        raise ResultsError(msg)
    if schema != RESULTS_SCHEMA:
        msg = (
            f"{where}: results schema {schema!r} is not supported by this migmatrix "
            f"(it reads {RESULTS_SCHEMA!r}); gate with the migmatrix version that wrote it"
        )
        raise ResultsError(msg)
    extra = {k: v for k, v in obj.items() if k not in _HEADER_KEYS and k not in ("kind", "schema")}
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


def _fast_record(obj: dict[str, Any], share: Callable[[str, str], str]) -> Record | None:
    """Build a Record from a writer-shaped line without the frozen constructor's cost.

    A frozen dataclass sets each field through `object.__setattr__`, which made
    reading 300,000 records take over a second. For a line with exactly the
    writer's keys and well-typed values we fill the instance dictionary in one
    step instead; the result is indistinguishable from `Record(...)` (same
    fields, equality, hash). Anything unusual returns None and takes the slow,
    checking path.
    """
    if obj.keys() != _RECORD_LINE_KEYS:
        return None
    outcome = _OUTCOMES.get(obj["outcome"])
    cell = obj["cell"]
    test = obj["test"]
    if outcome is None or type(cell) is not str or type(test) is not str or not cell or not test:
        return None
    del obj["kind"]
    obj["outcome"] = outcome
    obj["cell"] = share(cell, cell)
    for key in ("worker", "exc_type", "message"):
        value = obj[key]
        if type(value) is str:
            obj[key] = share(value, value)
    record: Record = object.__new__(Record)
    object.__setattr__(record, "__dict__", obj)
    return record


def _slow_record(obj: dict[str, Any]) -> Record:
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


def read_results(path: str | os.PathLike[str]) -> ResultsFile:
    """Read one results file; damaged content becomes `problems`, never an exception.

    Raises `ResultsError` only when the file cannot be read or is not a
    migmatrix results file at all (empty, or its first line is not a header).
    """
    # Reading creates hundreds of thousands of small objects and no cycles; the
    # cyclic collector would walk them again and again (about a third of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_results(os.fspath(path))
    finally:
        if enabled:
            gc.enable()


def _read_results(name: str) -> ResultsFile:
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        msg = f"{name}: cannot read results file ({exc.strerror or exc}); check the path"
        raise ResultsError(msg) from None
    digest = hashlib.sha256(data).hexdigest()
    lines = data.decode("utf-8", errors="replace").split("\n")
    del data  # the lines hold the text now; keep one copy of a large file, not two
    if lines and lines[-1] == "":
        lines.pop()

    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        msg = f"{name}: empty file, not a migmatrix results file; remove it or rerun the cells"
        raise ResultsError(msg)
    try:
        head = json.loads(lines[first])
    except ValueError:
        head = None
    if not isinstance(head, dict) or head.get("kind") != "header":
        msg = (
            f"{name}:{first + 1}: not a migmatrix results file "
            "(the first line is not a JSON header object)"
        )
        raise ResultsError(msg)
    header = _header_from(head, f"{name}:{first + 1}")

    problems: list[str] = []
    records: list[Record] = []
    footer: ResultsFooter | None = None
    footer_line = 0
    decode = json.JSONDecoder().raw_decode
    append = records.append
    fast = _fast_record
    # Cell ids and worker names repeat on every line; sharing one string object per
    # value saves about a fifth of the memory of a large run.
    shared: dict[str, str] = {}
    share = shared.setdefault
    for index in range(first + 1, len(lines)):
        line = lines[index]
        lines[index] = ""  # free each line once read
        try:
            obj, end = decode(line)
        except ValueError:
            if not line.strip():
                continue
            problems.append(f"{name}:{index + 1}: unreadable line (not JSON): {line[:80]!r}")
            continue
        if end != len(line) and line[end:].strip():
            problems.append(f"{name}:{index + 1}: unreadable line (text after JSON)")
            continue
        if type(obj) is dict and obj.get("kind") == "record":
            if footer is not None:
                problems.append(f"{name}:{index + 1}: record after the footer (line {footer_line})")
            record = fast(obj, share)
            if record is None:
                try:
                    record = _slow_record(obj)
                except ValueError as exc:
                    problems.append(f"{name}:{index + 1}: bad record: {exc}")
                    continue
            append(record)
        elif type(obj) is dict and obj.get("kind") == "footer":
            if footer is not None:
                problems.append(f"{name}:{index + 1}: second footer (first at line {footer_line})")
                continue
            count = obj.get("records")
            if not isinstance(count, int) or isinstance(count, bool):
                problems.append(f"{name}:{index + 1}: footer without an integer record count")
                count = -1
            footer = ResultsFooter(records=count, finished=str(obj.get("finished", "")))
            footer_line = index + 1
        elif type(obj) is dict and obj.get("kind") == "header":
            problems.append(f"{name}:{index + 1}: second header line")
        else:
            problems.append(f"{name}:{index + 1}: line is not a header, record or footer")

    if footer is None:
        problems.append(
            f"{name}:{len(lines)}: no footer: the run that wrote this file did not finish "
            f"({len(records)} records read)"
        )
    elif footer.records >= 0 and footer.records != len(records):
        problems.append(
            f"{name}:{footer_line}: footer says {footer.records} records, {len(records)} were read"
        )
    return ResultsFile(
        path=name,
        header=header,
        records=records,
        footer=footer,
        problems=problems,
        digest_of_content=digest,
    )
