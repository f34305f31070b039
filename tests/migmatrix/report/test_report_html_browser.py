"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright.

Each test writes a report for a small synthetic GateResult to its tmp_path, opens
it through a file:// URL and uses it as a reader would: clicks a cell, sets the
filters, pages through a long list. Every page also records the requests it made,
script errors and dialogs, and each test checks that the only request was the file
itself and that nothing went wrong.

Set-up (what .ci/run does): `apt-get install -y chromium` and
`.venv/bin/pip install playwright`; `playwright install` is not used (it cannot
download browsers here), the tests launch the system chromium instead.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from map_data import migration_result
from real_run import gate, results_files

from migmatrix.model import Cell, Expectation, GateResult, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report.html_ import write_html

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
PHASES = ("reproduction", "golden_path", "rollback")
ADAPTERS = ("deprecated", "partial[engine]", "ssot")
ENVS = ("unit", "integration")
PYTHONS = ("3.12", "3.10")
PASS = Expectation(frozenset({Expected.PASS}))
FAIL = Expectation(frozenset({Expected.FAIL}), bug="NETRA-7", reason="shared engine", rule=0)
EVIL_NAME = "test_x.py::test_[<script>window.__pwned=1</script>]"
EVIL_MESSAGE = '<img src=x onerror="window.__pwned=1"> and <script>window.__pwned=1</script>'


def _result(extra: tuple[Judged, ...] = ()) -> GateResult:
    """3 phases x 3 adapters x 2 envs x 2 Pythons, minus rollback/deprecated/integration.

    Each cell runs test_a, test_b, test_c; the deprecated reproduction cells reproduce
    test_a; one golden-path cell regresses test_b with a KeyError; one rollback cell
    misses test_c; reproduction/ssot/unit/py3.12 also runs 250 parametrized cases.
    """
    rows = []
    for phase in PHASES:
        for adapter in ADAPTERS:
            for env in ENVS:
                if (phase, adapter, env) == ("rollback", "deprecated", "integration"):
                    continue
                for py in PYTHONS:
                    cell = Cell(phase, adapter, env, py)
                    for test in ("test_m.py::test_a", "test_m.py::test_b", "test_m.py::test_c"):
                        rows.append(_judge(cell, test))
                    if cell.id == "reproduction/ssot/unit/py3.12":
                        for i in range(250):
                            t = f"test_many.py::test_case[{i:03d}]"
                            rec = Record(cell.id, t, Outcome.PASSED, 0.002)
                            rows.append(Judged(cell, t, PASS, rec, Verdict.AS_EXPECTED))
    rows.extend(extra)
    return GateResult(
        judged=tuple(rows),
        exit_code=1,
        fail_on=frozenset({Verdict.REGRESSION, Verdict.MISSING, Verdict.UNEXPECTED_PASS}),
        problems=("results/py3.10.jsonl: no footer",),
        stale_rules=(),
        coverage=(),
        coverage_total=91.5,
        phases=PHASES,
        adapters=ADAPTERS,
        envs=ENVS,
        pythons=PYTHONS,
        duration=42.0,
        sources=("results/py3.12.jsonl", "results/py3.10.jsonl"),
    )


def _judge(cell: Cell, test: str) -> Judged:
    if cell.phase == "reproduction" and cell.adapter == "deprecated" and test.endswith("test_a"):
        rec = Record(cell.id, test, Outcome.FAILED, 0.25, "AssertionError", "assert 'u1' == 'u2'")
        return Judged(cell, test, FAIL, rec, Verdict.REPRODUCED)
    if cell.id == "golden_path/ssot/integration/py3.12" and test.endswith("test_b"):
        rec = Record(cell.id, test, Outcome.FAILED, 1.5, "KeyError", "'run_id'\nin emit()")
        return Judged(cell, test, PASS, rec, Verdict.REGRESSION, "expected pass, got failed")
    if cell.id == "rollback/partial[engine]/unit/py3.10" and test.endswith("test_c"):
        return Judged(cell, test, PASS, None, Verdict.MISSING, "planned but no result recorded")
    return Judged(
        cell, test, PASS, Record(cell.id, test, Outcome.PASSED, 0.01), Verdict.AS_EXPECTED
    )


