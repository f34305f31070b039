"""migmatrix.testing, the public API of suites: rollback targets and services of a test's own."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from migmatrix.load import load_matrix
from migmatrix.plan import plan_cells
from migmatrix.testing import RollbackTarget, ServiceError, rollback_targets, start_service

REPO = Path(__file__).resolve().parents[2]


def fixture_value(matrix_path: Path, cell_id: str) -> Any:
    """What the `cell` fixture holds for `cell_id`: the run's matrix and the planned cell."""
    matrix = load_matrix(matrix_path)
    (cell,) = [c for c in plan_cells(matrix) if c.id == cell_id]
    return SimpleNamespace(
        id=cell.id, adapter=cell.adapter, _run=SimpleNamespace(matrix=matrix), _cell=cell
    )


def test_rollback_targets_of_this_repositorys_matrix() -> None:
    ssot = fixture_value(REPO / "matrix.yaml", "rollback/ssot/unit/py3.12")
    targets = rollback_targets(ssot)
    assert [t.name for t in targets] == [
        "deprecated",
        "partial[engine]",
        "partial[engine+factory]",
        "partial[engine+factory+emitter]",
        "partial[engine+factory+state]",
        "partial[engine+emitter+state]",
        "partial[factory+emitter+state]",
    ]
    assert targets[1] == RollbackTarget("partial[engine]", ("engine",), frozenset({"ssot-engine"}))
    stalled = fixture_value(REPO / "matrix.yaml", "rollback/partial[factory+state]/unit/py3.12")
    assert [t.name for t in rollback_targets(stalled)] == ["deprecated", "partial[factory]"]
    first = fixture_value(REPO / "matrix.yaml", "golden_path/partial[]/unit/py3.12")
    assert rollback_targets(first) == ()


def test_anything_but_a_cell_fixture_value_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="is not the `cell` fixture of a `pytest --matrix` run"):
        rollback_targets("rollback/ssot/unit/py3.12")


def test_an_env_without_a_service_has_nothing_to_start(tmp_path: Path) -> None:
    unit = fixture_value(REPO / "matrix.yaml", "golden_path/ssot/unit/py3.12")
    with pytest.raises(ServiceError, match=r"env 'unit' declares no service in matrix.yaml"):
        start_service(unit, workdir=tmp_path)
