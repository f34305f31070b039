"""The `migmatrix` command's arguments: one parser, each subcommand with working examples.

`cli.py` runs the subcommands; this module only says what each accepts. The run
options come from `run_options`, which the pytest plugin shares, so a flag has one
name and one meaning in both.
"""

from __future__ import annotations

import argparse

from migmatrix import run_options
from migmatrix.lifecycle.options import add_arguments as add_lifecycle_args
from migmatrix.mutate import command as mutate_command
from migmatrix.update.command import add_parser as add_update_parser

DEFAULT_MATRIX = "matrix.yaml"

_GATE_EXAMPLE = """\
examples:
  migmatrix gate results/                       # every results/*.jsonl, against ./matrix.yaml
  migmatrix gate results/ --python 3.12 --junit junit.xml --json report.json
  migmatrix gate a.jsonl b.jsonl --cells 'reproduction/*' --markdown summary.md
  migmatrix gate results/ --baseline main-gate.json --json gate.json   # the ratchet

The planned cells are matrix.yaml's plan, narrowed by --cells and --python
(default: every python of the matrix, not only those present in the results, so
an interpreter that never ran shows up as missing). Exit codes: 0 passed,
1 failed, 2 usage or matrix error, 3 incomplete data (see the problems listed).
When $GITHUB_STEP_SUMMARY is set the Markdown report is appended to it.
"""

_PLAN_EXAMPLE = """\
examples:
  migmatrix plan                                # cell ids, one per line
  migmatrix plan --cells 'golden_path/*' --python 3.12 --json
  migmatrix plan --ci-jobs --shards 3           # GitHub Actions job matrix JSON:
  #   {"include": [{"environment": "default", "python": "3.10", "session": "run-3.10",
  #                 "shard": "1/3"}, ...]}   one job per (python, environment, shard)
"""

_EXPLAIN_EXAMPLE = """\
examples:
  migmatrix explain reproduction/deprecated/unit/py3.12
  migmatrix explain reproduction/deprecated/unit/py3.12 test_bug.py::test_total_in_cents

A TEST that pytest does not collect in the cell's phase folder is an error (exit 2).
"""

_INIT_EXAMPLE = """\
examples:
  migmatrix init                                # runtime switch: adapters/migration.py
  migmatrix init --shape versions --package tomli --old 1.2.2 --new 1.2.3

Writes matrix.yaml (commented), suites/reproduction and suites/golden_path with an
example test each, the adapter module (runtime shape) and noxfile.py. A file that
exists is kept, never overwritten, and named. Then: `nox -s matrix`
(docs/adopting.md is the ten-minute guide).
"""

_CHECK_EXAMPLE = """\
example:
  migmatrix check                               # before a run: exit 0 ok, 2 with the problems

Imports each adapter's `object:` as a run does and collects each phase folder with
pytest (--collect-only: nothing runs, no results are written). Each problem is one
line naming the matrix.yaml line or the suite file that fails.
"""

_SCHEMA_EXAMPLE = """\
example:
  migmatrix schema > matrix.schema.json
"""

_RUN_EXAMPLE = """\
examples:
  migmatrix run                                 # every cell of ./matrix.yaml, this interpreter
  migmatrix run --cells 'reproduction/*' --shard 1/2 --results-dir results -- -x
  migmatrix run --shard 2/3 --matrix-durations previous-results/   # balanced by earlier timings
  migmatrix run --matrix-coverage results/coverage   # coverage per cell context

Without --shard, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL, Buildkite's
BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT or CircleCI's
CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL choose the shard (the run names them in one
line); an explicit --shard wins. Every shard of a split must get the same
--matrix-durations input (or none), or the shards overlap and leave gaps. The run
options are the pytest plugin's own (`pytest --help`), passed on unchanged.

Exit codes: the run does not judge - reproduction tests are meant to fail, and
the gate decides. 0 when a complete results file was written, whatever the tests
did (pytest's own exit code is printed); 2 usage or matrix error; 3 no complete
results file (pytest stopped early, was interrupted or crashed).
"""


def _matrix_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--matrix", default=DEFAULT_MATRIX, help=f"matrix file (default: {DEFAULT_MATRIX})"
    )


