"""Synthetic gate data shared by the gate, CLI and report tests.

`MATRIX` is a two-Python project in which the deprecated adapter reproduces the
bug and the ssot adapter fixes it; `write_project` puts it in a folder and
`full_run` is a run of it in which every cell behaves as expected (the gate and
CLI tests break it in the ways they check). `sample_result` is one `GateResult`
every report writer is tested against (terminal, Markdown, JSON, JUnit), so the
reports are checked on the same verdicts and the same hostile text. These are
plain functions, not fixtures: tests build the data more than once to show a
report does not depend on the object.
"""

from __future__ import annotations

from pathlib import Path

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
    Matrix,
    Record,
)
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.plan import plan_cells

MATRIX = """\
python: ["3.12", "3.13"]
phases: {reproduction: suites/reproduction, golden_path: suites/golden_path}
adapters:
  deprecated: {object: "adapters.deprecated:adapter", features: []}
  ssot: {object: "adapters.ssot:adapter", features: [ssot-engine]}
envs: {unit: {features: [in-memory]}}
expect:
  default: pass
  rules:
    - phase: reproduction
      unless: [ssot-engine]
      outcome: fail
      raises: AssertionError
      match: "SSOT"
"""


def write_project(folder: Path) -> Path:
    """`MATRIX` as folder/matrix.yaml beside its (empty) phase folders; returns its path."""
    for phase in ("reproduction", "golden_path"):
        (folder / "suites" / phase).mkdir(parents=True)
    path = folder / "matrix.yaml"
    path.write_text(MATRIX, encoding="utf-8")
    return path


def full_run(matrix: Matrix, python: str | None = None, duration: float = 0.0) -> list[Record]:
    """Every planned cell (of `python`, if given) running two tests, all as the matrix expects."""
    records = []
    for cell in plan_cells(matrix):
        if python is not None and cell.python != python:
            continue
        for test in ("t.py::a", "t.py::b"):
            if cell.phase == "reproduction" and cell.adapter == "deprecated":
                records.append(
                    Record(
                        cell.id, test, Outcome.FAILED, duration, "AssertionError", "SSOT VIOLATION"
                    )
                )
            else:
                records.append(Record(cell.id, test, Outcome.PASSED, duration))
    return records


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