@dataclasses.dataclass
class Opened:
    page: Any
    url: str
    requests: list[str]
    errors: list[str]
    dialogs: list[str]

    def rows(self) -> list[list[str]]:
        """The listed results: cell, test, expected, outcome, verdict, duration, message."""
        cells: list[list[str]] = self.page.eval_on_selector_all(
            "#list tbody tr",
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))",
        )
        return cells

    def cell(self, phase: str, adapter: str, env: str) -> Any:
        return self.page.locator(
            f'#grid td[data-phase="{phase}"][data-adapter="{adapter}"][data-env="{env}"]'
        )

    def assert_clean(self) -> None:
        assert self.requests == [self.url], "the report must not fetch anything but itself"
        assert self.errors == []
        assert self.dialogs == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "Python playwright is not installed: run `.venv/bin/pip install playwright` "
            "(no `playwright install`: the tests use Debian's chromium)"
        )
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian's chromium is not on PATH: run `apt-get install -y chromium`")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Iterator[Any]:
    pages: list[Any] = []

    def opener(result: GateResult, **kw: Any) -> Opened:
        path = tmp_path / "report.html"
        write_html(result, path, **kw)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        pages.append(page)
        opened = Opened(page, path.as_uri(), [], [], [])
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.goto(opened.url)
        page.wait_for_selector("body[data-ready='1']")
        return opened

    yield opener
    for page in pages:
        page.close()


def test_clicking_a_cell_lists_its_tests(open_report: Any, tmp_path: Path) -> None:
    r = open_report(_result(), coverage_html="htmlcov/index.html")
    page = r.page
    assert page.locator("#gate-verdict").inner_text().strip() == "\u2717 FAILED (exit code 1)"
    assert page.locator("#coverage-link").get_attribute("href") == "htmlcov/index.html"

    # the map's position: failed as expected (reproduced) on both Pythons
    cell = r.cell("reproduction", "deprecated", "unit")
    assert cell.inner_text() == "\u2717"
    assert "m-reproduced" in (cell.get_attribute("class") or "")
    cell.locator("button").click()
    assert cell.locator("button").get_attribute("aria-pressed") == "true"
    rows = r.rows()
    assert [row[:5] for row in rows] == [
        [
            "reproduction/deprecated/unit/py3.12",
            "test_m.py::test_a",
            "fail",
            "failed",
            "\u2713 reproduced",
        ],
        [
            "reproduction/deprecated/unit/py3.12",
            "test_m.py::test_b",
            "pass",
            "passed",
            "\u2713 as-expected",
        ],
        [
            "reproduction/deprecated/unit/py3.12",
            "test_m.py::test_c",
            "pass",
            "passed",
            "\u2713 as-expected",
        ],
        [
            "reproduction/deprecated/unit/py3.10",
            "test_m.py::test_a",
            "fail",
            "failed",
            "\u2713 reproduced",
        ],
        [
            "reproduction/deprecated/unit/py3.10",
            "test_m.py::test_b",
            "pass",
            "passed",
            "\u2713 as-expected",
        ],
        [
            "reproduction/deprecated/unit/py3.10",
            "test_m.py::test_c",
            "pass",
            "passed",
            "\u2713 as-expected",
        ],
    ]
    assert rows[0][5] == "0.250 s"
    assert "assert 'u1' == 'u2'" in rows[0][6]
    assert "NETRA-7" in rows[0][6]

    # One Python's map: the same position holds only that interpreter's three tests.
    page.select_option("#f-python", label="Python 3.10")
    assert cell.inner_text() == "\u2717"
    title = cell.locator("button").get_attribute("title") or ""
    assert title.endswith("as-expected: 2\nreproduced: 1")
    assert {row[0] for row in r.rows()} == {"reproduction/deprecated/unit/py3.10"}

    shot = tmp_path / "cell.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    r.assert_clean()


