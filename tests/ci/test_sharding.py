"""Sharding end to end: shards in separate processes and folders merge into the unsharded verdicts.

This is what the CI fan-out relies on: each cell job runs `migmatrix run --shard
i/N` in its own checkout, the gate job merges whatever was uploaded. Here every
shard runs as its own `python -m migmatrix run` in its own folder over a small
synthetic matrix (tests/ci/conftest.py), the gate merges each set of folders,
and the verdict of every (cell, test) must equal the unsharded run's. The CI
variables of GitLab, Buildkite and CircleCI must select the same shard as
`--shard`, and the run must say which variables it used.

Slow by nature (marked so): about 16 short pytest processes, 15-60 s on two busy
cores. Shards of one split run concurrently, as they would on CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ci.conftest import PYTHON, SYNTHETIC_ITEMS, clean_env, harness_can_run, migmatrix

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        harness_can_run() is not None, reason=f"harness not runnable: {harness_can_run()}"
    ),
]

Key = tuple[str, str]


class Runs:
    """Runs of the synthetic matrix under one temporary root, each in its own folder."""

    def __init__(self, root: Path, matrix: Path) -> None:
        self.root = root
        self.matrix = matrix
        self._cache: dict[str, Path] = {}
        # In-process (no xdist workers): a shard is chosen at collection, the same
        # with or without workers, and 16 runs x 2 worker start-ups would be slow.
        # The 3-way split runs with workers to cover that path too.
        self.pytest_args = ["-n", "0"]

    def command(self, *extra: str, workers: str = "0") -> list[str]:
        pytest_args = ["-n", workers] if workers != "0" else self.pytest_args
        return [
            sys.executable, "-m", "migmatrix", "run", "--matrix", str(self.matrix),
            "--python", PYTHON, "--results-dir", "results", *extra, "--", *pytest_args,
        ]  # fmt: skip

    def run_many(
        self, named: Mapping[str, tuple[list[str], dict[str, str]]], workers: str = "0"
    ) -> dict[str, Path]:
        """Start every (args, env) at once, each in folder root/NAME; wait; return the folders."""
        started = []
        for name, (args, env) in named.items():
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=False)
            log = (folder / "output.txt").open("w")
            process = subprocess.Popen(
                self.command(*args, workers=workers),
                cwd=folder,
                env=clean_env(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            started.append((name, folder, log, process))
        for name, folder, log, process in started:
            code = process.wait(timeout=300)
            log.close()
            output = (folder / "output.txt").read_text()
            # 0 or 1: the run itself judges nothing; any test outcome is fine here.
            assert code in (0, 1), f"{name}: `migmatrix run` exited {code}:\n{output}"
            self._cache[name] = folder
        return {name: self._cache[name] for name in named}

    def shards(self, total: int) -> list[Path]:
        names = {
            f"shard-{i}-of-{total}": ([f"--shard={i}/{total}"], {}) for i in range(1, total + 1)
        }
        missing = {k: v for k, v in names.items() if k not in self._cache}
        if missing:
            self.run_many(missing, workers="2" if total == 3 else "0")
        return [self._cache[name] for name in names]

    def unsharded(self) -> Path:
        if "unsharded" not in self._cache:
            self.run_many({"unsharded": ([], {})})
        return self._cache["unsharded"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, synthetic_matrix: Path) -> Runs:
    return Runs(tmp_path_factory.mktemp("runs"), synthetic_matrix)


def results_file(folder: Path) -> Path:
    (path,) = sorted((folder / "results").glob("*.jsonl"))
    return path


def read_jsonl(path: Path) -> tuple[dict[str, Any], set[Key]]:
    """(header, {(cell, test)}) of one results file."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    header = next(line for line in lines if line["kind"] == "header")
    footer = next(line for line in lines if line["kind"] == "footer")
    keys = {(line["cell"], line["test"]) for line in lines if line["kind"] == "record"}
    assert footer["records"] == len(keys), f"{path}: footer count differs from the records"
    return header, keys


