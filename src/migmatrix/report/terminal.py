"""The terminal report: the matrix as tables, then everything that needs a look.

One table per Python version: rows are phases, columns are adapter x env, and
each cell reads "12/12 ok", "3 unexpected" or "no results" ("-" where the plan
has no such cell). Then every unexpected item (cell, test, expected, got and a
message excerpt), the merge problems, stale rules and coverage results, and one
closing line with the gate's status.

Colour is used only when the stream is a terminal and NO_COLOR is unset, or when
FORCE_COLOR is set (https://no-color.org, https://force-color.org). Without
colour the same text is produced byte for byte, minus the escape codes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from migmatrix.model import GateResult
from migmatrix.report.summary import (
    CellSummary,
    got,
    matrix_tables,
    rule_words,
    status,
    unexpected,
    verdict_totals,
)
from migmatrix.text import one_line

_GREEN, _RED, _YELLOW, _BOLD, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour output on `stream`, by NO_COLOR / FORCE_COLOR and isatty."""
    env = os.environ if environ is None else environ
    if env.get("FORCE_COLOR"):
        return True
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.enabled and text else text


def _colour_of(summary: CellSummary) -> str:
    if summary.failing:
        return _RED
    if summary.unexpected:
        return _YELLOW
    return _GREEN


def matrix_lines(result: GateResult, paint: _Paint | None = None) -> list[str]:
    """The per-Python matrix tables as aligned text lines."""
    paint = paint or _Paint(False)
    lines: list[str] = []
    for table in matrix_tables(result):
        header = ["phase"] + [f"{a}/{e}" for a, e in table.columns]
        rows = []
        for phase, summaries in table.rows:
            row: list[tuple[str, str]] = [(phase, "")]
            for summary in summaries:
                if summary is None:
                    row.append(("-", ""))
                else:
                    row.append((summary.text(), _colour_of(summary)))
            rows.append(row)
        widths = [len(h) for h in header]
        for row in rows:
            for i, (text, _) in enumerate(row):
                widths[i] = max(widths[i], len(text))
        lines.append(paint(_BOLD, f"Python {table.python}"))
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            cells = [
                paint(colour, text) + " " * (w - len(text))
                for (text, colour), w in zip(row, widths, strict=True)
            ]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
    return lines


def render_terminal(result: GateResult, *, colour: bool = False) -> str:
    """The whole terminal report as one string ending in a newline."""
    paint = _Paint(colour)
    lines = matrix_lines(result, paint)

    items = unexpected(result)
    if items:
        lines.append(paint(_BOLD, f"Unexpected ({len(items)})"))
        for judged in items:
            failing = judged.verdict in result.fail_on
            tag = paint(_RED if failing else _YELLOW, judged.verdict.value)
            lines.append(f"  {tag}  {judged.cell.id} :: {judged.test}")
            lines.append(f"      expected {judged.expectation.describe()}, got {got(judged)}")
            message = one_line(judged.record.message if judged.record else None)
            detail = judged.detail
            if detail:
                lines.append(f"      {detail}")
            if message:
                lines.append(f"      message: {message}")
            notes = [n for n in (judged.expectation.bug, judged.expectation.owner) if n]
            if notes:
                lines.append(f"      see: {', '.join(notes)}")
        lines.append("")

    if result.problems:
        lines.append(paint(_BOLD, f"Problems with the results ({len(result.problems)})"))
        lines.extend(f"  {problem}" for problem in result.problems)
        lines.append("")
    if result.stale_rules:
        lines.append(paint(_BOLD, f"Stale expectation rules ({len(result.stale_rules)})"))
        lines.extend(f"  {rule_words(rule)} matches no planned test" for rule in result.stale_rules)
        lines.append("")
    if result.coverage or result.coverage_total is not None:
        lines.append(paint(_BOLD, "Coverage"))
        if result.coverage_total is not None:
            lines.append(f"  total: {result.coverage_total:.2f}%")
        for verdict in result.coverage:
            word = paint(_GREEN, "ok") if verdict.passed else paint(_RED, "FAILED")
            lines.append(f"  {word}  {verdict.rule.name}: {verdict.detail}")
        lines.append("")

    totals = verdict_totals(result)
    counts = ", ".join(f"{n} {v.value}" for v, n in totals.items() if n)
    word = status(result)
    colour_code = {"passed": _GREEN, "failed": _RED}.get(word, _YELLOW)
    lines.append(
        f"{paint(colour_code, 'gate ' + word.upper())} (exit {result.exit_code}): "
        f"{counts or 'nothing judged'}"
    )
    return "\n".join(lines) + "\n"
