"""The `migmatrix` command: run, gate, plan, explain, schema.

Each subcommand is a function from parsed arguments (and output streams) to an
exit code. They raise `MigmatrixError` for anything the user must fix; only
`main()` turns such an error into one line on stderr and `ExitCode.USAGE`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import TextIO

from migmatrix.cli_parser import build_parser
from migmatrix.errors import MigmatrixError, UsageError
from migmatrix.model import Cell, CoverageVerdict, Matrix
from migmatrix.mutate.command import cmd_mutate
from migmatrix.outcomes import ExitCode
from migmatrix.run import run_matrix

# --------------------------------------------------------------------------- helpers
# Each subcommand imports the steps it uses when it runs, so `migmatrix plan` or a
# `--help` never pays for loading the judge, the reports or jsonschema.


def _load(path: str) -> Matrix:
    from migmatrix.load import load_matrix

    return load_matrix(path)


def _selected(
    matrix: Matrix, cells: str | None, python: Sequence[str] | None
) -> tuple[tuple[Cell, ...], tuple[Cell, ...]]:
    """(all planned cells, the selected ones)."""
    from migmatrix.plan import plan_cells
    from migmatrix.select import select_cells

    planned = plan_cells(matrix)
    if not cells and not python:
        return planned, planned
    return planned, select_cells(planned, expression=cells, python=python)


def _write(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- subcommands


def cmd_gate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix._speed import paused_gc

    # Merge, gate and reports build hundreds of thousands of acyclic objects: the cyclic
    # garbage collector would only walk them again and again (a third of the time).
    with paused_gc():
        return _gate(args, out, err)


def _gate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.expect import stale_rules
    from migmatrix.gate import judge
    from migmatrix.merge import collect_paths, merge, read_all
    from migmatrix.report.markdown import render_markdown, write_step_summary
    from migmatrix.report.terminal import (
        can_show_unicode,
        render_terminal,
        report_width,
        use_colour,
    )

    matrix = _load(args.matrix)
    planned, cells = _selected(matrix, args.cells, args.python)
    paths = collect_paths(args.results)
    if not paths:
        msg = f"no results files (*.jsonl) in {', '.join(args.results)}; run `migmatrix run` first"
        raise UsageError(msg)
    merged = merge(read_all(paths), matrix_digest=matrix.digest)
    for note in merged.notes:
        err.write(f"migmatrix: {note}\n")

    verdicts: tuple[CoverageVerdict, ...] = ()
    total: float | None = None
    coverage_html: str | None = None
    if args.coverage_data or args.coverage_dir:
        from migmatrix.coverage_rules import combine_folder, evaluate_coverage

        if args.coverage_data:
            combined = args.coverage_data
            verdicts, total = evaluate_coverage(matrix, combined)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                combined = combine_folder(args.coverage_dir, os.path.join(scratch, ".coverage"))
                verdicts, total = evaluate_coverage(matrix, combined)
                if args.coverage_html:
                    coverage_html = _coverage_html(combined, args.coverage_html)
        if args.coverage_data and args.coverage_html:
            coverage_html = _coverage_html(combined, args.coverage_html)

    selected_ids = {cell.id for cell in cells}
    by_id = {cell.id: cell for cell in cells}
    recorded = [(by_id[c], tests) for c, tests in merged.cells.items() if c in selected_ids]
    # A rule is stale when it matches nothing in the whole plan; under a --cells
    # selection most rules match nothing selected, which says nothing about them.
    stale = stale_rules(matrix, recorded) if recorded and not args.cells else ()
    result = judge(
        matrix,
        cells,
        merged,
        planned=[cell.id for cell in planned],
        coverage=verdicts,
        coverage_total=total,
        stale_rules=stale,
        # The run's own time span, from the files: a report of the same data is
        # the same bytes, whenever and however fast the gate renders it.
        duration=merged.run_seconds,
    )

    out.write(
        render_terminal(
            result,
            colour=use_colour(out),
            width=report_width(out),
            unicode=can_show_unicode(out),
            all_items=args.all_items,
        )
    )
    markdown = None
    if args.markdown or os.environ.get("GITHUB_STEP_SUMMARY"):
        markdown = render_markdown(result)
        if args.markdown:
            _write(args.markdown, markdown)
        write_step_summary(markdown)
    if args.json:
        from migmatrix.report.json_ import render_json

        _write(args.json, render_json(result))
    if args.junit:
        from migmatrix.report.junit import render_junit

        _write(args.junit, render_junit(result))
    if args.html:
        from migmatrix.report.html_ import render_html

        link = None
        if coverage_html is not None:
            target = os.path.join(coverage_html, "index.html")
            link = os.path.relpath(target, os.path.dirname(os.path.abspath(args.html)) or ".")
        _write(args.html, render_html(result, coverage_html=link))
    written = [
        (label, path)
        for label, path in (
            ("Markdown", args.markdown),
            ("JSON", args.json),
            ("JUnit XML", args.junit),
            ("coverage HTML", coverage_html and os.path.join(coverage_html, "index.html")),
            ("HTML report", args.html),
        )
        if path
    ]
    for label, path in written:
        err.write(f"migmatrix: {label}: {path}\n")
    return result.exit_code


def _coverage_html(data_file: str, directory: str) -> str:
    """coverage.py's own HTML report, with the contexts (cell ids) of every line shown."""
    from migmatrix.covctl import html_report

    html_report(data_file, directory)
    return directory