def test_the_grid_is_the_migration_map_marked_with_text_as_well_as_colour(
    open_report: Any,
) -> None:
    r = open_report(_result())
    page = r.page
    # states as rows in rollout order, phases as columns with their envs inside
    states = page.eval_on_selector_all("#grid th.state", "ths => ths.map(t => t.textContent)")
    assert states == list(ADAPTERS)
    phases = page.eval_on_selector_all("#grid th.ph", "ths => ths.map(t => t.textContent)")
    assert phases == list(PHASES)
    envs = page.eval_on_selector_all("#grid th.env", "ths => ths.map(t => t.title)")
    assert envs == list(ENVS) * 3
    # py3.12 regressed here, py3.10 did not: the mark that needs a look, and a star
    regressed = r.cell("golden_path", "ssot", "integration")
    assert regressed.inner_text() == "!*"
    classes = (regressed.get_attribute("class") or "").split()
    assert {"m-unexpected", "mixed", "flip"} <= set(classes)  # partial[engine] above passed
    title = regressed.locator("button").get_attribute("title") or ""
    assert "py3.12: unexpected" in title
    assert "py3.10: passed as expected" in title
    assert "regression: 1" in title
    # one Python's map: that Python's own mark, no star
    r.page.select_option("#f-python", label="Python 3.10")
    assert regressed.inner_text() == "\u2713"
    assert "mixed" not in (regressed.get_attribute("class") or "")
    r.page.select_option("#f-python", label="Python 3.12")
    assert regressed.inner_text() == "!"
    r.page.select_option("#f-python", value="-1")
    # reproduction flips from failing as it must (deprecated) to passing
    assert r.cell("reproduction", "deprecated", "unit").inner_text() == "\u2717"
    assert r.cell("reproduction", "partial[engine]", "unit").inner_text() == "\u2713"
    assert "flip" in (
        r.cell("reproduction", "partial[engine]", "unit").get_attribute("class") or ""
    )
    not_planned = r.cell("rollback", "deprecated", "integration")
    assert not_planned.inner_text() == "\u00b7"
    assert not_planned.locator("button").count() == 0
    r.assert_clean()


def test_filters_narrow_the_grid_and_the_list(open_report: Any, tmp_path: Path) -> None:
    r = open_report(_result())
    page = r.page
    from playwright.sync_api import expect

    page.check("#f-unexpected")
    assert sorted((row[0], row[1], row[4]) for row in r.rows()) == [
        ("golden_path/ssot/integration/py3.12", "test_m.py::test_b", "\u2717 regression"),
        ("rollback/partial[engine]/unit/py3.10", "test_m.py::test_c", "\u2717 missing"),
    ]
    assert "2 of 2" in page.inner_text("#list-status")
    dimmed = page.locator("#grid td.dim").count()
    assert dimmed == page.locator("#grid td button").count() - 2

    page.select_option("#f-phase", label="rollback")
    assert page.eval_on_selector_all("#grid th.ph", "e => e.map(x => x.textContent)") == [
        "rollback"
    ]
    assert [(row[0], row[5]) for row in r.rows()] == [("rollback/partial[engine]/unit/py3.10", "")]

    page.select_option("#f-phase", value="-1")
    page.uncheck("#f-unexpected")
    page.fill("#f-search", "RUN_ID")  # case-insensitive, over messages
    expect(page.locator("#list-status")).to_contain_text("of 1 in all cells")
    (row,) = r.rows()
    assert row[1] == "test_m.py::test_b"
    assert "KeyError: 'run_id'" in row[6]
    hit = r.cell("golden_path", "ssot", "integration")
    assert "1 of 6 shown" in (hit.locator("button").get_attribute("title") or "")
    assert "dim" not in (hit.get_attribute("class") or "")
    assert "dim" in (r.cell("golden_path", "ssot", "unit").get_attribute("class") or "")

    page.fill("#f-search", "test_case[24")  # over test ids
    expect(page.locator("#list-status")).to_contain_text("of 10 in all cells")
    shown = {row[1] for row in r.rows()}
    assert shown == {f"test_many.py::test_case[{i}]" for i in range(240, 250)}

    page.fill("#f-search", "no such thing")
    expect(page.locator("#list-status")).to_contain_text("No results")
    assert r.rows() == []
    page.screenshot(path=str(tmp_path / "filtered.png"), full_page=True)
    r.assert_clean()


