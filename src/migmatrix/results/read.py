"""Reading results files (JSON Lines, docs/contracts.md "Results files").

The reader is built for the judge: it never raises on damaged content. A missing
footer, a wrong count, an unreadable line or an unknown outcome becomes a
problem naming `file:line`, and every record that could be read is still
returned, so merge and gate can judge what exists and say what does not. Only a
file that is not a results file at all (unreadable, empty, no header, a foreign
schema) raises `ResultsError`.

Reading is on the hot path of the gate (hundreds of thousands of records): the
file is read in blocks, each block's lines are parsed by one JSON call (see
`_Reader`), and the common, well-formed record line becomes a `Record` in one
step (see `_fast_record`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
from collections.abc import Callable
from typing import Any, BinaryIO

from migmatrix._speed import tuple_maker
from migmatrix.errors import ResultsError
from migmatrix.model import (
    RESULTS_SCHEMA,
    RESULTS_SCHEMAS_READ,
    Record,
    ResultsFooter,
    ResultsHeader,
)
from migmatrix.outcomes import Outcome
from migmatrix.results.write import HEADER_KEYS
from migmatrix.text import excerpt

SCHEMA_FAMILY = RESULTS_SCHEMA.split("/", 1)[0] + "/"

_RECORD_FIELDS = Record._fields
# The exact key set the writer produces for a record line: the fast path applies to it.
_RECORD_LINE_SIZE = len(_RECORD_FIELDS) + 1  # the fields and "kind"
_OUTCOMES = {o.value: o for o in Outcome}
_RECORD_DEFAULTS: dict[str, Any] = dict(Record._field_defaults)
_SCALARS = frozenset({str, int, float, bool, type(None)})
_DECODE = json.JSONDecoder().raw_decode
_new_record: Callable[[tuple[Any, ...]], Record] = tuple_maker(Record)


def json_block(block: bytes) -> Any:
    """Parse a block of UTF-8 JSON with the json module.

    Decoded strictly here, not by `json.loads` (which lets encoded surrogates
    through): a byte that is not UTF-8 sends the block to the per-line path,
    which reads it exactly as it does with orjson.
    """
    return json.loads(block.decode("utf-8"))


def _block_loader() -> Callable[[bytes], Any]:
    """What parses a whole block: orjson's `loads` when it is installed, else `json_block`.

    orjson (a dependency on CPython, where its wheels exist) parses a block two to
    three times faster; on other implementations the json module does. Both give
    equal values for every document both accept; what orjson refuses (NaN, huge
    integers, ...) falls back to the per-line json path, so the choice changes
    the speed, never the records read.
    """
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return json_block
    loads: Callable[[bytes], Any] = orjson.loads
    return loads


_LOADS_BLOCK = _block_loader()
_BLOCK = 1 << 20  # bytes read at a time: about 4,000 record lines


@dataclasses.dataclass(frozen=True)
class ResultsFile:
    """One results file as read: what could be parsed, and what was wrong with it.

    `footer` is None when the file has no footer line. `problems` are human
    messages, each starting with `path:line:` (line 0 = the file as a whole).
    `digest_of_content` is the SHA-256 of the file's bytes; merge uses it to drop
    exact duplicate inputs. `complete` is True when nothing is wrong.
    `collected` maps each cell id to the test ids the run collected for it (its
    "collected" lines); `has_collection` is False for a /1 file, which has none.
    """

    path: str
    header: ResultsHeader
    records: list[Record]
    footer: ResultsFooter | None
    problems: list[str]
    digest_of_content: str
    collected: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    has_collection: bool = True

    @property
    def complete(self) -> bool:
        return self.footer is not None and not self.problems


def _header_from(obj: dict[str, Any], where: str) -> ResultsHeader:
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
_SHOWN = 200  # characters of a bad value a problem echoes


def header_damage(obj: dict[str, Any]) -> list[str]:
    """What is wrong with a header's own keys: each a short reason, empty when nothing is.

    A header is what a merge trusts to know which interpreter and which shard a
    file stands for; a wrong type there (or a shard that is not INDEX/TOTAL)
    makes the whole file doubtful, so the file is judged incomplete.
    """
    damage = [
        f"header {key!r} must be a string, got {excerpt(repr(obj.get(key)), _SHOWN)}"
        for key in _HEADER_STRINGS
        if not isinstance(obj.get(key, ""), str)
    ]
    if not obj.get("python") or not obj.get("run_id"):
        damage.append("header has no 'python' or no 'run_id'")
    selection = obj.get("selection")
    if selection is not None and not isinstance(selection, str):
        damage.append(
            f"header 'selection' must be a string or null, got {excerpt(repr(selection), _SHOWN)}"
        )
    shard = obj.get("shard")
    if shard is not None and shard_of(shard) is None:
        damage.append(
            f"header 'shard' must be \"INDEX/TOTAL\" (1 <= INDEX <= TOTAL), "
            f"got {excerpt(repr(shard), _SHOWN)}"
        )
    return damage


def shard_of(value: Any) -> tuple[int, int] | None:
    """(index, total) of a header's `shard` ("2/3"), or None when it is not one."""
    if not isinstance(value, str):
        return None
    index_text, slash, total_text = value.partition("/")
    if not slash or not index_text.isdecimal() or not total_text.isdecimal():
        return None
    if len(index_text) > 6 or len(total_text) > 6:
        return None
    index, total = int(index_text), int(total_text)
    return (index, total) if 1 <= index <= total else None


