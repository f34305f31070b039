"""The rollback suite's paths: `rollback_targets` comes from matrix.yaml's `rollback.paths`.

The fixture gives the states the declared paths roll the cell's own adapter
state back to (`migmatrix.testing.rollback_targets`), each as (name, components,
features). One test runs them all in turn rather than one test per path: the
gate expects every test of a phase in every cell of it, and the paths differ
from state to state.
"""

from __future__ import annotations

from typing import Any

import pytest

from migmatrix.testing import RollbackTarget
from migmatrix.testing import rollback_targets as declared_targets


@pytest.fixture
def rollback_targets(cell: Any) -> tuple[RollbackTarget, ...]:
    return declared_targets(cell)
