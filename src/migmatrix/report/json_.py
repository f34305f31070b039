"""The JSON report: everything the gate decided, for machines.

The document's shape is versioned (`"schema": "migmatrix-report/1"`) and
described by docs/report-json-schema.json; a change that removes or renames a
key bumps the version, adding optional keys does not. Keys are sorted and every
list is in report order, so the same gate gives the same bytes.

Every judged (cell, test) is in the report, so a consumer can tell "passed"
from "never ran": the as-expected ones as test ids in their cell's
`as_expected` list (the bulk of a run, kept compact), all others in `results`
with their expectation, outcome and message. Keys that would be null or empty
are left out of a result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from migmatrix.model import GateResult, Judged
from migmatrix.outcomes import Verdict
from migmatrix.report.summary import judgements, rule_words, status, summarize, verdict_totals

REPORT_SCHEMA = "migmatrix-report/1"


def _result(
    judged: Judged, shared: dict[tuple[int, int, Verdict, str], dict[str, Any]]
) -> dict[str, Any]:
    # The keys that come from the cell, the expectation and the verdict are the same
    # for many items (every reproduced failure of a cell): they are built once.
    expectation = judged.expectation
    key = (id(judged.cell), id(expectation), judged.verdict, judged.detail)
    base = shared.get(key)
    if base is None:
        base = {
            "cell": judged.cell.id,
            "verdict": judged.verdict.value,
            "expected": sorted(o.value for o in expectation.outcomes),
        }
        if judged.detail:
            base["detail"] = judged.detail
        if expectation.rule is not None:
            base["rule"] = expectation.rule
        for name in ("raises", "match", "bug", "owner"):
            value = getattr(expectation, name)
            if value:
                base[name] = value
        shared[key] = base
    item = base.copy()
    item["test"] = judged.test
    record = judged.record
    if record is not None:
        item["outcome"] = record.outcome.value
        item["duration"] = record.duration
        if record.exc_type:
            item["exc_type"] = record.exc_type
        if record.message:
            item["message"] = record.message
    return item


def build_report(result: GateResult) -> dict[str, Any]:
    """The report as plain data (what `render_json` serializes)."""
    as_expected: dict[str, list[str]] = {}
    results = []
    plain = Verdict.AS_EXPECTED
    shared: dict[tuple[int, int, Verdict, str], dict[str, Any]] = {}
    for block in judgements(result):
        tests = as_expected.setdefault(block.cell.id, [])
        other = block.other
        if not other:
            tests.extend(block.tests)  # every item is a usual one: as expected
            continue
        for test in block.tests:
            judged = other.get(test)
            if judged is None or judged.verdict is plain:
                tests.append(test)
            else:
                results.append(_result(judged, shared))
    cells = []
    for summary in summarize(result):
        cell = summary.cell
        cells.append(
            {
                "id": cell.id,
                "phase": cell.phase,
                "adapter": cell.adapter,
                "env": cell.env,
                "python": cell.python,
                "total": summary.total,
                "ok": summary.ok,
                "unexpected": summary.unexpected,
                "failing": summary.failing,
                "no_results": summary.no_results,
                "verdicts": {v.value: n for v, n in summary.verdicts.items()},
                "as_expected": as_expected.get(cell.id, []),
            }
        )
    return {
        "schema": REPORT_SCHEMA,
        "status": status(result),
        "exit_code": result.exit_code,
        "run_seconds": round(result.duration, 3),
        "fail_on": sorted(v.value for v in result.fail_on),
        "axes": {
            "phases": list(result.phases),
            "adapters": list(result.adapters),
            "envs": list(result.envs),
            "pythons": list(result.pythons),
        },
        "totals": {v.value: n for v, n in verdict_totals(result).items()},
        "cells": cells,
        "results": results,
        "problems": list(result.problems),
        "stale_rules": [
            {"index": rule.index, "location": str(rule.location), "description": rule_words(rule)}
            for rule in result.stale_rules
        ],
        "coverage": {
            "total": result.coverage_total,
            "rules": [
                {"name": c.rule.name, "passed": c.passed, "skipped": c.skipped, "detail": c.detail}
                for c in result.coverage
            ],
        },
        "sources": list(result.sources),
    }


def render_json(result: GateResult, extra: Mapping[str, Any] | None = None) -> str:
    """The report as JSON text: sorted keys, UTF-8 friendly, ending in a newline.

    `extra` adds top-level keys worked out after the gate (the expectations
    snapshot, the baseline comparison and the expired rules: `migmatrix.lifecycle`).
    """
    report = build_report(result)
    report.update(extra or {})
    return json.dumps(report, sort_keys=True, ensure_ascii=False, indent=None) + "\n"
