"""The migration map's decisions: a cell's mark, Python groups, names, env labels."""

from __future__ import annotations

import enum
from typing import Any, cast

import pytest
from gate_data import sample_result
from map_data import migration_result

from migmatrix.model import Cell, CellJudgement, Expectation, Judged, Record
from migmatrix.outcomes import Expected, Outcome, Verdict
from migmatrix.report.migration_map import (
    Mark,
    build_map,
    cell_mark,
    env_labels,
    python_span,
    pythons_line,
)

CELL = Cell("golden_path", "ssot", "unit", "3.12")
PASS = Expectation(frozenset({Expected.PASS}))
SKIP = Expectation(frozenset({Expected.SKIP}))
EITHER = Expectation(frozenset({Expected.PASS, Expected.FAIL}))


def block(*verdicts: tuple[Verdict, Expectation], usual: int = 0) -> CellJudgement:
    """A cell's block: `usual` plain as-expected passes plus one item per (verdict, expectation)."""
    other = {
        f"t::{i}": Judged(CELL, f"t::{i}", exp, Record(CELL.id, f"t::{i}", Outcome.PASSED), v)
        for i, (v, exp) in enumerate(verdicts)
    }
    tests = [f"u::{i}" for i in range(usual)] + list(other)
    return CellJudgement(CELL, tests, {}, PASS if usual else None, other)


@pytest.mark.parametrize(
    ("verdicts", "usual", "mark"),
    [
        # plain passes only
        ((), 3, Mark.PASSED),
        # an expected failure seen, next to passes: the reproduction
        (((Verdict.REPRODUCED, PASS),), 3, Mark.REPRODUCED),
        # one unexpected verdict outweighs everything else
        (((Verdict.REPRODUCED, PASS), (Verdict.REGRESSION, PASS)), 3, Mark.UNEXPECTED),
        (((Verdict.MISSING, PASS),), 0, Mark.UNEXPECTED),
        # a flaky test's outcome outweighs a reproduction
        (((Verdict.FLAKY, EITHER), (Verdict.REPRODUCED, PASS)), 1, Mark.FLAKY),
        # every test expected to skip, and skipped: the state cannot run here
        (((Verdict.AS_EXPECTED, SKIP), (Verdict.AS_EXPECTED, SKIP)), 0, Mark.UNAVAILABLE),
        # one skip among passes is only a skip
        (((Verdict.AS_EXPECTED, SKIP),), 2, Mark.PASSED),
    ],
)
def test_a_cells_mark(
    verdicts: tuple[tuple[Verdict, Expectation], ...], usual: int, mark: Mark
) -> None:
    assert cell_mark(block(*verdicts, usual=usual)) is mark


class _Issue15(enum.Enum):
    """Stands in for issue 15's `unavailable` outcome and expectation until they exist."""

    UNAVAILABLE = "unavailable"


UNAVAILABLE_OUTCOME = cast(Outcome, getattr(Outcome, "UNAVAILABLE", _Issue15.UNAVAILABLE))
UNAVAILABLE_EXPECTED = cast(Any, getattr(Expected, "UNAVAILABLE", _Issue15.UNAVAILABLE))


def test_a_state_that_cannot_install_is_unavailable_by_the_outcomes_name() -> None:
    # Records of outcome `unavailable`, judged as planned (the words an expectation
    # of `unavailable` gives, or a verdict of that name): the cell could not run.
    expect = Expectation(frozenset({UNAVAILABLE_EXPECTED}))
    record = Record(CELL.id, "t::0", UNAVAILABLE_OUTCOME)
    item = Judged(CELL, "t::0", expect, record, Verdict.AS_EXPECTED)
    assert cell_mark(CellJudgement(CELL, ["t::0"], {}, None, {"t::0": item})) is Mark.UNAVAILABLE
    # the usual items of a block expected unavailable, seen so
    usual = CellJudgement(CELL, ["u::0", "u::1"], {"u::0": record}, expect, {})
    assert cell_mark(usual) is Mark.UNAVAILABLE
    # an unavailable state where a pass was planned is unexpected, never a quiet mark
    wrong = Judged(CELL, "t::0", PASS, record, Verdict.REGRESSION)
    assert cell_mark(CellJudgement(CELL, ["t::0"], {}, None, {"t::0": wrong})) is Mark.UNEXPECTED
    # one test that ran beside it: the state was there
    ran = Judged(CELL, "t::1", PASS, Record(CELL.id, "t::1", Outcome.PASSED), Verdict.AS_EXPECTED)
    both = CellJudgement(CELL, ["t::0", "t::1"], {}, None, {"t::0": item, "t::1": ran})
    assert cell_mark(both) is Mark.PASSED


def test_the_map_rows_are_states_in_rollout_order_and_columns_phases_with_envs() -> None:
    found = build_map(migration_result())
    assert found.states[0] == "deprecated"
    assert found.states[1] == "partial[]"
    assert found.states[-2:] == ["partial[engine+factory+emitter+state]", "ssot"]
    assert found.columns[0] == ("reproduction", ("unit", "integration"))
    assert found.columns[-1] == ("staging", ("staging",))
    assert found.mark("deprecated", "rollback", "unit") is Mark.NOT_PLANNED
    assert found.shown == ("3.10", "3.11", "3.12", "3.13")
    assert found.others == []


def test_a_differing_python_is_a_group_of_its_own_with_its_differences() -> None:
    found = build_map(migration_result(odd_python="3.13"))
    assert found.shown == ("3.10", "3.11", "3.12")
    (other,) = found.others
    assert other.pythons == ("3.13",)
    (difference,) = other.differences
    assert (difference.state, difference.phase, difference.env) == (
        "deprecated",
        "staging",
        "staging",
    )
    assert (difference.shown, difference.mine) == (Mark.REPRODUCED, Mark.UNEXPECTED)
    assert pythons_line(found) == (
        "py3.10-3.12 identical; py3.13 differs at 1 position(s) (listed below)"
    )


def test_python_names() -> None:
    order = ("3.10", "3.11", "3.12", "3.13")
    assert python_span(order, order) == "py3.10-3.13"
    assert python_span(("3.10", "3.12"), order) == "py3.10, py3.12"
    assert python_span(("3.12",), order) == "py3.12"
    assert pythons_line(build_map(sample_result())) == "py3.12-3.13 identical"


def test_env_labels_are_the_shortest_unique_prefixes() -> None:
    assert env_labels(["unit", "integration", "staging"]) == {
        "unit": "u",
        "integration": "i",
        "staging": "s",
    }
    assert env_labels(["stage", "staging", "unit"]) == {
        "stage": "stage",
        "staging": "stagi",
        "unit": "u",
    }
