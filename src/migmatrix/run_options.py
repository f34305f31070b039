"""The options of a matrix run, each declared once, with one name and one meaning.

`migmatrix run` (argparse, in cli.py) and the pytest plugin (pytest's parser)
take the same options under the same names, because `migmatrix run` passes them
straight on to the pytest it starts. The names a matrix run shares with pytest
itself are prefixed (`--matrix-durations`, since pytest owns `--durations`).
This module imports nothing heavy (not even pytest): pytest loads the plugin,
and so this module, into every pytest process of the environment, and every
`migmatrix` command loads it through cli.py.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: its flag, `dest`, metavar and help; `type` converts its text (None: str).

    A `switch` takes no value: given, it is True.
    """

    flag: str
    metavar: str
    help: str
    type: Callable[[str], Any] | None = None
    switch: bool = False

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def kwargs(self) -> dict[str, Any]:
        if self.switch:
            return {"action": "store_true", "default": False, "help": self.help}
        found: dict[str, Any] = {"metavar": self.metavar, "default": None, "help": self.help}
        if self.type is not None:
            found["type"] = self.type
        return found


MATRIX = Option(
    "--matrix",
    "MATRIX_YAML",
    "run the phase suites of this matrix.yaml over its cells and record the results",
)
CELLS = Option(
    "--cells", "SELECTION", "a -k style expression over cell ids selecting the cells to run"
)
SHARD = Option(
    "--shard",
    "I/N",
    "run only the I-th of N disjoint shards of the selected (cell, test) items "
    "(default: from CI_NODE_INDEX/CI_NODE_TOTAL, BUILDKITE_PARALLEL_JOB/_COUNT or "
    "CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL when set; else no sharding)",
)
DURATIONS = Option(
    "--matrix-durations",
    "FILE_OR_DIR",
    "balance shards by the test durations in these earlier results (a .jsonl "
    "file or a folder of them); every shard of a split must get the same input "
    "(default: no balancing, a plain deterministic split)",
)
RESULTS_DIR = Option(
    "--results-dir",
    "DIR",
    "folder of the results file (default: results/ in the invocation folder)",
)
TIMEOUT = Option(
    "--matrix-timeout",
    "SECONDS",
    "per-test time limit, overriding the matrix's `timeout` (0 = none)",
    type=float,
)
COVERAGE = Option(
    "--matrix-coverage",
    "DIR",
    "measure coverage in every test process, one dynamic context per cell, into DIR",
)
MANIFEST = Option(
    "--matrix-manifest",
    "FILE",
    "after writing the results file, write a JSON note of it to FILE "
    "(path, record count, shard, pytest's exit status; `migmatrix run` reads it)",
)
RUN_ID = Option(
    "--run-id",
    "ID",
    "name of this run: the results file is DIR/ID.jsonl (default: py<X.Y>[-shard])",
)
OVERWRITE = Option(
    "--overwrite-results",
    "",
    "let a --cells run replace a complete results file of another selection (or of the "
    "whole matrix) under the same name; without it such a run stops before running",
    switch=True,
)

ENVIRONMENT = Option(
    "--matrix-environment",
    "NAME",
    "run only the cells of this environment (an environment adapter's state, installed "
    "by `nox -s run-X.Y(NAME)`); default: the in-process adapters' cells",
)


def _reruns(text: str) -> int:
    """`--reruns N`: a whole number, 0 or more (argparse turns the error into exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"must be a whole number, 0 or more, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


# pytest-rerunfailures' own option, which `migmatrix run` passes on: not the plugin's.
RERUNS = Option(
    "--reruns",
    "N",
    "run a test that did not do what its expectation says again, up to N times, in the "
    "same cell; every attempt is recorded, mixed outcomes are judged `flaky`",
    type=_reruns,
)

# Every option of the plugin, in the order `pytest --help` lists them.
PLUGIN_OPTIONS = (
    *(MATRIX, CELLS, SHARD, DURATIONS, RESULTS_DIR, TIMEOUT, COVERAGE, MANIFEST, RUN_ID),
    ENVIRONMENT,
    OVERWRITE,
)

# The ones `migmatrix run` takes too and passes on unchanged (it declares `--matrix`
# and `--cells` with the other subcommands, and writes `--matrix-manifest` itself).
RUN_OPTIONS = (
    SHARD,
    DURATIONS,
    RESULTS_DIR,
    TIMEOUT,
    COVERAGE,
    RUN_ID,
    ENVIRONMENT,
    OVERWRITE,
    RERUNS,
)


def add_to_pytest(group: Any, options: Iterable[Option] = PLUGIN_OPTIONS) -> None:
    """Declare `options` in a pytest option group (`parser.getgroup(...)`)."""
    for option in options:
        group.addoption(option.flag, **option.kwargs())


def add_to_argparse(
    parser: argparse.ArgumentParser, options: Iterable[Option] = RUN_OPTIONS
) -> None:
    """Declare `options` on an argparse parser (the `migmatrix run` subcommand)."""
    for option in options:
        parser.add_argument(option.flag, **option.kwargs())


def to_argv(values: dict[str, Any], options: Iterable[Option] = RUN_OPTIONS) -> list[str]:
    """The pytest arguments for the options given in `values` (dest -> value; None: left out)."""
    argv: list[str] = []
    for option in options:
        value = values.get(option.dest)
        if option.switch:
            argv += [option.flag] if value else []
        elif value is not None:
            argv += [option.flag, str(value)]
    return argv
