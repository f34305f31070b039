"""Coverage rules on real coverage.py data whose contexts are cell ids."""

from __future__ import annotations

import dataclasses
import importlib
import sys
from pathlib import Path

import coverage
import pytest

from migmatrix.coverage_rules import (
    check_rule,
    combine_folder,
    evaluate_coverage,
    import_only_lines,
    read_data,
)
from migmatrix.errors import UsageError
from migmatrix.load import load_matrix
from migmatrix.model import CoverageRule, GateSpec

LEGACY = "def run():\n    x = 1\n    return x\n\n\ndef other():\n    return 2\n"
NEW = "def run():\n    return 1\n"


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """Legacy lines 1-3 ran in a deprecated cell; line 2 also in an ssot cell (via a test)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "legacy_engine.py").write_text(LEGACY, encoding="utf-8")
    (src / "new_engine.py").write_text(NEW, encoding="utf-8")
    path = tmp_path / ".coverage"
    data = coverage.CoverageData(basename=str(path))
    data.set_context("reproduction/deprecated/unit/py3.12")
    data.add_lines({str(src / "legacy_engine.py"): [1, 2, 3], str(src / "new_engine.py"): [1]})
    data.set_context("golden_path/ssot/unit/py3.12|t.py::test_x")
    data.add_lines({str(src / "legacy_engine.py"): [2], str(src / "new_engine.py"): [1, 2]})
    data.set_context("business/ssot/unit/py3.12")
    data.add_lines({str(src / "new_engine.py"): [2]})
    data.write()
    return path


def rule(**kw: object) -> CoverageRule:
    base = CoverageRule(name="r", files=("src/legacy*.py",), cells="*/ssot/*/*")
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_max_lines_zero_fails_when_an_ssot_cell_reached_legacy_code(data_file: Path) -> None:
    data = read_data(str(data_file))
    verdict = check_rule(rule(max_lines=0), data, str(data_file.parent))
    assert not verdict.passed
    assert "1 line(s) covered (max 0)" in verdict.detail
    assert "src/legacy_engine.py:2" in verdict.detail


def test_max_lines_passes_for_cells_that_never_reached_it(data_file: Path) -> None:
    data = read_data(str(data_file))
    verdict = check_rule(rule(max_lines=0, cells="business/*"), data, str(data_file.parent))
    assert verdict.passed
    assert "0 line(s) covered" in verdict.detail


def test_a_rule_whose_cells_have_no_coverage_data_fails(data_file: Path) -> None:
    data = read_data(str(data_file))
    verdict = check_rule(rule(max_lines=0, cells="staging/*"), data, str(data_file.parent))
    assert not verdict.passed
    assert "no coverage data of any cell matching 'staging/*'" in verdict.detail


def test_min_percent_uses_statements_from_the_source(data_file: Path, tmp_path: Path) -> None:
    (tmp_path / "matrix.yaml").write_text(
        """\
