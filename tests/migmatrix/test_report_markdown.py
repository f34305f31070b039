"""Markdown report: GitHub tables, escaped text, the step summary."""

from __future__ import annotations

from pathlib import Path

from migmatrix.model import (
    Cell,
    CellFilter,
    CoverageRule,
    CoverageVerdict,
    Expectation,
    ExpectRule,
    GateResult,
    Judged,
    Location,
    Record,
)
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report_markdown import md, render_markdown, write_step_summary


def sample_result(exit_code: int = 1) -> GateResult:
    """Two Pythons, two phases, a reproduction, a regression, a missing cell and hostile text."""

    def cell(phase: str, adapter: str, python: str) -> Cell:
        return Cell(phase, adapter, "unit", python, adapter_base=adapter)

    passes = Expectation(frozenset({Expected.PASS}))
    fails = Expectation(frozenset({Expected.FAIL}), raises="AssertionError", rule=0, bug="#620")
    judged = []
    for python in ("3.12", "3.13"):
        old, new = cell("reproduction", "deprecated", python), cell("reproduction", "ssot", python)
        golden = cell("golden_path", "ssot", python)
        for test in ("t.py::a", "t.py::b"):
            rec = Record(old.id, test, Outcome.FAILED, 0.5, "AssertionError", "SSOT VIOLATION")
            judged.append(Judged(old, test, fails, rec, Verdict.REPRODUCED))
            judged.append(
                Judged(
                    new,
                    test,
                    passes,
                    Record(new.id, test, Outcome.PASSED, 0.25),
                    Verdict.AS_EXPECTED,
                )
            )
        if python == "3.12":
            bad = Record(
                golden.id,
                't.py::x[<&"|>]',
                Outcome.FAILED,
                1.0,
                "KeyError",
                "boom <b>|</b> & \x1b[31mred\x1b[0m\nsecond line",
            )
            judged.append(
                Judged(golden, bad.test, passes, bad, Verdict.REGRESSION, "failed, expected pass")
            )
            skip = Record(golden.id, "t.py::y", Outcome.SKIPPED, 0.0)
            judged.append(
                Judged(
                    golden,
                    "t.py::y",
                    Expectation(frozenset({Expected.SKIP})),
                    skip,
                    Verdict.AS_EXPECTED,
                )
            )
        else:
            judged.append(
                Judged(golden, "*", passes, None, Verdict.MISSING, "no results for this cell")
            )
    rule = ExpectRule(
        3,
        CellFilter(phase="business"),
        None,
        (),
        (),
        frozenset({Expected.PASS}),
        location=Location("matrix.yaml", 40, 7),
    )
    cov = CoverageVerdict(
        CoverageRule("legacy-unreached", ("src/legacy*.py",), "*/ssot/*/*", 0),
        False,
        "2 line(s) covered (max 0)",
    )
    return GateResult(
        judged=tuple(judged),
        exit_code=exit_code,
        fail_on=frozenset({Verdict.REGRESSION, Verdict.MISSING}),
        problems=("r.jsonl:9: no footer",),
        stale_rules=(rule,),
        coverage=(cov,),
        coverage_total=87.5,
        phases=("reproduction", "golden_path"),
        adapters=("deprecated", "ssot"),
        envs=("unit",),
        pythons=("3.12", "3.13"),
        duration=0.1,
        sources=("r.jsonl",),
    )


def test_matrix_tables_and_items() -> None:
    text = render_markdown(sample_result())
    assert text.startswith("## migmatrix gate: ❌ failed (exit 1)\n")
    assert "### Python 3.12\n\n| phase | deprecated/unit | ssot/unit |\n|---|---|---|\n" in text
    assert "| reproduction | ✅ 2/2 ok | ✅ 2/2 ok |" in text
    assert "| golden\\_path | – | ❌ 1 unexpected |" in text
    assert "| golden\\_path | – | ❌ no results |" in text
    assert "### Unexpected (2)" in text
    assert "### Problems with the results (1)" in text
    assert "Total: 87.50%" in text
    assert "| legacy-unreached | ❌ failed | 2 line(s) covered (max 0) |" in text


def test_hostile_text_cannot_break_a_table_row() -> None:
    text = render_markdown(sample_result())
    row = next(line for line in text.splitlines() if line.startswith("| regression |"))
    # six columns: a | in a test id or message is escaped, never a new column
    assert row.replace("\\|", "").count("|") == 7
    assert "<b>" not in row
    assert "&lt;b&gt;" in row


def test_escape() -> None:
    assert md("a|b_c*d`e<f>[g]\nh") == "a\\|b\\_c\\*d\\`e&lt;f&gt;\\[g\\] h"


def test_deterministic() -> None:
    assert render_markdown(sample_result()) == render_markdown(sample_result())


def test_step_summary_is_appended_when_the_variable_is_set(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    assert write_step_summary("# gate\n", {"GITHUB_STEP_SUMMARY": str(summary)}) == str(summary)
    assert summary.read_text(encoding="utf-8") == "earlier step\n# gate\n"
    assert write_step_summary("# gate\n", {}) is None
