"""The `migmatrix mutate` subcommand: its arguments, its checks, and its output."""

from __future__ import annotations

import argparse
import os
import re
import signal
import time
from pathlib import Path
from types import FrameType
from typing import IO

from migmatrix.errors import UsageError
from migmatrix.outcomes import ExitCode

EXAMPLE = """\
examples:
  migmatrix mutate --target reference/netra_backend/src/netra_backend/app/db/store.py \\
      --cells 'business and unit' --max 40 --budget 10m --markdown mutate.md
  migmatrix mutate --target reference/netra_backend/src/netra_backend/app/legacy/engines.py \\
      --cells 'reproduction and deprecated and unit' --expect unexpected-pass

Each mutant (cosmic-ray's operators) runs in a scratch copy of the project, only in
the cells whose coverage reached the mutated line, and is reported as killed,
survived, timeout, not-covered or incompetent. Run it from the project folder.
Exit codes: 0 report written, 2 usage error (or a baseline that fails the gate),
130 interrupted (no scratch copy or process is left behind).
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_budget(text: str) -> float:
    """`90`, `90s`, `10m`, `1.5h` -> seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        msg = f"--budget {text!r}: give a positive duration such as 90s, 10m or 1h"
        raise argparse.ArgumentTypeError(msg)
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        msg = f"{text!r}: give a whole number of at least 1"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `mutate` on the `migmatrix` parser."""
    parser = sub.add_parser(
        "mutate",
        help="mutation score of the matrix on target code",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--matrix", default="matrix.yaml", help="matrix file (default: matrix.yaml)"
    )
    parser.add_argument(
        "--target", action="append", required=True, metavar="PATH", help="a .py file (repeatable)"
    )
    parser.add_argument("--cells", metavar="SEL", help="cell selection expression")
    parser.add_argument("--max", type=_positive, metavar="N", help="at most N mutants, spread out")
    parser.add_argument(
        "--budget", type=parse_budget, metavar="TIME", help="e.g. 10m (default: none)"
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        default=os.cpu_count() or 1,
        help="parallel mutants (default: cores)",
    )
    parser.add_argument(
        "--expect",
        choices=["unexpected-pass"],
        help="code that must stay broken: a mutant is caught only as an unexpected pass",
    )
    parser.add_argument(
        "--operator",
        action="append",
        metavar="GLOB",
        help="only cosmic-ray operators matching GLOB, e.g. 'core/ReplaceComparisonOperator_*' "
        "(repeatable; default: all that take no arguments)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the JSON report")
    parser.add_argument("--markdown", metavar="FILE", help="write the Markdown report")


def _targets(project: Path, given: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for text in given:
        path = (project / text).resolve()
        try:
            relative = path.relative_to(project.resolve())
        except ValueError:
            msg = f"--target {text}: not inside the project folder {project}; run from the project"
            raise UsageError(msg) from None
        if path.suffix != ".py" or not path.is_file():
            msg = f"--target {text}: no such Python file; give the path of a .py file"
            raise UsageError(msg)
        found.append(relative.as_posix())
    return tuple(sorted(set(found)))


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def cmd_mutate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from migmatrix.mutate import mutants as mutants_mod
    from migmatrix.mutate import report, runner

    project = Path.cwd()
    if not (project / args.matrix).is_file():
        msg = f"matrix file {args.matrix!r} does not exist; pass the right path with --matrix"
        raise UsageError(msg)
    targets = _targets(project, args.target)
    settings = runner.Settings(
        project=project,
        matrix=args.matrix,
        targets=targets,
        cells=args.cells,
        max_mutants=args.max,
        budget=args.budget,
        jobs=args.jobs,
        expect_unexpected_pass=args.expect == "unexpected-pass",
    )
    made = mutants_mod.all_mutants(project, targets, args.operator)
    chosen = mutants_mod.spread(made, args.max)
    out.write(
        f"migmatrix mutate: {len(made)} mutants of {len(targets)} file(s); running {len(chosen)}\n"
    )
    out.flush()

    def progress(result: runner.MutantResult) -> None:
        out.write(f"  {result.outcome.value:<12} {result.mutant.id}\n")
        out.flush()

    _interrupt_on_sigterm()
    started = time.monotonic()
    try:
        run = runner.run_mutants(settings, chosen, progress=progress)
    except KeyboardInterrupt:
        err.write(
            "migmatrix mutate: interrupted; its runs were stopped and its scratch copies removed\n"
        )
        return 130
    if args.json:
        Path(args.json).write_text(report.render_json(run), encoding="utf-8")
    markdown = report.render_markdown(run)
    if args.markdown:
        Path(args.markdown).write_text(markdown, encoding="utf-8")
    out.write(markdown)
    out.write(
        f"migmatrix mutate: baseline {run.baseline.seconds:.1f}s, total "
        f"{time.monotonic() - started:.1f}s, {settings.jobs} job(s)\n"
    )
    return int(ExitCode.OK)
