"""Markdown report: GitHub tables, escaped text, the step summary."""

from __future__ import annotations

from pathlib import Path

from gate_data import sample_result

from migmatrix.report.markdown import md, render_markdown, write_step_summary


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
