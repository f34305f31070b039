"""The HTML migration map as written (no script): the table, flips, Python note, escaping."""

from __future__ import annotations

import re

from map_data import migration_result

from migmatrix.model import Cell, Expectation, GateResult, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report.html_ import render_html
from migmatrix.report.html_map import map_differences, map_intro, map_table
from migmatrix.report.migration_map import build_map


def cells_of(page: str, state: str) -> list[tuple[str, str]]:
    """One state's row: (classes, mark) per position, in column order."""
    row = re.search(rf'<tr><th class="state">{re.escape(state)}</th>(.*?)</tr>', page)
    assert row is not None
    return re.findall(r'<td class="([^"]*)" title="[^"]*">([^<]*)</td>', row.group(1))


def map_html(result: GateResult) -> str:
    found = build_map(result)
    return map_intro(found) + map_table(found) + map_differences(found)


def test_the_map_is_the_pages_grid_with_states_as_rows() -> None:
    page = render_html(migration_result())
    # the one grid of the page, where the script draws it; the summary comes first
    assert page.index('<section id="summary">') < page.index('<div id="grid">')
    assert page.count('<table class="map"') == 1
    assert page.index('<div id="grid">') < page.index('<table class="map" id="map-table">')
    assert 'id="app"' not in page
    assert '<p id="map-pythons">py3.10-3.13 identical</p>' in page
    assert '<th colspan="2" class="ph">reproduction</th>' in page
    states = re.findall(r'<tr><th class="state">([^<]*)</th>', page)
    assert states[0] == "deprecated"
    assert states[-1] == "ssot"
    assert len(states) == 18
    deprecated = cells_of(page, "deprecated")
    assert deprecated[0] == ("m-reproduced p0", "✗")
    assert cells_of(page, "ssot")[0] == ("m-passed p0", "✓")


def test_a_flip_from_the_state_above_is_marked() -> None:
    page = render_html(migration_result())
    # validation (columns 2-3) passes first on partial[engine+state], the row after a
    # failing one, and fails again on the next state: both changes are flips
    assert cells_of(page, "partial[engine+state]")[2:4] == [
        ("m-passed p0 flip", "✓"),
        ("m-passed flip", "✓"),
    ]
    assert cells_of(page, "partial[factory+emitter]")[2] == ("m-reproduced p0 flip", "✗")
    # the same mark as above, or a position not planned, is no flip
    assert "flip" not in cells_of(page, "partial[engine+emitter]")[2][0]
    assert not any("flip" in classes for classes, _ in cells_of(page, "partial[]"))
    # staging runs on a few states only: it flips on the first planned state that
    # passes, told against the last planned one above it (partial[engine] failed)
    assert cells_of(page, "partial[engine+factory+emitter]")[-1] == ("m-passed p0 flip", "✓")
    assert cells_of(page, "partial[engine]")[-1] == ("m-reproduced p0", "✗")


def test_a_differing_python_is_listed_under_the_map() -> None:
    text = map_html(migration_result(odd_python="3.12"))
    assert "py3.10-3.11, py3.13 identical" not in text  # not a run of the order
    assert '<p id="map-pythons">py3.10, py3.11, py3.13 identical; py3.12 differs' in text
    assert "<li>deprecated staging/staging: " in text


def test_names_are_escaped_in_the_map() -> None:
    evil = '<img src=x onerror="window.__pwned=1">'
    cell = Cell(f"phase{evil}", f"state{evil}", f"env{evil}", "3.12")
    expectation = Expectation(frozenset({Expected.PASS}))
    record = Record(cell.id, "t", Outcome.PASSED)
    result = GateResult(
        judged=(Judged(cell, "t", expectation, record, Verdict.AS_EXPECTED),),
        exit_code=0,
        fail_on=frozenset(),
        problems=(),
        stale_rules=(),
        coverage=(),
        coverage_total=None,
        phases=(cell.phase,),
        adapters=(cell.adapter,),
        envs=(cell.env,),
        pythons=("3.12",),
        duration=0.0,
        sources=(),
    )
    text = map_html(result)
    assert "<img" not in text
    assert "state&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in text
    assert "phase&lt;img" in text
    assert "<img" not in render_html(result)


def test_same_data_same_bytes() -> None:
    assert map_html(migration_result(bug=True)) == map_html(migration_result(bug=True))
