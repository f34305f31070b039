"""The pytest plugin, driven black-box with pytester on small synthetic matrices.

Every scenario runs under `-p no:xdist` (in-process: fast) and `-n 2` (real
worker processes), except the crash, which kills the process it runs in and so
exists only with workers. The synthetic matrix has two phases, a swept adapter
(cell ids with brackets), an excluded combination and a Python version that is
not the running one, so parametrization, test ids and selection are all exercised.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pytester_matrix import MODE_PARAMS, records_of, run, write_project

from migmatrix.results import read_results

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = pytest.mark.usefixtures("no_ci_shard")  # conftest.py: no CI may shard these runs
OTHER_PY = "3.9" if PY != "3.9" else "3.8"

MATRIX = f"""
python: ["{PY}", "{OTHER_PY}"]
timeout: 3
phases:
  alpha: suites/alpha
  beta: suites/beta
adapters:
  old: {{object: "adapters.old:adapter", features: []}}
  partial:
    object: "adapters.partial:adapter"
    components:
      - {{name: engine, features: [fixed]}}
    sweep: chain
  new: {{object: "adapters.new:adapter", features: [fixed]}}
envs:
  unit: {{features: [mem]}}
  integ: {{features: [db]}}
exclude:
  - {{phase: beta, env: integ}}
expect:
  default: pass
  rules:
    - {{phase: alpha, test: "test_a.py::test_bug", unless: [fixed], outcome: fail,
        raises: AssertionError, bug: "#1"}}
    - {{phase: alpha, test: "test_a.py::test_wrong_reason", unless: [fixed], outcome: fail,
        raises: AssertionError}}
    - {{phase: alpha, test: "test_a.py::test_skipped", adapter: old, outcome: skip}}
    - {{phase: alpha, test: "test_a.py::test_flaky", outcome: [pass, fail]}}
"""

SUITE_A = """
import json, os, pathlib
import pytest

def test_plain():
    pass

def test_bug(cell):
    assert "fixed" in cell.features, "SSOT VIOLATION"

def test_wrong_reason(cell):
    if "fixed" not in cell.features:
        raise ValueError("not the reason the matrix names")

def test_skipped(cell):
    pass

def test_flaky(cell):
    assert cell.adapter != "old"

@pytest.mark.parametrize("x", ["a", "b"])
def test_param(cell, x):
    pass

class TestK:
    def test_m(self, cell):
        if not os.environ.get("ATTRS_DIR"):
            return
        out = pathlib.Path(os.environ["ATTRS_DIR"]) / (cell.id.replace("/", "_") + ".json")
        out.write_text(json.dumps({
            "id": cell.id, "phase": cell.phase, "adapter": cell.adapter,
            "adapter_base": cell.adapter_base, "env": cell.env, "python": cell.python,
            "components": list(cell.components), "features": sorted(cell.features),
            "adapter_object": cell.adapter_object, "service_url": cell.service_url,
            "workdir_exists": cell.workdir is not None and os.path.isdir(cell.workdir),
        }))
"""

BROKEN = "import a_module_that_does_not_exist\n"

SUITE_B = """
import time

def test_b(cell):
    assert cell.phase == "beta"

def test_hang(cell):
    if cell.adapter == "new":
        time.sleep(30)
"""


def write_matrix(pytester: pytest.Pytester, matrix: str = MATRIX, **suites: str) -> Path:
    """A matrix folder in pytester's directory: matrix.yaml, adapters, suite files."""
    return write_project(
        pytester, matrix, {"alpha/test_a.py": SUITE_A, "beta/test_b.py": SUITE_B, **suites}
    )


