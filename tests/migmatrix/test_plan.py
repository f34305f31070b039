"""Cell planning: the product in display order, excludes, includes, globs, features."""

from __future__ import annotations

import dataclasses

from migmatrix.match import filter_matches, glob_match
from migmatrix.model import (
    AdapterSpec,
    CellFilter,
    ComponentSpec,
    EnvSpec,
    GateSpec,
    Matrix,
    PhaseSpec,
)
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Expected
from migmatrix.plan import all_cells, display_order, plan_cells


def matrix(**changes: object) -> Matrix:
    base = Matrix(
        path="/m/matrix.yaml",
        root="/m",
        digest="d",
        python=("3.12", "3.10"),
        phases=(PhaseSpec("repro", "s/r"), PhaseSpec("golden", "s/g")),
        adapters=(
            AdapterSpec("deprecated", "a:a", ("legacy",)),
            AdapterSpec(
                "partial",
                "a:a",
                (),
                (ComponentSpec("engine", ("ssot-engine",)), ComponentSpec("factory", ("f",))),
                "chain",
            ),
            AdapterSpec("ssot", "a:a", ("ssot-engine", "f")),
        ),
        envs=(EnvSpec("unit", ("mem",)), EnvSpec("staging", ("server",))),
        include=(),
        exclude=(),
        default=frozenset({Expected.PASS}),
        rules=(),
        gates=GateSpec(UNEXPECTED_VERDICTS),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def ids(m: Matrix) -> list[str]:
    return [c.id for c in plan_cells(m)]


def test_product_in_declared_display_order() -> None:
    got = ids(matrix())
    assert len(got) == 2 * 5 * 2 * 2
    # python keeps its declared order (3.12 before 3.10), not sorted order.
    assert got[:6] == [
        "repro/deprecated/unit/py3.12",
        "repro/deprecated/unit/py3.10",
        "repro/deprecated/staging/py3.12",
        "repro/deprecated/staging/py3.10",
        "repro/partial[]/unit/py3.12",
        "repro/partial[]/unit/py3.10",
    ]
    adapters = list(dict.fromkeys(i.split("/")[1] for i in got))
    assert adapters == [
        "deprecated",
        "partial[]",
        "partial[engine]",
        "partial[engine+factory]",
        "ssot",
    ]
    assert got[-1] == "golden/ssot/staging/py3.10"
    assert ids(matrix()) == got  # deterministic
    assert display_order(matrix())[1] == tuple(adapters)


def test_cell_features_are_adapter_plus_components_plus_env() -> None:
    cells = {c.id: c for c in plan_cells(matrix())}
    cell = cells["repro/partial[engine]/staging/py3.12"]
    assert cell.features == frozenset({"ssot-engine", "server"})
    assert cell.adapter_base == "partial"
    assert cell.components == ("engine",)
    assert cells["golden/deprecated/unit/py3.10"].features == frozenset({"legacy", "mem"})


def test_exclude_with_globs_and_adapter_base_name() -> None:
    got = ids(
        matrix(exclude=(CellFilter(adapter="partial"), CellFilter(env="stag*", python="3.1?")))
    )
    assert got == [
        "repro/deprecated/unit/py3.12",
        "repro/deprecated/unit/py3.10",
        "repro/ssot/unit/py3.12",
        "repro/ssot/unit/py3.10",
        "golden/deprecated/unit/py3.12",
        "golden/deprecated/unit/py3.10",
        "golden/ssot/unit/py3.12",
        "golden/ssot/unit/py3.10",
    ]


def test_brackets_in_state_globs_are_literal() -> None:
    # `partial[*]` means the partial states, not fnmatch's character class.
    got = ids(matrix(exclude=(CellFilter(adapter="partial[*]"),)))
    assert not [i for i in got if "partial" in i]
    got = ids(matrix(exclude=(CellFilter(adapter="partial[engine]"),)))
    assert not [i for i in got if "partial[engine]/" in i]
    assert [i for i in got if "partial[engine+factory]/" in i]


def test_include_adds_back_what_an_exclude_removed_in_place() -> None:
    m = matrix(
        exclude=(CellFilter(env="staging"),),
        include=(CellFilter(phase="golden", adapter="ssot", env="staging", python="3.10"),),
    )
    got = ids(m)
    assert [i for i in got if "/staging/" in i] == ["golden/ssot/staging/py3.10"]
    # Still in display order: after golden/ssot/unit/*.
    assert got[-3:] == [
        "golden/ssot/unit/py3.12",
        "golden/ssot/unit/py3.10",
        "golden/ssot/staging/py3.10",
    ]


def test_glob_match_rules() -> None:
    assert glob_match("repro", "repro")
    assert not glob_match("repro", "reproduction")
    assert glob_match("repro*", "reproduction")
    assert glob_match("py3.1?", "py3.12")
    assert not glob_match("3.1", "3.12")
    assert glob_match("[a]", "[a]")
    assert not glob_match("[ab]", "a")


def test_filter_matches_unset_selectors_match_anything() -> None:
    (cell,) = [c for c in all_cells(matrix()) if c.id == "repro/partial[]/unit/py3.12"]
    assert filter_matches(CellFilter(), cell)
    assert filter_matches(CellFilter(adapter="partial", python="3.12"), cell)
    assert filter_matches(CellFilter(adapter="partial[]"), cell)
    assert not filter_matches(CellFilter(adapter="ssot"), cell)
    assert not filter_matches(CellFilter(phase="golden", env="unit"), cell)
