"""Collection: parametrize phase suites over their cells, name the results, shard, mark.

Every test function under a phase's suite folder is parametrized over the
selected cells of that phase through the `cell` fixture, whether or not it asks
for it (pytest-repeat's trick: add the name to the function's fixture names), so
its node ids end in `[<cell id>]` (or `-<cell id>]` after the test's own
parameters). The test id of a result is that node id without the cell, relative
to the phase folder (docs/contracts.md "Test ids").

Node ids are mapped back to (cell, test) from the node id alone, never from
report attributes, because the report xdist makes for a crashed worker carries
nothing but the node id. The functions here are pure apart from
`parametrize` and `apply`, which act on pytest objects.
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from migmatrix import shard
from migmatrix.model import Cell, Expectation
from migmatrix.outcomes import Expected
from migmatrix.plugin.run_state import MatrixRun

CELL_FIXTURE = "cell"
COLLECTION_TEST = "(collection)"


def parametrize(metafunc: pytest.Metafunc, run: MatrixRun) -> None:
    """Parametrize one test function over its phase's cells (nothing outside phase folders)."""
    found = run.phase_of(Path(metafunc.definition.path))
    if found is None:
        return
    cells = run.cells_of(found[0])
    if not cells:
        return
    if CELL_FIXTURE not in metafunc.fixturenames:
        metafunc.fixturenames.append(CELL_FIXTURE)
    metafunc.parametrize(CELL_FIXTURE, cells, ids=[c.id for c in cells], indirect=True)


def split_nodeid(nodeid: str, rootpath: Path, run: MatrixRun) -> tuple[Cell, str] | None:
    """(cell, test id) of a matrix item's node id; None for anything else.

    The file part locates the phase; the cell is the phase's cell whose id closes
    the node id's brackets, after `[` (no other parameters) or `-` (after them).
    Cell ids hold `[`, `-` and `]` themselves, so every candidate start is tried
    and the longest known id wins.
    """
    file_part, sep, rest = nodeid.partition("::")
    if not sep or not rest.endswith("]"):
        return None
    located = run.locate(rootpath, file_part)
    if located is None:
        return None
    phase, relative = located
    body = rest[:-1]
    for start, char in enumerate(body):
        if char not in "[-":
            continue
        cell = run.cell_named(phase, body[start + 1 :])
        if cell is None:
            continue
        name = body[:start] if char == "[" else body[:start] + "]"
        return cell, f"{relative}::{name}"
    return None


def collection_test_id(nodeid: str, rootpath: Path, run: MatrixRun) -> tuple[str, str] | None:
    """(phase, test id) for a collector's node id (a file or folder that failed to collect)."""
    located = run.locate(rootpath, nodeid.partition("::")[0])
    if located is None:
        return None
    phase, relative = located
    return phase, (COLLECTION_TEST if relative == "." else relative)


def shard_key(cell: Cell, test: str) -> str:
    return f"{cell.id}::{test}"


def shard_keep(keys: Sequence[str], run: MatrixRun) -> set[str]:
    """The keys this shard runs: `shard.assign` over the sorted keys, by recorded durations."""
    if run.shard is None:
        return set(keys)
    index, total = run.shard
    ordered = sorted(set(keys))
    durations = {k: run.durations[k] for k in ordered if k in run.durations} or None
    return set(shard.assign(ordered, index, total, durations=durations))


# --------------------------------------------------------------------------- marks


def resolve_exception(name: str | None) -> type[BaseException] | None:
    """The exception class a `raises:` names (`ValueError`, `pkg.mod.Error`, `pkg.mod:Error`)."""
    if not name:
        return None
    found: Any = getattr(builtins, name, None)
    if found is None:
        module, sep, attr = name.replace(":", ".").rpartition(".")
        if not sep:
            return None
        try:
            found = getattr(importlib.import_module(module), attr, None)
        except Exception:  # an unresolvable `raises:` only loses pytest's own check
            return None
    if isinstance(found, type) and issubclass(found, BaseException):
        return found
    return None


