"""The Markdown report: the verdict and the migration map first, the detail folded.

GitHub shows a step summary at a glance only if it is short: the gate's status,
the map (`migration_map`) and the unexpected items by cause come first; the
per-Python cell counts and the full list of items sit in `<details>` blocks.
Written for `$GITHUB_STEP_SUMMARY` (appended to, as GitHub expects several steps
to add to one summary) and for `--markdown FILE`. All test and message text is
escaped so a test id or failure message can neither break a table nor inject
markup.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from migmatrix.model import GateResult, Judged
from migmatrix.report.groups import ItemGroup, group_items, message_of, span_words
from migmatrix.report.migration_map import (
    UNICODE_MARKS,
    Mark,
    MigrationMap,
    build_map,
    env_labels,
    python_span,
    pythons_line,
)
from migmatrix.report.summary import (
    CellSummary,
    coverage_words,
    got,
    matrix_tables,
    rule_words,
    status,
    unexpected,
    verdict_totals,
)

# Items listed in full; a summary of hundreds of thousands of failures helps nobody
# and GitHub caps a step summary at 1 MiB.
ITEM_LIMIT = 500
FIRST_CELLS = 3  # cells named per cause in the summary; the full list is folded below
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
        md("; ".join(filter(None, [counts or "nothing judged", coverage_words(result)]))),
        "",
    ]
    found = build_map(result)
    if found.states:
        out.extend(map_section(found))
    groups = group_items(result)
    if groups:
        out.extend(groups_section(result, groups))
    out.extend(_details("Per-Python detail", per_python(found, result)))
    items = unexpected(result)
    if items:
        out.extend(_details(f"All {len(items)} unexpected items", item_table(items)))
    out.extend(_other_sections(result))
    return "\n".join(out).rstrip("\n") + "\n"


def _details(summary: str, body: list[str]) -> list[str]:
    """A collapsed block; the blank lines let GitHub render the Markdown inside it."""
    if not body:
        return []
    return ["<details>", f"<summary>{md(summary)}</summary>", "", *body, "</details>", ""]


def map_section(found: MigrationMap) -> list[str]:
    """The migration map as a table: a row per state, a column per phase with its envs."""
    envs = list(dict.fromkeys(env for _, envs in found.columns for env in envs))
    labels = env_labels(envs)
    legend = ", ".join(f"{UNICODE_MARKS[mark]} {mark.value}" for mark in Mark)
    out = ["### Migration map", "", md(pythons_line(found)), "", legend, ""]
    heads = [f"{md(phase)}<br>{' '.join(labels[e] for e in es)}" for phase, es in found.columns]
    out.append("| state | " + " | ".join(heads) + " |")
    out.append("|---|" + "---|" * len(heads))
    for state in found.states:
        row = [md(state)]
        for phase, es in found.columns:
            row.append(" ".join(UNICODE_MARKS[found.mark(state, phase, env)] for env in es))
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("envs: " + ", ".join(f"{label} {md(env)}" for env, label in labels.items()))
    out.append("")
    return out


def groups_section(result: GateResult, groups: list[ItemGroup]) -> list[str]:
    """The unexpected items by cause, one row each, with its first cells."""
    total = sum(len(group.items) for group in groups)
    out = [
        f"### Unexpected: {total} item(s), {len(groups)} cause(s)",
        "",
        "| verdict | count | test | expected | got | message | spans | first cells |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group in groups[:ITEM_LIMIT]:
        first = group.first
        message = md(message_of(first))
        if message and group.message_varies():
            message += " (first cell's)"
        cells = [judged.cell.id for judged in group.items[:FIRST_CELLS]]
        if len(group.items) > FIRST_CELLS:
            cells.append(f"and {len(group.items) - FIRST_CELLS} more")
        out.append(
            f"| {first.verdict.value} | {len(group.items)} | {md(first.test)} | "
            f"{md(group.expected_words())} | {md(group.got_words())} | "
            f"{message} | {md(span_words(group, result))} | "
            + "<br>".join(md(cell) for cell in cells)
            + " |"
        )
    if len(groups) > ITEM_LIMIT:
        out.extend(["", f"… and {len(groups) - ITEM_LIMIT} more causes."])
    out.append("")
    return out


def per_python(found: MigrationMap, result: GateResult) -> list[str]:
    """Where each differing Python departs from the map, then every Python's cell counts."""
    out: list[str] = []
    for group in found.others:
        named = python_span(group.pythons, found.pythons)
        out.append(f"**{md(named)}** differs from the map at {len(group.differences)} position(s):")
        out.append("")
        out.extend(
            f"- {md(d.state)} {md(d.phase)}/{md(d.env)}: {UNICODE_MARKS[d.mine]} "
            f"{d.mine.value} (map: {d.shown.value})"
            for d in group.differences[:ITEM_LIMIT]
        )
        out.append("")
    for table in matrix_tables(result):
        out.append(f"#### Python {md(table.python)}")
        out.append("")
        out.append("| phase | " + " | ".join(md(f"{a}/{e}") for a, e in table.columns) + " |")
        out.append("|---|" + "---|" * len(table.columns))
        for phase, summaries in table.rows:
            row = [md(phase)]
            row.extend("–" if summary is None else _cell_text(summary) for summary in summaries)
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    return out


def item_table(items: list[Judged]) -> list[str]:
    """Every unexpected item, one row each (up to `ITEM_LIMIT`)."""
    out = [
        "| verdict | cell | test | expected | got | message |",
        "|---|---|---|---|---|---|",
    ]
    for judged in items[:ITEM_LIMIT]:
        out.append(
            f"| {judged.verdict.value} | {md(judged.cell.id)} | {md(judged.test)} | "
            f"{md(judged.expectation.describe())} | {md(got(judged))} | "
            f"{md(message_of(judged))} |"
        )
    if len(items) > ITEM_LIMIT:
        out.append("")
        out.append(f"… and {len(items) - ITEM_LIMIT} more (see the JSON or JUnit report).")
    out.append("")
    return out


def _other_sections(result: GateResult) -> list[str]:
    out: list[str] = []
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
                mark = "⚠️ not checked" if verdict.skipped else mark
                out.append(f"| {md(verdict.rule.name)} | {mark} | {md(verdict.detail)} |")
            out.append("")
    return out


def write_step_summary(text: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Append `text` to `$GITHUB_STEP_SUMMARY` when set; return the path written, or None."""
    env = os.environ if environ is None else environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    with open(path, "a", encoding="utf-8", newline="\n") as out:
        out.write(text)
    return path
