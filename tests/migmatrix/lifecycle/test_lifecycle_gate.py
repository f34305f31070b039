"""`migmatrix gate --baseline` and `until:` on real results of a small migration.

The toy project (toy_migration.py) is run once; each test gates a copy of it,
with its matrix.yaml edited the way a pull request would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from toy_migration import migmatrix, run_toy, write_toy

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_ci_shard")]

REPORT_SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "report-json-schema.json"
IMPORTS_MATCH = '      match: "SSOT VIOLATION: legacy imports"\n'


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("toy")
    write_toy(folder)
    done = run_toy(folder, "-p", "no:xdist")
    assert done.returncode == 0, done.stdout + done.stderr
    base = migmatrix(folder, "gate", "results", "--json", "base.json")
    assert base.returncode == 0, base.stdout + base.stderr
    return folder


@pytest.fixture
def toy(toy_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "toy"
    shutil.copytree(toy_run, copy)
    return copy


def edit(toy: Path, old: str, new: str) -> None:
    path = toy / "matrix.yaml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def test_the_same_expectations_pass_and_the_report_shows_the_comparison(toy: Path) -> None:
    done = migmatrix(toy, "gate", "results", "--baseline", "base.json", "--json", "g.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "baseline base.json: 24 (cell, test) pair(s) compared" in done.stdout
    assert "no expectation loosened or tightened" in done.stdout
    report = json.loads((toy / "g.json").read_text())
    assert report["baseline"]["changes"] == []
    assert report["expectations"]["matrix_digest"]
    jsonschema.validate(report, json.loads(REPORT_SCHEMA.read_text()))


def test_a_loosened_match_fails_naming_rule_cells_before_and_after(toy: Path) -> None:
    edit(toy, IMPORTS_MATCH, '      match: "SSOT"\n')
    assert migmatrix(toy, "gate", "results").returncode == 0  # without the ratchet: green
    done = migmatrix(
        toy, "gate", "results", "--baseline", "base.json", "--markdown", "s.md", "--html", "g.html"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if "LOOSENED" in x)
    assert "rule #1 at matrix.yaml:" in line
    assert "before 'fail raises AssertionError match /SSOT VIOLATION: legacy imports/'" in line
    assert "after 'fail raises AssertionError match /SSOT/'" in line
    assert "repro/old/unit/py" in line
    assert "test_conflicts.py::test_imports_resolve_to_one_engine" in line
    assert "LOOSENED (fails the gate)" in (toy / "s.md").read_text()
    assert "<li>LOOSENED (fails the gate): rule #1 at" in (toy / "g.html").read_text()
    accepted = migmatrix(toy, "gate", "results", "--baseline", "base.json", "--accept-loosened")
    assert accepted.returncode == 0
    assert "accepted (--accept-loosened)" in accepted.stdout


def test_a_test_expected_to_fail_where_it_passed_is_loosened(toy: Path) -> None:
    rule = (
        "    - phase: golden\n"
        "      adapter: old\n"
        "      outcome: [pass, fail]\n"
        "\n    # golden: the default"
    )
    edit(toy, "\n    # golden: the default", "\n" + rule)
    done = migmatrix(toy, "gate", "results", "--baseline", "base.json", "--json", "g.json")
    assert done.returncode == 1
    change = json.loads((toy / "g.json").read_text())["baseline"]["changes"][0]
    assert (change["change"], change["before"], change["after"]) == (
        "loosened",
        "pass",
        "fail|pass",
    )
    assert change["cells"] == [c for c in change["cells"] if c.startswith("golden/old/")]


def test_newly_passing_tests_and_tightened_expectations_are_progress(toy: Path) -> None:
    behaviour = toy / "suites" / "repro" / "behaviour.py"
    text = behaviour.read_text()
    fixed = '{"ssot-engine": {"imports", "factories"}'
    behaviour.write_text(text.replace('{"ssot-engine": {"imports"}', fixed))
    shutil.rmtree(toy / "results")
    run_toy(toy, "-p", "no:xdist")
    assert migmatrix(toy, "update-expectations", "results", "--write").returncode == 0
    done = migmatrix(toy, "gate", "results", "--baseline", "base.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tightened (progress)" in done.stdout
    assert "newly passing (progress)" in done.stdout
    assert "repro/partial[engine]/unit/py" in done.stdout


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ('{"schema": "migmatrix-report/1",', "is damaged: not JSON at line 1"),
        ("[]", "is damaged: not a JSON object"),
        ('{"schema": "migmatrix-report/1"}', "it has no `expectations` object"),
        ("OTHER", "is from another matrix"),
        ("MISSING", "does not exist"),
        ("BAD_GROUP", "`expectations.cells.repro/old/unit/py"),
    ],
)
def test_an_unusable_baseline_is_a_message_and_exit_2(
    toy: Path, baseline: str, message: str
) -> None:
    good = json.loads((toy / "base.json").read_text())
    if baseline == "OTHER":
        good["expectations"]["matrix_digest"] = "0" * 64
        baseline = json.dumps(good)
    elif baseline == "BAD_GROUP":
        cell = next(c for c in good["expectations"]["cells"] if c.startswith("repro/old/"))
        good["expectations"]["cells"][cell]["rules"][0]["expected"] = ["maybe"]
        baseline = json.dumps(good)
    if baseline != "MISSING":
        (toy / "prev.json").write_text(baseline)
    done = migmatrix(toy, "gate", "results", "--baseline", "prev.json")
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_an_expired_rule_is_reported_and_fatal_only_when_fail_on_says_so(toy: Path) -> None:
    edit(toy, IMPORTS_MATCH, IMPORTS_MATCH + "      until: 2026-01-31\n")
    on_the_day = migmatrix(toy, "gate", "results", "--today", "2026-01-31")
    assert on_the_day.returncode == 0
    assert "expired" not in on_the_day.stdout
    after = migmatrix(toy, "gate", "results", "--today", "2026-02-01", "--json", "g.json")
    assert after.returncode == 0
    assert "expired: rule #1 at matrix.yaml:" in after.stdout
    assert "until 2026-01-31" in after.stdout
    assert "reported only" in after.stdout
    assert json.loads((toy / "g.json").read_text())["expired_rules"][0]["until"] == "2026-01-31"
    edit(toy, "  fail_on: [regression", "  fail_on: [expired, regression")
    fatal = migmatrix(toy, "gate", "results", "--today", "2026-02-01")
    assert fatal.returncode == 1
    assert "fails the gate (fail_on: expired)" in fatal.stdout


@pytest.mark.parametrize("until", ["soon", "2026-02-30", "2026-1-5", "2026-01-31 10:00:00"])
def test_an_until_that_is_not_a_date_is_located_and_exit_2(toy: Path, until: str) -> None:
    edit(toy, IMPORTS_MATCH, IMPORTS_MATCH + f"      until: {until}\n")
    done = migmatrix(toy, "gate", "results")
    assert done.returncode == 2
    assert "matrix.yaml:" in done.stderr
    assert "Traceback" not in done.stderr
    assert "until" in done.stderr


def test_a_bad_today_is_exit_2(toy: Path) -> None:
    done = migmatrix(toy, "gate", "results", "--today", "tomorrow")
    assert done.returncode == 2
    assert "--today must be a date" in done.stderr
