"""The expectations a gate judged against, as plain data for the JSON report, and back.

A snapshot holds the test ids of each phase, and per cell the expectations that
are not the matrix's default (grouped, with the tests they cover) and the tests
that did not pass. It is small (nearly every test of a migration matrix has the
default expectation and passes) and complete: with the phase's tests it says what
was expected of, and what happened to, every judged (cell, test).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from migmatrix.errors import UsageError
from migmatrix.model import Expectation, GateResult, JudgedItems, Matrix
from migmatrix.outcomes import Expected, Outcome

SNAPSHOT_SCHEMA = "migmatrix-expectations/1"
KEY = "expectations"
"""The key of the snapshot in the JSON report."""

ExpKey = tuple[frozenset[str], str | None, str | None, int | None]
"""An expectation as compared: outcome words, raises, match, rule index."""


def key_of(expectation: Expectation) -> ExpKey:
    words = frozenset(o.value for o in expectation.outcomes)
    return (words, expectation.raises, expectation.match, expectation.rule)


def describe(key: ExpKey) -> str:
    words, raises, match, _ = key
    text = "|".join(sorted(words))
    if raises:
        text += f" raises {raises}"
    if match:
        text += f" match /{match}/"
    return text


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What a gate expected and saw: see the module docstring."""

    digest: str
    default: ExpKey
    phase_tests: Mapping[str, frozenset[str]]
    expected: Mapping[str, Mapping[str, ExpKey]]  # cell -> test -> a non-default expectation
    not_passed: Mapping[str, frozenset[str]]  # cell -> tests that did not pass
    judged_cells: frozenset[str]  # cells with results (a cell without any is not compared)

    def expectation(self, cell: str, test: str) -> ExpKey:
        return self.expected.get(cell, {}).get(test, self.default)

    def tests(self, cell: str) -> frozenset[str]:
        return self.phase_tests.get(cell.split("/", 1)[0], frozenset())


def _items(result: GateResult) -> Iterator[tuple[str, str, Expectation, bool, bool]]:
    """(cell id, test, expectation, passed, has results) for every judged item."""
    judged = result.judged
    if isinstance(judged, JudgedItems):
        for block in judged.blocks:
            for test in block.tests:
                item = block.other.get(test)
                if item is None and block.expectation is not None:
                    record = block.records[test]
                    yield (
                        block.cell.id,
                        test,
                        block.expectation,
                        record.outcome is Outcome.PASSED,
                        True,
                    )
                elif item is not None:
                    passed = item.record is not None and item.record.outcome is Outcome.PASSED
                    yield block.cell.id, test, item.expectation, passed, test != "*"
        return
    for item in judged:
        passed = item.record is not None and item.record.outcome is Outcome.PASSED
        yield item.cell.id, item.test, item.expectation, passed, item.test != "*"


def build(result: GateResult, matrix: Matrix) -> dict[str, Any]:
    """The snapshot of a gate's result as the JSON report's `expectations` value."""
    default = key_of(Expectation(outcomes=matrix.default))
    phase_tests: dict[str, set[str]] = {}
    cells: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[ExpKey, list[str]]] = {}
    for cell_id, test, expectation, passed, judged in _items(result):
        entry = cells.setdefault(cell_id, {"not_passed": []})
        if not judged:
            entry["no_results"] = True
            continue
        phase_tests.setdefault(cell_id.split("/", 1)[0], set()).add(test)
        if not passed:
            entry["not_passed"].append(test)
        key = key_of(expectation)
        if key != default:
            groups.setdefault(cell_id, {}).setdefault(key, []).append(test)
    for cell_id, by_key in groups.items():
        cells[cell_id]["rules"] = sorted(
            (_group_json(key, tests) for key, tests in by_key.items()),
            key=lambda g: json.dumps(g, sort_keys=True),
        )
    for entry in cells.values():
        entry["not_passed"] = sorted(entry["not_passed"])
    return {
        "schema": SNAPSHOT_SCHEMA,
        "matrix_digest": matrix.digest,
        "default": _group_json(default, []),
        "phase_tests": {phase: sorted(tests) for phase, tests in sorted(phase_tests.items())},
        "cells": {cell_id: cells[cell_id] for cell_id in sorted(cells)},
    }


def _group_json(key: ExpKey, tests: list[str]) -> dict[str, Any]:
    words, raises, match, rule = key
    out: dict[str, Any] = {"expected": sorted(words)}
    if raises is not None:
        out["raises"] = raises
    if match is not None:
        out["match"] = match
    if rule is not None:
        out["rule"] = rule
    if tests:
        out["tests"] = sorted(tests)
    return out


