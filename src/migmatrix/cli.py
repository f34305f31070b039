"""The `migmatrix` command: run, gate, plan, explain, schema.

Each subcommand is a function from parsed arguments (and output streams) to an
exit code. They raise `MigmatrixError` for anything the user must fix; only
`main()` turns such an error into one line on stderr and `ExitCode.USAGE`.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any, TextIO

from migmatrix import run_options
from migmatrix.cli_parser import build_parser
from migmatrix.errors import MigmatrixError, UsageError
from migmatrix.model import Cell, CoverageVerdict, Matrix
from migmatrix.mutate.command import cmd_mutate
from migmatrix.outcomes import ExitCode
from migmatrix.run import run_matrix
from migmatrix.update.command import cmd_update

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


def _environment_checked(matrix: Matrix, files: Any, merged: Any) -> Any:
    """The merge, plus the environment check's problems (migmatrix.envs.check)."""
    import dataclasses

    from migmatrix.envs.check import environment_problems

    found = environment_problems(
        matrix, [(f.path, f.header.extra, (r.cell for r in f.records)) for f in files]
    )
    return dataclasses.replace(merged, problems=(*merged.problems, *found)) if found else merged


def _gate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.expect import stale_rules
    from migmatrix.gate import judge
    from migmatrix.lifecycle.flaky import judge_attempts
    from migmatrix.lifecycle.options import review_gate
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
    files = read_all(paths)
    merged = merge(files, matrix_digest=matrix.digest)
    merged = _environment_checked(matrix, files, merged)
    for note in merged.notes:
        err.write(f"migmatrix: {note}\n")

    verdicts: tuple[CoverageVerdict, ...] = ()
    total: float | None = None
    coverage_html: str | None = None
    if args.no_coverage_rules:
        verdicts = tuple(
            CoverageVerdict(
                rule, passed=True, detail="not checked (--no-coverage-rules)", skipped=True
            )
            for rule in matrix.gates.coverage
        )
    elif matrix.gates.coverage and not (args.coverage_data or args.coverage_dir):
        # A rule with nothing to check must never read as a pass: the data is incomplete.
        merged = dataclasses.replace(
            merged, problems=(*merged.problems, _no_coverage_data(matrix, args.matrix))
        )
    elif args.coverage_data or args.coverage_dir:
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
    # The baseline comparison and expired rules (issue 18): exit code and reports.
    result, lifecycle = review_gate(judge_attempts(result, merged.attempts), matrix, args)

    out.write(
        render_terminal(
            result,
            colour=use_colour(out),
            width=report_width(out),
            unicode=can_show_unicode(out),
            all_items=args.all_items,
        )
        + lifecycle.terminal()
    )
    markdown = None
    if args.markdown or os.environ.get("GITHUB_STEP_SUMMARY"):
        markdown = render_markdown(result) + lifecycle.markdown()
        if args.markdown:
            _write(args.markdown, markdown)
        write_step_summary(markdown)
    if args.json:
        from migmatrix.report.json_ import render_json

        _write(args.json, render_json(result, extra=lifecycle.json()))
    if args.junit:
        from migmatrix.report.junit import render_junit

        _write(args.junit, render_junit(result))
    if args.html:
        from migmatrix.report.html_ import render_html

        link = None
        if coverage_html is not None:
            target = os.path.join(coverage_html, "index.html")
            link = os.path.relpath(target, os.path.dirname(os.path.abspath(args.html)) or ".")
        page = render_html(result, coverage_html=link)
        # The lifecycle section goes before the page's closing script (issue 18).
        at = page.rfind("<script>")
        _write(args.html, page[:at] + lifecycle.html() + page[at:] if at >= 0 else page)
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


def _no_coverage_data(matrix: Matrix, path: str) -> str:
    names = ", ".join(rule.name for rule in matrix.gates.coverage)
    return (
        f"{path} declares {len(matrix.gates.coverage)} coverage rule(s) (gates.coverage: "
        f"{names}) but the gate got no coverage data: run with `--matrix-coverage DIR` "
        "(`migmatrix run --matrix-coverage results/coverage`; `nox -s matrix` does) and gate "
        "with `--coverage-dir DIR`, or pass --no-coverage-rules to leave the rules unchecked"
    )


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
        from migmatrix.envs.spec import ci_jobs

        include = ci_jobs(matrix, cells, args.shards)
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
    if args.test:
        _test_exists(matrix, cell, args.test)
    for line in explain(matrix, cell, args.test):
        out.write(line + "\n")
    return int(ExitCode.OK)


def _test_exists(matrix: Matrix, cell: Cell, test: str) -> None:
    """UsageError when pytest collects no test `test` in the cell's phase folder."""
    from migmatrix.check import phase_tests

    known = phase_tests(matrix, cell.phase)
    if known is None:
        return  # the folder does not collect: `migmatrix check` says why
    plain = {t.split("[", 1)[0] for t in known}
    if test in known or test.split("[", 1)[0] in plain:
        return
    folder = next(p.path for p in matrix.phases if p.name == cell.phase)
    close = difflib.get_close_matches(test, sorted(known), n=3, cutoff=0.8)
    hint = f"did you mean {', '.join(close)}?" if close else f"it has {len(known)} test(s)"
    msg = (
        f"test {test!r} does not exist in phase {cell.phase!r} ({folder}/): pytest collects "
        f"no such test there; {hint} (test ids are FILE::NAME relative to the phase folder)"
    )
    raise UsageError(msg)


def cmd_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.schema import schema_text

    out.write(schema_text())
    return int(ExitCode.OK)


def _environment_variables(matrix_path: str, name: str) -> None:
    """Set an environment adapter's `env:` for the pytest this command starts (its child)."""
    from migmatrix.envs.spec import named

    try:
        environment = named(_load(matrix_path), name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    os.environ.update(dict(environment.env))


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.python and len(args.python) > 1:
        msg = "`migmatrix run` runs one interpreter; give one --python (nox runs each in turn)"
        raise UsageError(msg)
    if args.matrix_environment:
        _environment_variables(args.matrix, args.matrix_environment)
    summary = run_matrix(
        args.matrix,
        cells=args.cells,
        python=args.python[0] if args.python else None,
        shard=args.shard,
        results_dir=args.results_dir or "results",
        workers=args.workers,
        coverage_dir=args.matrix_coverage,
        # pytest-rerunfailures' option, passed on (issue 18: reruns, every attempt recorded).
        pytest_args=[*(["--reruns", str(args.reruns)] if args.reruns else []), *args.pytest_args],
        durations=args.matrix_durations,
        timeout=args.matrix_timeout,
        run_id=args.run_id,
        allow_empty=args.allow_empty,
        overwrite=args.overwrite_results,
        extra_args=run_options.to_argv(vars(args), [run_options.ENVIRONMENT]),
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


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.check import run_check

    return run_check(args.matrix, out)


def cmd_init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.init import run_init

    return run_init(args.dir, args.shape, out, package=args.package, old=args.old, new=args.new)


COMMANDS = {
    "init": cmd_init,
    "check": cmd_check,
    "run": cmd_run,
    "gate": cmd_gate,
    "plan": cmd_plan,
    "explain": cmd_explain,
    "schema": cmd_schema,
    "update-expectations": cmd_update,
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
