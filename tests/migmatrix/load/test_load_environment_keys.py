"""Environment adapters in matrix.yaml (issue 15): the keys load; bad ones get one located line."""

from __future__ import annotations

from pathlib import Path

import pytest

from migmatrix.errors import MatrixError
from migmatrix.load import load_matrix
from migmatrix.plan import plan_cells

HEAD = """\
python: ["3.12"]
phases:
  repro: suites
envs:
  unit: {}
adapters:
"""


def matrix(tmp_path: Path, adapters: str) -> Path:
    (tmp_path / "suites").mkdir(exist_ok=True)
    path = tmp_path / "matrix.yaml"
    path.write_text(HEAD + adapters, encoding="utf-8")
    return path


def test_environment_keys_load_and_a_versions_sweep_expands_in_order(tmp_path: Path) -> None:
    path = matrix(
        tmp_path,
        """\
  before: {requirements: ["somelib==1.4.0"]}
  main: {ref: main, repo: ../service, install: ".[server]"}
  flagged: {object: "mod:adapter", env: {NEW_ENGINE: "1"}}
  lib:
    requirements: ["somelib=={version}", "other>=2"]
    versions: ["1.3.0", "1.10.0", "1.4.0"]
""",
    )
    loaded = load_matrix(path)
    before, main, flagged, _ = loaded.adapters
    assert before.requirements == ("somelib==1.4.0",)
    assert before.object == ""
    assert before.has_environment
    assert (main.ref, main.repo, main.install) == ("main", "../service", ".[server]")
    assert flagged.env == (("NEW_ENGINE", "1"),)
    assert flagged.object == "mod:adapter"
    states = [c.adapter for c in plan_cells(loaded)]
    assert states == [
        "before", "main", "flagged", "lib[1.3.0]", "lib[1.10.0]", "lib[1.4.0]",
    ]  # fmt: skip
    assert {c.adapter_base for c in plan_cells(loaded)} == {"before", "main", "flagged", "lib"}


@pytest.mark.parametrize(
    ("adapters", "where", "words"),
    [
        (
            '  lib: {requirements: ["somelib==1.4"], versions: ["1.4"]}\n',
            "matrix.yaml:7:41:",
            "`versions` needs `{version}`",
        ),
        (
            '  lib: {requirements: ["somelib ==> 1.4"]}\n',
            "matrix.yaml:7:24:",
            "is not a PEP 508 requirement",
        ),
        ("  lib: {env: {FLAG: 1}}\n", "matrix.yaml:7:21:", 'quote it: "1"'),
        ('  lib: {requirements: ["a=={version}"]}\n', "matrix.yaml:7:24:", "needs a `versions"),
        ('  lib: {repo: x, requirements: ["a"]}\n', "matrix.yaml:7:9:", "`repo` needs `ref`"),
        ("  lib: {features: [x]}\n", "matrix.yaml:7:3:", "needs `object:`"),
        (
            '  lib: {requirements: ["a=={version}"], versions: [1.1]}\n',
            "matrix.yaml:7:52:",
            "quote it",
        ),
    ],
)
def test_bad_environment_keys_get_one_located_line(
    tmp_path: Path, adapters: str, where: str, words: str
) -> None:
    path = matrix(tmp_path, adapters)
    with pytest.raises(MatrixError) as caught:
        load_matrix(path)
    text = str(caught.value)
    assert "\n" not in text, text
    assert text.startswith(f"{tmp_path / where}"), text
    assert words in text, text