def read(data: Mapping[str, Any]) -> Snapshot:
    """The snapshot from plain data; ValueError naming the key when it is damaged."""
    snap = data.get(KEY)
    if not isinstance(snap, Mapping):
        msg = f"it has no `{KEY}` object (a report of migmatrix before baselines, or not one)"
        raise ValueError(msg)
    if snap.get("schema") != SNAPSHOT_SCHEMA:
        msg = f"`{KEY}.schema` is {snap.get('schema')!r}, not {SNAPSHOT_SCHEMA!r}"
        raise ValueError(msg)
    digest = _typed(snap, "matrix_digest", str)
    default = _key(_typed(snap, "default", Mapping), f"{KEY}.default")
    phase_tests = {
        phase: frozenset(_strings(tests, f"{KEY}.phase_tests.{phase}"))
        for phase, tests in _typed(snap, "phase_tests", Mapping).items()
    }
    expected: dict[str, dict[str, ExpKey]] = {}
    not_passed: dict[str, frozenset[str]] = {}
    judged: set[str] = set()
    for cell_id, entry in _typed(snap, "cells", Mapping).items():
        where = f"{KEY}.cells.{cell_id}"
        if not isinstance(entry, Mapping):
            msg = f"`{where}` is not an object"
            raise ValueError(msg)
        if entry.get("no_results") is True:
            continue
        judged.add(cell_id)
        not_passed[cell_id] = frozenset(
            _strings(entry.get("not_passed", []), f"{where}.not_passed")
        )
        groups = entry.get("rules", [])
        if not isinstance(groups, list):
            msg = f"`{where}.rules` is not a list"
            raise ValueError(msg)
        for i, group in enumerate(groups):
            if not isinstance(group, Mapping):
                msg = f"`{where}.rules[{i}]` is not an object"
                raise ValueError(msg)
            key = _key(group, f"{where}.rules[{i}]")
            for test in _strings(group.get("tests", []), f"{where}.rules[{i}].tests"):
                expected.setdefault(cell_id, {})[test] = key
    return Snapshot(digest, default, phase_tests, expected, not_passed, frozenset(judged))


def _typed(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        msg = f"`{KEY}.{key}` is missing or not a {kind.__name__.lower()}"
        raise ValueError(msg)
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"`{where}` is not a list of strings"
        raise ValueError(msg)
    return value


def _key(group: Mapping[str, Any], where: str) -> ExpKey:
    words = _strings(group.get("expected"), f"{where}.expected")
    for word in words:
        try:
            Expected.from_str(word)
        except ValueError as exc:
            msg = f"`{where}.expected`: {exc}"
            raise ValueError(msg) from None
    raises, match, rule = group.get("raises"), group.get("match"), group.get("rule")
    if raises is not None and not isinstance(raises, str):
        msg = f"`{where}.raises` is not a string"
        raise ValueError(msg)
    if match is not None and not isinstance(match, str):
        msg = f"`{where}.match` is not a string"
        raise ValueError(msg)
    if rule is not None and (not isinstance(rule, int) or isinstance(rule, bool)):
        msg = f"`{where}.rule` is not an integer"
        raise ValueError(msg)
    return (frozenset(words), raises, match, rule)


def load_baseline(path: str, digest: str) -> Snapshot:
    """The snapshot in a previous gate's JSON report; UsageError (exit 2) when unusable."""
    fix = "give the JSON report (`migmatrix gate --json`) of a gate of this matrix"
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        msg = f"baseline {path!r} does not exist; {fix}"
        raise UsageError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read baseline {path!r}: {exc}; {fix}"
        raise UsageError(msg) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        msg = f"baseline {path!r} is damaged: not JSON at {where} ({exc.msg}); {fix}"
        raise UsageError(msg) from None
    if not isinstance(data, Mapping):
        msg = f"baseline {path!r} is damaged: not a JSON object; {fix}"
        raise UsageError(msg)
    try:
        snapshot = read(data)
    except ValueError as exc:
        msg = f"baseline {path!r} is damaged: {exc}; {fix}"
        raise UsageError(msg) from None
    if snapshot.digest != digest:
        msg = (
            f"baseline {path!r} is from another matrix (digest {snapshot.digest[:12]}, this "
            f"matrix {digest[:12]}): its axes, phases, adapters, envs, include, exclude or "
            "limits differ, so its cells are not these; gate without --baseline once the "
            "default branch has a report of this matrix"
        )
        raise UsageError(msg)
    return snapshot