python: ["3.12"]
phases: {reproduction: suites/reproduction}
adapters: {ssot: {object: "adapters.ssot:adapter"}}
envs: {unit: {}}
""",
        encoding="utf-8",
    )
    (tmp_path / "suites" / "reproduction").mkdir(parents=True)
    matrix = load_matrix(tmp_path / "matrix.yaml")
    rules = (
        rule(name="legacy-half", cells="*/deprecated/*/*", min_percent=50.0),
        rule(name="legacy-all", cells="*/deprecated/*/*", min_percent=100.0),
    )
    matrix = dataclasses.replace(matrix, gates=GateSpec(matrix.gates.fail_on, rules))
    verdicts, total = evaluate_coverage(matrix, str(data_file))
    # legacy_engine.py has 5 statements, of which the two defs run only at import: a
    # cell can run 3 (x = 1, two returns), and the deprecated cell ran 2 of them.
    assert [(v.rule.name, v.passed) for v in verdicts] == [
        ("legacy-half", True),
        ("legacy-all", False),
    ]
    assert "66.67% of 3 statements" in verdicts[0].detail
    assert total is not None
    assert 0 < total <= 100


def test_a_file_that_is_not_coverage_data_is_a_usage_error(tmp_path: Path) -> None:
    bogus = tmp_path / ".coverage"
    bogus.write_text("hello", encoding="utf-8")
    with pytest.raises(UsageError, match=r"not a coverage\.py data file"):
        read_data(str(bogus))
    with pytest.raises(UsageError, match="does not exist"):
        read_data(str(tmp_path / "none"))


def test_parallel_files_combine_with_their_cell_contexts(tmp_path: Path) -> None:
    folder = tmp_path / "cov"
    folder.mkdir()
    source = tmp_path / "legacy_engine.py"
    source.write_text(LEGACY, encoding="utf-8")
    for suffix, context, lines in (
        ("a", "reproduction/ssot/unit/py3.12", [2]),
        ("b", "reproduction/deprecated/unit/py3.13", [1, 3]),
    ):
        data = coverage.CoverageData(basename=str(folder / ".coverage"), suffix=suffix)
        data.set_context(context)
        data.add_lines({str(source): lines})
        data.write()
    combined = read_data(combine_folder(str(folder), str(tmp_path / ".coverage")))
    assert sorted(combined.measured_contexts()) == [
        "reproduction/deprecated/unit/py3.13",
        "reproduction/ssot/unit/py3.12",
    ]
    assert sorted(combined.lines(str(source)) or []) == [1, 2, 3]
    assert len(list(folder.iterdir())) == 2  # inputs kept
    verdict = check_rule(rule(files=("*legacy*.py",), max_lines=0), combined, str(tmp_path))
    assert not verdict.passed


def test_import_only_lines_are_everything_outside_function_and_lambda_bodies() -> None:
    source = (
        "import os\n"  # 1
        "@staticmethod\n"  # 2
        "def f(\n"  # 3
        "    a=os.sep,\n"  # 4
        "):\n"  # 5
        "    return a\n"  # 6
        "class C:\n"  # 7
        "    X = 1\n"  # 8
        "    def m(self):\n"  # 9
        "        def inner():\n"  # 10
        "            return 2\n"  # 11
        "        return inner()\n"  # 12
        "g = lambda: (\n"  # 13
        "    3)\n"  # 14
        "def h(): return 4\n"  # 15
    )
    assert sorted(import_only_lines(source)) == [1, 2, 3, 4, 5, 7, 8, 9, 13]
    assert import_only_lines("def broken(:\n") == frozenset()


def test_a_module_first_imported_inside_a_cell_charges_it_nothing(tmp_path: Path) -> None:
    """Real coverage.py: a cell's context is open when the legacy module is first imported."""
    (tmp_path / "legacy_first_import.py").write_text(
        "import os\n\nCONSTANT = os.sep\n\n\nclass Engine:\n    def run(self):\n        return 1\n",
        encoding="utf-8",
    )
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), config_file=False)
    cov.set_option("run:core", "ctrace")
    sys.path.insert(0, str(tmp_path))
    try:
        cov.start()
        cov.switch_context("reproduction/ssot/unit/py3.12")
        module = importlib.import_module("legacy_first_import")
        cov.switch_context("reproduction/deprecated/unit/py3.12")
        module.Engine().run()
        cov.stop()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("legacy_first_import", None)
    cov.save()
    data = read_data(str(tmp_path / ".coverage"))
    files = ("legacy_first_import.py",)
    ssot = check_rule(rule(files=files, max_lines=0), data, str(tmp_path))
    assert ssot.passed, ssot.detail
    deprecated = check_rule(
        rule(files=files, cells="*/deprecated/*/*", max_lines=0), data, str(tmp_path)
    )
    assert not deprecated.passed
    assert deprecated.detail.endswith("reached at legacy_first_import.py:8")


def test_a_failed_rule_names_every_line_it_counts(tmp_path: Path) -> None:
    source = tmp_path / "legacy_many.py"
    body = "".join(f"    x{i} = {i}\n" for i in range(12))
    source.write_text(f"def run():\n{body}    return 0\n", encoding="utf-8")
    path = tmp_path / ".coverage"
    data = coverage.CoverageData(basename=str(path))
    data.set_context("golden_path/ssot/unit/py3.12")
    data.add_lines({str(source): [2, 3, 4, 5, 6, 7, 9, 10, 11, 14]})
    data.write()
    verdict = check_rule(rule(files=("legacy_many.py",), max_lines=0), data, str(tmp_path))
    assert "10 line(s) covered (max 0)" in verdict.detail
    assert verdict.detail.endswith("reached at legacy_many.py:2-7,9-11,14")
