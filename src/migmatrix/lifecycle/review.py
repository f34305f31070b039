"""The gate's last step: the baseline comparison and the expired rules, in the exit code and
in every report.

`review` is pure (today's date and the baseline come in as arguments); the
`Review` it returns renders its part of the terminal and Markdown reports and
adds its keys to the JSON report (the snapshot, so this report can be the next
gate's baseline; the comparison; the expired rules).
"""

from __future__ import annotations

import dataclasses
import datetime
import html
from typing import Any

from migmatrix.expect import expired_rules
from migmatrix.lifecycle import snapshot
from migmatrix.lifecycle.compare import Change, ChangeGroup, Comparison, compare
from migmatrix.model import ExpectRule, GateResult, Matrix
from migmatrix.outcomes import ExitCode

SHOWN = 5
"""Cells and tests named per change; the JSON report names them all."""


@dataclasses.dataclass(frozen=True)
class Review:
    matrix: Matrix
    snapshot: dict[str, Any]
    expired: tuple[ExpectRule, ...]
    today: datetime.date
    comparison: Comparison | None = None
    baseline: str | None = None
    accept_loosened: bool = False

    # ------------------------------------------------------------------ text

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.comparison is not None:
            out.append(
                f"baseline {self.baseline}: {self.comparison.compared} (cell, test) pair(s) "
                "compared"
            )
            if not self.comparison.groups:
                out.append("  no expectation loosened or tightened, no test newly passing")
            for group in self.comparison.groups:
                out.append("  " + self._group_line(group))
        fatal = self.matrix.gates.fail_on_expired
        for rule in self.expired:
            effect = "fails the gate (fail_on: expired)" if fatal else "reported only"
            out.append(
                f"expired: rule #{rule.index + 1} at {rule.location}, until {rule.until}, "
                f"is past its date ({effect}); renew `until:` or remove the rule"
            )
        return out

    def _group_line(self, group: ChangeGroup) -> str:
        where = (
            f"{_names(group.cells)} cell(s): {_shown(group.cells)}; test(s): {_shown(group.tests)}"
        )
        if group.change is Change.NEWLY_PASSING:
            return f"newly passing (progress): {where}"
        rule = self._rule(group.rule_after)
        if group.change is Change.LOOSENED:
            verdict = "accepted (--accept-loosened)" if self.accept_loosened else "fails the gate"
            head = f"LOOSENED ({verdict})"
        else:
            head = "tightened (progress)"
        return f"{head}: {rule}: before {group.before!r}, after {group.after!r}, in {where}"

    def _rule(self, index: int | None) -> str:
        if index is None or index >= len(self.matrix.rules):
            return "the default expectation"
        rule = self.matrix.rules[index]
        return f"rule #{index + 1} at {rule.location}"

    def terminal(self) -> str:
        lines = self.lines()
        return "".join(line + "\n" for line in lines) if lines else ""

    def markdown(self) -> str:
        lines = self.lines()
        if not lines:
            return ""
        return "\n### Expectations over time\n\n" + "".join(f"- {line.strip()}\n" for line in lines)

    def html(self) -> str:
        """A section for the HTML report (inserted before its scripts by the gate command)."""
        lines = self.lines()
        if not lines:
            return ""
        items = "".join(f"<li>{html.escape(line.strip())}</li>\n" for line in lines)
        head = '<section id="lifecycle">\n<h2>Expectations over time</h2>\n'
        return f"{head}<ul>\n{items}</ul>\n</section>\n"

    # ------------------------------------------------------------------ JSON

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {snapshot.KEY: self.snapshot}
        out["expired_rules"] = [
            {"index": r.index, "location": str(r.location), "until": str(r.until)}
            for r in self.expired
        ]
        if self.comparison is not None:
            out["baseline"] = {
                "source": self.baseline,
                "compared": self.comparison.compared,
                "accept_loosened": self.accept_loosened,
                "changes": [
                    {
                        "change": g.change.value,
                        "before": g.before,
                        "after": g.after,
                        "rule_before": g.rule_before,
                        "rule_after": g.rule_after,
                        "cells": list(g.cells),
                        "tests": list(g.tests),
                    }
                    for g in self.comparison.groups
                ],
            }
        return out


def review(
    result: GateResult,
    matrix: Matrix,
    *,
    today: datetime.date,
    baseline: snapshot.Snapshot | None = None,
    baseline_name: str | None = None,
    accept_loosened: bool = False,
) -> tuple[GateResult, Review]:
    """The result with its exit code decided again, and what the reports add.

    Incomplete data stays exit 3. Otherwise a loosened expectation (unless
    accepted) and an expired rule under `fail_on: [expired]` fail the gate.
    """
    data = snapshot.build(result, matrix)
    comparison = None
    if baseline is not None:
        comparison = compare(baseline, snapshot.read({snapshot.KEY: data}))
    expired = expired_rules(matrix, today)
    failed = (comparison is not None and comparison.loosened and not accept_loosened) or (
        bool(expired) and matrix.gates.fail_on_expired
    )
    if failed and result.exit_code == int(ExitCode.OK):
        result = dataclasses.replace(result, exit_code=int(ExitCode.GATE_FAILED))
    found = Review(matrix, data, expired, today, comparison, baseline_name, accept_loosened)
    return result, found


def _names(items: tuple[str, ...]) -> int:
    return len(items)


def _shown(items: tuple[str, ...]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
