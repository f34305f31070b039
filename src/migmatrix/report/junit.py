"""The JUnit XML report, in the common shape CI test UIs accept.

One `<testsuite>` per cell (named by the cell id), one `<testcase>` per judged
test (classname = cell id, name = test id). The gate's view decides, not the raw
outcome: a reproduced expected failure is a passing testcase carrying
`<property name="migmatrix.verdict" value="reproduced"/>`; every unexpected
verdict is a `<failure>` whose type is the verdict and whose message says what
was expected and what happened; an expected skip is `<skipped/>`. Every
non-as-expected testcase carries the verdict property.

The text is built directly rather than through ElementTree (which took most of
the report time at 300,000 testcases); attribute and text escaping drops the
characters XML 1.0 cannot hold (ANSI escapes in failure messages, for one).
"""

from __future__ import annotations

import re

from migmatrix.model import Cell, GateResult, Judged, Record
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Outcome, Verdict
from migmatrix.report.summary import got, judgements, summarize

_NEEDS_ESCAPE = re.compile(r"[&<>\"\n\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_escape(text: str) -> str:
    """Escape for an attribute or text node; drop characters XML 1.0 forbids."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = _ILLEGAL.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
    )


def _text(text: str) -> str:
    # Text nodes keep their newlines (a failure's message); only attributes encode them.
    return xml_escape(text).replace("&#10;", "\n")


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _testcase(
    judged: Judged, cell_id: str, out: list[str], tails: dict[tuple[int, Verdict], str]
) -> None:
    record = judged.record
    time = _seconds(record.duration if record is not None else 0.0)
    head = f'    <testcase classname="{cell_id}" name="{xml_escape(judged.test)}" time="{time}"'
    verdict = judged.verdict
    if verdict is Verdict.AS_EXPECTED:
        if record is not None and record.outcome is Outcome.SKIPPED:
            out.append(f"{head}>\n      <skipped/>\n    </testcase>")
        else:
            out.append(f"{head}/>")
        return
    expectation = judged.expectation
    if verdict not in UNEXPECTED_VERDICTS:
        # A reproduced or flaky item's properties depend only on its expectation and
        # verdict: written once for every such item (tens of thousands of reproductions).
        key = (id(expectation), verdict)
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = _properties(verdict, expectation.describe()) + "\n    </testcase>"
        out.append(f"{head}>\n{tail}")
        return
    described = expectation.describe()
    summary = f"{verdict.value}: expected {described}, got {got(judged)}"
    if judged.detail:
        summary += f"; {judged.detail}"
    body = record.message if record is not None and record.message else judged.detail
    out.append(
        f"{head}>\n{_properties(verdict, described)}\n"
        f'      <failure type="{verdict.value}" message="{xml_escape(summary)}">'
        f"{_text(body or '')}</failure>\n    </testcase>"
    )


def _properties(verdict: Verdict, described: str) -> str:
    return (
        "      <properties>\n"
        f'        <property name="migmatrix.verdict" value="{verdict.value}"/>\n'
        f'        <property name="migmatrix.expected" value="{xml_escape(described)}"/>\n'
        "      </properties>"
    )


class _Suite:
    """One cell's testsuite while it is being written: its lines and counts."""

    __slots__ = ("cell", "durations", "lines", "skipped")

    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.lines: list[str] = []  # one per testcase
        self.durations: list[float] = []
        self.skipped = 0


def render_junit(result: GateResult) -> str:
    """The whole JUnit XML document as a string ending in a newline."""
    summaries = {s.cell.id: s for s in summarize(result)}
    suites: dict[str, _Suite] = {}
    plain = Verdict.AS_EXPECTED
    passed, skipped = Outcome.PASSED, Outcome.SKIPPED
    escape = xml_escape
    # Test ids repeat in every cell: each is escaped once (with the text after it).
    names: dict[str, str] = {}
    tails: dict[tuple[int, Verdict], str] = {}
    # One pass in report order, a cell block at a time (summary.judgements).
    for block in judgements(result):
        cell = block.cell
        suite = suites.get(cell.id)
        if suite is None:
            suite = suites[cell.id] = _Suite(cell)
        lines, durations = suite.lines, suite.durations
        cid = escape(cell.id)
        head = f'    <testcase classname="{cid}" name="'
        other, records = block.other, block.records
        for test in block.tests:
            judged = other.get(test)
            if judged is None:
                record: Record | None = records[test]  # a usual item: as expected
                verdict = plain
            else:
                # Judged is a named tuple: one unpacking instead of two attribute lookups.
                _, _, _, record, verdict, _ = judged
            if record is not None:
                duration = record.duration
                durations.append(duration)
                if verdict is plain:
                    outcome = record.outcome
                    # The bulk: an as-expected pass is one line.
                    if outcome is passed:
                        name = names.get(test)
                        if name is None:
                            name = names[test] = escape(test) + '" time="'
                        lines.append(f'{head}{name}{duration:.3f}"/>')
                        continue
                    if outcome is skipped:
                        suite.skipped += 1
            _testcase(judged or block.item(test), cid, lines, tails)

    out = []
    total_tests = total_failures = total_skipped = 0
    total_time = 0.0
    for cell_id, suite in suites.items():
        summary = summaries[cell_id]
        cell = suite.cell
        # sum() as before: Python 3.12 sums floats with compensation, byte for byte the same.
        time = sum(suite.durations)
        tests = len(suite.lines)
        total_tests += tests
        total_failures += summary.unexpected
        total_skipped += suite.skipped
        total_time += time
        out.append(
            f'  <testsuite name="{xml_escape(cell_id)}" tests="{tests}" '
            f'failures="{summary.unexpected}" errors="0" skipped="{suite.skipped}" '
            f'time="{_seconds(time)}">\n'
            "    <properties>\n"
            f'      <property name="migmatrix.phase" value="{xml_escape(cell.phase)}"/>\n'
            f'      <property name="migmatrix.adapter" value="{xml_escape(cell.adapter)}"/>\n'
            f'      <property name="migmatrix.env" value="{xml_escape(cell.env)}"/>\n'
            f'      <property name="migmatrix.python" value="{xml_escape(cell.python)}"/>\n'
            "    </properties>"
        )
        out.extend(suite.lines)
        out.append("  </testsuite>")

    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="migmatrix" tests="{total_tests}" failures="{total_failures}" '
        f'errors="0" skipped="{total_skipped}" time="{_seconds(total_time)}">'
    )
    out.insert(0, head)
    out.append("</testsuites>\n")
    return "\n".join(out)
