"""The Markdown report: the terminal report's content as GitHub-flavoured tables.

Written for `$GITHUB_STEP_SUMMARY` (appended to, as GitHub expects several steps
to add to one summary) and for `--markdown FILE`. All test and message text is
escaped so a test id or failure message can neither break a table nor inject
markup.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

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

# Items listed in full; a summary of hundreds of thousands of failures helps nobody
# and GitHub caps a step summary at 1 MiB.
ITEM_LIMIT = 500
_ICON = {"passed": "✅", "failed": "❌", "incomplete": "⚠️"}
_SPECIAL = str.maketrans(
    {
        "|": "\\|",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "[": "\\[",
        "]": "\\]",
        "\n": " ",
        "\r": " ",
    }
)


def md(text: str) -> str:
    """Escape text for a Markdown table cell."""
    return text.translate(_SPECIAL)


def _cell_text(summary: CellSummary) -> str:
    if summary.failing:
        return f"❌ {summary.text()}"
    if summary.unexpected:
        return f"⚠️ {summary.text()}"
    return f"✅ {summary.text()}"


def render_markdown(result: GateResult) -> str:
    """The whole Markdown report as one string ending in a newline."""
    word = status(result)
    totals = verdict_totals(result)
    counts = ", ".join(f"{n} {v.value}" for v, n in totals.items() if n)
    out = [
        f"## migmatrix gate: {_ICON.get(word, '')} {word} (exit {result.exit_code})",
        "",
        md(counts or "nothing judged"),
        "",
    ]
    for table in matrix_tables(result):
        out.append(f"### Python {md(table.python)}")
        out.append("")
        out.append("| phase | " + " | ".join(md(f"{a}/{e}") for a, e in table.columns) + " |")
        out.append("|---|" + "---|" * len(table.columns))
        for phase, summaries in table.rows:
            row = [md(phase)]
            row.extend("–" if summary is None else _cell_text(summary) for summary in summaries)
            out.append("| " + " | ".join(row) + " |")
        out.append("")

    items = unexpected(result)
    if items:
        out.append(f"### Unexpected ({len(items)})")
        out.append("")
        out.append("| verdict | cell | test | expected | got | message |")
        out.append("|---|---|---|---|---|---|")
        for judged in items[:ITEM_LIMIT]:
            message = one_line(judged.record.message if judged.record else None) or judged.detail
            out.append(
                f"| {judged.verdict.value} | {md(judged.cell.id)} | {md(judged.test)} | "
                f"{md(judged.expectation.describe())} | {md(got(judged))} | {md(message)} |"
            )
        if len(items) > ITEM_LIMIT:
            out.append("")
            out.append(f"… and {len(items) - ITEM_LIMIT} more (see the JSON or JUnit report).")
        out.append("")
    if result.problems:
        out.append(f"### Problems with the results ({len(result.problems)})")
        out.append("")
        out.extend(f"- {md(problem)}" for problem in result.problems)
        out.append("")
    if result.stale_rules:
        out.append(f"### Stale expectation rules ({len(result.stale_rules)})")
        out.append("")
        out.extend(
            f"- {md(rule_words(rule))} matches no planned test" for rule in result.stale_rules
        )
        out.append("")
    if result.coverage or result.coverage_total is not None:
        out.append("### Coverage")
        out.append("")
        if result.coverage_total is not None:
            out.append(f"Total: {result.coverage_total:.2f}%")
            out.append("")
        if result.coverage:
            out.append("| rule | result | detail |")
            out.append("|---|---|---|")
            for verdict in result.coverage:
                mark = "✅ ok" if verdict.passed else "❌ failed"
                out.append(f"| {md(verdict.rule.name)} | {mark} | {md(verdict.detail)} |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def write_step_summary(text: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Append `text` to `$GITHUB_STEP_SUMMARY` when set; return the path written, or None."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    with open(path, "a", encoding="utf-8", newline="\n") as out:
        out.write(text)
    return path
