"""The pure parts of `migmatrix mutate`: mutant making, line mapping, reach, budget, scores."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from migmatrix.mutate.command import parse_budget
from migmatrix.mutate.mutants import Mutant, compiles, make_mutants, spread, statement_lines
from migmatrix.mutate.reach import OUTSIDE, Reach
from migmatrix.mutate.report import file_scores
from migmatrix.mutate.runner import MutantResult
from migmatrix.mutate.workspace import module_name
from migmatrix.outcomes import MutantOutcome

SOURCE = "def f(a, b):\n    return (a +\n            b)\n\n\nX = 1 + 2\n"


def mutant(target: str = "m.py", line: int = 1, text: str = "x = 1\n") -> Mutant:
    return Mutant(target, "core/Op", 0, line, (line,), text, "")


def test_make_mutants_uses_cosmic_rays_operators_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    found = make_mutants(tmp_path, "m.py", ["core/ReplaceBinaryOperator_Add_Sub"])
    assert [(m.line, m.statement_lines, m.occurrence) for m in found] == [
        (2, (2,), 0),
        (6, (6,), 1),
    ]
    assert "-    return (a +\n+    return (a -\n" in found[0].diff
    assert found[0].id == "m.py:2:core/ReplaceBinaryOperator_Add_Sub#0"
    # `X = 1 + 2` runs at import, the function body only when called.
    assert [m.import_time for m in found] == [False, True]
    assert found == make_mutants(tmp_path, "m.py", ["core/ReplaceBinaryOperator_Add_Sub"])


def test_postponed_annotations_are_not_mutated(tmp_path: Path) -> None:
    source = "def f(a: int | None) -> int | str:\n    return a | 1\n"
    (tmp_path / "m.py").write_text("from __future__ import annotations\n\n" + source)
    (tmp_path / "n.py").write_text(source)
    operator = ["core/ReplaceBinaryOperator_BitOr_BitAnd"]
    # Never evaluated under the future import: only the body's `|` is a mutant there.
    assert [m.line for m in make_mutants(tmp_path, "m.py", operator)] == [4]
    assert [m.line for m in make_mutants(tmp_path, "n.py", operator)] == [1, 1, 2]


def test_a_continuation_line_maps_to_its_statement() -> None:
    starts = statement_lines(SOURCE)
    assert (starts[1], starts[2], starts[3], starts[6]) == (1, 2, 2, 6)


def test_spread_keeps_at_most_n_evenly() -> None:
    items = [mutant(line=i) for i in range(10)]
    assert [m.line for m in spread(items, 3)] == [0, 3, 6]
    assert spread(items, None) == items
    assert spread(items, 50) == items


def test_compiles_tells_incompetent_text() -> None:
    assert compiles(mutant(text="x = 1\n"))
    assert not compiles(mutant(text="x = = 1\n"))


def test_reach_counts_import_time_lines_for_every_cell() -> None:
    reach = Reach({"m.py": {2: frozenset({"a/x"}), 6: frozenset({OUTSIDE})}}, ["a/x", "a/y"])
    assert reach.cells_for("m.py", [2]) == {"a/x"}
    assert reach.cells_for("m.py", [6]) == {"a/x", "a/y"}
    assert reach.cells_for("m.py", [4]) == frozenset()
    assert reach.cells_for("other.py", [2]) == frozenset()
    # An import-time statement of an imported file is reached by every cell...
    assert reach.cells_for("m.py", [9], import_time=True) == {"a/x", "a/y"}
    # ...but not in a file no cell imported.
    assert reach.cells_for("other.py", [9], import_time=True) == frozenset()


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0)]
)
def test_budget(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "0", "-5m", "10d"])
def test_bad_budget(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="positive duration"):
        parse_budget(text)


def test_score_counts_not_covered_against_and_leaves_incompetent_out() -> None:
    outcomes = [
        MutantOutcome.KILLED,
        MutantOutcome.TIMEOUT,
        MutantOutcome.SURVIVED,
        MutantOutcome.NOT_COVERED,
        MutantOutcome.INCOMPETENT,
    ]
    results = [MutantResult(mutant(line=i), o) for i, o in enumerate(outcomes)]
    entry = file_scores(results)["m.py"]
    assert entry["score"] == 50.0
    assert file_scores([MutantResult(mutant(), MutantOutcome.INCOMPETENT)])["m.py"]["score"] is None


def test_module_name_follows_the_packages(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "sub" / "__init__.py").write_text("")
    assert module_name(tmp_path, "src/pkg/sub/mod.py") == "pkg.sub.mod"
    assert module_name(tmp_path, "src/pkg/__init__.py") == "pkg"
    assert module_name(tmp_path, "calc.py") == "calc"


def test_a_mutant_on_a_continuation_line_counts_the_statements_lines_up_to_it(
    tmp_path: Path,
) -> None:
    # coverage.py records the line a condition's bytecode ran on, not the `if` line.
    (tmp_path / "m.py").write_text(
        "def f(a, b):\n    if (\n        a\n        and b\n    ):\n        return 1\n"
    )
    (found,) = make_mutants(tmp_path, "m.py", ["core/ReplaceAndWithOr"])
    assert (found.line, found.statement_lines) == (4, (2, 3, 4))
