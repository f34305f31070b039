"""The typed data that flows through the pipeline load -> plan -> run -> merge -> gate -> report.

These are plain frozen dataclasses and named tuples with no behaviour beyond
derived properties, so every step can be tested by building its input by hand;
the two judge-side containers (`CellJudgement`, `JudgedItems`) only hold the
gate's items compactly. The loader is the only place that turns YAML into these
objects; everything after it trusts them.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, overload

from migmatrix._speed import tuple_maker
from migmatrix.outcomes import Expected, Outcome, Verdict

RESULTS_SCHEMA = "migmatrix-results/2"
# Older forms the reader still takes: /1 has no collection lines, so the gate can
# only judge the tests its records name (merge says so in a note).
RESULTS_SCHEMAS_READ = ("migmatrix-results/1", RESULTS_SCHEMA)


@dataclasses.dataclass(frozen=True)
class Location:
    """Where something was written in matrix.yaml (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Location("<built-in>", 0, 0)


# --------------------------------------------------------------------------- spec


@dataclasses.dataclass(frozen=True)
class PhaseSpec:
    """One phase: a name and the suite folder (relative to the matrix file's folder)."""

    name: str
    path: str
    location: Location = NOWHERE
    memory: int | None = None  # bytes; the phase's own `memory:` limit


@dataclasses.dataclass(frozen=True)
class ComponentSpec:
    """One migration component of a swept adapter and the features it adds once migrated."""

    name: str
    features: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class AdapterSpec:
    """One adapter as declared. With `components` and `sweep` it expands to many states.

    `object` is an import path `module:attribute`, resolved with the matrix
    file's folder on sys.path, or "" for none (an environment adapter needs no
    object: its suites import the installed package). `sweep` is one of "chain",
    "pairwise", "all", or None for a single state; `states` lists explicit
    component sets instead; `versions` makes one state per version instead.
    """

    name: str
    object: str
    features: tuple[str, ...] = ()
    components: tuple[ComponentSpec, ...] = ()
    sweep: str | None = None
    states: tuple[tuple[str, ...], ...] = ()
    location: Location = NOWHERE
    # Where `object:` is written: an import failure found at run time points there.
    object_location: Location = NOWHERE
    memory: int | None = None  # bytes; the adapter's own `memory:` limit
    # An environment of its own (issue 15): what it installs, which git ref, which
    # variables its test processes get; `versions` sweeps `{version}` in requirements.
    requirements: tuple[str, ...] = ()
    requirements_file: str | None = None
    ref: str | None = None
    repo: str | None = None
    install: str = "."
    env: tuple[tuple[str, str], ...] = ()
    versions: tuple[str, ...] = ()

    @property
    def has_environment(self) -> bool:
        """Whether this adapter's states run in an environment of their own (not in-process)."""
        return bool(self.requirements or self.requirements_file or self.ref or self.env)


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    """A service an env needs (the staging server): started once per run.

    `command` may contain `{port}`, `{host}`, `{workdir}` placeholders; `health`
    is a URL template with the same placeholders; `url_env` names the environment
    variable that, when set, points at an already running service instead.
    """

    command: tuple[str, ...]
    health: str
    url: str = "http://{host}:{port}"
    env: tuple[tuple[str, str], ...] = ()
    startup_timeout: float = 30.0
    url_env: str = "STAGING_URL"


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    name: str
    features: tuple[str, ...] = ()
    service: ServiceSpec | None = None
    location: Location = NOWHERE


@dataclasses.dataclass(frozen=True)
class CellFilter:
    """Globs over cell attributes; None matches anything. Used by include, exclude and rules."""

    phase: str | None = None
    adapter: str | None = None
    env: str | None = None
    python: str | None = None

    @property
    def specificity(self) -> int:
        return sum(v is not None for v in (self.phase, self.adapter, self.env, self.python))


@dataclasses.dataclass(frozen=True)
class ExpectRule:
    """One `expect.rules` entry. `index` is its position in the file (0-based)."""

    index: int
    where: CellFilter
    test: str | None
    requires: tuple[str, ...]
    unless: tuple[str, ...]
    outcomes: frozenset[Expected]
    raises: str | None = None
    match: str | None = None
    bug: str | None = None
    owner: str | None = None
    reason: str | None = None
    location: Location = NOWHERE
    # The last day the rule holds (`until:`); after it the gate reports it as expired.
    until: datetime.date | None = None


@dataclasses.dataclass(frozen=True)
class CoverageRule:
    """A coverage condition the gate checks on the combined data.

    `files` are globs over measured file paths (relative to the matrix folder);
    `cells` is a glob over cell ids (the coverage contexts). `max_lines` bounds the
    number of covered lines in those files from those cells (0 = never reached);
    `min_percent` asks for at least that share of those files' lines covered.
    """

    name: str
    files: tuple[str, ...]
    cells: str = "*"
    max_lines: int | None = None
    min_percent: float | None = None
    location: Location = NOWHERE


@dataclasses.dataclass(frozen=True)
class GateSpec:
    fail_on: frozenset[Verdict]
    coverage: tuple[CoverageRule, ...] = ()
    # `fail_on: [expired]`: a rule past its `until:` date fails the gate (not a verdict
    # of a test, so not a member of `fail_on`).
    fail_on_expired: bool = False


@dataclasses.dataclass(frozen=True)
class Matrix:
    """A loaded, validated matrix.yaml.

    `root` is the folder holding the file (suite paths and adapter imports are
    relative to it); `digest` is a hash of the file's normalized content, written
    into every results file so merge can tell runs of different matrices apart.
    `rollback_paths` are the declared (from, to) rollback paths as written: `from`
    a glob over adapter states, `to` a glob or `chain` / `previous`
    (`migmatrix.sweep.rollback_targets` turns them into concrete states).
    """

    path: str
    root: str
    digest: str
    python: tuple[str, ...]
    phases: tuple[PhaseSpec, ...]
    adapters: tuple[AdapterSpec, ...]
    envs: tuple[EnvSpec, ...]
    include: tuple[CellFilter, ...]
    exclude: tuple[CellFilter, ...]
    default: frozenset[Expected]
    rules: tuple[ExpectRule, ...]
    gates: GateSpec
    timeout: float = 300.0
    rollback_paths: tuple[tuple[str, str], ...] = ()
    memory: int | None = None  # bytes; the global `memory:` limit per test process


# --------------------------------------------------------------------------- plan


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    """One (phase, adapter state, env, python) combination.

    `adapter` is the concrete state name (`partial[engine+factory]` for a swept
    adapter); `adapter_base` the declared adapter it came from; `components` the
    migrated components of a swept state in rollout order; `features` the union of
    the adapter's, its components' and the env's features.
    """

    phase: str
    adapter: str
    env: str
    python: str
    adapter_base: str = ""
    components: tuple[str, ...] = ()
    features: frozenset[str] = frozenset()

    @functools.cached_property
    def id(self) -> str:
        # Worked out once per cell: reports ask for it per item, hundreds of thousands
        # of times. (A frozen dataclass still has the instance dictionary this needs.)
        return f"{self.phase}/{self.adapter}/{self.env}/py{self.python}"


@dataclasses.dataclass(frozen=True)
class Expectation:
    """The outcome(s) one test must show in one cell, and which rule said so (None = default)."""

    outcomes: frozenset[Expected]
    raises: str | None = None
    match: str | None = None
    bug: str | None = None
    owner: str | None = None
    reason: str | None = None
    rule: int | None = None

    @property
    def flaky(self) -> bool:
        return len(self.outcomes) > 1

    def describe(self) -> str:
        words = "|".join(sorted(o.value for o in self.outcomes))
        if self.raises:
            words += f" raises {self.raises}"
        if self.match:
            words += f" match /{self.match}/"
        return words


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class ResultsHeader:
    """First line of a results file."""

    run_id: str
    python: str
    platform: str
    matrix_digest: str
    selection: str | None
    shard: str | None
    started: str
    schema: str = RESULTS_SCHEMA
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class Record(NamedTuple):
    """One (cell, test) result.

    `test` is the test id without the cell parameter, relative to the phase folder,
    e.g. `test_namespace.py::test_conflicts` or `test_x.py::test_y[a]`.

    A named tuple rather than a frozen dataclass: the gate reads hundreds of
    thousands of them, and a tuple is built in one step (`tuple.__new__`, see
    results.lines.fast_record) where a frozen dataclass sets each field through
    `object.__setattr__`; it also takes a fifth of the memory of an instance with
    a `__dict__`. It is as immutable, and compares and hashes by its fields.
    """

    cell: str
    test: str
    outcome: Outcome
    duration: float = 0.0
    exc_type: str | None = None
    message: str | None = None
    worker: str | None = None
    attempt: int = 1
    nodeid: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.cell, self.test)


