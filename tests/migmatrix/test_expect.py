"""Expectation rules: the precedence table, feature conditions, explain, stale rules, caching."""

from __future__ import annotations

import dataclasses

import pytest

from migmatrix.expect import expectation_for, explain, selects_test, stale_rules
from migmatrix.model import (
    AdapterSpec,
    Cell,
    CellFilter,
    ComponentSpec,
    EnvSpec,
    ExpectRule,
    GateSpec,
    Location,
    Matrix,
    PhaseSpec,
)
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Expected
from migmatrix.plan import plan_cells

PASS, FAIL, ERROR, SKIP = Expected.PASS, Expected.FAIL, Expected.ERROR, Expected.SKIP


def rule(index: int, outcome: Expected | set[Expected], **kw: object) -> ExpectRule:
    where = CellFilter(**{k: kw.pop(k) for k in ("phase", "adapter", "env", "python") if k in kw})  # type: ignore[arg-type]
    outcomes = frozenset(outcome if isinstance(outcome, set) else {outcome})
    return ExpectRule(
        index=index,
        where=where,
        test=kw.pop("test", None),  # type: ignore[arg-type]
        requires=tuple(kw.pop("requires", ())),  # type: ignore[call-overload]
        unless=tuple(kw.pop("unless", ())),  # type: ignore[call-overload]
        outcomes=outcomes,
        location=Location("matrix.yaml", 10 + index, 7),
        **kw,  # type: ignore[arg-type]
    )


def make_matrix(*rules: ExpectRule) -> Matrix:
    return Matrix(
        path="/m/matrix.yaml",
        root="/m",
        digest="d",
        python=("3.12",),
        phases=(PhaseSpec("reproduction", "s/r"), PhaseSpec("golden_path", "s/g")),
        adapters=(
            AdapterSpec("deprecated", "a:a"),
            AdapterSpec(
                "partial",
                "a:a",
                (),
                (
                    ComponentSpec("engine", ("ssot-engine",)),
                    ComponentSpec("emitter", ("user-emitter",)),
                ),
                "chain",
            ),
            AdapterSpec("ssot", "a:a", ("ssot-engine", "user-emitter")),
        ),
        envs=(EnvSpec("unit", ("in-memory",)), EnvSpec("staging", ("server",))),
        include=(),
        exclude=(),
        default=frozenset({PASS}),
        rules=tuple(rules),
        gates=GateSpec(UNEXPECTED_VERDICTS),
    )


def cell(phase: str, adapter: str, env: str = "unit") -> Cell:
    base = adapter.split("[")[0]
    comps = {
        "partial[]": (),
        "partial[engine]": ("engine",),
        "partial[engine+emitter]": ("engine", "emitter"),
    }
    features = {"ssot": {"ssot-engine", "user-emitter"}, "deprecated": set()}.get(adapter)
    if features is None:
        features = {"engine": "ssot-engine", "emitter": "user-emitter"}
        features = {features[c] for c in comps[adapter]}
    env_feature = {"unit": "in-memory", "staging": "server"}[env]
    return Cell(
        phase,
        adapter,
        env,
        "3.12",
        base,
        comps.get(adapter, ()),
        frozenset({*features, env_feature}),
    )


T = "test_isolation.py::test_two_users"

