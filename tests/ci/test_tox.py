"""tox.ini: one env per interpreter running the same harness, chosen on GitHub by tox-gh-actions.

The configuration tests ask tox itself (`tox config`, `tox -l`) rather than
re-parsing the file, so they see what tox will run. The end-to-end test builds
a real tox environment and runs the synthetic matrix through it; it installs
packages, so it is marked slow.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci.conftest import PYTHON, REPO, SYNTHETIC_ITEMS, harness_can_run, python_module
from ci.conftest import write_synthetic_project as write_project

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tox") is None or importlib.util.find_spec("tox_gh_actions") is None,
    reason="tox and tox-gh-actions are not installed (`pip install tox tox-gh-actions`)",
)

INTERPRETERS = ("3.10", "3.11", "3.12", "3.13")
THIS_ENV = "py" + PYTHON.replace(".", "")


def tox(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 120
) -> str:
    done = python_module("tox", *args, cwd=cwd, env=env, timeout=timeout)
    assert done.returncode == 0, (
        f"tox {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    # tox-gh-actions logs to stdout ("ROOT: ..."); keep only tox's own answer.
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("ROOT:"))


def tox_config(*envs: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    shown = tox("config", "-e", ",".join(envs), "-k", "commands", "--format", "json", env=env)
    data: dict[str, Any] = json.loads(shown)["env"]
    return data


def ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "tox.ini")
    return parser


def test_gh_actions_maps_every_interpreter_to_its_env() -> None:
    mapping = {}
    for line in ini()["gh-actions"]["python"].strip().splitlines():
        version, _, envs = line.partition(":")
        mapping[version.strip()] = [e.strip() for e in envs.split(",")]
    assert mapping == {v: ["py" + v.replace(".", "")] for v in INTERPRETERS}
    matrix = REPO / "matrix.yaml"
    if matrix.exists():
        for python in yaml.safe_load(matrix.read_text())["python"]:
            assert str(python) in mapping, f"matrix.yaml's Python {python} has no tox env"


@pytest.mark.slow  # tox in a subprocess
def test_envlist_has_every_interpreter_and_the_gate() -> None:
    listed = tox("-l", env={"GITHUB_ACTIONS": "false"}).split()
    assert listed == [*("py" + v.replace(".", "") for v in INTERPRETERS), "gate"]


@pytest.mark.slow  # tox in a subprocess
def test_tox_gh_actions_picks_this_interpreters_env() -> None:
    # tox-gh-actions reads the interpreter tox runs on, as on a GitHub runner after
    # setup-python. A tox too new for tox-gh-actions fails here (see docs/ci.md).
    listed = tox("-l", env={"GITHUB_ACTIONS": "true"}).split()
    assert listed == [THIS_ENV]


@pytest.mark.slow  # tox in a subprocess
@pytest.mark.parametrize(("shard", "expected"), [(None, "1/1"), ("2/3", "2/3")])
def test_each_env_runs_its_interpreter_and_the_shard(shard: str | None, expected: str) -> None:
    extra = {"MIGMATRIX_SHARD": shard} if shard else {}
    config = tox_config(*("py" + v.replace(".", "") for v in INTERPRETERS), env=extra)
    for version in INTERPRETERS:
        (command,) = config[f"py{version.replace('.', '')}"]["commands"]
        words = command.split() if isinstance(command, str) else command
        assert words[:2] == ["migmatrix", "run"]
        assert words[words.index("--python") + 1] == version
        assert words[words.index("--shard") + 1] == expected
        assert words[words.index("--results-dir") + 1] == str(REPO / "results")


@pytest.mark.slow  # tox in a subprocess
def test_gate_env_writes_every_report() -> None:
    config = tox_config("gate")
    (command,) = config["gate"]["commands"]
    words = command.split() if isinstance(command, str) else command
    assert words[:3] == ["migmatrix", "gate", str(REPO / "results")]
    for flag, name in (("--json", "gate.json"), ("--junit", "junit.xml"),
                       ("--markdown", "gate.md"), ("--html", "gate.html")):  # fmt: skip
        assert words[words.index(flag) + 1] == str(REPO / "reports" / name)


@pytest.mark.slow
def test_tox_env_runs_a_shard_of_the_matrix_end_to_end(tmp_path: Path) -> None:
    """`tox -e pyXY` for real, on the synthetic matrix, one shard of it.

    Slow (about 10-25 s): tox builds a virtualenv and pip installs the harness's
    dependencies. The project is this repository's tox.ini next to the synthetic
    matrix; the package is installed from the repository by path, which is the
    only difference from `package = editable` in the repository itself.
    """
    if harness_can_run() is not None:
        pytest.skip(f"harness not runnable: {harness_can_run()}")
    project = write_project(tmp_path / "project").parent
    shutil.copy(REPO / "tox.ini", project / "tox.ini")
    tox(
        "-e", THIS_ENV, "--workdir", str(tmp_path / "work"),
        "-x", "testenv.package=skip", "-x", f"testenv.deps=-e{REPO}",
        env={"MIGMATRIX_SHARD": "2/3"}, cwd=project, timeout=600,
    )  # fmt: skip
    (results,) = sorted((project / "results").glob("*.jsonl"))
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    header = lines[0]
    assert header["shard"] == "2/3"
    assert header["python"] == PYTHON
    records = [line for line in lines if line["kind"] == "record"]
    assert 0 < len(records) < SYNTHETIC_ITEMS
