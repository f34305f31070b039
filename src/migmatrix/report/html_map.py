"""The migration map of gate.html: the page's main grid, drawn once in plain HTML.

The same map as the terminal and Markdown reports (`migration_map`): a row per
adapter state in rollout order, a column per env inside each phase, one mark per
position. Where a position's mark changes from the nearest planned state above
(a phase flips from failing as it must to passing, or back), the cell is marked
as a flip with a heavy top edge, so the rollout's turning points stand out.

This module writes the map as static HTML, so the page reads without
JavaScript. The page's script (html_assets/report.js) then redraws the same
table, with the same classes and marks, from the data blob: every position
becomes a button that lists its items, and the filters (Python, phase, state,
env, only unexpected, search) act on it. `MARK_DATA` is what the script needs to
draw a mark exactly as `map_table` does. Every name is escaped.
"""

from __future__ import annotations

import html

from migmatrix.report.migration_map import (
    UNICODE_MARKS,
    Mark,
    MigrationMap,
    env_labels,
    python_span,
    pythons_line,
)

_CLASS = {mark: f"m-{mark.name.lower().replace('_', '-')}" for mark in Mark}
# Where Pythons (or split blocks of one cell) disagree on a position, the page
# shows the mark that most needs a look, the first of this order it has.
MERGE_ORDER = (
    Mark.UNEXPECTED,
    Mark.FLAKY,
    Mark.REPRODUCED,
    Mark.PASSED,
    Mark.UNAVAILABLE,
    Mark.NOT_PLANNED,
)
# The marks as the script draws them, in `Mark` order (a cell's "mk" indexes this).
MARK_DATA = [
    {
        "name": mark.value,
        "cls": _CLASS[mark],
        "sym": UNICODE_MARKS[mark],
        "rank": MERGE_ORDER.index(mark),
    }
    for mark in Mark
]
MARK_INDEX = {mark: i for i, mark in enumerate(Mark)}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def map_intro(found: MigrationMap) -> str:
    """The map's heading, what Pythons it stands for, and its legend."""
    legend = " ".join(
        f'<span class="{_CLASS[mark]}"><span class="mark">{UNICODE_MARKS[mark]}</span> '
        f"{_esc(mark.value)}</span>"
        for mark in Mark
    )
    pythons = pythons_line(found) if found.states else "no results"
    return (
        "<h2>Migration map</h2>\n"
        f'<p id="map-pythons">{_esc(pythons)}</p>\n'
        f'<p class="legend">{legend} <span class="flip-key">heavy top edge: the mark '
        'flips from the planned state above</span> <span class="mixed-key">'
        "<sup>*</sup> the Pythons differ here</span></p>\n"
    )


def map_differences(found: MigrationMap) -> str:
    """Every group of Pythons that differs from the drawn map, with its positions."""
    out = []
    for group in found.others:
        named = python_span(group.pythons, found.pythons)
        out.append(
            f'<p class="map-diff">{_esc(named)} differs from the map at '
            f"{len(group.differences)} position(s):</p>\n<ul>\n"
        )
        for d in group.differences:
            out.append(
                f"<li>{_esc(d.state)} {_esc(d.phase)}/{_esc(d.env)}: "
                f'<span class="{_CLASS[d.mine]}">{UNICODE_MARKS[d.mine]} {_esc(d.mine.value)}'
                f"</span> (map: {_esc(d.shown.value)})</li>\n"
            )
        out.append("</ul>\n")
    return "".join(out)


def map_table(found: MigrationMap) -> str:
    """The map as a table: states as rows, phases (envs inside) as columns, flips marked."""
    if not found.states:
        return '<p class="empty">no results</p>\n'
    envs = list(dict.fromkeys(env for _, envs in found.columns for env in envs))
    labels = env_labels(envs)
    out = ['<table class="map" id="map-table">\n<thead><tr><th rowspan="2">state</th>']
    out.extend(
        f'<th colspan="{len(here)}" class="ph">{_esc(phase)}</th>' for phase, here in found.columns
    )
    out.append("</tr>\n<tr>")
    out.extend(
        f'<th class="env{" p0" if i == 0 else ""}" title="{_esc(env)}">{_esc(labels[env])}</th>'
        for _, here in found.columns
        for i, env in enumerate(here)
    )
    out.append("</tr></thead>\n<tbody>\n")
    # The last planned mark of each column: a flip is told against it, so a phase
    # that skips states (staging on a few only) still shows where it turns.
    above: dict[tuple[str, str], Mark] = {}
    for state in found.states:
        out.append(f'<tr><th class="state">{_esc(state)}</th>')
        for phase, here in found.columns:
            for i, env in enumerate(here):
                mark = found.mark(state, phase, env)
                classes = [_CLASS[mark]]
                if i == 0:
                    classes.append("p0")
                if flips(above.get((phase, env), Mark.NOT_PLANNED), mark):
                    classes.append("flip")
                if mark is not Mark.NOT_PLANNED:
                    above[phase, env] = mark
                title = f"{state} · {phase}/{env}: {mark.value}"
                out.append(
                    f'<td class="{" ".join(classes)}" title="{_esc(title)}">'
                    f"{UNICODE_MARKS[mark]}</td>"
                )
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def flips(before: Mark, after: Mark) -> bool:
    """A change of mark between two planned positions (not planned is no flip)."""
    return before is not after and Mark.NOT_PLANNED not in (before, after)
