"""Build the typed `Matrix` from schema-valid data, checking what a schema cannot.

This is the third layer of loading (after YAML and the JSON Schema): suite folders
exist, names referenced by include/exclude/rules/states/rollback paths exist,
regexes compile, excludes leave a cell. Adapter objects are not imported here:
that is the run side's job, when a cell needs its adapter.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from migmatrix.errors import MatrixError
from migmatrix.load.digest import digest
from migmatrix.load.environment import environment_fields
from migmatrix.load.until import EXPIRED, until_date
from migmatrix.load.yamldoc import Doc, KeyPath, dotted
from migmatrix.match import adapter_matches, glob_match, is_glob
from migmatrix.model import (
    AdapterSpec,
    CellFilter,
    ComponentSpec,
    CoverageRule,
    EnvSpec,
    ExpectRule,
    GateSpec,
    Matrix,
    PhaseSpec,
    ServiceSpec,
)
from migmatrix.outcomes import UNEXPECTED_VERDICTS, Expected, Verdict
from migmatrix.plan import plan_cells
from migmatrix.sizes import parse_size
from migmatrix.sweep import (
    ROLLBACK_KEYWORDS,
    expand_adapter,
    rollback_pairs,
    state_count,
    too_many_states,
)
from migmatrix.text import closest, shorten

MAX_CELLS = 50_000
"""Cells the full product of the axes may have, before excludes: this repository's has
1,512; a few thousand is a large matrix. Past the cap, planning alone would take minutes
and gigabytes (60 entries on each axis is 13 million cells from a 3 KB file)."""


class Builder:
    """Turns schema-valid data into the model, checking what a schema cannot."""

    def __init__(self, doc: Doc, path: Path) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.path = path
        self.root = str(path.parent)

    def fail(self, message: str, path: KeyPath, *, at_key: bool = False) -> MatrixError:
        loc = self.doc.key_at(path) if at_key else self.doc.at(path)
        return MatrixError(message, loc, dotted(path))

    def build(self) -> Matrix:
        data = self.data
        python = tuple(data["python"])
        phases = self.phases()
        adapters = self.adapters()
        envs = self.envs()
        self.check_size(python, phases, adapters, envs)
        known = _Names(python, phases, adapters, envs)
        include = self.filters("include", known)
        exclude = self.filters("exclude", known)
        expect = data.get("expect", {})
        default = _outcomes(expect.get("default", "pass"))
        rules = self.rules(expect.get("rules", []), known)
        gates = self.gates(data.get("gates", {}))
        matrix = Matrix(
            path=str(self.path),
            root=self.root,
            digest=digest(data),
            python=python,
            phases=phases,
            adapters=adapters,
            envs=envs,
            include=include,
            exclude=exclude,
            default=default,
            rules=rules,
            gates=gates,
            timeout=float(data.get("timeout", 300.0)),
            rollback_paths=self.rollback(data.get("rollback", {}), known),
            memory=self.memory(data, ("memory",)),
        )
        self.check_not_empty(matrix)
        return matrix

    def memory(self, data: Any, where: KeyPath) -> int | None:
        """A `memory:` limit in bytes (`sizes.parse_size`), or None when not given."""
        value = data.get(where[-1])
        if value is None:
            return None
        try:
            return parse_size(value)
        except ValueError as exc:
            msg = f"memory limit {shorten(repr(value))}: {exc}"
            raise self.fail(msg, where) from None

    def phases(self) -> tuple[PhaseSpec, ...]:
        out = []
        for name, value in self.data["phases"].items():
            rel = value if isinstance(value, str) else value["path"]
            where: KeyPath = (
                ("phases", name) if isinstance(value, str) else ("phases", name, "path")
            )
            folder = Path(self.root, rel)
            try:
                is_dir = folder.is_dir()
                what = "is not a folder" if folder.exists() else "does not exist"
            except OSError as exc:
                # A name too long for the file system, say: a path that cannot name a folder.
                is_dir, what = False, f"cannot be a folder ({exc.strerror})"
            if not is_dir:
                msg = (
                    f"suite folder {_q(rel)} {what} (looked for {shorten(str(folder))}); create "
                    "it or fix the path, which is relative to the matrix file"
                )
                raise self.fail(msg, where)
            memory = (
                None if isinstance(value, str) else self.memory(value, ("phases", name, "memory"))
            )
            out.append(PhaseSpec(name, rel, self.doc.key_at(("phases", name)), memory))
        return tuple(out)

    def adapters(self) -> tuple[AdapterSpec, ...]:
        out = []
        for name, value in self.data["adapters"].items():
            base: KeyPath = ("adapters", name)
            components = []
            seen: set[str] = set()
            for i, comp in enumerate(value.get("components", [])):
                if comp["name"] in seen:
                    msg = f"component {_q(comp['name'])} is declared twice; remove one"
                    raise self.fail(msg, (*base, "components", i, "name"))
                seen.add(comp["name"])
                components.append(ComponentSpec(comp["name"], tuple(comp.get("features", []))))
            sweep = value.get("sweep")
            states_raw = value.get("states", [])
            if (sweep or states_raw) and not components:
                word = "sweep" if sweep else "states"
                msg = f"`{word}` needs `components` to choose from; declare the components"
                raise self.fail(msg, (*base, word), at_key=True)
            if sweep and states_raw:
                msg = "give either `sweep` or `states`, not both"
                raise self.fail(msg, (*base, "states"), at_key=True)
            if sweep:
                too_many = too_many_states(len(components), sweep)
                if too_many:
                    raise self.fail(too_many, (*base, "sweep"))
            states = []
            seen_states: dict[frozenset[str], int] = {}
            for i, state in enumerate(states_raw):
                for j, comp_name in enumerate(state):
                    if comp_name not in seen:
                        declared = ", ".join(c.name for c in components)
                        msg = (
                            f"state names component {_q(comp_name)}, which adapter {_q(name)} does "
                            f"not declare (components: {shorten(declared)})"
                            f"{closest(comp_name, seen)}"
                        )
                        raise self.fail(msg, (*base, "states", i, j))
                key = frozenset(state)
                if key in seen_states:
                    shown = shorten(str(sorted(state)))
                    msg = f"state {shown} is listed twice (also as entry {seen_states[key]})"
                    raise self.fail(msg, (*base, "states", i))
                seen_states[key] = i
                states.append(tuple(state))
            if components and not sweep and not states:
                msg = (
                    "components need `sweep: chain` (the rollout order), `pairwise`, `all`, "
                    "or explicit `states: [[...], ...]` to say which states become cells"
                )
                raise self.fail(msg, (*base, "components"), at_key=True)
            out.append(
                AdapterSpec(
                    name=name,
                    object=value.get("object", ""),
                    features=tuple(value.get("features", [])),
                    components=tuple(components),
                    sweep=sweep,
                    states=tuple(states),
                    location=self.doc.key_at(base),
                    object_location=self.doc.at((*base, "object")),
                    memory=self.memory(value, (*base, "memory")),
                    **environment_fields(value, base, self.fail),
                )
            )
        return tuple(out)

    def envs(self) -> tuple[EnvSpec, ...]:
        out = []
        for name, value in self.data["envs"].items():
            service = None
            if "service" in value:
                s = value["service"]
                defaults = ServiceSpec(command=(), health="")
                service = ServiceSpec(
                    command=tuple(s["command"]),
                    health=s["health"],
                    url=s.get("url", defaults.url),
                    env=tuple(s.get("env", {}).items()),
                    startup_timeout=float(s.get("startup_timeout", defaults.startup_timeout)),
                    url_env=s.get("url_env", defaults.url_env),
                )
            out.append(
                EnvSpec(
                    name, tuple(value.get("features", [])), service, self.doc.key_at(("envs", name))
                )
            )
        return tuple(out)

    def filters(self, section: str, known: _Names) -> tuple[CellFilter, ...]:
        out = []
        for i, item in enumerate(self.data.get(section, [])):
            for axis, pattern in item.items():
                self.check_selector(known, axis, pattern, (section, i, axis))
            out.append(_cell_filter(item))
        return tuple(out)

    def check_selector(self, known: _Names, axis: str, pattern: str, path: KeyPath) -> None:
        """A selector naming nothing that exists is a typo, not a rule for later."""
        if axis == "adapter":
            found = any(
                adapter_matches(pattern, state, base) for base, state in known.adapter_states
            )
            names = [base for base, _ in known.adapter_states] + [
                state for base, state in known.adapter_states if state != base
            ]
        else:
            names = list(known.axis(axis))
            found = any(glob_match(pattern, n) for n in names)
        if found:
            return
        shown = shorten(", ".join(dict.fromkeys(names)))
        if is_glob(pattern):
            msg = f"the glob {_q(pattern)} matches no {axis} (known: {shown})"
        else:
            msg = f"unknown {axis} {_q(pattern)} (known: {shown}){closest(pattern, names)}"
        raise self.fail(msg, path)

    def rules(self, raw: list[dict[str, Any]], known: _Names) -> tuple[ExpectRule, ...]:
        out = []
        for i, item in enumerate(raw):
            base: KeyPath = ("expect", "rules", i)
            for axis in ("phase", "adapter", "env", "python"):
                if axis in item:
                    self.check_selector(known, axis, item[axis], (*base, axis))
            for word in ("requires", "unless"):
                for j, feature in enumerate(item.get(word, [])):
                    if feature not in known.features:
                        msg = (
                            f"no adapter, component or env declares the feature {_q(feature)}, "
                            "so this rule could never "
                            f"{'apply' if word == 'requires' else 'be switched off'} (declared "
                            f"features: {shorten(', '.join(sorted(known.features))) or 'none'})"
                            f"{closest(feature, known.features)}"
                        )
                        raise self.fail(msg, (*base, word, j))
            both = set(item.get("requires", [])) & set(item.get("unless", []))
            if both:
                msg = (
                    f"feature {_q(sorted(both)[0])} is both required and excluded (`unless`), so "
                    "this rule can never apply; keep it in one of the two lists"
                )
                raise self.fail(msg, (*base, "unless"), at_key=True)
            if "match" in item:
                try:
                    re.compile(item["match"])
                except re.error as exc:
                    msg = (
                        f"`match` is not a valid regular expression: {exc}; escape special "
                        "characters with a backslash, e.g. \\( or \\["
                    )
                    raise self.fail(msg, (*base, "match")) from None
            out.append(
                ExpectRule(
                    index=i,
                    where=_cell_filter(item),
                    test=item.get("test"),
                    requires=tuple(item.get("requires", [])),
                    unless=tuple(item.get("unless", [])),
                    outcomes=_outcomes(item["outcome"]),
                    raises=item.get("raises"),
                    match=item.get("match"),
                    bug=item.get("bug"),
                    owner=item.get("owner"),
                    reason=item.get("reason"),
                    location=self.doc.at(base),
                    until=self.until(item.get("until"), (*base, "until")),
                )
            )
        return tuple(out)

    def until(self, value: object, path: KeyPath) -> datetime.date | None:
        found = until_date(value)
        if found is False:
            msg = f"`until` must be a date written YYYY-MM-DD, e.g. 2026-06-30; got {_q(value)}"
            raise self.fail(msg, path)
        return found

    def rollback(self, raw: dict[str, Any], known: _Names) -> tuple[tuple[str, str], ...]:
        """The declared rollback paths; each must name states and switch at least one."""
        out = []
        swept = [spec.name for spec in known.adapters if spec.components]
        for i, item in enumerate(raw.get("paths", [])):
            base: KeyPath = ("rollback", "paths", i)
            frm, to = item["from"], item["to"]
            self.check_selector(known, "adapter", frm, (*base, "from"))
            if to in ROLLBACK_KEYWORDS:
                if not swept:
                    msg = (
                        f"`to: {to}` steps back along a rollout, but no adapter declares "
                        "`components`; name the target state instead, e.g. `to: deprecated`"
                    )
                    raise self.fail(msg, (*base, "to"))
            else:
                self.check_selector(known, "adapter", to, (*base, "to"))
            pairs = rollback_pairs(known.adapters, [(frm, to)])
            if not pairs:
                msg = (
                    f"the path from {_q(frm)} to {_q(to)} switches nothing: no state it names "
                    "differs from the state it starts in by a migrated component; "
                    "fix `from` or `to`, or remove the path"
                )
                raise self.fail(msg, base)
            out.append((frm, to))
        return tuple(out)

    def gates(self, raw: dict[str, Any]) -> GateSpec:
        if "fail_on" in raw:
            fail_on = frozenset(Verdict(v) for v in raw["fail_on"] if v != EXPIRED)
        else:
            fail_on = UNEXPECTED_VERDICTS
        coverage = []
        seen: set[str] = set()
        for i, item in enumerate(raw.get("coverage", [])):
            if item["name"] in seen:
                msg = f"coverage rule {_q(item['name'])} is declared twice; give each a unique name"
                raise self.fail(msg, ("gates", "coverage", i, "name"))
            seen.add(item["name"])
            files = item["files"]
            min_percent = item.get("min_percent")
            coverage.append(
                CoverageRule(
                    name=item["name"],
                    files=(files,) if isinstance(files, str) else tuple(files),
                    cells=item.get("cells", "*"),
                    max_lines=item.get("max_lines"),
                    min_percent=None if min_percent is None else float(min_percent),
                    location=self.doc.at(("gates", "coverage", i)),
                )
            )
        expired = EXPIRED in raw.get("fail_on", ())
        return GateSpec(fail_on=fail_on, coverage=tuple(coverage), fail_on_expired=expired)

    def check_size(
        self,
        python: tuple[str, ...],
        phases: tuple[PhaseSpec, ...],
        adapters: tuple[AdapterSpec, ...],
        envs: tuple[EnvSpec, ...],
    ) -> None:
        """Refuse a product of the axes past `MAX_CELLS`, at the longest axis, before planning."""
        sizes = {
            "python": len(python),
            "phases": len(phases),
            "adapters": sum(state_count(spec) for spec in adapters),
            "envs": len(envs),
        }
        cells = math.prod(sizes.values())
        if cells <= MAX_CELLS:
            return
        longest = max(sizes, key=sizes.__getitem__)
        msg = (
            f"the matrix spans {cells:,} cells ({sizes['phases']} phases x {sizes['adapters']} "
            f"adapter states x {sizes['envs']} envs x {sizes['python']} pythons), more than "
            f"{MAX_CELLS:,}; split it into several matrix files, or shorten the longest axis "
            f"(`{longest}`, with {sizes[longest]:,} entries), e.g. with `sweep: pairwise`"
        )
        raise self.fail(msg, (longest,), at_key=True)

    def check_not_empty(self, matrix: Matrix) -> None:
        if plan_cells(matrix):
            return
        lone = dataclasses.replace(matrix, include=())
        for i, item in enumerate(matrix.exclude):
            if not plan_cells(dataclasses.replace(lone, exclude=(item,))):
                msg = (
                    "this exclude removes every cell of the matrix; narrow it (name a phase, "
                    "adapter, env or python) or add an include"
                )
                raise self.fail(msg, ("exclude", i))
        msg = (
            "together the excludes remove every cell of the matrix; narrow them or add an "
            "include for the cells you want"
        )
        raise self.fail(msg, ("exclude",), at_key=True)


@dataclasses.dataclass(frozen=True)
class _Names:
    """Everything a selector or feature list may refer to."""

    python: tuple[str, ...]
    phases: tuple[PhaseSpec, ...]
    adapters: tuple[AdapterSpec, ...]
    envs: tuple[EnvSpec, ...]

    def axis(self, axis: str) -> tuple[str, ...]:
        if axis == "phase":
            return tuple(p.name for p in self.phases)
        if axis == "env":
            return tuple(e.name for e in self.envs)
        return self.python

    @functools.cached_property
    def adapter_states(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (spec.name, state) for spec in self.adapters for state, _, _ in expand_adapter(spec)
        )

    @functools.cached_property
    def features(self) -> frozenset[str]:
        found: set[str] = set()
        for spec in self.adapters:
            found.update(spec.features)
            for comp in spec.components:
                found.update(comp.features)
        for env in self.envs:
            found.update(env.features)
        return frozenset(found)


def _q(value: object) -> str:
    """A user's value quoted in a message, cut to a readable length."""
    return shorten(repr(value))


def _cell_filter(item: Mapping[str, Any]) -> CellFilter:
    return CellFilter(
        phase=item.get("phase"),
        adapter=item.get("adapter"),
        env=item.get("env"),
        python=item.get("python"),
    )


def _outcomes(value: str | list[str]) -> frozenset[Expected]:
    words = [value] if isinstance(value, str) else value
    return frozenset(Expected(w) for w in words)
