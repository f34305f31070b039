"""matrix.yaml -> Matrix: a good file loads; every bad one gets a located, fixable message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml
from matrix_project import BASE, project_folder, write

from migmatrix import load
from migmatrix.errors import MatrixError
from migmatrix.load import load_matrix
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Expected, Verdict
from migmatrix.plan import plan_cells
from migmatrix.schema import load_schema, schema_text


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield from project_folder(tmp_path)


def test_base_matrix_loads_typed(project: Path) -> None:
    m = load_matrix(write(project, BASE))
    assert m.python == ("3.11", "3.12")
    assert [(p.name, p.path) for p in m.phases] == [
        ("repro", "suites/repro"),
        ("golden", "suites/golden"),
    ]
    assert [a.name for a in m.adapters] == ["old", "partial", "new"]
    partial = m.adapters[1]
    assert [c.name for c in partial.components] == ["engine", "factory"]
    assert partial.components[0].features == ("ssot-engine",)
    assert partial.sweep == "chain"
    assert partial.location.line == 7
    assert [e.name for e in m.envs] == ["unit", "staging"]
    assert m.default == frozenset({Expected.PASS})
    assert m.gates.fail_on == UNEXPECTED_VERDICTS
    assert m.timeout == 300.0
    assert m.root == str(project.resolve())
    assert len(plan_cells(m)) == 2 * (1 + 3 + 1) * 2 * 2


def test_full_matrix_every_section(project: Path) -> None:
    text = BASE.replace("  staging: {features: [server]}\n", "") + (
        "  staging:\n"
        "    features: [server]\n"
        "    service:\n"
        '      command: [python, -m, srv, --port, "{port}"]\n'
        '      health: "http://{host}:{port}/health"\n'
        "      env: {B: two, A: one}\n"
        "      startup_timeout: 5\n"
        "timeout: 30\n"
        "exclude:\n"
        "  - {phase: golden, env: staging}\n"
        "include:\n"
        '  - {phase: golden, env: staging, adapter: new, python: "3.12"}\n'
        "expect:\n"
        "  default: [pass, skip]\n"
        "  rules:\n"
        "    - phase: repro\n"
        "      unless: [ssot-engine]\n"
        "      outcome: fail\n"
        "      raises: AssertionError\n"
        '      match: "SSOT VIOLATION"\n'
        '      bug: "#620"\n'
        "      owner: platform\n"
        "gates:\n"
        "  fail_on: [regression, crashed]\n"
        "  coverage:\n"
        "    - {name: legacy-unreached, files: 'src/old*.py', cells: '*/new/*/*', max_lines: 0}\n"
        "    - {name: enough, files: [a.py, b.py], min_percent: 80}\n"
    )
    m = load_matrix(write(project, text))
    staging = m.envs[1]
    assert staging.service is not None
    assert staging.service.command == ("python", "-m", "srv", "--port", "{port}")
    assert staging.service.env == (("B", "two"), ("A", "one"))
    assert staging.service.startup_timeout == 5.0
    assert staging.service.url_env == "STAGING_URL"
    assert m.timeout == 30.0
    assert m.default == frozenset({Expected.PASS, Expected.SKIP})
    (rule,) = m.rules
    assert rule.where.phase == "repro"
    assert rule.unless == ("ssot-engine",)
    assert rule.outcomes == frozenset({Expected.FAIL})
    assert (rule.raises, rule.match, rule.bug, rule.owner) == (
        "AssertionError",
        "SSOT VIOLATION",
        "#620",
        "platform",
    )
    assert (rule.location.line, rule.location.column) == (31, 7)
    assert m.gates.fail_on == frozenset({Verdict.REGRESSION, Verdict.CRASHED})
    assert m.gates.coverage[0].files == ("src/old*.py",)
    assert m.gates.coverage[0].max_lines == 0
    assert m.gates.coverage[1].files == ("a.py", "b.py")
    assert m.gates.coverage[1].min_percent == 80.0
    ids = [c.id for c in plan_cells(m)]
    assert "golden/new/staging/py3.12" in ids
    assert "golden/new/staging/py3.11" not in ids


def test_digest_ignores_comments_and_layout_but_not_content(project: Path) -> None:
    first = load_matrix(write(project, BASE)).digest
    relaid = "# the matrix\n" + BASE.replace('["3.11", "3.12"]', "\n  - '3.11'   # old\n  - '3.12'")
    assert load_matrix(write(project, relaid)).digest == first
    changed = BASE.replace('"3.12"]', '"3.13"]')
    assert load_matrix(write(project, changed)).digest != first


def test_digest_leaves_out_what_only_judges(project: Path) -> None:
    # Results written before an edit of `expect:` or `gates:` stay judgeable under it;
    # an edit of what runs (an axis, an exclude, the time limit) does not.
    first = load_matrix(write(project, BASE)).digest
    judged = BASE + (
        "expect:\n  default: pass\n  rules:\n    - {phase: repro, outcome: fail}\n"
        "gates:\n  fail_on: [regression]\n"
    )
    assert load_matrix(write(project, judged)).digest == first
    for runs in (
        BASE.replace('"3.12"]', '"3.13"]'),
        BASE + "exclude:\n  - {env: staging}\n",
        BASE + "timeout: 30\n",
    ):
        assert load_matrix(write(project, runs)).digest != first, runs


def test_yaml_merge_keys_are_honoured(project: Path) -> None:
    text = BASE.replace(
        "  unit: {features: [in-memory]}\n",
        "  unit: &base {features: [in-memory]}\n  other:\n    <<: *base\n    features: [x]\n",
    )
    m = load_matrix(write(project, text))
    assert [(e.name, e.features) for e in m.envs][:2] == [
        ("unit", ("in-memory",)),
        ("other", ("x",)),
    ]


def test_loading_does_not_import_adapter_objects(project: Path) -> None:
    # Importing an adapter is the run side's job: the loader only records the path.
    text = BASE.replace('new: {object: "mmad_adapters:adapter"', 'new: {object: "gone:adapter"')
    m = load_matrix(write(project, text))
    assert m.adapters[2].object == "gone:adapter"


def test_missing_file_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match=r"does not exist; pass the right path with --matrix"):
        load_matrix(tmp_path / "nope.yaml")


def sub(old: str, new: str) -> tuple[str, str]:
    return (old, new)


OBJ_NEW = '  new: {object: "mmad_adapters:adapter", features: [ssot-engine, ssot-factory]}\n'

# (id, edit of BASE: (old, new) replacement or text appended, line:column, key, message part)
BAD = [
    # --- YAML layer
    ("yaml-syntax", ("", "phases: [\n"), "18:1", None, "not valid YAML"),
    ("empty-file", ("ALL", ""), "1:1", None, "the file is empty"),
    (
        "duplicate-yaml-key",
        sub("  golden: {path: suites/golden}", "  repro: suites/golden"),
        "4:3",
        "phases.repro",
        "duplicate key 'repro' (first written at line 3, column 3)",
    ),
    ("non-string-key", sub("  golden: {", "  3.10: {"), "4:3", "phases", 'quote it: "3.10"'),
    # --- schema layer
    ("unknown-top-key", ("", "phasess: {}\n"), "17:1", "phasess", "did you mean 'phases'?"),
    (
        "unknown-nested-key",
        sub("features: [legacy]}", "featurs: [legacy]}"),
        "6:42",
        "adapters.old.featurs",
        "unknown key 'featurs'; did you mean 'features'?",
    ),
    (
        "python-float",
        sub('python: ["3.11", "3.12"]', 'python: [3.10, "3.12"]'),
        "1:10",
        "python[0]",
        '3.10 is read by YAML as the number 3.1, but a string is needed here; quote it: "3.10"',
    ),
    (
        "python-not-a-version",
        sub('"3.12"]', '"three"]'),
        "1:18",
        "python[1]",
        'write the version as a quoted string like "3.12"',
    ),
    ("python-duplicate", sub('"3.12"]', '"3.11"]'), "1:18", "python[1]", "listed twice"),
    ("wrong-type", ("", "timeout: fast\n"), "17:10", "timeout", "expected a number"),
    ("negative-timeout", ("", "timeout: -1\n"), "17:10", "timeout", "greater than 0"),
    ("missing-required", sub("envs:", "nvs:"), "1:1", None, "missing required key 'envs'"),
    (
        "bad-name",
        sub("  golden: {", "  gol/den: {"),
        "4:3",
        "phases.gol/den",
        "names become parts of cell ids",
    ),
    (
        "bad-object-path",
        sub('object: "mmad_adapters:adapter", features: [legacy]', 'object: "mmad", features: []'),
        "6:17",
        "adapters.old.object",
        "write it as `package.module:attribute`",
    ),
    (
        "unknown-verdict",
        ("", "gates: {fail_on: [regresion]}\n"),
        "17:19",
        "gates.fail_on[0]",
        "did you mean 'regression'?",
    ),
    (
        "unknown-outcome",
        ("", "expect:\n  rules:\n    - {phase: repro, outcome: passs}\n"),
        "19:31",
        "expect.rules[0].outcome",
        "'passs' is not one of: pass, fail, error, skip, unavailable; did you mean 'pass'?",
    ),
    (
        "rule-without-outcome",
        ("", "expect:\n  rules:\n    - {phase: repro}\n"),
        "19:7",
        "expect.rules[0]",
        "missing required key 'outcome'",
    ),
    (
        "phase-neither-string-nor-path",
        sub("{path: suites/golden}", "{pth: suites/golden}"),
        "4:12",
        "phases.golden.pth",
        "unknown key 'pth'; did you mean 'path'?",
    ),
    (
        "phase-a-number",
        sub("{path: suites/golden}", "7"),
        "4:11",
        "phases.golden",
        "write the suite folder as a string",
    ),
    (
        "empty-exclude-filter",
        ("", "exclude:\n  - {}\n"),
        "18:5",
        "exclude[0]",
        "an empty filter would match every cell",
    ),
    (
        "coverage-without-limit",
        ("", "gates:\n  coverage:\n    - {name: c, files: x.py}\n"),
        "19:7",
        "gates.coverage[0]",
        "give `max_lines`",
    ),
    (
        "service-unknown-key",
        sub("[server]}", "[server], service: {command: [x], health: h, timeout: 3}}"),
        "16:68",
        "envs.staging.service.timeout",
        "unknown key 'timeout'",
    ),
    # --- meaning layer
    (
        "suite-folder-missing",
        sub("  repro: suites/repro", "  repro: suites/nope"),
        "3:10",
        "phases.repro",
        "suite folder 'suites/nope' does not exist",
    ),
    (
        "exclude-removes-everything",
        ("", 'exclude:\n  - {phase: repro}\n  - {python: "3*"}\n'),
        "19:5",
        "exclude[1]",
        "this exclude removes every cell",
    ),
    (
        "excludes-together-remove-everything",
        ("", "exclude:\n  - {phase: repro}\n  - {phase: golden}\n"),
        "17:1",
        "exclude",
        "together the excludes remove every cell",
    ),
    (
        "include-unknown-phase",
        ("", "include:\n  - {phase: rerpo, adapter: new, env: unit}\n"),
        "18:13",
        "include[0].phase",
        "unknown phase 'rerpo' (known: repro, golden); did you mean 'repro'?",
    ),
    (
        "include-python-not-declared",
        ("", 'include:\n  - {python: "3.9"}\n'),
        "18:14",
        "include[0].python",
        "unknown python '3.9'",
    ),
    (
        "rule-adapter-glob-matches-nothing",
        ("", "expect:\n  rules:\n    - {adapter: 'parital[*]', outcome: fail}\n"),
        "19:17",
        "expect.rules[0].adapter",
        "the glob 'parital[*]' matches no adapter",
    ),
    (
        "rule-unknown-feature",
        ("", "expect:\n  rules:\n    - {requires: [ssot-engin], outcome: fail}\n"),
        "19:19",
        "expect.rules[0].requires[0]",
        "feature 'ssot-engin', so this rule could never apply",
    ),
    (
        "rule-requires-and-unless-overlap",
        ("", "expect:\n  rules:\n    - {requires: [server], unless: [server], outcome: fail}\n"),
        "19:28",
        "expect.rules[0].unless",
        "both required and excluded",
    ),
    (
        "rule-bad-regex",
        ("", "expect:\n  rules:\n    - {outcome: fail, match: 'engine(('}\n"),
        "19:30",
        "expect.rules[0].match",
        "`match` is not a valid regular expression: missing ), unterminated subpattern",
    ),
    (
        "states-unknown-component",
        sub("    sweep: chain", "    states: [[engine, fatcory]]"),
        "12:23",
        "adapters.partial.states[0][1]",
        "component 'fatcory', which adapter 'partial' does not declare "
        "(components: engine, factory); did you mean 'factory'?",
    ),
    (
        "states-and-sweep",
        sub("    sweep: chain", "    sweep: chain\n    states: [[engine]]"),
        "13:5",
        "adapters.partial.states",
        "give either `sweep` or `states`, not both",
    ),
    (
        "duplicate-component",
        sub("{name: factory,", "{name: engine,"),
        "11:16",
        "adapters.partial.components[1].name",
        "component 'engine' is declared twice",
    ),
    (
        "sweep-without-components",
        sub(OBJ_NEW, '  new: {object: "mmad_adapters:adapter", sweep: all}\n'),
        "13:42",
        "adapters.new.sweep",
        "`sweep` needs `components`",
    ),
    (
        "components-without-sweep",
        sub("    sweep: chain\n", ""),
        "9:5",
        "adapters.partial.components",
        "components need `sweep: chain`",
    ),
    # --- rollback paths
    (
        "rollback-unknown-from",
        ("", "rollback:\n  paths:\n    - {from: nope, to: old}\n"),
        "19:14",
        "rollback.paths[0].from",
        "unknown adapter 'nope'",
    ),
    (
        "rollback-unknown-to",
        ("", "rollback:\n  paths:\n    - {from: new, to: gone}\n"),
        "19:23",
        "rollback.paths[0].to",
        "unknown adapter 'gone'",
    ),
    (
        "rollback-switches-nothing",
        ("", "rollback:\n  paths:\n    - {from: old, to: chain}\n"),
        "19:7",
        "rollback.paths[0]",
        "the path from 'old' to 'chain' switches nothing",
    ),
    (
        "rollback-missing-to",
        ("", "rollback:\n  paths:\n    - {from: new}\n"),
        "19:7",
        "rollback.paths[0]",
        "missing required key 'to'",
    ),
    (
        "rollback-unknown-key",
        ("", "rollback:\n  paths:\n    - {from: new, to: old, via: x}\n"),
        "19:28",
        "rollback.paths[0].via",
        "unknown key 'via'",
    ),
    (
        "duplicate-coverage-rule",
        (
            "",
            "gates:\n  coverage:\n    - {name: c, files: x, max_lines: 0}\n"
            "    - {name: c, files: y, max_lines: 0}\n",
        ),
        "20:14",
        "gates.coverage[1].name",
        "coverage rule 'c' is declared twice",
    ),
]


@pytest.mark.parametrize(
    ("edit", "where", "key", "part"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_bad_matrix_message(
    project: Path, edit: tuple[str, str], where: str, key: str | None, part: str
) -> None:
    old, new = edit
    if old == "ALL":
        text = new
    elif old:
        assert old in BASE
        text = BASE.replace(old, new, 1)
    else:
        text = BASE + new
    path = write(project, text)
    with pytest.raises(MatrixError) as info:
        load_matrix(path)
    err = info.value
    headline = str(err).splitlines()[0]
    prefix = f"{path}:{where}: " + (f"{key}: " if key else "")
    assert headline.startswith(prefix), headline
    assert part in str(err)
    assert err.key == key
    assert "Traceback" not in str(err)


def test_several_schema_problems_are_all_listed_in_file_order(project: Path) -> None:
    text = BASE.replace('"3.12"]', "3.12]") + "timeout: soon\nextra: 1\n"
    path = write(project, text)
    with pytest.raises(MatrixError) as info:
        load_matrix(path)
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{path}:1:18: python[1]: ")
    assert lines[1].startswith(f"also {path}:17:10: timeout: expected a number")
    assert lines[2].startswith(f"also {path}:18:1: extra: unknown key 'extra'")


def test_schema_is_shipped_valid_and_accepts_the_contract_example(project: Path) -> None:
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == load_schema()
    contracts = Path(__file__).parents[3] / "docs" / "contracts.md"
    block = contracts.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    jsonschema.validate(yaml.safe_load(block), schema)


def test_dotted_paths() -> None:
    assert load.dotted(("adapters", "partial", "components", 0, "name")) == (
        "adapters.partial.components[0].name"
    )
    assert load.dotted(()) == ""


def test_rollback_paths_load_as_written(project: Path) -> None:
    text = BASE + (
        "rollback:\n  paths:\n    - {from: new, to: chain}\n"
        '    - {from: "partial[*]", to: previous}\n'
    )
    matrix = load_matrix(write(project, text))
    assert matrix.rollback_paths == (("new", "chain"), ("partial[*]", "previous"))
    assert load_matrix(write(project, BASE)).rollback_paths == ()


def test_fail_on_takes_every_verdict_word_unavailable_and_expired_included(
    project: Path,
) -> None:
    # `unavailable` (a state that cannot be installed) and `expired` (a rule past its
    # `until:`) were added to the vocabulary by two changes; fail_on must take both.
    m = load_matrix(write(project, BASE + "gates:\n  fail_on: [unavailable, expired]\n"))
    assert m.gates.fail_on == frozenset({Verdict.UNAVAILABLE})
    assert m.gates.fail_on_expired
