"""The gate's options for the lifecycle step (`--baseline`, `--accept-loosened`, `--today`),
and the step itself as the gate command runs it.

Only argparse is imported at the top: `migmatrix --help` loads this module.
"""

from __future__ import annotations

import argparse
import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migmatrix.lifecycle.review import Review
    from migmatrix.model import GateResult, Matrix


def add_arguments(gate: argparse.ArgumentParser) -> None:
    gate.add_argument(
        "--baseline",
        metavar="PREVIOUS.json",
        help="a previous gate's JSON report (--json): a loosened expectation fails the gate; "
        "tightened ones and newly passing tests are listed as progress",
    )
    gate.add_argument(
        "--accept-loosened",
        action="store_true",
        help="with --baseline: list loosened expectations without failing (a reviewed change)",
    )
    gate.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="the date rules' `until:` is compared with (default: today, UTC)",
    )


def review_gate(
    result: GateResult, matrix: Matrix, args: argparse.Namespace
) -> tuple[GateResult, Review]:
    """The gate's result after the baseline and expiry checks, and their part of the reports."""
    from migmatrix.errors import UsageError
    from migmatrix.lifecycle.review import review
    from migmatrix.lifecycle.snapshot import load_baseline
    from migmatrix.load.until import until_date

    if args.today is None:
        today = datetime.datetime.now(datetime.timezone.utc).date()
    else:
        found = until_date(args.today)
        if not found:
            msg = f"--today must be a date written YYYY-MM-DD, got {args.today!r}"
            raise UsageError(msg)
        today = found
    if args.accept_loosened and not args.baseline:
        msg = "--accept-loosened only means something with --baseline PREVIOUS.json"
        raise UsageError(msg)
    baseline = load_baseline(args.baseline, matrix.digest) if args.baseline else None
    return review(
        result,
        matrix,
        today=today,
        baseline=baseline,
        baseline_name=args.baseline,
        accept_loosened=args.accept_loosened,
    )