def cmd_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    matrix = _load(args.matrix)
    _, cells = _selected(matrix, args.cells, args.python)
    if args.ci_jobs:
        if args.shards < 1:
            msg = f"--shards must be at least 1, got {args.shards}"
            raise UsageError(msg)
        pythons = [p for p in matrix.python if any(c.python == p for c in cells)]
        include = [
            {"python": python, "shard": f"{i}/{args.shards}"}
            for python in pythons
            for i in range(1, args.shards + 1)
        ]
        out.write(json.dumps({"include": include}, sort_keys=True) + "\n")
        return int(ExitCode.OK)
    if args.json:
        data = [
            {
                "id": c.id,
                "phase": c.phase,
                "adapter": c.adapter,
                "adapter_base": c.adapter_base,
                "env": c.env,
                "python": c.python,
                "components": list(c.components),
                "features": sorted(c.features),
            }
            for c in cells
        ]
        out.write(json.dumps(data, sort_keys=True, indent=2) + "\n")
        return int(ExitCode.OK)
    for cell in cells:
        out.write(cell.id + "\n")
    return int(ExitCode.OK)


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.expect import explain
    from migmatrix.plan import plan_cells

    matrix = _load(args.matrix)
    cells = {cell.id: cell for cell in plan_cells(matrix)}
    cell = cells.get(args.cell)
    if cell is None:
        close = difflib.get_close_matches(args.cell, list(cells), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `migmatrix plan`"
        msg = f"cell {args.cell!r} is not planned by {args.matrix}; {hint}"
        raise UsageError(msg)
    for line in explain(matrix, cell, args.test):
        out.write(line + "\n")
    return int(ExitCode.OK)


def cmd_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.schema import schema_text

    out.write(schema_text())
    return int(ExitCode.OK)


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.python and len(args.python) > 1:
        msg = "`migmatrix run` runs one interpreter; give one --python (nox runs each in turn)"
        raise UsageError(msg)
    summary = run_matrix(
        args.matrix,
        cells=args.cells,
        python=args.python[0] if args.python else None,
        shard=args.shard,
        results_dir=args.results_dir or "results",
        workers=args.workers,
        coverage_dir=args.matrix_coverage,
        pytest_args=list(args.pytest_args),
        durations=args.matrix_durations,
        timeout=args.matrix_timeout,
        run_id=args.run_id,
        allow_empty=args.allow_empty,
    )
    if summary.nothing_to_run:
        out.write(
            f"migmatrix run: no cell of this interpreter matches {args.cells!r}; ran nothing\n"
        )
        return int(summary.exit_code)
    code = summary.exit_code
    if summary.results is None:
        where = "no results file was written"
    else:
        where = os.path.relpath(summary.results)
        state = "complete" if summary.complete else "INCOMPLETE or damaged"
        where = f"results in {where} ({summary.records} records, {state})"
    verdict = "the gate decides pass/fail" if code == ExitCode.OK else f"exit {int(code)}"
    line = f"migmatrix run: pytest exited {summary.pytest_code}; {where}; {verdict}\n"
    (out if code == ExitCode.OK else err).write(line)
    return int(code)


COMMANDS = {
    "run": cmd_run,
    "gate": cmd_gate,
    "plan": cmd_plan,
    "explain": cmd_explain,
    "schema": cmd_schema,
    "mutate": cmd_mutate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `migmatrix` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    try:
        return COMMANDS[args.command](args, sys.stdout, sys.stderr)
    except MigmatrixError as exc:
        sys.stderr.write(f"migmatrix {args.command}: error: {exc}\n")
        return int(ExitCode.USAGE)
    except BrokenPipeError:
        # `migmatrix plan | head`: the reader left; say nothing, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)
