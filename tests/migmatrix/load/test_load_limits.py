"""Hostile matrix files: each is refused with a located message, never a traceback or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from migmatrix.errors import MatrixError
from migmatrix.load import load_matrix
from migmatrix.load.build import MAX_CELLS, Builder
from migmatrix.load.explain import MAX_LISTED
from migmatrix.load.yamldoc import MAX_DEPTH, MAX_VALUES
from migmatrix.text import ECHO_LIMIT, shorten

BASE = """\
python: ["3.12"]
phases:
  unit: suites/unit
adapters:
  old: {object: "pkg.mod:adapter"}
envs:
  mem: {}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "suites" / "unit").mkdir(parents=True)
    return tmp_path


def refused(project: Path, text: str | bytes) -> tuple[Path, MatrixError]:
    path = project / "matrix.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(MatrixError) as info:
        load_matrix(path)
    return path, info.value


def test_base_loads(project: Path) -> None:
    path = project / "matrix.yaml"
    path.write_text(BASE)
    assert load_matrix(path).timeout == 300.0


def test_billion_laughs_is_refused_before_expanding(project: Path) -> None:
    # 9 references per level, 12 levels: 9^12 (about 2.8e11) values from a 1 KB file.
    lines = ['l0: &l0 "lol"']
    lines += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 13)]
    path, err = refused(project, BASE + "\n".join(lines) + "\ntimeout: *l12\n")
    assert err.location is not None
    assert err.location.file == str(path)
    # The first anchor whose expansion passes the cap: 9^6 > 100,000 > 9^5.
    assert err.location.line == len(BASE.splitlines()) + 7
    assert f"more than {MAX_VALUES:,} values once its YAML aliases" in str(err)


@pytest.mark.parametrize(
    "text",
    ["zz: &r [*r]\n", "zz: &r {a: [*r]}\n", "zz: &r {<<: *r}\n", "envs: &r {e: *r}\n"],
)
def test_recursive_alias_is_refused(project: Path, text: str) -> None:
    base = BASE if not text.startswith("envs") else BASE.replace("envs:\n  mem: {}\n", "")
    _, err = refused(project, base + text)
    assert "recursive YAML alias" in str(err)
    assert err.location is not None
    assert err.location.line == len(base.splitlines()) + 1


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_at_the_level_that_passes_the_limit(
    project: Path, style: str
) -> None:
    depth = 5000
    if style == "flow":
        value = "[" * depth + "1" + "]" * depth
        text = BASE + f"zz: {value}\n"
    else:
        text = BASE + "zz:" + "".join(f"\n{' ' * (k + 1)}k{k}:" for k in range(depth)) + " 1\n"
    path, err = refused(project, text)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(err)
    assert str(err).startswith(f"{path}:{len(BASE.splitlines()) + 1 if style == 'flow' else ''}")


@pytest.mark.parametrize(
    ("line", "part"),
    [
        ("timeout: " + "9" * 5000, "cannot be read as the int"),
        ("timeout: 2001-13-45", "cannot be read as the timestamp"),
        ("timeout: .nan", "not finite"),
        ("timeout: .inf", "not finite"),
        ("timeout: -.Inf", "not finite"),
        ("timeout: 1.0e+400", "not finite"),
        ("timeout: 10000000000000000000000", "too large a number"),
        ("timeout: " + "0x" + "f" * 5000, "too large a number"),
    ],
)
def test_unusable_numbers_are_refused_where_written(project: Path, line: str, part: str) -> None:
    path, err = refused(project, BASE + line + "\n")
    assert str(err).startswith(f"{path}:8:10: timeout: "), str(err)[:300]
    assert part in str(err)
    assert len(str(err)) < 3 * ECHO_LIMIT + 400


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("mem: {}", "mem: {service: {command: [x], health: h, startup_timeout: .nan}}", "envs"),
        (
            'python: ["3.12"]',
            'python: ["3.12"]\ngates: {coverage: [{name: c, files: x, min_percent: .inf}]}',
            "gates",
        ),
        ('python: ["3.12"]', "python: [.nan]", "python"),
    ],
)
def test_non_finite_numbers_are_refused_everywhere(
    project: Path, old: str, new: str, key: str
) -> None:
    _, err = refused(project, BASE.replace(old, new))
    assert err.key is not None
    assert err.key.startswith(key)
    assert "not finite" in str(err)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('python: ["3.12"]', 'python: ["3.12\\n"]', "python[0]"),
        ("  unit: suites/unit", '  "unit\\n": suites/unit', "phases"),
        ('old: {object: "pkg.mod:adapter"}', 'old: {object: "pkg.mod:adapter\\n"}', None),
        ("  mem: {}", '  "mem\\n": {}', "envs"),
    ],
)
def test_names_and_versions_ending_in_a_newline_are_refused(
    project: Path, old: str, new: str, key: str | None
) -> None:
    _, err = refused(project, BASE.replace(old, new))
    assert "\\n" in str(err)
    if key is not None:
        assert err.key is not None
        assert err.key.startswith(key)