@dataclasses.dataclass(frozen=True)
class ResultsFooter:
    records: int
    finished: str


# --------------------------------------------------------------------------- judge


class Judged(NamedTuple):
    """One verdict: a planned or recorded (cell, test), what was expected, what happened.

    A named tuple rather than a frozen dataclass: the gate makes one per (cell,
    test), hundreds of thousands at a time, and a frozen dataclass sets each field
    through `object.__setattr__`, which made building them most of the gate's
    time (benchmarks/judge_speed.py). A named tuple is as immutable, compares and
    hashes by its fields, prints the same way, and `new_judged` builds one without
    a Python-level call.
    """

    cell: Cell
    test: str
    expectation: Expectation
    record: Record | None
    verdict: Verdict
    detail: str = ""


JudgedValues = tuple[Cell, str, Expectation, Record | None, Verdict, str]


# The gate's hot loop builds its items with this, values in `_speed.JUDGED_ORDER`.
new_judged: Callable[[JudgedValues], Judged] = tuple_maker(Judged)


class CellJudgement:
    """One cell's judged items, kept compactly: most tests are simply as expected.

    `tests` are the cell's judged test ids in report order and `records` its
    records by test id. A test in `other` has that item; every other test is
    the usual item: as expected, under `expectation`, for `records[test]`, with
    no detail (`item` builds it). The gate keeps only the unusual items as
    objects, which is most of what makes judging and reporting 300,000 results
    fast; consumers that need every item iterate the block.
    """

    __slots__ = ("cell", "expectation", "other", "records", "tests")

    def __init__(
        self,
        cell: Cell,
        tests: Sequence[str],
        records: Mapping[str, Record],
        expectation: Expectation | None,
        other: Mapping[str, Judged],
    ) -> None:
        self.cell = cell
        self.tests = tests
        self.records = records
        self.expectation = expectation
        self.other = other

    def item(self, test: str) -> Judged:
        """The judged item for one of the block's tests."""
        found = self.other.get(test)
        if found is not None:
            return found
        expectation = self.expectation
        if expectation is None:
            msg = f"{self.cell.id}: {test!r} is neither in `other` nor a usual item of the block"
            raise KeyError(msg)
        return new_judged((self.cell, test, expectation, self.records[test], _AS_EXPECTED, ""))

    def __iter__(self) -> Iterator[Judged]:
        return map(self.item, self.tests)

    def __len__(self) -> int:
        return len(self.tests)


