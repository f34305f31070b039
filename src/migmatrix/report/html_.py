"""The self-contained HTML gate report: one file, no network, readable offline.

The page has two halves. The summary at the top (verdict, counts, Pythons, run
time, coverage, problems) is plain HTML written here, and so is the migration
map (`html_map`), the page's main grid, so both read even without JavaScript. A
small script (html_assets/report.js) then redraws the map from ONE JSON blob in
a `<script type="application/json">` element: a click on a position lists its
items, and the filters act on the map and the list.

The blob is columnar so that 300,000 results stay a few megabytes: repeated
strings (messages, details, expectation words) live once in a string table, the
combination (expectation, outcome, verdict, exception type, note) is interned as
a small "kind" number, results are grouped by cell so a cell is a range, and test
ids are stored as deltas into a sorted test table (mostly the digit 1).

Test names and messages are data, never markup: the blob escapes `<`, `>` and
`&` (so `</script>` cannot end the element), the script only ever uses
textContent, and a Content-Security-Policy with the hashes of the page's own
script and style forbids every other script and every network request.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import operator
import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from migmatrix.model import Cell, GateResult, Judged
from migmatrix.outcomes import ExitCode, Outcome, Verdict
from migmatrix.report.html_map import (
    MARK_DATA,
    MARK_INDEX,
    map_differences,
    map_intro,
    map_table,
)
from migmatrix.report.migration_map import build_map, cell_marks, env_labels
from migmatrix.report.summary import judgements, summarize, verdict_totals
from migmatrix.text import excerpt

SCHEMA = "migmatrix-html/1"
# The page lists at most this many data problems; the JSON report keeps them all.
PROBLEM_LIMIT = 200
PAGE_SIZE = 100

_MARK = {"ok": "\u2713", "warn": "!", "bad": "\u2717"}
_BANNER = {
    ExitCode.OK: ("PASSED", "ok"),
    ExitCode.GATE_FAILED: ("FAILED", "bad"),
    ExitCode.INCOMPLETE: ("INCOMPLETE", "warn"),
}
# JSON escapes that keep the blob inert inside <script>: no tag can open or close.
_BLOB_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def render_html(
    result: GateResult,
    *,
    title: str = "migmatrix gate report",
    coverage_html: str | None = None,
) -> str:
    """Return the whole report page for `result` as a string.

    `coverage_html` is a link (a path relative to the report, or an http(s) URL)
    to coverage.py's HTML report. The same input always gives the same bytes.
    """
    href = _checked_href(coverage_html)
    js = _asset("report.js")
    css = _asset("report.css")
    blob = dump_blob(build_data(result))
    found = build_map(result)
    csp = (
        "default-src 'none'; "
        f"script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<link rel="icon" href="data:,">\n',
        f"<title>{_esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n",
        _summary_html(result, title, href),
        '<section id="map">\n<div id="map-view">\n',
        map_intro(found),
        '<div class="controls" id="controls"></div>\n',
        f'<div id="grid">\n{map_table(found)}</div>\n</div>\n',
        map_differences(found),
        '<h2>Results</h2>\n<div id="list"></div>\n',
        '<noscript><p class="empty">Clicking a position to list its results, and the '
        "filters, need JavaScript; the map and the summary are complete without it."
        "</p></noscript>\n</section>\n",
        f'<script type="application/json" id="data">{blob}</script>\n',
        f"<script>{js}</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


def write_html(result: GateResult, path: str | os.PathLike[str], **kw: Any) -> None:
    """Write the report to `path` (UTF-8), atomically.

    A `coverage_html` given as an existing absolute file path is turned into a
    path relative to the report's folder, so the pair can be moved together.
    """
    target = Path(path)
    cov = kw.get("coverage_html")
    if cov is not None and os.path.isabs(cov):
        rel = os.path.relpath(cov, start=target.resolve().parent)
        kw["coverage_html"] = quote(Path(rel).as_posix())
    text = render_html(result, **kw)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, target)


# --------------------------------------------------------------------------- data blob


class _Table:
    """Interns strings (or tuples) to stable small integers in order of first use."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.items: list[Any] = []

    def add(self, item: Any) -> int:
        found = self.index.get(item)
        if found is None:
            found = self.index[item] = len(self.items)
            self.items.append(item)
        return found


def _axis(given: Sequence[str], seen: Iterable[str]) -> list[str]:
    """The display order of one axis: as given, then any value the results add, sorted."""
    order = list(dict.fromkeys(given))
    known = set(order)
    order += sorted({v for v in seen if v not in known})
    return order


def _verdict_class(verdict: Verdict, fail_on: frozenset[Verdict]) -> str:
    # Colour and mark follow the gate: red fails it, amber is unexpected but tolerated.
    if verdict.expected:
        return "ok"
    return "bad" if verdict in fail_on else "warn"


def _note(judged: Judged) -> str:
    """Why this expectation holds (bug, owner, reason, rule); empty for the plain default."""
    exp = judged.expectation
    bits = []
    if exp.bug:
        bits.append(f"bug {exp.bug}")
    if exp.owner:
        bits.append(f"owner {exp.owner}")
    if exp.reason:
        bits.append(exp.reason)
    if exp.rule is not None:
        bits.append(f"rule #{exp.rule}")
    return " \u00b7 ".join(bits)


