"""Terminal report: the migration map, grouped unexpected items, width, marks, colour, bytes."""

from __future__ import annotations

import io
import re

import pytest
from gate_data import sample_result
from map_data import migration_result, synthetic_result

from migmatrix.report.groups import group_items
from migmatrix.report.terminal import can_show_unicode, render_terminal, report_width, use_colour

_SGR = re.compile(r"\x1b\[[0-9;]*m")


def map_cells(text: str) -> dict[str, dict[str, str]]:
    """The map read back: state -> phase -> its marks as printed ('✗ ✗')."""
    lines = text.splitlines()
    found: dict[str, dict[str, str]] = {}
    for at, line in enumerate(lines):
        if not line.startswith("state ") or at == 0:
            continue
        heads = lines[at - 1]
        starts = [m.start() for m in re.finditer(r"\S+", heads)]
        names = heads.split()
        for row in lines[at + 1 :]:
            if not row.strip():
                break
            state = row.split()[0]
            for i, (name, start) in enumerate(zip(names, starts, strict=True)):
                end = starts[i + 1] if i + 1 < len(starts) else None
                found.setdefault(state, {})[name] = row[start:end].strip()
    return found


def test_the_map_shows_each_state_per_phase_with_its_envs() -> None:
    text = render_terminal(sample_result())
    assert text.startswith("Migration map: py3.12-3.13 identical\n")
    cells = map_cells(text)
    # deprecated reproduces, ssot passes; golden_path is not planned on deprecated and
    # breaks on ssot (a regression on 3.12, no results on 3.13: unexpected on both)
    assert cells == {
        "deprecated": {"reproduction": "✗", "golden_path": "·"},
        "ssot": {"reproduction": "✓", "golden_path": "!"},
    }
    assert "envs: u unit" in text


def test_unexpected_items_problems_stale_rules_and_coverage_are_listed() -> None:
    text = render_terminal(sample_result())
    assert "Unexpected: 2 item(s), 2 cause(s)" in text
    assert '  regression (1)  t.py::x[<&"|>]\n' in text
    assert "      expected pass, got failed (KeyError)\n" in text
    assert "      message: boom <b>|</b> & red\n" in text
    assert "      golden_path/ssot/unit/py3.12\n" in text
    assert "  missing (1)  *\n      expected pass, got no result\n" in text
    assert "      failed, expected pass\n" in text  # the gate's detail
    assert "      no results for this cell\n" in text
    assert "  r.jsonl:9: no footer\n" in text
    assert "rule #4 at matrix.yaml:40:7: phase=business matches no planned test" in text
    assert "total: 87.50%" in text
    assert "FAILED  legacy-unreached: 2 line(s) covered (max 0)" in text
    # The closing line names the failed coverage rule (the report wraps at 80 columns).
    assert text.endswith(
        "gate FAILED (exit 1): 5 as-expected, 4 reproduced, 1 regression, 1 missing; "
        "coverage rule(s) failed:\nlegacy-unreached\n"
    )


def test_plain_output_has_no_escape_codes_and_colour_adds_only_escapes() -> None:
    plain = render_terminal(sample_result())
    coloured = render_terminal(sample_result(), colour=True)
    assert "\x1b" not in plain  # the message's own escape codes are dropped too
    assert "\x1b[31m" in coloured or "\x1b[1;31m" in coloured
    assert _SGR.sub("", coloured) == plain


@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("width", [100, 80])
def test_the_demo_migration_fits_the_width(width: int, colour: bool) -> None:
    text = render_terminal(migration_result(bug=True), width=width, colour=colour)
    widest = max(len(_SGR.sub("", line)) for line in text.splitlines())
    assert widest <= width
    # the seven phases do not fit beside the state names: blocks, each phase once
    cells = map_cells(_SGR.sub("", text))
    assert len(cells["ssot"]) == 7
    assert _SGR.sub("", text).count("\nstate ") >= 2


