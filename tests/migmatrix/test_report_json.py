"""JSON report: versioned, valid against docs/report-json-schema.json, complete, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

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
from migmatrix.report_json import REPORT_SCHEMA, render_json

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "report-json-schema.json"


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


def test_report_is_valid_against_the_documented_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    report = json.loads(render_json(sample_result()))
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["schema"] == REPORT_SCHEMA == schema["properties"]["schema"]["const"]


def test_every_judged_item_is_in_the_report_once() -> None:
    result = sample_result()
    report = json.loads(render_json(result))
    listed = [(r["cell"], r["test"]) for r in report["results"]]
    listed += [(c["id"], t) for c in report["cells"] for t in c["as_expected"]]
    assert sorted(listed) == sorted((j.cell.id, j.test) for j in result.judged)
    assert report["status"] == "failed"
    assert report["totals"]["reproduced"] == 4
    regression = next(r for r in report["results"] if r["verdict"] == "regression")
    assert regression["outcome"] == "failed"
    assert regression["exc_type"] == "KeyError"
    missing = next(r for r in report["results"] if r["verdict"] == "missing")
    assert "outcome" not in missing
    assert missing["test"] == "*"
    cell = next(c for c in report["cells"] if c["id"] == "golden_path/ssot/unit/py3.13")
    assert cell["no_results"] is True


def test_same_result_same_bytes_with_sorted_keys() -> None:
    text = render_json(sample_result())
    assert text == render_json(sample_result())
    assert text == json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False) + "\n"