def _fast_record(obj: Any, share: Callable[[str, str], str]) -> Record | None:
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
    name = os.fspath(path)
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below, read in blocks
    except OSError as exc:
        msg = f"{name}: cannot read results file ({exc.strerror or exc}); check the path"
        raise ResultsError(msg) from None
    with handle:
        try:
            return _read_blocks(name, handle)
        except OSError as exc:
            msg = f"{name}: cannot read results file ({exc.strerror or exc}); check the path"
            raise ResultsError(msg) from None


def _read_blocks(name: str, handle: BinaryIO) -> ResultsFile:
    # The file is read in blocks of whole lines: memory holds one block's text at a
    # time, not the whole file's lines beside its records.
    hasher = hashlib.sha256()
    reader = _Reader(name)
    carry = b""
    while True:
        block = handle.read(_BLOCK)
        if not block:
            break
        hasher.update(block)
        cut = block.rfind(b"\n")
        if cut < 0:
            carry += block
            continue
        chunk = carry + block[:cut]
        carry = block[cut + 1 :]
        reader.feed_bytes(chunk)
    if carry:
        reader.feed_bytes(carry)
    return reader.finish(hasher.hexdigest())


class _Reader:
    """The line-by-line state of reading one file: header, records, footer, problems.

    Blocks of whole lines go through `feed_bytes`. Once the header is read, a block
    is first parsed in one call as a JSON array, its bytes with every newline made a
    comma (`[line,line,...]`): several times faster than a call per line, and
    without decoding and splitting the text first. The answer is used only when it
    has exactly one flat object (scalar values only) per line: a raw newline cannot
    occur inside a JSON string, so the array has one comma per newline at the top
    level, and as many values as lines means no line held more or less than one
    value. Anything else (a cut line, a blank line, nested values, text after an
    object, bytes that are not UTF-8) sends the block through `feed`, the per-line
    path, which names the bad lines.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.header: ResultsHeader | None = None
        self.lines = 0  # lines fed so far
        self.records: list[Record] = []
        self.problems: list[str] = []
        self.footer: ResultsFooter | None = None
        self.footer_line = 0
        self.collected: dict[str, tuple[str, ...]] = {}
        # Cell ids, test ids, workers and messages repeat across records and files'
        # lines; one shared string object per value saves about a fifth of the memory.
        shared: dict[str, str] = {}
        self.share = shared.setdefault

    def feed_bytes(self, chunk: bytes) -> None:
        """Read a block of whole lines (no final newline), in one parse when it can."""
        while self.header is None:
            # Lines up to the header, one at a time (blank lines may come before it).
            cut = chunk.find(b"\n")
            if cut < 0:
                self.feed(self._decode([chunk], keep=True))
                return
            self.feed(self._decode([chunk[:cut]], keep=True))
            chunk = chunk[cut + 1 :]
        if chunk:
            count = chunk.count(b"\n") + 1
            try:
                objs = _LOADS_BLOCK(b"[" + chunk.replace(b"\n", b",") + b"]")
            except (ValueError, RecursionError):
                objs = None
            if type(objs) is list and len(objs) == count and self._take(objs, self.lines):
                self.lines += count
                return
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            self.feed(self._decode(chunk.split(b"\n")))  # line by line, to name the bad ones
        else:
            self.feed(text.split("\n"))

    def _decode(self, raw: list[bytes], *, keep: bool = False) -> list[str]:
        """Lines as text; a line that is not UTF-8 is a problem of the file, and left out.

        Nothing is guessed: a replaced byte could turn a damaged line into a record
        that was never written (the line is kept as an empty one, so numbers stay).
        Lines before the header are `keep`: replaced, so a header with a bad byte in
        a value is still read (and the file judged incomplete) rather than refused.
        """
        lines = []
        for offset, line in enumerate(raw):
            try:
                lines.append(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                number = self.lines + offset + 1
                self.problems.append(
                    f"{self.name}:{number}: line is not valid UTF-8 (byte {exc.start + 1}); "
                    "the file is damaged: rerun the cells it holds"
                )
                lines.append(line.decode("utf-8", errors="replace") if keep else "")
        return lines

    def feed(self, lines: list[str]) -> None:
        """Read decoded lines one by one (the header, and any block `feed_bytes` refused)."""
        start = self.lines
        self.lines += len(lines)
        if self.header is None:
            lines, start = self._find_header(lines, start)
        for offset, line in enumerate(lines):
            self._line(line, start + offset + 1)

    def _find_header(self, lines: list[str], start: int) -> tuple[list[str], int]:
        for offset, line in enumerate(lines):
            if not line.strip():
                continue
            where = f"{self.name}:{start + offset + 1}"
            try:
                head = json.loads(line)
            except (ValueError, RecursionError):
                head = None
            if not isinstance(head, dict) or head.get("kind") != "header":
                msg = (
                    f"{where}: not a migmatrix results file "
                    "(the first line is not a JSON header object)"
                )
                raise ResultsError(msg)
            self.header = _header_from(head, where)
            self.problems.extend(f"{where}: damaged header: {why}" for why in header_damage(head))
            return lines[offset + 1 :], start + offset + 1
        return [], start + len(lines)

    def _take(self, objs: list[Any], start: int) -> bool:
        """Take a parsed block's objects, one per line after line `start`; False if not flat."""
        share = self.share
        fast = _fast_record
        built: list[Record | dict[str, Any]] = []
        append = built.append
        mixed = False  # any line that is not a well-formed record
        for obj in objs:
            record = fast(obj, share)
            if record is not None:
                append(record)
            elif type(obj) is dict and (
                obj.get("kind") == "collected" or all(type(v) in _SCALARS for v in obj.values())
            ):
                mixed = True
                append(obj)  # dispatched below, in line order
            else:
                return False
        if not mixed and self.footer is None:
            self.records.extend(built)  # type: ignore[arg-type]  # all Records, checked above
            return True
        for index, item in enumerate(built):
            if isinstance(item, Record):
                self._record(item, start + index + 1)
            else:
                self._object(item, start + index + 1)
        return True

    def _line(self, line: str, number: int) -> None:
        try:
            obj, end = _DECODE(line)
        except (ValueError, RecursionError):
            if line.strip():
                self.problems.append(
                    f"{self.name}:{number}: unreadable line (not JSON): {line[:80]!r}"
                )
            return
        if end != len(line) and line[end:].strip():
            self.problems.append(f"{self.name}:{number}: unreadable line (text after JSON)")
            return
        record = _fast_record(obj, self.share)
        if record is not None:
            self._record(record, number)
        else:
            self._object(obj, number)

    def _record(self, record: Record, number: int) -> None:
        if self.footer is not None:
            self.problems.append(
                f"{self.name}:{number}: record after the footer (line {self.footer_line})"
            )
        self.records.append(record)

    def _object(self, obj: Any, number: int) -> None:
        """Any line that is not a well-formed record: a damaged record, the footer, or junk."""
        where = f"{self.name}:{number}"
        kind = obj.get("kind") if type(obj) is dict else None
        if kind == "record":
            if self.footer is not None:
                self.problems.append(f"{where}: record after the footer (line {self.footer_line})")
            try:
                self.records.append(_slow_record(obj))
            except ValueError as exc:
                self.problems.append(f"{where}: bad record: {exc}")
        elif kind == "footer":
            if self.footer is not None:
                self.problems.append(f"{where}: second footer (first at line {self.footer_line})")
                return
            count = obj.get("records")
            if not isinstance(count, int) or isinstance(count, bool):
                self.problems.append(
                    f"{where}: footer record count {excerpt(repr(count), _SHOWN)} is not an integer"
                )
                count = -1
            elif count < 0:
                self.problems.append(f"{where}: footer record count {count} is negative")
            self.footer = ResultsFooter(records=count, finished=str(obj.get("finished", "")))
            self.footer_line = number
        elif kind == "collected":
            self._collected(obj, where)
        elif kind == "header":
            self.problems.append(f"{where}: second header line")
        else:
            self.problems.append(f"{where}: line is not a header, record or footer")

    def _collected(self, obj: dict[str, Any], where: str) -> None:
        """A "collected" line: the test ids the run collected for one cell."""
        cell, tests = obj.get("cell"), obj.get("tests")
        if (
            not isinstance(cell, str)
            or not cell
            or not isinstance(tests, list)
            or not all(isinstance(t, str) and t for t in tests)
        ):
            self.problems.append(
                f"{where}: bad collected line: needs a non-empty string 'cell' and a list "
                "of non-empty test id strings 'tests'"
            )
            return
        if cell in self.collected:
            self.problems.append(f"{where}: second collected line for cell {cell!r}")
        # Shared strings: the records that follow name the same test ids (see `share`).
        share = self.share
        named = {share(test, test) for test in tests}
        self.collected[cell] = tuple(sorted(named.union(self.collected.get(cell, ()))))

    def finish(self, digest: str) -> ResultsFile:
        name = self.name
        if self.header is None:
            msg = f"{name}: empty file, not a migmatrix results file; remove it or rerun the cells"
            raise ResultsError(msg)
        records, footer = self.records, self.footer
        if footer is None:
            self.problems.append(
                f"{name}:{self.lines}: no footer: the run that wrote this file did not finish "
                f"({len(records)} records read)"
            )
        elif footer.records >= 0 and footer.records != len(records):
            self.problems.append(
                f"{name}:{self.footer_line}: footer says {footer.records} records, "
                f"{len(records)} were read"
            )
        return ResultsFile(
            path=name,
            header=self.header,
            records=records,
            footer=footer,
            problems=self.problems,
            digest_of_content=digest,
            collected=self.collected,
            has_collection=self.header.schema != RESULTS_SCHEMAS_READ[0],
        )
