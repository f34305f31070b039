"""JUnit XML: parses, one suite per cell, reproduced = passing with a property, counts right."""

from __future__ import annotations

import xml.etree.ElementTree as ET

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
from migmatrix.report_junit import render_junit


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


def test_parses_with_one_testsuite_per_cell_and_right_counts() -> None:
    root = ET.fromstring(render_junit(sample_result()).encode("utf-8"))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == [
        "reproduction/deprecated/unit/py3.12",
        "reproduction/ssot/unit/py3.12",
        "golden_path/ssot/unit/py3.12",
        "reproduction/deprecated/unit/py3.13",
        "reproduction/ssot/unit/py3.13",
        "golden_path/ssot/unit/py3.13",
    ]
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("skipped", "-1")) == sum(c.find("skipped") is not None for c in cases)
    assert root.get("tests") == "11"
    assert root.get("failures") == "2"
    assert root.get("skipped") == "1"


def test_reproduced_is_a_passing_testcase_with_the_verdict_property() -> None:
    root = ET.fromstring(render_junit(sample_result()))
    suite = root.find("testsuite[@name='reproduction/deprecated/unit/py3.12']")
    assert suite is not None
    for case in suite.findall("testcase"):
        assert case.find("failure") is None
        prop = case.find("properties/property[@name='migmatrix.verdict']")
        assert prop is not None
        assert prop.get("value") == "reproduced"


def test_unexpected_verdicts_are_failures_with_escaped_text() -> None:
    root = ET.fromstring(render_junit(sample_result()))
    case = root.find(
        "testsuite[@name='golden_path/ssot/unit/py3.12']/testcase[@name='t.py::x[<&\"|>]']"
    )
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "regression"
    assert failure.get("message", "").startswith("regression: expected pass, got failed (KeyError)")
    # the ANSI escape (illegal in XML 1.0) is dropped, the rest kept
    assert failure.text == "boom <b>|</b> & [31mred[0m\nsecond line"
    missing = root.find("testsuite[@name='golden_path/ssot/unit/py3.13']/testcase[@name='*']")
    assert missing is not None
    assert missing.find("failure") is not None


def test_deterministic() -> None:
    assert render_junit(sample_result()) == render_junit(sample_result())