_AS_EXPECTED = Verdict.AS_EXPECTED


class JudgedItems(Sequence[Judged]):
    """Every judged item of a gate, in report order, held as `CellJudgement` blocks.

    A sequence of `Judged`; the items are built when first indexed or
    iterated. The reports walk `blocks` instead (gate.judgements).
    """

    __slots__ = ("_items", "blocks")

    def __init__(self, blocks: Sequence[CellJudgement]) -> None:
        self.blocks = tuple(blocks)
        self._items: tuple[Judged, ...] | None = None

    def _all(self) -> tuple[Judged, ...]:
        if self._items is None:
            self._items = tuple(item for block in self.blocks for item in block)
        return self._items

    def __iter__(self) -> Iterator[Judged]:
        return iter(self._all())

    def __len__(self) -> int:
        return sum(len(block.tests) for block in self.blocks)

    @overload
    def __getitem__(self, index: int) -> Judged: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Judged, ...]: ...

    def __getitem__(self, index: int | slice) -> Judged | tuple[Judged, ...]:
        return self._all()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (JudgedItems, tuple)):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"JudgedItems({len(self)} items in {len(self.blocks)} cells)"


@dataclasses.dataclass(frozen=True)
class CoverageVerdict:
    """One coverage rule judged; `skipped` when `--no-coverage-rules` left it unchecked."""

    rule: CoverageRule
    passed: bool
    detail: str
    skipped: bool = False


@dataclasses.dataclass(frozen=True)
class GateResult:
    """Everything the reports need, in a deterministic order.

    `judged` is sorted by (phase order, adapter order, env order, python, test);
    the gate gives a `JudgedItems`, whose cell blocks the reports walk, and a
    result built by hand may give any sequence (a tuple, say);
    `problems` are merge problems (incomplete files, conflicts, digest mismatch);
    `phases`/`adapters`/`envs`/`pythons` give the display order of the axes
    (adapters in rollout order for swept states).
    """

    judged: Sequence[Judged]
    exit_code: int
    fail_on: frozenset[Verdict]
    problems: tuple[str, ...]
    stale_rules: tuple[ExpectRule, ...]
    coverage: tuple[CoverageVerdict, ...]
    coverage_total: float | None
    phases: tuple[str, ...]
    adapters: tuple[str, ...]
    envs: tuple[str, ...]
    pythons: tuple[str, ...]
    duration: float
    sources: tuple[str, ...]
