"""The terminal report: the migration map, then the unexpected items by cause.

First the map (`migration_map`): a row per adapter state in rollout order, a
column per phase with its envs inside, one mark per position, so each phase's
flip from "fails, as it must" to "passes" shows at a glance. Pythons with the
same pattern share one map; others are told only where they differ. Then the
unexpected items grouped by cause (`groups`), the merge problems, stale rules
and coverage results, and one closing line with the gate's status.

The report fits a width (see `report_width`): the map splits into blocks of
phases rather than run past it, and `rich` lays out and wraps every line. The
same data at the same width, marks and colour setting gives the same bytes:
rich is handed all its settings and none of the environment. Colour is used
only when the stream is a terminal and NO_COLOR is unset, or when FORCE_COLOR is
set (https://no-color.org, https://force-color.org); without colour the text is
the same, minus the escape codes.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from migmatrix.model import CoverageVerdict, GateResult, Judged
from migmatrix.report.groups import ItemGroup, group_items, span_words
from migmatrix.report.migration_map import (
    ASCII_MARKS,
    UNICODE_MARKS,
    Difference,
    Mark,
    MigrationMap,
    build_map,
    env_labels,
    python_span,
    pythons_line,
)
from migmatrix.report.summary import coverage_words, rule_words, status, verdict_totals
from migmatrix.text import one_line

DEFAULT_WIDTH = 100
# Blanks at the end of a line, before any colour codes that close it.
_TRAILING = re.compile(r"\s+((?:\x1b\[[0-9;]*m)*)$")
FIRST_CELLS = 3  # cells of a group shown in full without --all-items
FIRST_DIFFERENCES = 20  # positions of a differing Python listed without --all-items
_STYLE = {
    Mark.PASSED: "green",
    Mark.REPRODUCED: "cyan",
    Mark.UNEXPECTED: "bold red",
    Mark.FLAKY: "yellow",
    Mark.UNAVAILABLE: "dim",
    Mark.NOT_PLANNED: "dim",
}


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour output on `stream`, by NO_COLOR / FORCE_COLOR and isatty."""
    env = os.environ if environ is None else environ
    if env.get("FORCE_COLOR"):
        return True
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def report_width(stream: TextIO, environ: Mapping[str, str] | None = None) -> int:
    """The width to fit: `COLUMNS` when set, else the terminal's on a TTY, else 100.

    COLUMNS wins over the terminal because setting it is a person asking for
    that width (shutil.get_terminal_size reads it the same way).
    """
    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        try:
            return os.get_terminal_size(stream.fileno()).columns or DEFAULT_WIDTH
        except (OSError, ValueError, io.UnsupportedOperation):
            return DEFAULT_WIDTH
    return DEFAULT_WIDTH


def can_show_unicode(stream: TextIO) -> bool:
    """Whether the stream's encoding can encode the Unicode marks (no encoding: text, yes)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "".join(UNICODE_MARKS.values()).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def render_terminal(
    result: GateResult,
    *,
    colour: bool = False,
    width: int = DEFAULT_WIDTH,
    unicode: bool = True,
    all_items: bool = False,
) -> str:
    """The whole terminal report as one string ending in a newline."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=max(width, 20),
        color_system="standard" if colour else None,
        force_terminal=colour,
        no_color=not colour,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        safe_box=True,
        _environ={},  # every setting is given: the environment must not change a byte
    )
    marks = UNICODE_MARKS if unicode else ASCII_MARKS
    _map(console, build_map(result), marks, max(width, 20), all_items)
    _items(console, result, all_items)
    _other_sections(console, result)
    word = status(result)
    counts = ", ".join(f"{n} {v.value}" for v, n in verdict_totals(result).items() if n)
    closing = Text(f"gate {word.upper()}", style={"passed": "green", "failed": "red"}.get(word, ""))
    closing.append(f" (exit {result.exit_code}): {counts or 'nothing judged'}")
    if coverage_words(result):
        closing.append(f"; {coverage_words(result)}")
    _say(console, closing)
    # Table rows are padded to the table's width, and a wrapped line ends in the blank
    # it broke at; trailing blanks only cost bytes, and in colour they hide before the
    # closing escape code, where a plain rstrip would not see them.
    return "".join(_TRAILING.sub(r"\1", line) + "\n" for line in buffer.getvalue().splitlines())


def _coverage_mark(verdict: CoverageVerdict) -> tuple[str, str]:
    if verdict.skipped:
        return ("not checked", "yellow")
    return ("ok", "green") if verdict.passed else ("FAILED", "red")


def _say(console: Console, text: Text | str, style: str | None = None, indent: int = 0) -> None:
    """One logical line, wrapped to the width; wrapped parts keep the line's indent."""
    line = text if isinstance(text, Text) else Text(text, style=style or "")
    line.overflow = "fold"
    console.print(Padding(line, (0, 0, 0, indent), expand=False) if indent else line)