def expectation_marks(expectation: Expectation) -> list[pytest.MarkDecorator]:
    """The pytest marks that make pytest's own summary agree with an expectation.

    Expected fail: strict xfail (with `raises` when the class resolves), so a pass
    is an XPASS(strict) failure and a wrong exception a plain failure. Expected
    skip: skip. A set with fail in it (flaky): non-strict xfail. Anything else
    (pass, error, sets without fail): no mark.
    """
    outcomes = expectation.outcomes
    words = expectation.describe()
    note = f" ({expectation.bug})" if expectation.bug else ""
    reason = f"migmatrix expects {words}{note}"
    if outcomes == frozenset({Expected.FAIL}):
        raises = resolve_exception(expectation.raises)
        if raises is not None:
            return [pytest.mark.xfail(strict=True, raises=raises, reason=reason)]
        return [pytest.mark.xfail(strict=True, reason=reason)]
    if outcomes == frozenset({Expected.SKIP}):
        return [pytest.mark.skip(reason=reason)]
    if len(outcomes) > 1 and Expected.FAIL in outcomes:
        return [pytest.mark.xfail(strict=False, reason=reason)]
    return []


# --------------------------------------------------------------------------- modifyitems

# pytest's options that drop collected items, and how the skip reason names them.
SELECTION_OPTIONS = (("keyword", "-k"), ("markexpr", "-m"), ("deselect", "--deselect"))


def selection_words(options: Any) -> str:
    """The options that dropped planned items, as the skip reason names them."""
    words = []
    for attribute, flag in SELECTION_OPTIONS:
        value = getattr(options, attribute, None)
        if value:
            shown = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            words.append(f"{flag} {shown!r}")
    return ", ".join(words) or "a pytest option or plugin"


def restore_deselected(
    before: Sequence[pytest.Item],
    after: Sequence[pytest.Item],
    config: pytest.Config,
    run: MatrixRun,
) -> list[pytest.Item]:
    """`after` with every planned item another plugin dropped put back, marked skipped.

    Under `--matrix` the plan says which tests run; `-k`, `-m`, `--deselect` (or
    `--lf`) narrowing it would leave the gate to judge fewer tests and pass. So a
    dropped matrix item is kept, skipped with a reason that names the option,
    and recorded: the gate sees it as not run (`skipped` where a pass was
    expected fails the gate), never as absent. Items outside the phase folders
    stay dropped. The shard split then sees the whole plan, as without the option.
    """
    kept = set(after)
    dropped = [
        item
        for item in before
        if item not in kept
        and run.phase_of(Path(item.path)) is not None
        and split_nodeid(item.nodeid, config.rootpath, run) is not None
    ]
    if not dropped:
        return list(after)
    reason = f"deselected by {selection_words(config.option)} under --matrix: not run"
    for item in dropped:
        item.add_marker(pytest.mark.skip(reason=reason))
    return [*after, *dropped]


def apply(
    items: list[pytest.Item], config: pytest.Config, run: MatrixRun
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """Split items into (kept, deselected) and mark the kept ones with their expectations.

    Deselected: items in a phase folder that did not get a cell (their phase has no
    selected cell), and items of other shards. Items outside the phase folders
    (paths named on the command line) are kept untouched.
    """
    rootpath = config.rootpath
    named: list[tuple[pytest.Item, tuple[Cell, str] | None]] = []
    deselected: list[pytest.Item] = []
    for item in items:
        in_phase = run.phase_of(Path(item.path)) is not None
        split = split_nodeid(item.nodeid, rootpath, run) if in_phase else None
        if in_phase and split is None:
            deselected.append(item)
            continue
        named.append((item, split))
    keep = shard_keep([shard_key(*s) for _, s in named if s is not None], run)
    kept: list[pytest.Item] = []
    for item, split in named:
        if split is None:
            kept.append(item)
            continue
        cell, test = split
        if shard_key(cell, test) not in keep:
            deselected.append(item)
            continue
        for mark in expectation_marks(run.expectation(cell, test)):
            item.add_marker(mark)
        kept.append(item)
    return kept, deselected


def node_map(nodeids: Iterable[str], rootpath: Path, run: MatrixRun) -> dict[str, tuple[str, str]]:
    """node id -> (cell id, test id) for the matrix items among `nodeids`."""
    mapping: dict[str, tuple[str, str]] = {}
    for nodeid in nodeids:
        split = split_nodeid(nodeid, rootpath, run)
        if split is not None:
            mapping[nodeid] = (split[0].id, split[1])
    return mapping
