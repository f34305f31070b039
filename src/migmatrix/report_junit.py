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

from migmatrix.gate import got, summarize
from migmatrix.model import GateResult, Judged
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Outcome, Verdict

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


def _testcase(judged: Judged, cell_id: str, out: list[str]) -> None:
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
    parts = [
        f"{head}>",
        "      <properties>",
        f'        <property name="migmatrix.verdict" value="{verdict.value}"/>',
        f'        <property name="migmatrix.expected" '
        f'value="{xml_escape(judged.expectation.describe())}"/>',
        "      </properties>",
    ]
    if verdict in UNEXPECTED_VERDICTS:
        summary = f"{verdict.value}: expected {judged.expectation.describe()}, got {got(judged)}"
        if judged.detail:
            summary += f"; {judged.detail}"
        body = record.message if record is not None and record.message else judged.detail
        parts.append(
            f'      <failure type="{verdict.value}" message="{xml_escape(summary)}">'
            f"{_text(body or '')}</failure>"
        )
    parts.append("    </testcase>")
    out.append("\n".join(parts))


def render_junit(result: GateResult) -> str:
    """The whole JUnit XML document as a string ending in a newline."""
    summaries = {s.cell.id: s for s in summarize(result)}
    by_cell: dict[str, list[Judged]] = {}
    for judged in result.judged:
        by_cell.setdefault(judged.cell.id, []).append(judged)

    suites: list[str] = []
    total_tests = total_failures = total_skipped = 0
    total_time = 0.0
    for cell_id, items in by_cell.items():
        summary = summaries[cell_id]
        cell = items[0].cell
        skipped = sum(
            1
            for j in items
            if j.verdict is Verdict.AS_EXPECTED
            and j.record is not None
            and j.record.outcome is Outcome.SKIPPED
        )
        time = sum(j.record.duration for j in items if j.record is not None)
        total_tests += len(items)
        total_failures += summary.unexpected
        total_skipped += skipped
        total_time += time
        out = [
            f'  <testsuite name="{xml_escape(cell_id)}" tests="{len(items)}" '
            f'failures="{summary.unexpected}" errors="0" skipped="{skipped}" '
            f'time="{_seconds(time)}">',
            "    <properties>",
            f'      <property name="migmatrix.phase" value="{xml_escape(cell.phase)}"/>',
            f'      <property name="migmatrix.adapter" value="{xml_escape(cell.adapter)}"/>',
            f'      <property name="migmatrix.env" value="{xml_escape(cell.env)}"/>',
            f'      <property name="migmatrix.python" value="{xml_escape(cell.python)}"/>',
            "    </properties>",
        ]
        cid = xml_escape(cell_id)
        plain = Verdict.AS_EXPECTED
        passed = Outcome.PASSED
        escape = xml_escape
        append = out.append
        for judged in items:
            record = judged.record
            # The bulk: an as-expected pass is one line.
            if judged.verdict is plain and record is not None and record.outcome is passed:
                append(
                    f'    <testcase classname="{cid}" name="{escape(judged.test)}" '
                    f'time="{record.duration:.3f}"/>'
                )
            else:
                _testcase(judged, cid, out)
        out.append("  </testsuite>")
        suites.append("\n".join(out))

    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="migmatrix" tests="{total_tests}" failures="{total_failures}" '
        f'errors="0" skipped="{total_skipped}" time="{_seconds(total_time)}">'
    )
    return "\n".join([head, *suites, "</testsuites>"]) + "\n"
