"""Terminal report: matrix tables per Python, unexpected items, colour rules, determinism."""

from __future__ import annotations

import io

from gate_data import sample_result

from migmatrix.report.terminal import render_terminal, use_colour


def test_tables_per_python_with_cell_texts() -> None:
    text = render_terminal(sample_result())
    lines = text.splitlines()
    assert lines[0] == "Python 3.12"
    assert lines[1].split() == ["phase", "deprecated/unit", "ssot/unit"]
    assert lines[3].split() == ["reproduction", "2/2", "ok", "2/2", "ok"]
    # golden_path has no deprecated cell: "-"; its ssot cell has one regression of two
    assert lines[4].split() == ["golden_path", "-", "1", "unexpected"]
    at = lines.index("Python 3.13")
    assert lines[at + 4].split() == ["golden_path", "-", "no", "results"]


def test_unexpected_items_problems_stale_rules_and_coverage_are_listed() -> None:
    text = render_terminal(sample_result())
    assert "Unexpected (2)" in text
    assert 'regression  golden_path/ssot/unit/py3.12 :: t.py::x[<&"|>]' in text
    assert "expected pass, got failed (KeyError)" in text
    assert "message: boom <b>|</b>" in text
    assert "missing  golden_path/ssot/unit/py3.13 :: *" in text
    assert "r.jsonl:9: no footer" in text
    assert "rule #4 at matrix.yaml:40:7: phase=business matches no planned test" in text
    assert "total: 87.50%" in text
    assert "FAILED  legacy-unreached: 2 line(s) covered (max 0)" in text
    assert text.endswith(
        "gate FAILED (exit 1): 5 as-expected, 4 reproduced, 1 regression, 1 missing\n"
    )


def test_plain_output_has_no_escape_codes_and_colour_adds_only_escapes() -> None:
    plain = render_terminal(sample_result())
    coloured = render_terminal(sample_result(), colour=True)
    assert "\x1b" not in plain  # the message's own escape codes are dropped too
    assert "message: boom <b>|</b> & red" in plain
    assert "\x1b[31m" in coloured
    stripped = coloured
    for code in ("\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"):
        stripped = stripped.replace(code, "")
    assert stripped == plain


def test_same_result_gives_the_same_bytes() -> None:
    assert render_terminal(sample_result()) == render_terminal(sample_result())


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_tty_without_no_color_or_with_force_color() -> None:
    assert use_colour(Tty(), {}) is True
    assert use_colour(io.StringIO(), {}) is False
    assert use_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(io.StringIO(), {"FORCE_COLOR": "1"}) is True