def _map(
    console: Console, found: MigrationMap, marks: dict[Mark, str], width: int, all_items: bool
) -> None:
    if not found.states:
        return
    _say(console, f"Migration map: {pythons_line(found)}", "bold")
    # The legend's entries are packed into lines whole: a mark never wraps away from its words.
    legend = Text()
    used = 0
    for mark in Mark:
        entry = f"{marks[mark]} {mark.value}"
        if used and used + 3 + len(entry) > width:
            _say(console, legend)
            legend, used = Text(), 0
        legend.append("   " if used else "")
        legend.append(marks[mark], style=_STYLE[mark])
        legend.append(f" {mark.value}")
        used += (3 if used else 0) + len(entry)
    _say(console, legend)
    envs = [env for _, envs in found.columns for env in envs]
    labels = env_labels(list(dict.fromkeys(envs)))
    _say(console, "envs: " + ", ".join(f"{label} {env}" for env, label in labels.items()))
    console.print()
    for block in split_columns(found, labels, width):
        # Unstyled headers: a styled header pads its cells with styled blanks that
        # would survive the trailing-blank trim only in colour.
        table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, header_style="")
        table.add_column("state", overflow="fold")
        for phase, envs_here in block:
            head = f"{phase}\n{' '.join(labels[e] for e in envs_here)}"
            table.add_column(head, no_wrap=True)
        for state in found.states:
            row: list[Text | str] = [state]
            for phase, envs_here in block:
                cell = Text()
                for i, env in enumerate(envs_here):
                    mark = found.mark(state, phase, env)
                    cell.append(" " if i else "")
                    cell.append(marks[mark].ljust(len(labels[env])), style=_STYLE[mark])
                row.append(cell)
            table.add_row(*row)
        console.print(table)
        console.print()
    for group in found.others:
        _differences(console, found, group.pythons, group.differences, marks, all_items)


def split_columns(
    found: MigrationMap, labels: Mapping[str, str], width: int
) -> list[list[tuple[str, tuple[str, ...]]]]:
    """The map's phases in blocks that each fit the width beside the state column.

    Each block repeats the state column; a block holds at least one phase, and
    where even that cannot fit, rich folds the state names.
    """
    state_width = max(len(state) for state in found.states)
    blocks: list[list[tuple[str, tuple[str, ...]]]] = []
    used = width + 1  # start a new block first
    for phase, envs in found.columns:
        marks = len(" ".join(labels[e] for e in envs))
        need = max(len(phase), marks) + 2  # two spaces between columns
        if used + need > width or not blocks:
            blocks.append([])
            used = state_width
        blocks[-1].append((phase, envs))
        used += need
    return blocks


def _differences(
    console: Console,
    found: MigrationMap,
    pythons: tuple[str, ...],
    differences: list[Difference],
    marks: dict[Mark, str],
    all_items: bool,
) -> None:
    named = python_span(pythons, found.pythons)
    shown = python_span(found.shown, found.pythons)
    _say(console, f"{named} differs from the map ({shown}) at {len(differences)} position(s)")
    listed = differences if all_items else differences[:FIRST_DIFFERENCES]
    for difference in listed:
        line = Text(f"{difference.state}  {difference.phase}/{difference.env}: ")
        line.append(marks[difference.mine], style=_STYLE[difference.mine])
        line.append(f" {difference.mine.value} (map: {difference.shown.value})")
        _say(console, line, indent=2)
    if len(listed) < len(differences):
        more = len(differences) - len(listed)
        _say(console, f"and {more} more (migmatrix gate --all-items lists them)", indent=2)
    console.print()


def _items(console: Console, result: GateResult, all_items: bool) -> None:
    groups = group_items(result)
    if not groups:
        return
    total = sum(len(group.items) for group in groups)
    _say(console, f"Unexpected: {total} item(s), {len(groups)} cause(s)", "bold")
    for group in groups:
        _group(console, result, group, all_items)
    console.print()


def _group(console: Console, result: GateResult, group: ItemGroup, all_items: bool) -> None:
    first = group.first
    head = Text()
    head.append(first.verdict.value, style="red" if group.failing else "yellow")
    head.append(f" ({len(group.items)})  {first.test}")
    _say(console, head, indent=2)
    _say(console, f"expected {group.expected_words()}, got {group.got_words()}", indent=6)
    detail = group.detail_words()
    if detail:
        _say(console, detail, indent=6)
    message = one_message(first)
    if message:
        label = "message (first cell's)" if group.message_varies() else "message"
        _say(console, f"{label}: {message}", indent=6)
    notes = group.notes()
    if notes:
        _say(console, f"see: {', '.join(notes)}", indent=6)
    if len(group.items) > 1:
        _say(console, f"spans {span_words(group, result)}", indent=6)
    listed = group.items if all_items else group.items[:FIRST_CELLS]
    for judged in listed:
        _say(console, judged.cell.id, indent=6)
    if len(listed) < len(group.items):
        more = len(group.items) - len(listed)
        _say(console, f"and {more} more cell(s) (migmatrix gate --all-items lists them)", indent=6)


def one_message(judged: Judged) -> str:
    """The recorded message of an item on one line ('' when there is none)."""
    return one_line(judged.record.message) if judged.record else ""


def _other_sections(console: Console, result: GateResult) -> None:
    if result.problems:
        _say(console, f"Problems with the results ({len(result.problems)})", "bold")
        for problem in result.problems:
            _say(console, problem, indent=2)
        console.print()
    if result.stale_rules:
        _say(console, f"Stale expectation rules ({len(result.stale_rules)})", "bold")
        for rule in result.stale_rules:
            _say(console, f"{rule_words(rule)} matches no planned test", indent=2)
        console.print()
    if result.coverage or result.coverage_total is not None:
        _say(console, "Coverage", "bold")
        if result.coverage_total is not None:
            _say(console, f"total: {result.coverage_total:.2f}%", indent=2)
        for verdict in result.coverage:
            line = Text()
            line.append(*_coverage_mark(verdict))
            line.append(f"  {verdict.rule.name}: {verdict.detail}")
            _say(console, line, indent=2)
        console.print()