def gate(
    runs: Runs, folders: list[Path], name: str, env: dict[str, str] | None = None
) -> tuple[int, dict[Key, str]]:
    """`migmatrix gate` over the folders' results: (exit code, {(cell, test): verdict})."""
    report = runs.root / f"{name}.json"
    done = migmatrix(
        "gate", *(str(f / "results") for f in folders), "--matrix", str(runs.matrix),
        "--json", str(report), cwd=runs.root, env=env,
    )  # fmt: skip
    assert done.returncode in (0, 1, 3), done.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    verdicts = {(r["cell"], r["test"]): r["verdict"] for r in data["results"]}
    # The report lists as-expected tests per cell, to stay small.
    for cell in data["cells"]:
        for test in cell["as_expected"]:
            assert (cell["id"], test) not in verdicts, (cell["id"], test)
            verdicts[cell["id"], test] = "as-expected"
    assert len(verdicts) == sum(data["totals"].values()), "the report lost a verdict"
    return done.returncode, verdicts


def output_of(folder: Path) -> str:
    return (folder / "output.txt").read_text()


# --------------------------------------------------------------------------- tests


def test_unsharded_run_covers_the_synthetic_matrix(runs: Runs) -> None:
    header, keys = read_jsonl(results_file(runs.unsharded()))
    assert len(keys) == SYNTHETIC_ITEMS
    assert header["python"] == PYTHON
    code, verdicts = gate(runs, [runs.unsharded()], "unsharded")
    # The synthetic suites hold a deliberate regression and a wrong reason, so the
    # comparison below is over a mixed set, not over all-green.
    assert code == 1
    assert {"as-expected", "reproduced", "regression", "wrong-reason", "flaky"} <= set(
        verdicts.values()
    )


@pytest.mark.parametrize("total", [1, 3, 7])
def test_sharded_runs_merge_into_the_unsharded_verdicts(runs: Runs, total: int) -> None:
    folders = runs.shards(total)
    parts = []
    for index, folder in enumerate(folders, start=1):
        header, keys = read_jsonl(results_file(folder))
        assert header["shard"] == f"{index}/{total}"
        assert keys, f"shard {index}/{total} ran nothing"
        parts.append(keys)
    # Disjoint and complete: every item ran exactly once over the split.
    assert sum(map(len, parts)) == SYNTHETIC_ITEMS
    assert set().union(*parts) == read_jsonl(results_file(runs.unsharded()))[1]

    expected_code, expected = gate(runs, [runs.unsharded()], "unsharded")
    code, verdicts = gate(runs, folders, f"merged-{total}")
    assert verdicts == expected
    assert code == expected_code


def test_a_dead_shard_leaves_its_cells_missing_never_passed(runs: Runs) -> None:
    folders = runs.shards(3)
    _, lost = read_jsonl(results_file(folders[2]))
    code, verdicts = gate(runs, folders[:2], "dead-shard")
    # Incomplete, not merely failed: the headers say a plan of 3 shards lost one.
    assert code == 3
    done = migmatrix(
        "gate", *(str(f / "results") for f in folders[:2]), "--matrix", str(runs.matrix),
        cwd=runs.root,
    )  # fmt: skip
    assert f"shard 3/3 of python {PYTHON} is missing" in done.stdout + done.stderr
    for key in lost:
        if key in verdicts:
            assert verdicts[key] in {"missing", "incomplete"}, (key, verdicts[key])
    assert "missing" in verdicts.values()


