"""Markdown report: verdict and map first, detail folded, escaped text, the step summary."""

from __future__ import annotations

from pathlib import Path

from gate_data import sample_result
from map_data import migration_result

from migmatrix.report.markdown import md, render_markdown, write_step_summary


def test_the_verdict_and_the_map_come_first_and_the_detail_is_folded() -> None:
    text = render_markdown(sample_result())
    assert text.startswith(
        "## migmatrix gate: ❌ failed (exit 1)\n\n"
        "5 as-expected, 4 reproduced, 1 regression, 1 missing; "
        "coverage rule(s) failed: legacy-unreached\n\n"
        "### Migration map\n\npy3.12-3.13 identical\n\n"
    )
    assert (
        "| state | reproduction<br>u | golden\\_path<br>u |\n|---|---|---|\n"
        "| deprecated | ✗ | · |\n| ssot | ✓ | ! |\n"
    ) in text
    assert "### Unexpected: 2 item(s), 2 cause(s)" in text
    # the per-Python tables and the full item list sit in <details>, after the map
    detail = text.index("<details>\n<summary>Per-Python detail</summary>\n\n")
    items = text.index("<details>\n<summary>All 2 unexpected items</summary>\n\n")
    assert text.index("### Migration map") < text.index("### Unexpected") < detail < items
    assert "#### Python 3.12\n\n| phase | deprecated/unit | ssot/unit |\n" in text[detail:items]
    assert "| reproduction | ✅ 2/2 ok | ✅ 2/2 ok |" in text[detail:items]
    assert "| golden\\_path | – | ❌ no results |" in text[detail:items]
    assert "| regression | golden\\_path/ssot/unit/py3.12 |" in text[items:]
    assert text.count("</details>") == 2
    assert "### Problems with the results (1)" in text
    assert "Total: 87.50%" in text
    assert "| legacy-unreached | ❌ failed | 2 line(s) covered (max 0) |" in text


def test_a_bug_in_64_cells_is_two_rows_and_a_differing_python_is_named() -> None:
    text = render_markdown(migration_result(bug=True, odd_python="3.11"))
    assert "### Unexpected: 67 item(s), 5 cause(s)" in text
    rows = [line for line in text.splitlines() if line.startswith("| regression | 32 |")]
    assert len(rows) == 2
    assert "and 29 more" in rows[0]
    assert "py3.10, py3.12, py3.13 identical; py3.11 differs at 1 position(s)" in text
    assert (
        "- deprecated staging/staging: ! unexpected (map: failed as expected (reproduced))"
    ) in text
    assert text.count("| deprecated |") == 1  # one map for all four Pythons


def test_hostile_text_cannot_break_a_table_row() -> None:
    text = render_markdown(sample_result())
    rows = [line for line in text.splitlines() if line.startswith("| regression |")]
    assert len(rows) == 2  # the cause, and the item in the full list
    for row, columns in zip(rows, (8, 6), strict=True):
        # a | in a test id or message is escaped, never a new column
        assert row.replace("\\|", "").count("|") == columns + 1
        assert "<b>" not in row
        assert "&lt;b&gt;" in row


def test_escape() -> None:
    assert md("a|b_c*d`e<f>[g]\nh") == "a\\|b\\_c\\*d\\`e&lt;f&gt;\\[g\\] h"


def test_deterministic() -> None:
    assert render_markdown(sample_result()) == render_markdown(sample_result())
    assert render_markdown(migration_result(bug=True)) == render_markdown(
        migration_result(bug=True)
    )


def test_step_summary_is_appended_when_the_variable_is_set(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    assert write_step_summary("# gate\n", {"GITHUB_STEP_SUMMARY": str(summary)}) == str(summary)
    assert summary.read_text(encoding="utf-8") == "earlier step\n# gate\n"
    assert write_step_summary("# gate\n", {}) is None
