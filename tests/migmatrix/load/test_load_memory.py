"""The `memory:` limit: global, per phase, per adapter; a bad size is a located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from migmatrix.errors import MatrixError
from migmatrix.load import load_matrix
from migmatrix.plugin.run_state import open_run

MATRIX = """\
python: ["3.12"]
memory: {top}
phases:
  unit: {{path: suites/unit, memory: 1GiB}}
  other: suites/other
adapters:
  old: {{object: "pkg.mod:adapter", memory: 600MiB}}
  new: {{object: "pkg.mod:adapter"}}
envs:
  mem: {{}}
"""


def write(tmp_path: Path, top: str) -> Path:
    for name in ("unit", "other"):
        (tmp_path / "suites" / name).mkdir(parents=True, exist_ok=True)
    path = tmp_path / "matrix.yaml"
    path.write_text(MATRIX.format(top=top))
    return path


def test_the_most_specific_limit_applies_and_the_smaller_of_two(tmp_path: Path) -> None:
    path = write(tmp_path, "2GiB")
    matrix = load_matrix(path)
    assert matrix.memory == 2 << 30
    run = open_run(str(path), invocation_dir=tmp_path, python="3.12")
    limits = {(c.phase, c.adapter): run.memory_limit(c) for c in run.cells}
    assert limits == {
        ("unit", "old"): 600 << 20,  # phase 1GiB and adapter 600MiB: the smaller
        ("unit", "new"): 1 << 30,  # the phase's replaces the global one
        ("other", "old"): 600 << 20,
        ("other", "new"): 2 << 30,  # nothing of its own: the global one
    }


@pytest.mark.parametrize("top", ["2GB", "lots", "1MiB", "[1]"])
def test_a_bad_size_is_refused_where_it_is_written(tmp_path: Path, top: str) -> None:
    with pytest.raises(MatrixError) as info:
        load_matrix(write(tmp_path, top))
    text = str(info.value)
    assert "matrix.yaml:2:" in text
    assert "memory" in text
