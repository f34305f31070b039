"""The rollback suite's paths: `rollback_targets` comes from matrix.yaml's `rollback.paths`.

The fixture gives the states the declared paths roll the cell's own adapter
state back to (`migmatrix.sweep.rollback_targets`), each as (name, components,
features). One test runs them all in turn rather than one test per path: the
gate expects every test of a phase in every cell of it, and the paths differ
from state to state.
"""

from __future__ import annotations

from typing import Any

import pytest

from suites.support.rollback import Target, declared_matrix, targets_for


@pytest.fixture
def rollback_targets(request: pytest.FixtureRequest, cell: Any) -> tuple[Target, ...]:
    matrix = declared_matrix(request.config)
    if matrix is None:
        pytest.fail("the rollback suite runs under `pytest --matrix matrix.yaml` only")
    return targets_for(matrix, cell.adapter)


@pytest.fixture
def declared(request: pytest.FixtureRequest) -> Any:
    """The running matrix (its envs' services: a staging rollback starts its own server)."""
    matrix = declared_matrix(request.config)
    if matrix is None:
        pytest.fail("the rollback suite runs under `pytest --matrix matrix.yaml` only")
    return matrix
