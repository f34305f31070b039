"""The adapters and matrix.yaml agree on features, and an adapter refuses a cell that disagrees."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from adapters import deprecated, partial, ssot  # noqa: E402

from migmatrix.load import load_matrix  # noqa: E402


@dataclasses.dataclass
class FakeCell:
    id: str
    adapter: str
    env: str
    components: tuple[str, ...]
    features: frozenset[str]
    workdir: str = "."


def test_declared_features_match_matrix_yaml() -> None:
    matrix = load_matrix(str(REPO / "matrix.yaml"))
    declared = {a.name: a for a in matrix.adapters}
    assert set(declared["deprecated"].features) == set(deprecated.adapter.features) == set()
    assert set(declared["ssot"].features) == set(ssot.adapter.features)
    assert {c.name: set(c.features) for c in declared["partial"].components} == {
        name: {feature} for name, feature in partial.adapter.component_features.items()
    }


def test_open_refuses_a_cell_whose_features_disagree() -> None:
    cell = FakeCell(
        "x/partial[engine]/unit/py3.11",
        "partial[engine]",
        "unit",
        ("engine",),
        frozenset({"in-memory", "isolated-state"}),
    )
    with (
        pytest.raises(ValueError, match=r"matrix\.yaml gives migration features"),
        partial.adapter.open(cell),
    ):
        pass


def test_open_activates_the_state_and_resets_it_after() -> None:
    from netra_backend.app.core.migration import current_migration

    before = current_migration()
    cell = FakeCell(
        "x/partial[engine+factory]/unit/py3.11",
        "partial[engine+factory]",
        "unit",
        ("engine", "factory"),
        frozenset({"in-memory", "ssot-engine", "ssot-factory"}),
    )
    with partial.adapter.open(cell) as sut:
        assert sut.state.spec == "partial:engine,factory"
        assert sut.store_path == ":memory:"
    assert current_migration() == before