def comparable(records: dict[tuple[str, str], Any]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Records without what legitimately differs between runs: timing and worker."""
    return {k: (r.outcome, r.exc_type, r.message, r.nodeid) for k, r in records.items()}


def cells_of(records: dict[tuple[str, str], Any]) -> set[str]:
    return {cell for cell, _ in records}


ALPHA_CELLS = {
    f"alpha/{adapter}/{env}/py{PY}"
    for adapter in ("old", "partial[]", "partial[engine]", "new")
    for env in ("unit", "integ")
}
BETA_CELLS = {
    f"beta/{adapter}/unit/py{PY}" for adapter in ("old", "partial[]", "partial[engine]", "new")
}
ALPHA_TESTS = {
    "test_a.py::test_plain",
    "test_a.py::test_bug",
    "test_a.py::test_wrong_reason",
    "test_a.py::test_skipped",
    "test_a.py::test_flaky",
    "test_a.py::test_param[a]",
    "test_a.py::test_param[b]",
    "test_a.py::TestK::test_m",
}
BETA_TESTS = {"test_b.py::test_b", "test_b.py::test_hang", "test_broken.py"}


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_matrix_run_records_every_cell_and_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    write_matrix(pytester, **{"beta/test_broken.py": BROKEN})
    attrs = pytester.mkdir("attrs")
    monkeypatch.setenv("ATTRS_DIR", str(attrs))
    result = run(pytester, mode)
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")

    # Parametrization: every test of a phase over exactly that phase's cells of this
    # interpreter (the other Python and the excluded beta/integ cells are absent),
    # including tests that never ask for `cell`; the collection error of a file
    # becomes one error record per cell of its phase.
    assert set(records) == {(c, t) for c in ALPHA_CELLS for t in ALPHA_TESTS} | {
        (c, t) for c in BETA_CELLS for t in BETA_TESTS
    }
    for (cell, test), record in records.items():
        if test != "test_broken.py":
            assert record.nodeid.endswith(f"[{cell}]") or record.nodeid.endswith(f"-{cell}]")
    assert records[("alpha/new/unit/py" + PY, "test_a.py::test_param[a]")].nodeid == (
        f"suites/alpha/test_a.py::test_param[a-alpha/new/unit/py{PY}]"
    )

    # Raw outcomes, whatever pytest's xfail wrapping made of them.
    old, new = f"alpha/old/unit/py{PY}", f"alpha/new/unit/py{PY}"
    fixed_partial = f"alpha/partial[engine]/integ/py{PY}"
    bug = records[(old, "test_a.py::test_bug")]
    assert (bug.outcome.value, bug.exc_type) == ("failed", "AssertionError")
    assert "SSOT VIOLATION" in bug.message
    assert records[(new, "test_a.py::test_bug")].outcome.value == "passed"
    assert records[(fixed_partial, "test_a.py::test_bug")].outcome.value == "passed"
    wrong = records[(old, "test_a.py::test_wrong_reason")]
    assert (wrong.outcome.value, wrong.exc_type) == ("failed", "ValueError")
    assert records[(old, "test_a.py::test_skipped")].outcome.value == "skipped"
    assert records[(new, "test_a.py::test_skipped")].outcome.value == "passed"
    assert records[(old, "test_a.py::test_flaky")].outcome.value == "failed"
    hang = records[(f"beta/new/unit/py{PY}", "test_b.py::test_hang")]
    assert hang.outcome.value == "timeout"
    assert hang.exc_type == "migmatrix.timeouts.TimeLimitExceeded"
    assert records[(f"beta/old/unit/py{PY}", "test_b.py::test_hang")].outcome.value == "passed"
    broken = records[(f"beta/old/unit/py{PY}", "test_broken.py")]
    assert broken.outcome.value == "error"
    assert "a_module_that_does_not_exist" in broken.message

    # pytest's own summary agrees with the expectations: expected failures are
    # strict xfails (test_bug in old and partial[] x 2 envs), flaky ones non-strict
    # (test_flaky fails in old, passes elsewhere), the wrong exception is a plain
    # failure, the hang a failure, the broken file one collection error.
    outcomes = result.parseoutcomes()
    assert outcomes.get("xfailed") == 4 + 2
    assert outcomes.get("xpassed") == 6
    assert outcomes.get("failed") == 4 + 1
    assert outcomes.get("skipped") == 2  # test_skipped in old x 2 envs
    assert outcomes.get("errors") == 1
    assert outcomes.get("passed") == len(records) - 6 - 6 - 5 - 2 - len(BETA_CELLS)

    # The `cell` fixture's attributes, seen from inside the tests (and workers).
    seen = {p.stem: json.loads(p.read_text()) for p in attrs.iterdir()}
    assert len(seen) == len(ALPHA_CELLS)
    swept = seen[f"alpha_partial[engine]_integ_py{PY}"]
    assert swept == {
        "id": f"alpha/partial[engine]/integ/py{PY}",
        "phase": "alpha",
        "adapter": "partial[engine]",
        "adapter_base": "partial",
        "env": "integ",
        "python": PY,
        "components": ["engine"],
        "features": ["db", "fixed"],
        "adapter_object": "partial",
        "service_url": None,
        "workdir_exists": True,
    }

    # The file: header, one line per record, footer with the count.
    lines = (pytester.path / "results" / f"py{PY}.jsonl").read_text().splitlines()
    header, footer = json.loads(lines[0]), json.loads(lines[-1])
    assert header["kind"] == "header"
    assert header["schema"] == "migmatrix-results/2"
    assert (header["python"], header["selection"], header["shard"]) == (PY, None, None)
    assert len(header["matrix_digest"]) >= 16
    assert header["run_id"]
    assert footer == {"kind": "footer", "records": len(records), "finished": footer["finished"]}
    workers = {r.worker for r in records.values() if r.nodeid}
    assert workers == ({None} if mode == "serial" else {"gw0", "gw1"})
    assert [p.name for p in (pytester.path / "results").iterdir()] == [f"py{PY}.jsonl"]


@pytest.mark.slow
def test_serial_and_distributed_runs_give_the_same_records(pytester: pytest.Pytester) -> None:
    write_matrix(pytester, **{"beta/test_broken.py": BROKEN})
    results = {}
    for mode in ("serial", "xdist"):
        run(pytester, mode, "--run-id", mode, "--matrix-timeout", "2")
        results[mode] = comparable(records_of(pytester.path / "results" / f"{mode}.jsonl"))
    assert results["serial"] == results["xdist"]
    assert len(results["serial"]) == len(ALPHA_CELLS) * len(ALPHA_TESTS) + len(BETA_CELLS) * 3


CRASH_SUITE = """
import os

def test_before(cell):
    pass

def test_crash(cell):
    if cell.adapter == "old":
        os._exit(3)

def test_after(cell):
    pass
"""


@pytest.mark.slow
def test_a_worker_killed_mid_test_is_a_crashed_record_and_nothing_else_is_lost(
    pytester: pytest.Pytester,
) -> None:
    write_matrix(pytester, **{"beta/test_b.py": CRASH_SUITE})
    result = run(pytester, "xdist", "--cells", "beta")
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    assert set(records) == {
        (c, f"test_b.py::{t}")
        for c in BETA_CELLS
        for t in ("test_before", "test_crash", "test_after")
    }
    crashed = {k for k, r in records.items() if r.outcome.value == "crashed"}
    assert crashed == {(f"beta/old/unit/py{PY}", "test_b.py::test_crash")}
    assert "crashed" in records[next(iter(crashed))].message
    assert {r.outcome.value for k, r in records.items() if k not in crashed} == {"passed"}
    result.stdout.fnmatch_lines(["*replacing crashed worker*"])


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_shards_are_disjoint_and_together_the_whole_run(
    pytester: pytest.Pytester, mode: str
) -> None:
    from migmatrix import shard

    write_matrix(pytester, **{"beta/test_broken.py": BROKEN})
    common = ["--matrix-timeout", "1", "--cells", "not integ"]
    run(pytester, "serial", "--run-id", "whole", *common)
    whole = records_of(pytester.path / "results" / "whole.jsonl")
    durations = {f"{c}::{t}": r.duration for (c, t), r in whole.items()}
    # Balancing makes the hang (1 s) dominate: one shard gets it almost alone.
    items = sorted(k for k in durations if not k.endswith("::test_broken.py"))
    balanced = [set(shard.assign(items, i, 3, durations)) for i in (1, 2, 3)]
    assert balanced != [set(items[i - 1 :: 3]) for i in (1, 2, 3)]
    shards = []
    for index in (1, 2, 3):
        # Every shard balances by the same given file, whatever else results/ holds
        # by then (the earlier shards' files appear in it one by one).
        args = ["--shard", f"{index}/3", "--matrix-durations", "results/whole.jsonl", *common]
        result = run(pytester, mode if index == 2 else "serial", *args)
        result.stdout.fnmatch_lines(["*shards balanced by * durations from *whole.jsonl"])
        path = pytester.path / "results" / f"py{PY}-shard-{index}-of-3.jsonl"
        assert json.loads(path.read_text().splitlines()[0])["shard"] == f"{index}/3"
        shards.append(records_of(path))
        ran = {f"{c}::{t}" for c, t in shards[-1] if t != "test_broken.py"}
        assert ran == balanced[index - 1]
    assert all(shards), "every shard got some of the work"
    keys = [k for shard_records in shards for k in shard_records]
    assert len(keys) == len(set(keys)) == len(whole)
    assert set(keys) == set(whole)
    merged = {k: r for shard_records in shards for k, r in shard_records.items()}
    assert comparable(merged) == comparable(whole)


def test_without_durations_the_split_is_plain_and_ignores_earlier_results(
    pytester: pytest.Pytester,
) -> None:
    from migmatrix import shard

    write_matrix(pytester)
    common = ["--cells", "alpha and not integ", "suites/alpha"]
    run(pytester, "serial", "--run-id", "whole", *common)
    items = sorted(f"{c}::{t}" for c, t in records_of(pytester.path / "results" / "whole.jsonl"))
    for index in (1, 2):
        run(pytester, "serial", "--shard", f"{index}/2", *common)
        path = pytester.path / "results" / f"py{PY}-shard-{index}-of-2.jsonl"
        ran = {f"{c}::{t}" for c, t in records_of(path)}
        assert ran == set(shard.assign(items, index, 2))


@pytest.mark.slow
def test_missing_durations_input_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_matrix(pytester)
    result = pytester.runpytest_subprocess(
        "--matrix", "matrix.yaml", "-p", "no:xdist", "--shard", "1/2",
        "--matrix-durations", "nowhere/",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: durations 'nowhere/': no such file or folder*"])


@pytest.mark.parametrize(
    ("environ", "source"),
    [
        ({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"}, "CI_NODE_INDEX/CI_NODE_TOTAL"),
        (
            {"BUILDKITE_PARALLEL_JOB": "1", "BUILDKITE_PARALLEL_JOB_COUNT": "3"},
            "BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT",
        ),
        (
            {"CIRCLE_NODE_INDEX": "1", "CIRCLE_NODE_TOTAL": "3"},
            "CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL",
        ),
    ],
    ids=["gitlab", "buildkite", "circleci"],
)
def test_ci_variables_choose_the_shard_and_are_named_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], source: str
) -> None:
    write_matrix(pytester)
    common = ["--cells", "alpha and not integ", "suites/alpha"]
    run(pytester, "serial", "--shard", "2/3", "--run-id", "explicit", *common)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = run(pytester, "serial", "--run-id", "ci", *common)
    lines = [
        line
        for line in result.outlines
        if "CI_NODE" in line or "PARALLEL" in line or "CIRCLE" in line
    ]
    assert lines == [f"migmatrix: shard 2/3 from {source}"]
    ci = pytester.path / "results" / "ci.jsonl"
    assert json.loads(ci.read_text().splitlines()[0])["shard"] == "2/3"
    assert set(records_of(ci)) == set(records_of(pytester.path / "results" / "explicit.jsonl"))

    # -q hides the report header; the line still shows.
    result = run(pytester, "serial", "-q", "--run-id", "quiet", *common)
    assert f"migmatrix: shard 2/3 from {source}" in result.outlines

    # An explicit --shard wins, and says what it overrode.
    result = run(pytester, "serial", "--shard", "1/1", "--run-id", "explicit-wins", *common)
    result.stdout.fnmatch_lines([f"migmatrix: shard 1/1 from --shard (ignoring {source} set*"])
    path = pytester.path / "results" / "explicit-wins.jsonl"
    assert json.loads(path.read_text().splitlines()[0])["shard"] == "1/1"


def test_invalid_ci_variables_are_a_usage_error_unless_shard_is_given(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_matrix(pytester)
    monkeypatch.setenv("CI_NODE_INDEX", "4")
    monkeypatch.setenv("CI_NODE_TOTAL", "3")
    result = run(pytester, "serial", "--cells", "alpha and new and unit", "suites/alpha")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result = run(
        pytester, "serial", "--shard", "1/1", "--cells", "alpha and new and unit", "suites/alpha"
    )
    assert result.ret == pytest.ExitCode.OK


def test_selection_and_explicit_paths(pytester: pytest.Pytester) -> None:
    # Serial only: selection happens before any worker exists, and the -n 2 runs
    # above already show workers use the same cells as the controller.
    write_matrix(pytester)
    run(pytester, "serial", "--cells", "new and unit", "suites/alpha", "--run-id", "sel")
    records = records_of(pytester.path / "results" / "sel.jsonl")
    assert cells_of(records) == {f"alpha/new/unit/py{PY}"}
    assert {t for _, t in records} == ALPHA_TESTS
    header = json.loads((pytester.path / "results" / "sel.jsonl").read_text().splitlines()[0])
    assert header["selection"] == "new and unit"


def test_without_matrix_the_plugin_does_nothing(pytester: pytest.Pytester) -> None:
    write_matrix(pytester)
    result = pytester.runpytest_inprocess("suites/beta", "-p", "no:cacheprovider")
    # No parametrization (so `cell` is just an unknown-to-the-suite fixture erroring
    # at setup) and no results folder.
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*fixture 'cell' not found*"])
    assert not (pytester.path / "results").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        # a broken file: the loader's message, as a usage error, no traceback
        ('python: ["3.12"]\nphases: {}\nbogus: 1\n', "*matrix.yaml*"),
        # no cell for this interpreter
        (MATRIX.replace(f'["{PY}", "{OTHER_PY}"]', f'["{OTHER_PY}"]'), f"*Python {PY}*"),
        # an adapter object that does not import: the run stops before any test runs
        (
            MATRIX.replace("adapters.new:adapter", "adapters.new:nothing"),
            "*matrix.yaml:*adapters.new*'adapters.new' has no attribute 'nothing'*",
        ),
    ],
    ids=["invalid-file", "no-cell-for-this-python", "bad-adapter-object"],
)
def test_a_bad_matrix_is_a_usage_error(
    pytester: pytest.Pytester, matrix: str, message: str
) -> None:
    write_matrix(pytester, matrix)
    result = pytester.runpytest_subprocess("--matrix", "matrix.yaml", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str()


def test_a_symlinked_suites_folder_still_parametrizes_and_records(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The suites live outside the rootdir, reached through a link: pytest names
    # items by the path it was given (through the link) while the phase folders
    # are known resolved. Both must locate the phase.
    write_matrix(pytester)
    real = tmp_path_factory.mktemp("elsewhere") / "suites"
    (pytester.path / "suites").rename(real)
    (pytester.path / "suites").symlink_to(real)
    run(pytester, "serial", "--cells", "alpha and new and unit", "--run-id", "linked")
    records = records_of(pytester.path / "results" / "linked.jsonl")
    assert set(records) == {(f"alpha/new/unit/py{PY}", t) for t in ALPHA_TESTS}


# --------------------------------------------------------------------------- issue 20

PROBE_MATRIX = f"""
python: ["{PY}"]
phases: {{golden_path: suites/golden_path}}
adapters:
  old: {{object: "adapters.old:adapter", features: []}}
  new: {{object: "adapters.new:adapter", features: []}}
envs: {{unit: {{features: []}}}}
expect: {{default: pass}}
"""
# Three tests per cell: with --shard i/3, round-robin over sorted (cell, test) keys
# gives each shard one test id in every cell, which is how a deleted shard once
# left a gate that saw no gap.
PROBE_SUITE = """
def test_login(cell):
    pass

def test_logout(cell):
    pass

def test_golden_path_login_to_ai_response(cell):
    pass
"""
PROBE_TESTS = {
    "test_p.py::test_login",
    "test_p.py::test_logout",
    "test_p.py::test_golden_path_login_to_ai_response",
}


def gate_here(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`migmatrix gate results` in pytester's folder (the test's working directory)."""
    from migmatrix.cli import main

    capsys.readouterr()
    code = main(["gate", "results", "--cells", "golden_path"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_a_deleted_shard_is_exit_3_naming_it(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    write_project(pytester, PROBE_MATRIX, {"golden_path/test_p.py": PROBE_SUITE})
    selection = f"golden_path and py{PY}"
    for index in (1, 2, 3):
        run(
            pytester,
            mode if index == 3 else "serial",
            "--cells",
            selection,
            "--shard",
            f"{index}/3",
        )
    paths = [pytester.path / "results" / f"py{PY}-shard-{i}-of-3.jsonl" for i in (1, 2, 3)]
    per_shard = [records_of(path) for path in paths]
    # The round-robin split really does put each test id in one shard only here.
    assert all(len({test for _, test in found}) == 1 for found in per_shard)
    code, text = gate_here(capsys)
    assert code == 0, text
    assert "6 as-expected" in text
    paths[2].unlink()
    code, text = gate_here(capsys)
    assert code == 3, text
    assert f"shard 3/3 of python {PY}, cells {selection!r} is missing" in text


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_k_under_matrix_records_the_deselected_tests_as_not_run(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    write_project(pytester, PROBE_MATRIX, {"golden_path/test_p.py": PROBE_SUITE})
    gone = "test_p.py::test_golden_path_login_to_ai_response"
    result = run(pytester, mode, "--run-id", "k", "-k", "not test_golden_path_login_to_ai_response")
    path = pytester.path / "results" / "k.jsonl"
    records = records_of(path)
    cells = {f"golden_path/{adapter}/unit/py{PY}" for adapter in ("old", "new")}
    assert set(records) == {(cell, test) for cell in cells for test in PROBE_TESTS}
    skipped = {key: r for key, r in records.items() if r.outcome.value == "skipped"}
    assert set(skipped) == {(cell, gone) for cell in cells}
    assert {r.message for r in skipped.values()} == {
        "deselected by -k 'not test_golden_path_login_to_ai_response' under --matrix: not run"
    }
    assert read_results(path).collected == {cell: tuple(sorted(PROBE_TESTS)) for cell in cells}
    result.stdout.fnmatch_lines(["*2 skipped*"])
    code, text = gate_here(capsys)
    assert code == 1, text


@pytest.mark.parametrize(
    "option", [["--deselect", "suites/golden_path/test_p.py::test_login"], ["-m", "slow"]]
)
def test_deselect_and_m_under_matrix_are_recorded_too(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    write_project(pytester, PROBE_MATRIX, {"golden_path/test_p.py": PROBE_SUITE})
    run(pytester, "serial", "--run-id", "d", *option)
    records = records_of(pytester.path / "results" / "d.jsonl")
    assert len(records) == 2 * len(PROBE_TESTS)
    skipped = {r.message for r in records.values() if r.outcome.value == "skipped"}
    assert skipped == {f"deselected by {option[0]} {option[1]!r} under --matrix: not run"}
    assert gate_here(capsys)[0] == 1