# Each case: the rules, the cell, the test, and which rule must win (None = the default).
PRECEDENCE = [
    # No rule at all: the default.
    ([], cell("reproduction", "ssot"), T, None),
    # A rule whose selector does not match is ignored.
    ([rule(0, FAIL, phase="golden_path")], cell("reproduction", "ssot"), T, None),
    # One selector matches.
    ([rule(0, FAIL, phase="reproduction")], cell("reproduction", "ssot"), T, 0),
    # Equal specificity: the later rule wins.
    (
        [rule(0, FAIL, phase="reproduction"), rule(1, ERROR, adapter="ssot")],
        cell("reproduction", "ssot"),
        T,
        1,
    ),
    # More cell selectors beat fewer, whatever the order.
    (
        [rule(0, FAIL, phase="reproduction", adapter="ssot"), rule(1, ERROR, adapter="ssot")],
        cell("reproduction", "ssot"),
        T,
        0,
    ),
    # A rule naming a test beats any number of cell selectors.
    (
        [
            rule(0, SKIP, test="test_isolation.py::*"),
            rule(1, FAIL, phase="reproduction", adapter="ssot", env="unit", python="3.12"),
        ],
        cell("reproduction", "ssot"),
        T,
        0,
    ),
    # Same selectors: more feature conditions win.
    (
        [
            rule(0, FAIL, phase="reproduction", unless=["ssot-engine"]),
            rule(1, ERROR, phase="reproduction"),
        ],
        cell("reproduction", "deprecated"),
        T,
        0,
    ),
    # `unless`: ANY listed feature present switches the rule off.
    (
        [rule(0, FAIL, phase="reproduction", unless=["user-emitter", "nothing-has-this"])],
        cell("reproduction", "partial[engine+emitter]"),
        T,
        None,
    ),
    # `unless` with none of its features present: the rule applies.
    (
        [rule(0, FAIL, phase="reproduction", unless=["user-emitter"])],
        cell("reproduction", "partial[engine]"),
        T,
        0,
    ),
    # `requires`: ALL listed features must be present.
    (
        [rule(0, FAIL, requires=["ssot-engine", "user-emitter"])],
        cell("reproduction", "partial[engine]"),
        T,
        None,
    ),
    (
        [rule(0, FAIL, requires=["ssot-engine", "server"])],
        cell("golden_path", "ssot", "staging"),
        T,
        0,
    ),
    # Adapter selector by base name covers every swept state; a state glob too.
    ([rule(0, FAIL, adapter="partial")], cell("golden_path", "partial[]"), T, 0),
    ([rule(0, FAIL, adapter="partial[engine*]")], cell("golden_path", "partial[]"), T, None),
    # Test globs: the id without parameters, and `::` prefixes (file, class) select too.
    ([rule(0, FAIL, test="test_isolation.py")], cell("reproduction", "ssot"), T + "[x-1]", 0),
    ([rule(0, FAIL, test=T)], cell("reproduction", "ssot"), T + "[x-1]", 0),
    ([rule(0, FAIL, test="test_isolation")], cell("reproduction", "ssot"), T, None),
    # A test rule with a non-matching test loses to a matching cell rule.
    (
        [rule(0, FAIL, phase="reproduction"), rule(1, SKIP, test="other.py::*")],
        cell("reproduction", "ssot"),
        T,
        0,
    ),
]


@pytest.mark.parametrize(("rules", "the_cell", "test", "winner"), PRECEDENCE)
def test_precedence(rules: list[ExpectRule], the_cell: Cell, test: str, winner: int | None) -> None:
    m = make_matrix(*rules)
    expectation, chosen = expectation_for(m, the_cell, test)
    if winner is None:
        assert chosen is None
        assert expectation.outcomes == m.default
        assert expectation.rule is None
    else:
        assert chosen is not None
        assert chosen.index == winner
        assert expectation.rule == winner
        assert expectation.outcomes == rules[winner].outcomes


def test_expectation_carries_the_rule_details() -> None:
    r = rule(
        0,
        {PASS, FAIL},
        phase="reproduction",
        raises="AssertionError",
        match="SSOT",
        bug="#620",
        owner="core",
    )
    expectation, _ = expectation_for(make_matrix(r), cell("reproduction", "ssot"), T)
    assert expectation.flaky
    assert (expectation.raises, expectation.match, expectation.bug, expectation.owner) == (
        "AssertionError",
        "SSOT",
        "#620",
        "core",
    )
    assert expectation.describe() == "fail|pass raises AssertionError match /SSOT/"


def test_cached_answers_agree_with_a_fresh_matrix_for_every_pair() -> None:
    rules = [
        rule(0, FAIL, phase="reproduction", unless=["ssot-engine"]),
        rule(1, ERROR, adapter="partial[engine]", test="test_b.py::*"),
        rule(2, SKIP, env="staging", requires=["server"]),
        rule(3, PASS, test="test_a.py::test_x[1]"),
    ]
    m = make_matrix(*rules)
    cells = plan_cells(m)
    tests = ["test_a.py::test_x[1]", "test_a.py::test_x[2]", "test_b.py::test_y"]
    first = {(c.id, t): expectation_for(m, c, t) for c in cells for t in tests}
    # Asked again (cached) and on an equal but distinct matrix (fresh caches): same answers.
    again = {(c.id, t): expectation_for(m, c, t) for c in cells for t in tests}
    twin = dataclasses.replace(m)
    fresh = {(c.id, t): expectation_for(twin, c, t) for c in reversed(cells) for t in tests}
    assert first == again == fresh
    assert first[("reproduction/deprecated/unit/py3.12", "test_a.py::test_x[2]")][1] == rules[0]
    assert first[("reproduction/deprecated/unit/py3.12", "test_a.py::test_x[1]")][1] == rules[3]
    assert first[("golden_path/partial[engine]/staging/py3.12", "test_b.py::test_y")][1] == rules[1]


