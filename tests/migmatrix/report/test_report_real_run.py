"""The reports on this repository's real results (`nox -s matrix`), as a user reads them.

Each test runs `migmatrix gate` on the real results files in a process of its own,
under the environment a user would have (COLUMNS, NO_COLOR, FORCE_COLOR, an
output encoding), and reads what it printed and wrote. The HTML page is checked
in the browser in test_report_html_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from real_run import gate, plant_bug, pythons_of, results_files
from rich.cells import cell_len
from test_report_terminal import map_cells

pytestmark = pytest.mark.slow
_SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("width", [100, 80])
def test_no_line_is_wider_than_the_width(width: int, tmp_path: Path) -> None:
    run = gate(results_files(), tmp_path, {"COLUMNS": str(width), "NO_COLOR": "1"})
    assert run.code == 0, run.out
    widest = max(cell_len(line) for line in run.out.splitlines())
    assert widest <= width, run.out
    # the map is there, and at 80 columns it is split into blocks, never cut
    cells = map_cells(run.out)
    assert len(cells) >= 18
    assert all(len(phases) == len(cells["ssot"]) for phases in cells.values())


def test_the_reproduction_flips_and_identical_pythons_show_once(tmp_path: Path) -> None:
    files = results_files()
    run = gate(files, tmp_path, {"COLUMNS": "100", "NO_COLOR": "1"})
    assert run.out.count("Migration map:") == 1
    pythons = pythons_of(files)
    if len(pythons) > 1:
        assert f"Migration map: py{pythons[0]}-{pythons[-1]} identical\n" in run.out
    assert "differs from the map" not in run.out
    cells = map_cells(run.out)
    # failed as expected (reproduced) on deprecated, passed on ssot, in every env
    assert set(cells["deprecated"]["reproduction"].split()) == {"✗"}
    assert set(cells["ssot"]["reproduction"].split()) == {"✓"}
    assert run.out.splitlines()[-1].startswith("gate PASSED (exit 0)")


def test_a_planted_bug_in_64_cells_reads_as_few_causes(tmp_path: Path) -> None:
    files, planted = plant_bug(results_files(), tmp_path / "results")
    assert planted == 64
    run = gate(files, tmp_path / "reports", {"COLUMNS": "100", "NO_COLOR": "1"})
    assert run.code == 1
    found = re.search(r"^Unexpected: (\d+) item\(s\), (\d+) cause\(s\)$", run.out, re.M)
    assert found is not None, run.out
    assert int(found.group(1)) == 64
    assert int(found.group(2)) <= 3
    # each cause names its first cells only; the flag lists them all
    assert run.out.count("and 29 more cell(s)") == int(found.group(2))
    every = gate(files, tmp_path / "all", {"COLUMNS": "100", "NO_COLOR": "1"}, "--all-items")
    assert len(re.findall(r"^      \S+/\S+/\S+/py\S+$", every.out, re.M)) == 64
    assert cell_len(max(run.out.splitlines(), key=cell_len)) <= 100


def test_colour_only_when_asked_and_ascii_where_unicode_cannot_be_shown(tmp_path: Path) -> None:
    files = results_files()
    plain = gate(files, tmp_path / "plain", {"COLUMNS": "100", "NO_COLOR": "1"})
    forced = gate(files, tmp_path / "forced", {"COLUMNS": "100", "FORCE_COLOR": "1"})
    piped = gate(files, tmp_path / "piped", {"COLUMNS": "100"})  # not a TTY: no colour
    assert "\x1b[" not in plain.out
    assert "\x1b[" not in piped.out
    assert "\x1b[" in forced.out
    # colour adds escape codes and nothing else
    assert _SGR.sub("", forced.out) == plain.out
    ascii_ = gate(files, tmp_path / "ascii", {"COLUMNS": "100", "PYTHONIOENCODING": "ascii"})
    assert ascii_.out.isascii()
    cells = map_cells(ascii_.out)
    assert set(cells["deprecated"]["reproduction"].split()) == {"x"}
    assert set(cells["ssot"]["reproduction"].split()) == {"+"}


def test_gate_md_gives_the_verdict_and_the_map_first_and_folds_the_rest(tmp_path: Path) -> None:
    run = gate(results_files(), tmp_path, {"NO_COLOR": "1"})
    text = run.report("gate.md").decode("utf-8")
    assert text.startswith("## migmatrix gate: ✅ passed (exit 0)\n")
    lines = text.splitlines()
    assert lines.index("### Migration map") < 6
    details = text.index("<details>")
    assert text.index("| state | reproduction<br>") < details
    assert text.index("<summary>Per-Python detail</summary>") > details
    assert "#### Python" not in text[:details]
    header = next(line for line in lines if line.startswith("| state |"))
    at = next(i for i, h in enumerate(header.split(" | ")) if h.startswith("reproduction<br>"))
    rows = {line.split(" | ")[0].removeprefix("| "): line.split(" | ") for line in lines}
    assert set(rows["deprecated"][at].split()) == {"✗"}
    assert set(rows["ssot"][at].split()) == {"✓"}
    # a short summary: the map and the verdict fit GitHub's first screen of lines
    assert details < 4000


def test_every_report_is_byte_identical_for_the_same_results(tmp_path: Path) -> None:
    files = results_files()
    first = gate(files, tmp_path / "a", {"COLUMNS": "80", "NO_COLOR": "1"})
    second = gate(files, tmp_path / "b", {"COLUMNS": "80", "NO_COLOR": "1"})
    for name in ("gate.md", "gate.html", "gate.json"):
        assert first.report(name) == second.report(name), name
    assert first.out.replace(str(tmp_path / "a"), "") == second.out.replace(str(tmp_path / "b"), "")
