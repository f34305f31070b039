"""JSON report: versioned, valid against docs/report-json-schema.json, complete, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from gate_data import sample_result

from migmatrix.report.json_ import REPORT_SCHEMA, render_json

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "report-json-schema.json"


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