def test_a_different_matrix_object_gets_its_own_answers() -> None:
    c = cell("reproduction", "ssot")
    assert expectation_for(make_matrix(rule(0, FAIL)), c, T)[0].outcomes == {FAIL}
    assert expectation_for(make_matrix(rule(0, SKIP)), c, T)[0].outcomes == {SKIP}


def test_explain_lists_every_rule_and_the_winner() -> None:
    m = make_matrix(
        rule(0, FAIL, phase="reproduction", unless=["ssot-engine"]),
        rule(1, ERROR, phase="golden_path"),
        rule(2, SKIP, phase="reproduction"),
        rule(3, PASS, test="other.py"),
    )
    lines = explain(m, cell("reproduction", "deprecated"), T)
    assert lines[0] == f"cell reproduction/deprecated/unit/py3.12 (features: in-memory), test {T}"
    assert lines[1] == (
        "  rule 0 at matrix.yaml:10:7 (phase=reproduction unless=[ssot-engine] -> fail): applies"
    )
    assert "rule 1 at matrix.yaml:11:7" in lines[2]
    assert "does not apply: phase 'reproduction' does not match 'golden_path'" in lines[2]
    assert lines[3].endswith(": applies")
    assert f"does not apply: test '{T}' does not match 'other.py'" in lines[4]
    assert lines[5] == "  winner: rule 0 -> fail"
    assert lines[6] == "    over rule 2: it has more feature conditions (1 > 0)"

    lines = explain(m, cell("reproduction", "ssot"), T)
    assert "the cell has feature(s) ssot-engine listed in `unless`" in lines[1]
    assert lines[-1] == "  winner: rule 2 -> skip"

    lines = explain(m, cell("golden_path", "ssot", "staging"))
    assert "it names test 'other.py' and no test was given" in lines[4]
    assert lines[-1] == "  winner: rule 1 -> error"

    lines = explain(make_matrix(), cell("golden_path", "ssot"), T)
    assert lines[-1] == "  no rule applies: the default 'pass' holds"


def test_stale_rules_are_those_matching_no_recorded_test() -> None:
    rules = [
        rule(0, FAIL, phase="reproduction", unless=["ssot-engine"]),
        rule(1, FAIL, phase="reproduction", requires=["server"], test="gone.py::*"),  # test gone
        rule(2, SKIP, env="staging"),  # staging not among the pairs
        rule(3, PASS, phase="reproduction"),  # always outranked by rule 0 here, but it matches
    ]
    m = make_matrix(*rules)
    recorded = [(cell("reproduction", "deprecated"), [T]), (cell("golden_path", "ssot"), [T])]
    assert stale_rules(m, recorded) == (rules[1], rules[2])
    # A staging cell makes rule 2 live; rule 1 also needs a test its glob selects.
    staging = cell("reproduction", "deprecated", "staging")
    assert stale_rules(m, [*recorded, (staging, [T])]) == (rules[1],)
    assert stale_rules(m, [*recorded, (staging, [T, "gone.py::x"])]) == ()
    # A cell with no recorded tests uses nothing.
    empty = [(cell("reproduction", "deprecated"), [])]
    assert stale_rules(m, empty) == tuple(rules)
    assert stale_rules(m, []) == tuple(rules)


@pytest.mark.parametrize(
    ("pattern", "test", "selected"),
    [
        ("t.py::test_a", "t.py::test_a", True),
        ("t.py::test_a", "t.py::test_a[p-1]", True),  # parameters dropped
        ("t.py::TestK", "t.py::TestK::test_a[p]", True),  # class prefix
        ("t.py", "t.py::TestK::test_a", True),  # file prefix
        ("t.py::test_a[p-?]", "t.py::test_a[p-1]", True),  # brackets literal, `?` a glob
        ("t.py::test_a[p-2]", "t.py::test_a[p-1]", False),
        ("t.py::test", "t.py::test_a", False),  # not a bare string prefix
        ("*::test_a", "sub/t.py::test_a", True),
        ("sub/*", "sub/t.py::test_a", True),
    ],
)
def test_selects_test(pattern: str, test: str, selected: bool) -> None:
    assert selects_test(pattern, test) is selected
