"""Merge many results files (interpreters, shards, CI jobs) into one set of records.

Merging never overwrites silently. Inputs are taken in path order so the outcome
does not depend on how a shell or a CI artifact download ordered them; an input
whose bytes equal an earlier one is skipped (and said so in `notes`); every
other irregularity is a `problem`, which makes the gate exit with
`ExitCode.INCOMPLETE`:

- an incomplete file (no footer, a wrong count, unreadable lines): its records
  are still merged and judged, because what was recorded is true; the cells it
  touched are listed in `incomplete_cells` so that a result missing from one of
  them is judged `incomplete` rather than plain `missing`;
- the same (cell, test) with different outcomes in two places: both sources are
  named and the worse outcome is kept (crashed > timeout > error > failed >
  skipped > passed; ties keep the first in path order), so a flaky shard can
  never hide a failure;
- files written for different matrix digests (or for a digest other than the
  matrix being gated): the problem lists which files carry which digest.

- a plan of N shards with a shard missing: the files that carry `shard: "i/N"`
  for one interpreter and one cell selection must hold every index from 1 to N,
  and each missing one is named ("shard 3/3 of python 3.11 is missing").

The tests expected of a cell are the union of what the files covering it say
they collected ("collected" lines), beside what their records name; the gate
judges a collected test without a record `missing`. A /1 file carries no
collection record: it is judged by its records alone, and a note says so.

The same (cell, test) recorded twice with the same outcome (a re-run CI job) is
not a conflict; it is counted in `notes`.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import itertools
import os
from collections.abc import Iterable, Sequence

from migmatrix.attempts import Attempts, split_attempts
from migmatrix.errors import UsageError
from migmatrix.model import Record
from migmatrix.outcomes import SEVERITY
from migmatrix.results import ResultsFile, read_results, shard_of


@dataclasses.dataclass(frozen=True)
class Merged:
    """The union of the inputs' records and everything that was wrong on the way.

    `cells` maps each cell id to its tests' records (test id -> the record
    judged for it), the shape the gate walks. `records` is the same as one flat
    mapping from (cell id, test id), worked out when first asked for. `sources`
    are the paths merged (duplicates skipped), in order; `digests` maps each
    source to its header's matrix digest; `pythons` are the interpreters seen in
    headers. `collected` maps each cell id to the test ids the files say they
    collected for it (the gate expects a record for each).
    """

    cells: dict[str, dict[str, Record]]
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    sources: tuple[str, ...]
    digests: dict[str, str]
    pythons: tuple[str, ...]
    incomplete_cells: frozenset[str]
    run_seconds: float = 0.0
    collected: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    # (cell, test) -> every attempt, for the pairs a rerun ran more than once.
    attempts: Attempts = dataclasses.field(default_factory=dict)

    @functools.cached_property
    def records(self) -> dict[tuple[str, str], Record]:
        """Every record by (cell id, test id)."""
        return {
            (cell_id, test): record
            for cell_id, tests in self.cells.items()
            for test, record in tests.items()
        }


def collect_paths(arguments: Iterable[str]) -> list[str]:
    """Expand command-line arguments: a folder means every `*.jsonl` directly in it.

    Raises UsageError for a path that does not exist, so a typo in CI is not an
    empty, green gate.
    """
    paths: list[str] = []
    for argument in arguments:
        if os.path.isdir(argument):
            found = sorted(
                os.path.join(argument, name)
                for name in os.listdir(argument)
                if name.endswith(".jsonl") and not name.startswith(".tmp-")
            )
            paths.extend(found)
        elif os.path.exists(argument):
            paths.append(argument)
        else:
            msg = f"results path {argument!r} does not exist; pass results files or folders"
            raise UsageError(msg)
    return paths


def read_all(paths: Iterable[str]) -> list[ResultsFile]:
    """Read every file (`read_results`); a file that is not a results file raises ResultsError."""
    return [read_results(path) for path in paths]


def merge(files: Sequence[ResultsFile], matrix_digest: str | None = None) -> Merged:
    """Merge results files; see the module docstring for the rules.

    `matrix_digest`, when given, is the digest of the matrix being gated; files
    written for another digest are reported.
    """
    problems: list[str] = []
    notes: list[str] = []
    sources: list[str] = []
    digests: dict[str, str] = {}
    seen_content: dict[str, str] = {}
    cells: dict[str, dict[str, Record]] = {}
    merged_files: list[ResultsFile] = []
    origin: dict[tuple[str, str], str] | None = None
    incomplete_cells: set[str] = set()
    collected: dict[str, list[tuple[str, ...]]] = {}
    without_collection: list[str] = []
    agreeing = 0
    attempts: Attempts = {}

    for results in sorted(files, key=lambda f: f.path):
        first = seen_content.get(results.digest_of_content)
        if first is not None:
            notes.append(f"{results.path}: skipped, same content as {first}")
            continue
        seen_content[results.digest_of_content] = results.path
        sources.append(results.path)
        digests[results.path] = results.header.matrix_digest
        problems.extend(results.problems)
        if not results.has_collection:
            without_collection.append(results.path)
        for cell_id, named in results.collected.items():
            collected.setdefault(cell_id, []).append(named)

        path = results.path
        # Reruns (issue 18): every attempt kept, the worst one judged.
        judged, reruns = split_attempts(results.records)
        attempts.update(reruns)
        incoming, repeats = group_by_cell(judged)
        if results.problems or results.footer is None:
            incomplete_cells.update(incoming)
            # A cell the cut-off run collected but recorded nothing of is incomplete
            # too (its tests were never run), not merely missing.
            incomplete_cells.update(results.collected)
        for record in repeats:
            # The same (cell, test) twice inside one file: judge it like two files.
            agreeing += _meet(incoming[record.cell], record, path, path, problems)
        # Sorted, so conflicts are named in (cell, test) order whatever order the
        # file was written in.
        for cell_id in sorted(incoming):
            tests = incoming[cell_id]
            # A cell no earlier file had (the common case) is taken whole.
            kept = cells.setdefault(cell_id, tests)
            if kept is not tests:
                overlap = kept.keys() & tests.keys()
                if overlap:
                    if origin is None:
                        # Where each record came from is only needed to name the sides of
                        # a conflict, so it is worked out once the first overlap shows up.
                        origin = _origins(merged_files, cells)
                    for test in sorted(overlap):
                        record = tests.pop(test)
                        where = origin.get((cell_id, test), "?")
                        agreeing += _meet(kept, record, where, path, problems)
                        if kept[test] is record:
                            origin[(cell_id, test)] = path
                kept.update(tests)
            if origin is not None:
                origin.update(dict.fromkeys(((cell_id, test) for test in tests), path))
        merged_files.append(results)

    if agreeing:
        notes.append(
            f"{agreeing} (cell, test) results recorded more than once with the same outcome"
        )
    if without_collection:
        notes.append(
            f"{', '.join(without_collection)}: results schema /1 carries no collection record; "
            "judged by the tests its records name only"
        )
    problems.extend(_digest_problems(digests, matrix_digest))
    problems.extend(shard_problems(merged_files))
    pythons = tuple(sorted({f.header.python for f in files if f.header.python}, key=_version_key))
    return Merged(
        run_seconds=run_span(merged_files),
        cells=cells,
        problems=tuple(problems),
        notes=tuple(notes),
        sources=tuple(sources),
        digests=digests,
        pythons=pythons,
        incomplete_cells=frozenset(incomplete_cells),
        collected={
            cell_id: frozenset(itertools.chain.from_iterable(parts))
            for cell_id, parts in collected.items()
        },
        attempts=attempts,
    )


def shard_problems(files: Sequence[ResultsFile]) -> list[str]:
    """Every shard missing from a plan of N shards, named; and plans that disagree on N.

    Shards belong to one plan when they share the interpreter and the cell
    selection. A file of the same plan without a shard covers every shard, so
    none is missing then. A shard that is absent leaves no record and, in a file
    of another shard, no trace of its own tests (each shard collects only its
    own), so the headers are the only place its absence can be seen.
    """
    plans: dict[tuple[str, str], dict[int, set[int]]] = {}
    whole: set[tuple[str, str]] = set()
    for results in files:
        header = results.header
        plan = (header.python, header.selection or "")
        if header.shard is None:
            whole.add(plan)
            continue
        found = shard_of(header.shard)
        if found is not None:  # a damaged shard is already a problem of its file
            plans.setdefault(plan, {}).setdefault(found[1], set()).add(found[0])
    problems = []
    for plan in sorted(plans):
        if plan in whole:
            continue
        python, selection = plan
        where = f"python {python}" + (f", cells {selection!r}" if selection else "")
        totals = plans[plan]
        if len(totals) > 1:
            problems.append(
                f"shards of {where} were cut {' and '.join(f'{n} ways' for n in sorted(totals))}; "
                "rerun every shard with one --shard total"
            )
        for total in sorted(totals):
            problems.extend(
                f"shard {index}/{total} of {where} is missing; run it "
                f"(--shard {index}/{total}) or add its results file"
                for index in range(1, total + 1)
                if index not in totals[total]
            )
    return problems


def group_by_cell(
    records: Iterable[Record],
) -> tuple[dict[str, dict[str, Record]], list[Record]]:
    """Records as cell id -> test id -> record, and the records that repeat an earlier pair.

    The first record of a (cell, test) is the one grouped; merge judges the
    repeats against it.
    """
    cells: dict[str, dict[str, Record]] = {}
    repeats: list[Record] = []
    last: str | None = None
    tests: dict[str, Record] = {}
    # A file is written cell by cell, so the cell mostly stays the same from one
    # record to the next: one comparison instead of a lookup.
    for record in records:
        cell_id = record.cell
        if cell_id != last:
            found = cells.get(cell_id)
            if found is None:
                found = cells[cell_id] = {}
            tests, last = found, cell_id
        if tests.setdefault(record.test, record) is not record:
            repeats.append(record)
    return cells, repeats


def run_span(files: Sequence[ResultsFile]) -> float:
    """Seconds from the earliest start to the latest finish written in the files.

    The run time the reports show comes from the data, not from the clock of the
    gate, so a report is the same bytes however often it is rendered; shards of
    one run that ran side by side count once (a span, not a sum).
    """
    starts, ends = [], []
    for results in files:
        begun = _instant(results.header.started)
        ended = _instant(results.footer.finished) if results.footer is not None else None
        if begun is not None and ended is not None:
            starts.append(begun)
            ends.append(ended)
    return max(0.0, max(ends) - min(starts)) if starts else 0.0


def _instant(text: str | None) -> float | None:
    """POSIX seconds of an ISO-8601 timestamp with an offset (or a trailing Z), else None."""
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


def _origins(
    merged_files: Sequence[ResultsFile], cells: dict[str, dict[str, Record]]
) -> dict[tuple[str, str], str]:
    """The path each kept record was read from (by identity: the file that holds it)."""
    origin: dict[tuple[str, str], str] = {}
    for results in merged_files:
        for record in results.records:
            tests = cells.get(record.cell)
            if tests is not None and tests.get(record.test) is record:
                origin[(record.cell, record.test)] = results.path
    return origin


def _meet(
    tests: dict[str, Record], record: Record, kept_from: str, path: str, problems: list[str]
) -> int:
    """Put a second result for a (cell, test) beside the kept one in its cell's `tests`.

    Returns 1 if they agree; otherwise records a problem, keeps the worse one and
    returns 0.
    """
    kept = tests[record.test]
    if kept.outcome is record.outcome:
        return 1
    worse = SEVERITY[record.outcome] > SEVERITY[kept.outcome]
    problems.append(
        f"conflict for {record.cell} :: {record.test}: {kept.outcome.value} in {kept_from}, "
        f"{record.outcome.value} in {path}; judging {(record if worse else kept).outcome.value}"
    )
    if worse:
        tests[record.test] = record
    return 0


def _digest_problems(digests: dict[str, str], matrix_digest: str | None) -> list[str]:
    groups: dict[str, list[str]] = {}
    for path, digest in digests.items():
        groups.setdefault(digest, []).append(path)
    problems = []
    if len(groups) > 1:
        parts = "; ".join(
            f"{digest or '(none)'}: {', '.join(paths)}" for digest, paths in sorted(groups.items())
        )
        problems.append(
            f"results come from different matrix files (matrix digests differ): {parts}; "
            "rerun the cells with one matrix.yaml"
        )
    if matrix_digest is not None:
        foreign = sorted(path for path, digest in digests.items() if digest != matrix_digest)
        if foreign:
            problems.append(
                f"results written for another matrix.yaml than the one gated "
                f"(digest {matrix_digest}): {', '.join(foreign)}; rerun them or pass the "
                "matching --matrix"
            )
    return problems


def _version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in version.split(".")
    )