def test_a_long_list_is_paged(open_report: Any) -> None:
    r = open_report(_result())
    page = r.page
    page.select_option("#f-python", label="Python 3.12")
    r.cell("reproduction", "ssot", "unit").locator("button").click()
    assert page.inner_text("#list-status").startswith("Results 1\u2013100 of 253")
    assert len(r.rows()) == 100
    assert page.locator("#list tbody tr").count() == 100  # only one page is in the DOM
    page.click("#page-next")
    page.click("#page-next")
    assert page.inner_text("#list-status").startswith("Results 201\u2013253 of 253")
    assert r.rows()[-1][1] == "test_many.py::test_case[249]"
    assert page.is_disabled("#page-next")
    page.click("#page-prev")
    assert page.inner_text("#list-status").startswith("Results 101\u2013200 of 253")
    r.assert_clean()


def test_markup_in_test_names_and_messages_is_shown_as_text_and_never_runs(
    open_report: Any,
    tmp_path: Path,
) -> None:
    cell = Cell("reproduction", "ssot", "unit", "3.12")
    rec = Record(cell.id, EVIL_NAME, Outcome.FAILED, 0.1, "AssertionError", EVIL_MESSAGE)
    evil = Judged(cell, EVIL_NAME, PASS, rec, Verdict.REGRESSION, EVIL_MESSAGE)
    r = open_report(_result((evil,)), title="<script>window.__pwned=1</script>")
    page = r.page
    page.fill("#f-search", "__pwned")
    page.wait_for_function(
        "() => document.getElementById('list-status').textContent.includes('of 1 in')"
    )
    (row,) = r.rows()
    assert row[1] == EVIL_NAME
    assert EVIL_MESSAGE in row[6]
    # Open the message's details so an injected <img> would have been attached and loaded.
    page.eval_on_selector_all("#list details", "ds => ds.forEach(d => d.open = true)")
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    assert page.evaluate("() => document.scripts.length") == 2
    assert page.title() == "<script>window.__pwned=1</script>"
    page.screenshot(path=str(tmp_path / "xss.png"), full_page=True)
    r.assert_clean()


def test_the_map_fits_1280_pixels_and_is_drawn_as_written(browser: Any, tmp_path: Path) -> None:
    # This repository's demo matrix (18 states, 7 phases, 3 envs, 4 Pythons) with a
    # planted bug; the screenshot stays in tmp_path as the test's artifact.
    path = tmp_path / "gate.html"
    write_html(migration_result(bug=True), path)
    written = re.findall(
        r'<td class="([^"]*)" title="[^"]*">([^<]*)</td>', path.read_text(encoding="utf-8")
    )
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        box = page.locator("#map-table").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 1280
        assert page.locator("#map-table tbody tr").count() == 18
        # the script's map is the written one, position by position (Pythons identical)
        drawn = page.eval_on_selector_all(
            "#map-table tbody td", "tds => tds.map(t => [t.className, t.textContent])"
        )
        assert [tuple(d) for d in drawn] == written
        assert sum("flip" in classes for classes, _ in written) > 0
        # a click on a position of the map lists its items
        page.locator(
            '#map-table td[data-phase="golden_path"][data-adapter="deprecated"]'
            '[data-env="unit"] button'
        ).click()
        assert page.inner_text("#list-status").startswith(
            "Results 1\u201312 of 12 in golden_path / deprecated / unit"
        )
        shot = tmp_path / "gate-map.png"
        page.locator("#map-view").screenshot(path=str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG")
    finally:
        page.close()


@pytest.mark.slow
def test_the_real_runs_page_has_no_horizontal_scrolling_at_1280(
    browser: Any, tmp_path: Path
) -> None:
    # gate.html of this repository's own `nox -s matrix` at 1280x800. The screenshot
    # is the test's artifact, kept in tmp_path; MIGMATRIX_MAP_SCREENSHOT=FILE copies
    # the map's part of it out (how docs/migration-map.png is made).
    run = gate(results_files(), tmp_path, {"NO_COLOR": "1"})
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto((tmp_path / "gate.html").as_uri())
        page.wait_for_selector("body[data-ready='1']")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.evaluate("innerWidth"), f"the page is {width} px wide"
        assert page.locator("#map-table tbody tr").count() >= 18
        assert page.locator("#map-table td.flip").count() > 0
        page.screenshot(path=str(tmp_path / "gate-1280.png"))
        shot = tmp_path / "gate-map.png"
        page.locator("#map-view").screenshot(path=str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG")
        keep = os.environ.get("MIGMATRIX_MAP_SCREENSHOT")
        if keep:
            shutil.copyfile(shot, keep)
    finally:
        page.close()
    assert run.code == 0
