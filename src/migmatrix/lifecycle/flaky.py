"""Mixed attempts become the `flaky` verdict, with every attempt in its detail.

A test run again (`--reruns`) because an attempt did not do what its expectation
says is judged on the worst attempt by the gate (`migmatrix.attempts`). Here,
per such (cell, test): when some attempts are as expected and some are not, the
item becomes `flaky`, never a silent pass; when none is, it keeps the gate's
verdict and its detail names the attempts. The exit code is then decided again
from the items: `gates.fail_on` says whether `flaky` fails the gate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from migmatrix.attempts import Attempts
from migmatrix.gate import verdict_for
from migmatrix.model import CellJudgement, GateResult, Judged, JudgedItems, Record
from migmatrix.outcomes import ExitCode, Verdict
from migmatrix.text import shorten


def attempt_words(records: tuple[Record, ...]) -> str:
    """`attempt 1: failed (AssertionError: boom); attempt 2: passed`."""
    parts = []
    for record in records:
        text = f"attempt {record.attempt}: {record.outcome.value}"
        if record.exc_type or record.message:
            why = ": ".join(x for x in (record.exc_type, record.message) if x)
            text += f" ({shorten(why.splitlines()[0] if why else '', 80)})"
        parts.append(text)
    return "; ".join(parts)


def judge_attempts(result: GateResult, attempts: Attempts) -> GateResult:
    """The result with the items run more than once judged on all their attempts."""
    judged = result.judged
    if not attempts or not isinstance(judged, JudgedItems):
        return result
    blocks = []
    changed = False
    for block in judged.blocks:
        found = {
            test: attempts[(block.cell.id, test)]
            for test in block.tests
            if (block.cell.id, test) in attempts
        }
        if not found:
            blocks.append(block)
            continue
        other: dict[str, Judged] = dict(block.other)
        for test, records in found.items():
            other[test] = _judged(block.item(test), records)
        blocks.append(
            CellJudgement(block.cell, block.tests, block.records, block.expectation, other)
        )
        changed = True
    if not changed:
        return result
    return dataclasses.replace(
        result, judged=JudgedItems(blocks), exit_code=_exit_code(result, blocks)
    )


def _judged(item: Judged, records: tuple[Record, ...]) -> Judged:
    verdicts = [verdict_for(item.expectation, record)[0] for record in records]
    words = attempt_words(records)
    if any(v.expected for v in verdicts) and not all(v.expected for v in verdicts):
        detail = f"mixed outcomes over {len(records)} attempts: {words}"
        return item._replace(verdict=Verdict.FLAKY, detail=detail)
    detail = f"{item.detail}; {words}" if item.detail else words
    return item._replace(detail=detail)


def _exit_code(result: GateResult, blocks: list[CellJudgement]) -> int:
    if result.exit_code == int(ExitCode.INCOMPLETE):
        return result.exit_code
    fail_on = result.fail_on
    failed = any(not c.passed for c in result.coverage) or any(
        _fails(block, fail_on) for block in blocks
    )
    return int(ExitCode.GATE_FAILED if failed else ExitCode.OK)


def _fails(block: CellJudgement, fail_on: frozenset[Verdict]) -> bool:
    if Verdict.AS_EXPECTED in fail_on and len(block.other) < len(block.tests):
        return True
    return any(item.verdict in fail_on for item in _values(block.other))


def _values(other: Mapping[str, Judged]) -> list[Judged]:
    return list(other.values())
