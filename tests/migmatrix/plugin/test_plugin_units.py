"""Fast units of the run side (no subprocess): shard choice, durations, node ids, hand-off."""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
from pathlib import Path

import pytest

from migmatrix.errors import MatrixError, UsageError
from migmatrix.model import Outcome, Record, ResultsHeader
from migmatrix.plugin import adapters, handoff
from migmatrix.plugin.collect import shard_keep, split_nodeid
from migmatrix.plugin.durations import read_durations
from migmatrix.plugin.run_state import MatrixRun, open_run
from migmatrix.results import write_results
from migmatrix.shard import assign, choose_shard

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

MATRIX = f"""
python: ["{PY}"]
phases:
  reproduction: suites/reproduction
adapters:
  old: {{object: "unitadapters:adapter", features: []}}
  partial:
    object: "unitadapters:adapter"
    components:
      - {{name: engine, features: []}}
      - {{name: factory, features: []}}
    sweep: chain
envs:
  unit: {{features: []}}
expect:
  default: pass
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "matrix.yaml").write_text(MATRIX)
    (tmp_path / "unitadapters.py").write_text("adapter = object()\n")
    (tmp_path / "suites" / "reproduction").mkdir(parents=True)
    return tmp_path


def opened(project: Path, **kwargs: object) -> MatrixRun:
    return open_run("matrix.yaml", invocation_dir=project, environ={}, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- shard choice


def test_choose_shard_explicit_environment_and_none() -> None:
    assert choose_shard(None, {}) == (None, None)
    assert choose_shard("2/3", {}) == ((2, 3), None)
    ci = {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "4"}
    assert choose_shard(None, ci) == (
        (1, 4),
        "migmatrix: shard 1/4 from CI_NODE_INDEX/CI_NODE_TOTAL",
    )
    chosen, note = choose_shard("3/3", ci)
    assert chosen == (3, 3)
    assert note == (
        "migmatrix: shard 3/3 from --shard (ignoring CI_NODE_INDEX/CI_NODE_TOTAL set in the "
        "environment)"
    )
    zero_based = {"CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "2"}
    assert choose_shard(None, zero_based)[0] == (1, 2)
    with pytest.raises(UsageError, match="invalid shard '4/3'"):
        choose_shard("4/3", {})


def test_round_robin_and_duration_balanced_splits_differ_but_both_partition() -> None:
    items = [f"c::t{i}" for i in range(6)]
    plain = [assign(items, i, 2) for i in (1, 2)]
    assert plain == [["c::t0", "c::t2", "c::t4"], ["c::t1", "c::t3", "c::t5"]]
    durations = {"c::t0": 10.0, "c::t1": 1.0, "c::t2": 1.0, "c::t3": 1.0, "c::t4": 1.0}
    balanced = [assign(items, i, 2, durations=durations) for i in (1, 2)]
    # The 10 s item is alone on its shard; the unknown t5 counts as the median (1 s).
    assert balanced == [["c::t0"], ["c::t1", "c::t2", "c::t3", "c::t4", "c::t5"]]
    for split in (plain, balanced):
        assert sorted(split[0] + split[1]) == items


def test_shard_keep_uses_the_runs_durations(project: Path) -> None:
    run = opened(project, shard="1/2")
    keys = ["b::x", "a::x", "c::x"]
    assert shard_keep(keys, run) == {"a::x", "c::x"}
    run.durations = {"a::x": 5.0, "b::x": 1.0, "c::x": 1.0}
    assert shard_keep(keys, run) == {"a::x"}
    assert shard_keep(keys, opened(project)) == set(keys)


# --------------------------------------------------------------------------- durations


def _results(path: Path, *records: Record) -> None:
    header = ResultsHeader(
        run_id="r", python=PY, platform="p", matrix_digest="d", selection=None, shard=None,
        started="2026-01-01T00:00:00.000+00:00",
    )  # fmt: skip
    write_results(path, header, records, finished="2026-01-01T00:00:01.000+00:00")


def test_read_durations_from_a_file_and_a_folder_skipping_damage(tmp_path: Path) -> None:
    _results(tmp_path / "a.jsonl", Record("c1", "t.py::x", Outcome.PASSED, 1.5))
    _results(
        tmp_path / "b.jsonl",
        Record("c1", "t.py::x", Outcome.FAILED, 2.5),
        Record("c2", "t.py::y", Outcome.PASSED, 0.25),
    )
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    (tmp_path / "notes.txt").write_text("ignored\n")
    assert read_durations(tmp_path / "a.jsonl") == {"c1::t.py::x": 1.5}
    assert read_durations(tmp_path) == {"c1::t.py::x": 2.5, "c2::t.py::y": 0.25}
    assert read_durations(tmp_path / "broken.jsonl") == {}


def test_durations_are_read_only_for_a_sharded_run_and_must_exist(project: Path) -> None:
    _results(project / "old.jsonl", Record("c1", "t.py::x", Outcome.PASSED, 1.5))
    assert opened(project, shard="1/2", durations="old.jsonl").durations == {"c1::t.py::x": 1.5}
    assert opened(project, durations="old.jsonl").durations == {}
    with pytest.raises(UsageError, match="durations 'nowhere/': no such file or folder"):
        opened(project, durations="nowhere/")


# --------------------------------------------------------------------------- node ids


def test_node_ids_split_into_cell_and_test_with_brackets_everywhere(project: Path) -> None:
    run = opened(project)
    cell_id = f"reproduction/partial[engine+factory]/unit/py{PY}"
    assert run.cell_named("reproduction", cell_id) is not None
    base = "suites/reproduction/sub/test_x.py"
    found = split_nodeid(f"{base}::test_p[a[b]/c::d-{cell_id}]", project, run)
    assert found is not None
    assert (found[0].id, found[1]) == (cell_id, "sub/test_x.py::test_p[a[b]/c::d]")
    found = split_nodeid(f"{base}::TestK::test_q[{cell_id}]", project, run)
    assert found is not None
    assert (found[0].id, found[1]) == (cell_id, "sub/test_x.py::TestK::test_q")
    old = f"reproduction/old/unit/py{PY}"
    found = split_nodeid(f"{base}::test_p[x-{old}]", project, run)
    assert found is not None
    assert found[0].id == old
    assert split_nodeid(f"{base}::test_p[x]", project, run) is None
    assert split_nodeid(f"elsewhere/test_x.py::test_p[{cell_id}]", project, run) is None
    assert split_nodeid(f"{base}::test_plain", project, run) is None


# --------------------------------------------------------------------------- hand-off


def test_handoff_round_trip_and_fallbacks(project: Path) -> None:
    run = opened(project)
    run.adapter_object(run.cells[0])
    key = handoff.run_key("matrix.yaml", project, None, None)
    name = handoff.save(run)
    try:
        environ: dict[str, str] = {}
        with handoff.offered(key, name, environ):
            assert environ[handoff.HANDOFF_ENV] == f"{key}:{name}"
            seen = dict(environ)
        assert handoff.HANDOFF_ENV not in environ  # only while the workers start
        taken = handoff.take(key, seen)
        assert taken is not None
        assert taken.cells == run.cells
        assert taken._adapters == {}  # adapter objects stay behind
        assert handoff.HANDOFF_ENV not in seen  # nothing started later inherits it
        # Another fingerprint (other options, another matrix, a nested pytest): ignored.
        other = handoff.run_key("matrix.yaml", project, "1/2", None)
        assert other != key
        assert handoff.take(other, {handoff.HANDOFF_ENV: f"{key}:{name}"}) is None
        # A file gone or damaged: ignored, the process loads for itself.
        Path(name).write_bytes(b"not a pickle")
        assert handoff.take(key, {handoff.HANDOFF_ENV: f"{key}:{name}"}) is None
        assert handoff.take(key, {}) is None
    finally:
        handoff.remove(name)
    assert not os.path.exists(name)
    assert handoff.take(key, {handoff.HANDOFF_ENV: f"{key}:{name}"}) is None


def test_the_fingerprint_follows_the_matrix_file(project: Path) -> None:
    before = handoff.run_key("matrix.yaml", project)
    os.utime(project / "matrix.yaml", ns=(0, 0))
    assert handoff.run_key("matrix.yaml", project) != before
    assert pickle.loads(pickle.dumps(opened(project))).python == PY


# --------------------------------------------------------------------------- adapter objects


def test_import_all_names_the_file_line_and_key_of_a_bad_object(project: Path) -> None:
    run = opened(project)
    adapters.import_all(run.matrix, ["old", "partial[engine]"])
    # The loader on this branch still imports adapters itself; the run side must not rely on it.
    matrix = dataclasses.replace(run.matrix, adapters=tuple(
        dataclasses.replace(spec, object="unitadapters:adaptr") if spec.name == "old" else spec
        for spec in run.matrix.adapters
    ))  # fmt: skip
    with pytest.raises(MatrixError) as caught:
        adapters.import_all(matrix, ["partial[engine+factory]", "old"])
    message = str(caught.value)
    assert "matrix.yaml:6:17: adapters.old.object: cannot import" in message  # the value
    assert "adapters.old.object" in message
    assert "has no attribute 'adaptr'" in message
    assert "did you mean 'adapter'?" in message
    with pytest.raises(
        MatrixError,
        match=r"unknown adapter 'parital'; did you mean 'partial'\? \(declared: old, partial\)",
    ):
        adapters.load_adapter_object(matrix, "parital")
