"""The `update-expectations` subcommand: a unified diff of matrix.yaml, or the edit itself.

Exit codes: 0 whether or not an edit is proposed (the diff is the answer),
2 for usage or matrix errors, 3 when the results cannot be trusted (the same
problems that make the gate exit 3): an edit built on half a run would be wrong.
"""

from __future__ import annotations

import argparse
import difflib
import os
from pathlib import Path
from typing import TextIO

from migmatrix.outcomes import ExitCode

EXAMPLE = """\
examples:
  migmatrix update-expectations results/            # print the proposed edit as a diff
  migmatrix update-expectations results/ --write    # apply it to matrix.yaml
  migmatrix update-expectations results/ --prune    # also remove rules nothing ran into

Only the cells in the results are considered: a partial run (one python, one
shard, --cells) proposes nothing for the others. A rule is proposed with
`unless:`/`requires:` features where the flip across states follows a feature
exactly, and with an `adapter:` selector only where no feature explains it.
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "update-expectations",
        help="propose the edit of matrix.yaml under which the results are expected",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", nargs="+", metavar="RESULTS", help="results files or folders")
    parser.add_argument(
        "--matrix", default="matrix.yaml", help="matrix file (default: matrix.yaml)"
    )
    parser.add_argument("--write", action="store_true", help="apply the edit to the matrix file")
    parser.add_argument(
        "--prune", action="store_true", help="also remove the stale rules (listed either way)"
    )


def cmd_update(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from migmatrix.errors import UsageError
    from migmatrix.load import load_matrix
    from migmatrix.merge import collect_paths, merge, read_all
    from migmatrix.plan import plan_cells
    from migmatrix.update.propose import propose
    from migmatrix.update.yamledit import edit_text

    matrix = load_matrix(args.matrix)
    paths = collect_paths(args.results)
    if not paths:
        msg = f"no results files (*.jsonl) in {', '.join(args.results)}; run `migmatrix run` first"
        raise UsageError(msg)
    merged = merge(read_all(paths), matrix_digest=matrix.digest)
    if merged.problems:
        for problem in merged.problems:
            err.write(f"migmatrix update-expectations: {problem}\n")
        err.write("migmatrix update-expectations: the results are incomplete; nothing proposed\n")
        return int(ExitCode.INCOMPLETE)
    flaky = {
        key for key, attempts in merged.attempts.items() if len({a.outcome for a in attempts}) > 1
    }
    proposal = propose(matrix, plan_cells(matrix), merged.cells, merged.collected, flaky)
    for note in proposal.left_alone:
        err.write(f"migmatrix update-expectations: left alone: {note}\n")
    for rule in proposal.stale:
        state = "removed" if args.prune else "kept; --prune removes it"
        err.write(
            f"migmatrix update-expectations: stale rule #{rule.index + 1} at {rule.location} "
            f"selects nothing that ran ({state})\n"
        )
    text = Path(args.matrix).read_text(encoding="utf-8")
    removed = [rule.index for rule in proposal.stale] if args.prune else []
    edited = edit_text(text, proposal.added, removed, args.matrix)
    if edited == text:
        err.write("migmatrix update-expectations: the results are the expected ones; no edit\n")
        return int(ExitCode.OK)
    _check(args.matrix, edited)
    if args.write:
        tmp = f"{args.matrix}.tmp"
        Path(tmp).write_text(edited, encoding="utf-8")
        os.replace(tmp, args.matrix)
        err.write(
            f"migmatrix update-expectations: {args.matrix}: {len(proposal.added)} rule(s) added, "
            f"{len(removed)} removed\n"
        )
        return int(ExitCode.OK)
    name = os.path.basename(args.matrix)
    out.writelines(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            edited.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
    return int(ExitCode.OK)


def _check(path: str, text: str) -> None:
    """The edited matrix must load: it is loaded beside the original before anything is shown."""
    from migmatrix.errors import MatrixError, UsageError
    from migmatrix.load import load_matrix

    folder = os.path.dirname(os.path.abspath(path))
    probe = os.path.join(folder, f".{os.path.basename(path)}.update-check.yaml")
    Path(probe).write_text(text, encoding="utf-8")
    try:
        load_matrix(probe)
    except MatrixError as exc:
        msg = f"the proposed edit does not load ({exc}); please report this as a bug"
        raise UsageError(msg) from None
    finally:
        os.unlink(probe)