@pytest.mark.parametrize("width", [100, 80])
def test_a_large_synthetic_matrix_fits_the_width(width: int) -> None:
    text = render_terminal(synthetic_result(60, 9, 4), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    cells = map_cells(text)
    assert len(cells) == 60
    assert all(len(phases) == 9 for phases in cells.values())
    assert "py3.10-3.13 identical" in text


def test_reproduction_fails_as_expected_on_deprecated_and_passes_on_ssot() -> None:
    cells = map_cells(render_terminal(migration_result()))
    assert cells["deprecated"]["reproduction"] == "✗ ✗"
    assert cells["ssot"]["reproduction"] == "✓ ✓"
    # the flip: validation passes from the first state with engine and state
    assert cells["partial[engine+factory]"]["validation"] == "✗ ✗"
    assert cells["partial[engine+state]"]["validation"] == "✓ ✓"
    assert cells["deprecated"]["rollback"] == "· · ·"
    assert cells["deprecated"]["staging"] == "✗"


def test_identical_pythons_appear_once() -> None:
    text = render_terminal(migration_result())
    assert "Migration map: py3.10-3.13 identical\n" in text
    assert text.count("\ndeprecated ") == 2  # one map, in two blocks at width 100
    assert "differs" not in text


def test_a_differing_python_is_shown_only_where_it_differs() -> None:
    text = render_terminal(migration_result(odd_python="3.11"))
    assert "py3.10, py3.12, py3.13 identical; py3.11 differs at 1 position(s)" in text
    assert (
        "py3.11 differs from the map (py3.10, py3.12, py3.13) at 1 position(s)\n"
        "  deprecated  staging/staging: ! unexpected (map: failed as expected (reproduced))\n"
    ) in text
    assert text.count("\ndeprecated ") == 2  # still one map


def test_a_bug_in_64_cells_reads_as_at_most_three_groups() -> None:
    result = migration_result(bug=True)
    groups = group_items(result)
    assert sum(len(g.items) for g in groups) == 64
    assert len(groups) <= 3
    text = render_terminal(result)
    assert f"Unexpected: 64 item(s), {len(groups)} cause(s)" in text
    assert len(groups) == 2  # one per broken test, whatever the numbers in the message
    assert "  regression (32)  test_golden_path.py::test_0\n" in text
    assert "  regression (32)  test_websocket.py::test_0\n" in text
    assert "spans 1 phase(s) (golden_path), 4 state(s) (deprecated, partial[], " in text
    shown = re.findall(r"^      (?:golden_path|websocket)/\S+/py3\.\d+$", text, re.MULTILINE)
    assert len(shown) == 6  # the first three cells of each group
    assert text.count("      and 29 more cell(s) (migmatrix gate --all-items lists them)\n") == 2


def test_all_items_lists_every_cell() -> None:
    result = migration_result(bug=True)
    text = render_terminal(result, all_items=True)
    for group in group_items(result):
        for judged in group.items:
            assert f"      {judged.cell.id}\n" in text
    assert "more cell(s)" not in text


def test_ascii_marks_where_the_encoding_cannot_show_unicode() -> None:
    assert can_show_unicode(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")) is True
    assert can_show_unicode(io.TextIOWrapper(io.BytesIO(), encoding="ascii")) is False
    assert can_show_unicode(io.TextIOWrapper(io.BytesIO(), encoding="cp1252")) is False
    text = render_terminal(migration_result(), unicode=False)
    text.encode("ascii")
    cells = map_cells(text)
    assert cells["deprecated"]["reproduction"] == "x x"
    assert cells["ssot"]["reproduction"] == "+ +"
    assert cells["deprecated"]["rollback"] == ". . ."


def test_same_result_gives_the_same_bytes() -> None:
    for settings in ({}, {"colour": True, "width": 80}, {"unicode": False, "width": 60}):
        first = render_terminal(migration_result(bug=True), **settings)  # type: ignore[arg-type]
        again = render_terminal(migration_result(bug=True), **settings)  # type: ignore[arg-type]
        assert first == again
    assert render_terminal(sample_result()) == render_terminal(sample_result())


def test_the_environment_does_not_change_a_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    before = render_terminal(migration_result(), width=80)
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert render_terminal(migration_result(), width=80) == before


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_tty_without_no_color_or_with_force_color() -> None:
    assert use_colour(Tty(), {}) is True
    assert use_colour(io.StringIO(), {}) is False
    assert use_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(io.StringIO(), {"FORCE_COLOR": "1"}) is True


def test_width_is_columns_when_set_else_the_terminal_else_100() -> None:
    assert report_width(io.StringIO(), {"COLUMNS": "80"}) == 80
    assert report_width(Tty(), {"COLUMNS": "132"}) == 132
    assert report_width(io.StringIO(), {}) == 100
    assert report_width(io.StringIO(), {"COLUMNS": "wide"}) == 100
    # a TTY whose size cannot be asked for (no file descriptor) falls back too
    assert report_width(Tty(), {}) == 100
