"""Selecting cells: `-k`-style expressions over ids, python versions, features."""

from __future__ import annotations

import pytest

from migmatrix.errors import UsageError
from migmatrix.model import Cell
from migmatrix.select import compile_expression, select_cells

CELLS = tuple(
    Cell(phase, adapter, env, py, adapter.split("[")[0], (), frozenset(feats + env_feats))
    for phase in ("reproduction", "golden_path")
    for adapter, feats in (
        ("deprecated", ["legacy"]),
        ("partial[engine]", ["ssot-engine"]),
        ("partial[engine+factory]", ["ssot-engine", "ssot-factory"]),
        ("ssot", ["ssot-engine", "ssot-factory"]),
    )
    for env, env_feats in (("unit", ["mem"]), ("staging", ["server"]))
    for py in ("3.10", "3.12")
)


def chosen(**kw: object) -> list[str]:
    return [c.id for c in select_cells(CELLS, **kw)]  # type: ignore[arg-type]


# (expression, number of the 32 cells it selects)
EXPRESSIONS = [
    ("ssot", 8),  # features are not part of ids: only the ssot adapter's cells
    ("/ssot/", 8),  # the slashes pin the adapter column
    ("reproduction and /ssot/", 4),
    ("reproduction and not partial", 8),
    ("not (reproduction or unit)", 8),
    ("partial[engine]", 8),  # brackets are literal, not a character class
    ("partial[engine+factory]/unit/py3.12", 2),
    ("golden_path/*/staging/py3.1?", 8),  # globs searched in the id
    ("PY3.10", 16),  # case does not matter, as in pytest -k
    ("deprecated or ssot and unit", 8 + 4),  # `and` binds tighter than `or`
    ("(deprecated or /ssot/) and unit", 8),
    ("not not staging", 16),
]


@pytest.mark.parametrize(("expression", "count"), EXPRESSIONS)
def test_expressions(expression: str, count: int) -> None:
    assert len(chosen(expression=expression)) == count


def test_result_keeps_input_order() -> None:
    got = chosen(expression="unit")
    assert got == [c.id for c in CELLS if "/unit/" in c.id]


@pytest.mark.parametrize(
    ("expression", "column", "wanted"),
    [
        ("reproduction and", 17, "expected a word, 'not' or '('"),
        ("(unit or staging", 17, "expected ')'"),
        ("unit staging", 6, "expected 'and', 'or' or the end"),
        ("unit and or ssot", 10, "expected a word"),
        (")", 1, "expected a word"),
    ],
)
def test_invalid_expression_names_the_column(expression: str, column: int, wanted: str) -> None:
    with pytest.raises(UsageError) as info:
        compile_expression(expression)
    text = str(info.value)
    assert f"at column {column}: {wanted}" in text
    # The caret sits under the offending position.
    lines = text.splitlines()
    assert lines[2].index("^") - 2 == column - 1


def test_empty_expression_is_an_error() -> None:
    with pytest.raises(UsageError, match="the cell selection is empty"):
        compile_expression("   ")


def test_python_filter_accepts_both_spellings() -> None:
    assert chosen(python=["3.12"]) == chosen(python=["py3.12"])
    assert len(chosen(python=["3.12"])) == 16
    with pytest.raises(
        UsageError, match=r"python 3.9 is not in the matrix; choose from 3.10, 3.12"
    ):
        select_cells(CELLS, python=["3.9"])


def test_feature_filter_requires_all_and_excludes_bang() -> None:
    assert len(chosen(features=["ssot-engine", "server"])) == 12
    assert len(chosen(features=["ssot-engine", "!ssot-factory"])) == 8
    assert all("deprecated" in i for i in chosen(features=["legacy"]))


def test_filters_combine() -> None:
    got = chosen(expression="reproduction", python=["3.10"], features=["server"])
    assert len(got) == 4
    assert all(i.startswith("reproduction/") and i.endswith("/staging/py3.10") for i in got)


def test_no_match_lists_some_ids() -> None:
    with pytest.raises(UsageError) as info:
        select_cells(CELLS, expression="rollback")
    text = str(info.value)
    assert "matches no cell of 32" in text
    assert "reproduction/deprecated/unit/py3.10" in text
    assert "(and 27 more)" in text
