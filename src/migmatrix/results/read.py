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
step (see `fast_record`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
from collections.abc import Callable
from typing import Any, BinaryIO

from migmatrix.errors import ResultsError
from migmatrix.model import (
    RESULTS_SCHEMAS_READ,
    Record,
    ResultsFooter,
    ResultsHeader,
)
from migmatrix.results.lines import (
    SCALARS,
    fast_record,
    header_damage,
    header_from,
    slow_record,
)
from migmatrix.results.sidecar import first_line, sidecar_path
from migmatrix.text import shorten

_DECODE = json.JSONDecoder().raw_decode


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
# How many cells, and test ids per cell, the problems of a cut-off file name.
_SHOWN = 20
_SHOWN_IDS = 3
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
    `unfinished` lists (cell, test, node id) of the tests a journal says began and
    never recorded (`plugin.journal`): what was running when the run died.
    """

    path: str
    header: ResultsHeader
    records: list[Record]
    footer: ResultsFooter | None
    problems: list[str]
    digest_of_content: str
    collected: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    has_collection: bool = True
    unfinished: tuple[tuple[str, str, str], ...] = ()

    @property
    def complete(self) -> bool:
        return self.footer is not None and not self.problems


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
        self.began: dict[tuple[str, str], str] = {}
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
            self.header = header_from(head, where)
            self.problems.extend(f"{where}: damaged header: {why}" for why in header_damage(head))
            return lines[offset + 1 :], start + offset + 1
        return [], start + len(lines)

    def _take(self, objs: list[Any], start: int) -> bool:
        """Take a parsed block's objects, one per line after line `start`; False if not flat."""
        share = self.share
        fast = fast_record
        built: list[Record | dict[str, Any]] = []
        append = built.append
        mixed = False  # any line that is not a well-formed record
        for obj in objs:
            record = fast(obj, share)
            if record is not None:
                append(record)
            elif type(obj) is dict and (
                obj.get("kind") == "collected" or all(type(v) in SCALARS for v in obj.values())
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
        record = fast_record(obj, self.share)
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
                self.records.append(slow_record(obj))
            except ValueError as exc:
                self.problems.append(f"{where}: bad record: {exc}")
        elif kind == "footer":
            if self.footer is not None:
                self.problems.append(f"{where}: second footer (first at line {self.footer_line})")
                return
            count = obj.get("records")
            if not isinstance(count, int) or isinstance(count, bool):
                self.problems.append(
                    f"{where}: footer record count {shorten(repr(count))} is not an integer"
                )
                count = -1
            elif count < 0:
                self.problems.append(f"{where}: footer record count {count} is negative")
            self.footer = ResultsFooter(records=count, finished=str(obj.get("finished", "")))
            self.footer_line = number
        elif kind == "collected":
            self._collected(obj, where)
        elif kind == "began":
            # A journal's note that a test started (plugin.journal); not a record.
            cell, test, nodeid = obj.get("cell"), obj.get("test"), obj.get("nodeid")
            if isinstance(cell, str) and isinstance(test, str):
                self.began[(cell, test)] = nodeid if isinstance(nodeid, str) else ""
            else:
                self.problems.append(f"{where}: bad began line: needs string 'cell' and 'test'")
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
        unfinished: tuple[tuple[str, str, str], ...] = ()
        if footer is None:
            self.problems.append(
                f"{name}:{self.lines}: no footer: the run that wrote this file did not finish "
                f"({len(records)} records read)"
            )
            unfinished = self._unfinished()
            self.problems.extend(self._what_is_missing(unfinished))
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
            unfinished=unfinished,
        )

    def _unfinished(self) -> tuple[tuple[str, str, str], ...]:
        if not self.began:
            return ()
        recorded = {record.key for record in self.records}
        return tuple(
            (cell, test, nodeid)
            for (cell, test), nodeid in sorted(self.began.items())
            if (cell, test) not in recorded
        )

    def _what_is_missing(self, unfinished: tuple[tuple[str, str, str], ...]) -> list[str]:
        """For a file without footer (a run that died): per cell, what was recorded and what
        was not, and which tests were running; a few ids each, so a huge cut stays readable."""
        name = self.name
        note = first_line(name)
        why = (
            f"the watchdog ended the run ({note}; see {sidecar_path(name).name}, or let "
            "`migmatrix run` resume it)"
            if note
            else "the run died while it ran"
        )
        lines = [
            f"{name}:0: {cell} :: {test} began and has no record: {why}"
            for cell, test, _nodeid in unfinished[:_SHOWN]
        ]
        if len(unfinished) > _SHOWN:
            lines.append(f"{name}:0: ... and {len(unfinished) - _SHOWN} more tests that began")
        recorded: dict[str, set[str]] = {}
        for record in self.records:
            recorded.setdefault(record.cell, set()).add(record.test)
        short = []
        for cell, tests in sorted(self.collected.items()):
            have = recorded.get(cell, set())
            missing = [test for test in tests if test not in have]
            if missing:
                shown = ", ".join(missing[:_SHOWN_IDS])
                more = f" and {len(missing) - _SHOWN_IDS} more" if len(missing) > _SHOWN_IDS else ""
                short.append(
                    f"{name}:0: cell {cell}: {len(tests) - len(missing)} of {len(tests)} "
                    f"collected tests recorded; not recorded: {shown}{more}"
                )
        lines.extend(short[:_SHOWN])
        if len(short) > _SHOWN:
            lines.append(f"{name}:0: ... and {len(short) - _SHOWN} more cells with tests missing")
        return lines
