"""This repository's own run, for the reports' tests on real results.

`nox -s matrix` leaves the results of every Python in results/ (CI runs it before
`nox -s tests`, so there they are fresh). `results_files` finds them: without
them a test skips, saying how to make them, except under CI, where their absence
is a failure. `gate` runs `migmatrix gate` on results files as a user does, in
its own process with the environment given, and writes every report into a folder.
`plant_bug` copies the results with one bug planted: a test that passes in many
cells fails in 64 of them, with the cell's numbers in the message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
RESULTS = REPO / "results"
BUG_PHASES = ("golden_path", "websocket")


def results_files() -> list[Path]:
    """The real run's results files (one per Python), or skip (fail under CI) without them."""
    found = sorted(RESULTS.glob("py*.jsonl"))
    if not found:
        msg = f"no results in {RESULTS}: run `nox -s matrix` first"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return found


def pythons_of(files: list[Path]) -> list[str]:
    """The Pythons the files' headers name, in order of first appearance."""
    found: list[str] = []
    for path in files:
        with path.open(encoding="utf-8") as stream:
            python = str(json.loads(stream.readline())["python"])
        if python not in found:
            found.append(python)
    return found


class Gate:
    """One `migmatrix gate` run: its exit code, its console output, its reports' folder."""

    def __init__(self, code: int, out: str, folder: Path) -> None:
        self.code = code
        self.out = out
        self.folder = folder

    def report(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()


def gate(files: list[Path], folder: Path, environ: Mapping[str, str], *extra: str) -> Gate:
    """`migmatrix gate FILES` with every report written into `folder`.

    Like `nox -s matrix`, it names the Pythons that ran (the files' headers), so a
    machine without one of the matrix's interpreters is not incomplete.
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    env.update(environ)
    command = [
        sys.executable, "-m", "migmatrix", "gate", *map(str, files),
        "--matrix", str(REPO / "matrix.yaml"),
        "--markdown", str(folder / "gate.md"),
        "--html", str(folder / "gate.html"),
        "--json", str(folder / "gate.json"),
        *(arg for python in pythons_of(files) for arg in ("--python", python)),
        # These tests read the map, not coverage: the rules are left unchecked (and the
        # reports say so) rather than combining four Pythons' coverage data each time.
        "--no-coverage-rules",
        *extra,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=300, check=False)
    out = done.stdout.decode(env.get("PYTHONIOENCODING", "utf-8"))
    assert done.returncode in (0, 1), done.stderr.decode(errors="replace")
    return Gate(done.returncode, out, folder)


def plant_bug(files: list[Path], folder: Path) -> tuple[list[Path], int]:
    """Copies of `files` in which one passing test per bug phase fails in 32 cells."""
    records = [
        (path, [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
        for path in files
    ]
    chosen: dict[str, list[dict[str, object]]] = {}
    for phase in BUG_PHASES:
        passed = [
            row
            for _, rows in records
            for row in rows
            if row["kind"] == "record"
            and str(row["cell"]).startswith(f"{phase}/")
            and row["outcome"] == "passed"
            and "/staging/" not in str(row["cell"])
        ]
        test = min(str(row["test"]) for row in passed)
        hits = sorted((row for row in passed if row["test"] == test), key=lambda r: str(r["cell"]))
        chosen[phase] = hits[:32]
    planted = 0
    for hits in chosen.values():
        for n, row in enumerate(hits):
            row.update(
                outcome="failed",
                exc_type="AssertionError",
                message=f"user {n} received the event of user {n * 7 + 3}",
            )
            planted += 1
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for path, rows in records:
        copy = folder / path.name
        copy.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        copies.append(copy)
    return copies, planted
