"""JUnit XML: parses, one suite per cell, reproduced = passing with a property, counts right."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gate_data import sample_result

from migmatrix.report.junit import render_junit


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
