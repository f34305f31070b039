"""The mutation report: a score per target file and the survivors, as JSON and Markdown.

In the style of the gate's reports: JSON with a versioned `schema`, sorted keys and
lists in report order (same data, same bytes); Markdown with a status line, a table
and a section per survivor. Timing figures are left out of both, so two runs over
the same code give the same report; the command prints the time taken.

The score of a file is detected / (detected + survived + not covered): a mutant no
cell reaches is a fault the matrix cannot see, so it counts against the score.
Incompetent mutants (they do not compile or import) are not faults a developer
could ship, and are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from migmatrix.mutate.runner import MutantResult, MutateRun
from migmatrix.outcomes import MutantOutcome

REPORT_SCHEMA = "migmatrix-mutate/1"


def file_scores(results: Iterable[MutantResult]) -> dict[str, dict[str, Any]]:
    """Per target: the count of each outcome and the score (None when nothing counts)."""
    scores: dict[str, dict[str, Any]] = {}
    for result in results:
        entry = scores.setdefault(
            result.mutant.target, {outcome.value: 0 for outcome in MutantOutcome}
        )
        entry[result.outcome.value] += 1
    for entry in scores.values():
        detected = entry[MutantOutcome.KILLED.value] + entry[MutantOutcome.TIMEOUT.value]
        counted = (
            detected + entry[MutantOutcome.SURVIVED.value] + entry[MutantOutcome.NOT_COVERED.value]
        )
        entry["score"] = round(100.0 * detected / counted, 1) if counted else None
    return dict(sorted(scores.items()))


def survivors(results: Iterable[MutantResult]) -> list[MutantResult]:
    undetected = (MutantOutcome.SURVIVED, MutantOutcome.NOT_COVERED)
    return sorted(
        (r for r in results if r.outcome in undetected), key=lambda r: _order(r.mutant.id)
    )


def _order(mutant_id: str) -> tuple[str, int, str]:
    target, line, rest = mutant_id.split(":", 2)
    return (target, int(line), rest)


def _mutant(result: MutantResult) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": result.mutant.id,
        "target": result.mutant.target,
        "line": result.mutant.line,
        "operator": result.mutant.operator,
        "occurrence": result.mutant.occurrence,
        "outcome": result.outcome.value,
        "cells": list(result.cells),
    }
    if result.caught:
        item["caught"] = [
            {"cell": c.cell, "test": c.test, "verdict": c.verdict} for c in result.caught
        ]
    if result.outcome in (MutantOutcome.SURVIVED, MutantOutcome.NOT_COVERED):
        item["diff"] = result.mutant.diff
    if result.detail:
        item["detail"] = result.detail
    return item


def status(run: MutateRun) -> str:
    return "complete" if run.not_run == 0 else "partial (budget spent)"


def build_report(run: MutateRun) -> dict[str, Any]:
    ordered = sorted(run.results, key=lambda r: _order(r.mutant.id))
    totals = {outcome.value: 0 for outcome in MutantOutcome}
    for result in ordered:
        totals[result.outcome.value] += 1
    return {
        "schema": REPORT_SCHEMA,
        "status": status(run),
        "expect": "unexpected-pass" if run.settings.expect_unexpected_pass else "any-failure",
        "targets": list(run.settings.targets),
        "cells": list(run.baseline.cells),
        "totals": totals,
        "not_run": run.not_run,
        "files": file_scores(ordered),
        "survivors": [r.mutant.id for r in survivors(ordered)],
        "mutants": [_mutant(r) for r in ordered],
    }


def render_json(run: MutateRun) -> str:
    return json.dumps(build_report(run), sort_keys=True, ensure_ascii=False) + "\n"


def _cells_text(cells: Sequence[str], limit: int = 6) -> str:
    if not cells:
        return "none (no cell reached this line)"
    shown = ", ".join(f"`{c}`" for c in cells[:limit])
    more = len(cells) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def render_markdown(run: MutateRun) -> str:
    report = build_report(run)
    lines = [
        "# migmatrix mutate",
        "",
        f"**Status:** {report['status']}; {len(run.results)} mutants judged"
        + (f", {run.not_run} not run (budget)" if run.not_run else "")
        + f"; a mutant counts as caught on {report['expect']}.",
        "",
        "| file | score | killed | timeout | survived | not covered | incompetent |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for target, entry in report["files"].items():
        score = "n/a" if entry["score"] is None else f"{entry['score']:.1f}%"
        lines.append(
            f"| `{target}` | {score} | {entry['killed']} | {entry['timeout']} | "
            f"{entry['survived']} | {entry['not-covered']} | {entry['incompetent']} |"
        )
    found = survivors(run.results)
    lines += ["", f"## Survivors ({len(found)})", ""]
    if not found:
        lines.append("None: every competent mutant was caught.")
    for result in found:
        lines += [
            f"### `{result.mutant.id}` ({result.outcome.value})",
            "",
            f"Cells that should have caught it: {_cells_text(result.cells)}.",
        ]
        if result.detail:
            lines.append(f"Seen instead: {result.detail}.")
        lines += ["", "```diff", result.mutant.diff.rstrip("\n"), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