_TEST = operator.attrgetter("test")


def build_data(result: GateResult) -> dict[str, Any]:
    """The JSON-ready content of the report's data blob (documented in the module docstring)."""
    by_cell: dict[str, list[Judged]] = {}
    cell_of: dict[str, Cell] = {}
    for judged in result.judged:
        cid = judged.cell.id
        by_cell.setdefault(cid, []).append(judged)
        cell_of.setdefault(cid, judged.cell)
    cells = list(cell_of.values())
    axes = {
        "phase": _axis(result.phases, (c.phase for c in cells)),
        "adapter": _axis(result.adapters, (c.adapter for c in cells)),
        "env": _axis(result.envs, (c.env for c in cells)),
        "python": _axis(result.pythons, (c.python for c in cells)),
    }
    pos = {name: {v: i for i, v in enumerate(values)} for name, values in axes.items()}
    labels = env_labels(axes["env"])

    def cell_key(c: Cell) -> tuple[int, int, int, int, str]:
        return (
            pos["phase"][c.phase],
            pos["adapter"][c.adapter],
            pos["env"][c.env],
            pos["python"][c.python],
            c.id,
        )

    cells.sort(key=cell_key)
    mark_of = {cell.id: MARK_INDEX[mark] for cell, mark in cell_marks(result).items()}
    tests = sorted({test for block in judgements(result) for test in block.tests})
    test_pos = {t: i for i, t in enumerate(tests)}
    verdicts = list(Verdict)
    verdict_pos = {v: i for i, v in enumerate(verdicts)}
    outcome_pos = {o: i for i, o in enumerate(Outcome)}
    strings = _Table()
    kinds = _Table()
    col_k: list[int] = []
    col_t: list[int] = []
    col_d: list[int] = []
    col_m: list[int] = []
    col_x: list[int] = []
    cell_rows: list[dict[str, Any]] = []
    # Identity-keyed lookups: hashing an enum member runs Python code, and most items
    # share their expectation, outcome, verdict and exception (so their `kind`).
    verdict_at = {id(v): i for v, i in verdict_pos.items()}
    kind_of: dict[tuple[int, int, int, str | None], int] = {}
    for cell in cells:
        rows = sorted(by_cell[cell.id], key=_TEST)
        counts = [0] * len(verdicts)
        prev = 0
        cell_rows.append(
            {
                "id": cell.id,
                "p": pos["phase"][cell.phase],
                "a": pos["adapter"][cell.adapter],
                "e": pos["env"][cell.env],
                "y": pos["python"][cell.python],
                "mk": mark_of[cell.id],
                "s": len(col_k),
                "n": len(rows),
                "vc": counts,
            }
        )
        for j in rows:
            rec = j.record
            exc = rec.exc_type if rec is not None else None
            verdict = j.verdict
            key = (id(j.expectation), -1 if rec is None else id(rec.outcome), id(verdict), exc)
            k = kind_of.get(key)
            if k is None:
                # The first item of its kind adds the kind's strings, in the same order
                # as ever; later ones would only find them in the table.
                note = _note(j)
                kind = (
                    strings.add(j.expectation.describe()),
                    -1 if rec is None else outcome_pos[rec.outcome],
                    verdict_pos[verdict],
                    -1 if not exc else strings.add(exc),
                    strings.add(note) if note else -1,
                )
                k = kind_of[key] = kinds.add(kind)
            col_k.append(k)
            t = test_pos[j.test]
            col_t.append(t - prev)
            prev = t
            col_d.append(0 if rec is None else round(rec.duration * 1000))
            col_m.append(strings.add(excerpt(rec.message)) + 1 if rec and rec.message else 0)
            col_x.append(strings.add(excerpt(j.detail)) + 1 if j.detail else 0)
            counts[verdict_at[id(verdict)]] += 1
    return {
        "schema": SCHEMA,
        "page_size": PAGE_SIZE,
        "axes": axes,
        "verdicts": [
            {
                "name": v.value,
                "cls": _verdict_class(v, result.fail_on),
                "unexpected": not v.expected,
            }
            for v in verdicts
        ],
        "outcomes": [o.value for o in Outcome],
        "marks": MARK_DATA,
        "env_labels": [labels[env] for env in axes["env"]],
        "strings": strings.items,
        "tests": tests,
        "kinds": [list(k) for k in kinds.items],
        "cells": cell_rows,
        "results": {"k": col_k, "t": col_t, "d": col_d, "m": col_m, "x": col_x},
    }


def dump_blob(data: dict[str, Any]) -> str:
    """Serialize `data` as JSON that is safe to place verbatim inside a <script> element.

    ASCII-only output escapes U+2028/2029 and lone surrogates; `<`, `>` and `&`
    become \\u escapes, which JSON.parse reads back as the same characters.
    """
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.translate(_BLOB_ESCAPES)