def _selection_args(parser: argparse.ArgumentParser, *, one_python: bool = False) -> None:
    parser.add_argument("--cells", metavar="SEL", help="cell selection expression, e.g. '*/ssot/*'")
    parser.add_argument(
        "--python",
        action="append",
        metavar="X.Y",
        help="the ONE interpreter to run (X.Y or a path; default: this one); migmatrix must "
        "be installed for it: `nox -s run-X.Y` builds such an environment"
        if one_python
        else "only these interpreters (repeatable; default: all of the matrix)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migmatrix",
        description="Prove a code migration safe: expected pass/fail per phase x adapter x env x "
        "python cell.",
        epilog="example:\n  migmatrix plan && migmatrix run && migmatrix gate results/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    run = sub.add_parser(
        "run", help="plan + pytest + results files", epilog=_RUN_EXAMPLE, formatter_class=raw
    )
    _matrix_arg(run)
    _selection_args(run, one_python=True)
    run_options.add_to_argparse(run)
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="a selection matching no cell of this interpreter runs nothing and exits 0",
    )
    run.add_argument("--workers", default="auto", help="pytest-xdist workers (0 = in-process)")
    run.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments")

    gate = sub.add_parser(
        "gate",
        help="merge results, judge them, write reports",
        epilog=_GATE_EXAMPLE,
        formatter_class=raw,
    )
    gate.add_argument("results", nargs="+", metavar="RESULTS", help="results files or folders")
    _matrix_arg(gate)
    _selection_args(gate)
    gate.add_argument("--json", metavar="FILE", help="write the JSON report")
    gate.add_argument("--junit", metavar="FILE", help="write the JUnit XML report")
    gate.add_argument("--markdown", metavar="FILE", help="write the Markdown report")
    gate.add_argument("--html", metavar="FILE", help="write the HTML report")
    gate.add_argument(
        "--all-items",
        action="store_true",
        help="list every cell of every unexpected cause (default: the first few of each)",
    )
    gate.add_argument(
        "--coverage-data", metavar="FILE", help="combined .coverage file (contexts = cell ids)"
    )
    gate.add_argument(
        "--coverage-html",
        metavar="DIR",
        help="also write coverage.py's HTML report, with cell contexts shown, into DIR",
    )
    gate.add_argument(
        "--coverage-dir",
        metavar="DIR",
        action="append",
        help="a folder of parallel .coverage.* files (searched below too), combined here; "
        "repeatable (instead of --coverage-data)",
    )
    gate.add_argument(
        "--no-coverage-rules",
        action="store_true",
        help="do not check matrix.yaml's coverage rules (the reports say they were not checked); "
        "without it, declared rules and no coverage data make the gate incomplete (exit 3)",
    )
    add_lifecycle_args(gate)

    plan = sub.add_parser(
        "plan", help="print the planned cells", epilog=_PLAN_EXAMPLE, formatter_class=raw
    )
    _matrix_arg(plan)
    _selection_args(plan)
    plan.add_argument("--json", action="store_true", help="print cells as JSON")
    plan.add_argument("--ci-jobs", action="store_true", help="print a GitHub Actions job matrix")
    plan.add_argument("--shards", type=int, default=1, metavar="N", help="shards per python")

    explain = sub.add_parser(
        "explain",
        help="which rule sets a cell's expectation, and why",
        epilog=_EXPLAIN_EXAMPLE,
        formatter_class=raw,
    )
    _matrix_arg(explain)
    explain.add_argument("cell", metavar="CELL", help="a cell id")
    explain.add_argument("test", metavar="TEST", nargs="?", help="a test id")

    init = sub.add_parser(
        "init",
        help="write a working matrix skeleton here (never overwrites a file)",
        epilog=_INIT_EXAMPLE,
        formatter_class=raw,
    )
    init.add_argument(
        "--shape",
        choices=["runtime", "versions"],
        default="runtime",
        help="runtime: states are a switch in one build (in-process adapters, the default); "
        "versions: states are releases installed in environments of their own",
    )
    init.add_argument("--dir", default=".", help="the project folder (default: here)")
    init.add_argument("--package", help="versions: the distribution that changes release")
    init.add_argument("--old", metavar="VERSION", help="versions: the release migrated from")
    init.add_argument("--new", metavar="VERSION", help="versions: the release migrated to")

    check = sub.add_parser(
        "check",
        help="import every adapter object and collect every suite folder; report what fails",
        epilog=_CHECK_EXAMPLE,
        formatter_class=raw,
    )
    _matrix_arg(check)
    mutate_command.add_parser(sub)

    sub.add_parser(
        "schema",
        help="print the JSON Schema of matrix.yaml",
        epilog=_SCHEMA_EXAMPLE,
        formatter_class=raw,
    )
    add_update_parser(sub)
    return parser