CI_SYSTEMS = {
    # name: variables meaning "shard 2 of 3", and the source the run must name
    "gitlab": ({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"}, "CI_NODE_INDEX"),
    "buildkite": (
        {"BUILDKITE_PARALLEL_JOB": "1", "BUILDKITE_PARALLEL_JOB_COUNT": "3"},
        "BUILDKITE_PARALLEL_JOB",
    ),
    "circleci": ({"CIRCLE_NODE_INDEX": "1", "CIRCLE_NODE_TOTAL": "3"}, "CIRCLE_NODE_INDEX"),
}


def test_ci_variables_select_the_shard_and_are_named(runs: Runs) -> None:
    explicit = runs.shards(3)[1]
    _, wanted = read_jsonl(results_file(explicit))
    folders = runs.run_many({f"ci-{name}": ([], env) for name, (env, _) in CI_SYSTEMS.items()})
    for name, (_, source) in CI_SYSTEMS.items():
        folder = folders[f"ci-{name}"]
        header, keys = read_jsonl(results_file(folder))
        assert header["shard"] == "2/3", name
        assert keys == wanted, name
        said = [line for line in output_of(folder).splitlines() if source in line]
        assert said, f"{name}: the run does not say it took the shard from {source}"
        assert "2/3" in said[0], said[0]


def test_explicit_shard_wins_over_ci_variables(runs: Runs) -> None:
    folder = runs.run_many(
        {"explicit-over-ci": (["--shard=3/3"], {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"})}
    )["explicit-over-ci"]
    header, keys = read_jsonl(results_file(folder))
    assert header["shard"] == "3/3"
    assert keys == read_jsonl(results_file(runs.shards(3)[2]))[1]


def test_gate_writes_the_step_summary(runs: Runs, tmp_path: Path) -> None:
    # matrix.yml relies on this instead of appending reports/gate.md a second time.
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    gate(runs, [runs.unsharded()], "summary", env={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("earlier step\n"), "the step summary must be appended to"
    assert "repro" in text
    assert "golden" in text


# --------------------------------------------------------------------------- environments


def test_sharded_environment_runs_merge_into_one_local_run(
    tmp_path_factory: pytest.TempPathFactory, synthetic_matrix: Path
) -> None:
    """A matrix with an environment adapter, run as CI does: one job per (environment, shard).

    `flagged` is an environment of its own (its `env:` sets a variable for its test
    processes). CI runs `--matrix-environment` per job and shard; locally one run per
    environment. Both merge to the same verdicts, and each file holds its own
    environment's cells only (the gate checks that).
    """
    folder = tmp_path_factory.mktemp("env-project")
    for path in synthetic_matrix.parent.rglob("*"):
        if path.is_file() and "results" not in path.parts:
            target = folder / path.relative_to(synthetic_matrix.parent)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    matrix = folder / "matrix.yaml"
    text = matrix.read_text(encoding="utf-8").replace(
        "envs:\n",
        '  flagged: {object: "toy_adapters:new", features: [fixed], env: {TOY_FLAG: "1"}}\nenvs:\n',
        1,
    )
    matrix.write_text(text, encoding="utf-8")
    runs = Runs(tmp_path_factory.mktemp("env-runs"), matrix)
    env_flag = ["--matrix-environment", "flagged"]
    local = runs.run_many({"local-default": ([], {}), "local-flagged": (env_flag, {})})
    jobs = {
        f"ci-{name}-{i}": ([*extra, f"--shard={i}/2"], {})
        for name, extra in (("default", []), ("flagged", env_flag))
        for i in (1, 2)
    }
    ci = runs.run_many(jobs)
    names = sorted(p.name for f in ci.values() for p in (f / "results").glob("*.jsonl"))
    assert names == [
        f"py{PYTHON}-flagged-shard-1-of-2.jsonl",
        f"py{PYTHON}-flagged-shard-2-of-2.jsonl",
        f"py{PYTHON}-shard-1-of-2.jsonl",
        f"py{PYTHON}-shard-2-of-2.jsonl",
    ]
    expected_code, expected = gate(runs, list(local.values()), "env-local")
    code, verdicts = gate(runs, list(ci.values()), "env-ci")
    assert verdicts == expected
    assert code == expected_code
    assert any(cell.startswith("repro/flagged/") for cell, _ in verdicts)