# --------------------------------------------------------------------------- html


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _asset(name: str) -> str:
    folder = resources.files("migmatrix.report").joinpath("html_assets")
    text = folder.joinpath(name).read_text(encoding="utf-8")
    if "</script" in text.lower() or "</style" in text.lower():
        msg = f"report asset {name} contains a closing tag; it cannot be inlined — remove it"
        raise ValueError(msg)
    return text


def _checked_href(href: str | None) -> str | None:
    if href is None or href == "":
        return None
    scheme = urlsplit(href).scheme.lower()
    # javascript:, data: and friends would run or embed content; a drive letter (C:) is a path
    # the browser cannot follow. Only relative paths and web URLs make a link.
    if scheme not in ("", "http", "https"):
        msg = (
            f"coverage_html {href!r} has scheme {scheme!r}; give a path relative to the "
            "report (write_html converts absolute paths) or an http(s) URL"
        )
        raise ValueError(msg)
    return href


def _fmt_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {rest:02d} s"
    return f"{minutes} min {rest:02d} s"


def _banner(exit_code: int) -> tuple[str, str]:
    try:
        return _BANNER[ExitCode(exit_code)]
    except (ValueError, KeyError):
        return ("ERROR", "bad")


def _summary_html(result: GateResult, title: str, href: str | None) -> str:
    word, cls = _banner(result.exit_code)
    counts = verdict_totals(result)
    unexpected = sum(n for v, n in counts.items() if not v.expected)
    ncells = len(summarize(result))  # one summary per cell id
    out = [
        "<header>\n",
        f"<h1>{_esc(title)}</h1>\n",
        f'<p class="banner {cls}" id="gate-verdict"><span class="mark">{_MARK[cls]}</span> '
        f'{word} <span class="code">(exit code {result.exit_code})</span></p>\n',
        '</header>\n<section id="summary">\n<div class="top">\n<dl class="facts">\n',
        f"<dt>Results</dt><dd>{len(result.judged):,} in {ncells:,} cells; "
        f"{unexpected:,} unexpected</dd>\n",
        f"<dt>Python</dt><dd>{_esc(', '.join(result.pythons) or '-')}</dd>\n",
        f"<dt>Run time</dt><dd>{_fmt_seconds(result.duration)}</dd>\n",
    ]
    total = result.coverage_total
    cov = "not measured" if total is None else f"{total:.1f} %"
    if href is not None:
        cov += f' (<a id="coverage-link" href="{_esc(href)}">coverage report</a>)'
    out.append(f"<dt>Coverage</dt><dd>{cov}</dd>\n")
    fail_on = ", ".join(v.value for v in Verdict if v in result.fail_on) or "nothing"
    out.append(f"<dt>Gate fails on</dt><dd>{_esc(fail_on)}</dd>\n")
    out.append(f"<dt>Results files</dt><dd>{len(result.sources):,}</dd>\n</dl>\n")

    out.append(
        '<div class="verdicts">\n<h2>Verdicts</h2>\n<table class="counts" id="verdict-counts">\n'
        "<thead><tr><th>verdict</th><th>count</th></tr></thead>\n<tbody>\n"
    )
    for v in Verdict:
        if counts[v]:
            vcls = _verdict_class(v, result.fail_on)
            out.append(
                f'<tr class="{vcls}"><td><span class="mark">{_MARK[vcls]}</span> '
                f'{v.value}</td><td class="n">{counts[v]:,}</td></tr>\n'
            )
    if not result.judged:
        out.append('<tr><td colspan="2" class="empty">no results</td></tr>\n')
    out.append("</tbody>\n</table>\n</div>\n</div>\n")

    if result.problems:
        out.append(f'<h2>Problems ({len(result.problems):,})</h2>\n<ul class="problems">\n')
        for p in result.problems[:PROBLEM_LIMIT]:
            out.append(f"<li>{_esc(p)}</li>\n")
        if len(result.problems) > PROBLEM_LIMIT:
            out.append(f"<li>and {len(result.problems) - PROBLEM_LIMIT:,} more</li>\n")
        out.append("</ul>\n")
    if result.coverage:
        out.append('<h2>Coverage rules</h2>\n<ul class="coverage-rules">\n')
        for cv in result.coverage:
            ccls = "warn" if cv.skipped else "ok" if cv.passed else "bad"
            out.append(
                f'<li class="{ccls}"><span class="mark">{_MARK[ccls]}</span> '
                f"{_esc(cv.rule.name)}: {_esc(cv.detail)}</li>\n"
            )
        out.append("</ul>\n")
    if result.stale_rules:
        out.append('<h2>Stale expectation rules</h2>\n<ul class="stale-rules">\n')
        for rule in result.stale_rules:
            where = ", ".join(
                f"{f.name}={getattr(rule.where, f.name)}"
                for f in dataclasses.fields(rule.where)
                if getattr(rule.where, f.name) is not None
            )
            what = f"rule #{rule.index} ({rule.location})"
            if where:
                what += f" where {where}"
            if rule.test:
                what += f" test {rule.test}"
            out.append(f"<li>{_esc(what)} matched no planned test</li>\n")
        out.append("</ul>\n")
    out.append("</section>\n")
    return "".join(out)