def components(count: int, sweep: str) -> str:
    comps = "".join(f"      - {{name: c{k}, features: [f{k}]}}\n" for k in range(count))
    return BASE.replace(
        "adapters:\n",
        f'adapters:\n  part:\n    object: "pkg:a"\n    components:\n{comps}    sweep: {sweep}\n',
    )


def test_sweep_all_over_many_components_names_the_count_and_the_alternatives(
    project: Path,
) -> None:
    path, err = refused(project, components(26, "all"))
    line = 4 + 3 + 26 + 1  # adapters, part, object, components, the 26, sweep
    assert str(err).startswith(f"{path}:{line}:12: adapters.part.sweep: ")
    assert "67,108,864 states" in str(err)
    assert "`sweep: pairwise`" in str(err)
    assert "`states: [[...], ...]`" in str(err)


def test_sweep_all_within_the_cap_and_pairwise_over_many_still_load(project: Path) -> None:
    path = project / "matrix.yaml"
    path.write_text(components(10, "all"))
    assert len(load_matrix(path).adapters[0].components) == 10
    path.write_text(components(40, "pairwise"))
    assert len(load_matrix(path).adapters[0].components) == 40


def test_pairwise_over_too_many_components_is_refused(project: Path) -> None:
    _, err = refused(project, components(65, "pairwise"))
    assert "covers at most 64 components, not 65" in str(err)


def test_huge_values_are_shortened_in_messages(project: Path) -> None:
    long = "k" * 1_000_000
    _, err = refused(project, BASE + f"timeout: {long}\n")
    assert len(str(err)) < 4 * ECHO_LIMIT + 400
    assert "(1000002 characters)" in str(err)  # the repr, quotes included
    _, err = refused(project, BASE.replace("suites/unit", "x" * 500_000))
    assert len(str(err)) < 4 * ECHO_LIMIT + 400


def test_many_problems_list_the_first_ones_and_count_the_rest(project: Path) -> None:
    versions = ", ".join(str(k) for k in range(500))
    _, err = refused(project, BASE.replace('python: ["3.12"]', f"python: [{versions}]"))
    lines = str(err).splitlines()
    assert len(lines) == 1 + MAX_LISTED + 1
    assert lines[1].startswith("also ")
    assert lines[-1] == f"... and {499 - MAX_LISTED} more problems after these; fix these first"


def test_invalid_utf8_is_located(project: Path) -> None:
    path, err = refused(project, BASE.encode() + b'zz: "a\xffb"\n')
    assert str(err).startswith(f"{path}:8:7: ")
    assert "0xff" in str(err)


def test_shorten_keeps_short_text_and_cuts_long_text_saying_how_long() -> None:
    assert shorten("abc") == "abc"
    assert shorten("x" * ECHO_LIMIT) == "x" * ECHO_LIMIT
    cut = shorten("y" * 5000, limit=50)
    assert cut.startswith("y" * 49 + "…")
    assert cut.endswith("(5000 characters)")


def test_a_product_past_the_cell_cap_is_refused_at_its_longest_axis(project: Path) -> None:
    # 3 KB of YAML, 13 million cells: planning them took 49 s and 1.9 GB.
    pythons = ", ".join(f'"3.{k}"' for k in range(60))
    phases = "".join(f"  p{k}: suites/unit\n" for k in range(60))
    text = (
        f"python: [{pythons}]\nphases:\n{phases}adapters:\n"
        + "".join(f'  a{k}: {{object: "m:a"}}\n' for k in range(60))
        + "envs: {"
        + ", ".join(f"e{k}: {{}}" for k in range(61))
        + "}\n"
    )
    path, err = refused(project, text)
    assert str(err).startswith(
        f"{path}:{1 + 1 + 60 + 1 + 60 + 1}:1: envs: the matrix spans 13,176,000"
    )
    assert f"more than {MAX_CELLS:,}" in str(err)
    assert "(`envs`, with 61 entries)" in str(err)


@pytest.mark.parametrize(
    ("error", "part"),
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (MemoryError(), "too large to load"),
        (ValueError("x" * 10_000), "a value cannot be used: xxx"),
        (OverflowError("int too large to convert to float"), "int too large"),
    ],
)
def test_an_unforeseen_exhaustion_still_ends_as_a_located_message(
    project: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, part: str
) -> None:
    def exhausted(self: Builder) -> None:
        raise error

    monkeypatch.setattr(Builder, "build", exhausted)
    path, err = refused(project, BASE)
    assert str(err).startswith(f"{path}:1:1: ")
    assert part in str(err)
    assert len(str(err)) < ECHO_LIMIT + len(str(path)) + 200
