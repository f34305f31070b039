"""The migration map as a static HTML table, at the top of gate.html.

The same map as the terminal and Markdown reports (`migration_map`): a row per
adapter state in rollout order, a column per env inside each phase, one mark per
position. Where a position's mark changes from the state above (a phase flips
from failing as it must to passing, or back), the cell is marked as a flip with
a heavy top edge, so the rollout's turning points stand out. It is plain HTML,
written here, so it reads without JavaScript; the interactive grid and its
drill-down follow it. Every name is escaped.
"""

from __future__ import annotations

import html

from migmatrix.model import GateResult
from migmatrix.report.migration_map import (
    UNICODE_MARKS,
    Mark,
    MigrationMap,
    build_map,
    env_labels,
    python_span,
    pythons_line,
)

_CLASS = {mark: f"m-{mark.name.lower().replace('_', '-')}" for mark in Mark}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def map_html(result: GateResult) -> str:
    """The map's section, or nothing when no cell was judged."""
    found = build_map(result)
    if not found.states:
        return ""
    legend = " ".join(
        f'<span class="{_CLASS[mark]}"><span class="mark">{UNICODE_MARKS[mark]}</span> '
        f"{_esc(mark.value)}</span>"
        for mark in Mark
    )
    out = [
        '<section id="map">\n<h2>Migration map</h2>\n',
        f'<p id="map-pythons">{_esc(pythons_line(found))}</p>\n',
        f'<p class="legend">{legend} <span class="flip-key">heavy top edge: the mark '
        "flips from the state above</span></p>\n",
        _table(found),
    ]
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
    out.append("</section>\n")
    return "".join(out)


def _table(found: MigrationMap) -> str:
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
    above: str | None = None
    for state in found.states:
        out.append(f'<tr><th class="state">{_esc(state)}</th>')
        for phase, here in found.columns:
            for i, env in enumerate(here):
                mark = found.mark(state, phase, env)
                classes = [_CLASS[mark]]
                if i == 0:
                    classes.append("p0")
                if above is not None and _flips(found.mark(above, phase, env), mark):
                    classes.append("flip")
                title = f"{state} · {phase}/{env}: {mark.value}"
                out.append(
                    f'<td class="{" ".join(classes)}" title="{_esc(title)}">'
                    f"{UNICODE_MARKS[mark]}</td>"
                )
        out.append("</tr>\n")
        above = state
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def _flips(before: Mark, after: Mark) -> bool:
    """A change of mark between two planned positions (not planned is no flip)."""
    return before is not after and Mark.NOT_PLANNED not in (before, after)
