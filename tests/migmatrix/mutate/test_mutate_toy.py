"""`migmatrix mutate` on a toy project: one killed, one surviving, one uncovered mutant.

Real runs: the baseline and the mutants run the toy matrix through pytest in scratch
copies, and the gate judges them. The interrupt test sends SIGINT while a mutant's
run is in flight and checks that no scratch copy and no process is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from toy_project import write_toy

from migmatrix.cli import main

OPERATORS = [
    "--operator",
    "core/ReplaceBinaryOperator_Add_Sub",
    "--operator",
    "core/ReplaceComparisonOperator_Gt_GtE",
]

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_ci_shard")]


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = write_toy(tmp_path / "toy")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.chdir(project)
    return project


def test_killed_survived_and_not_covered_are_told_apart(
    toy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["mutate", "--target", "calc.py", *OPERATORS, "--json", "m.json", "--markdown", "m.md"]
    )
    assert code == 0
    report = json.loads((toy / "m.json").read_text())
    outcomes = {m["id"]: m["outcome"] for m in report["mutants"]}
    assert outcomes == {
        "calc.py:2:core/ReplaceBinaryOperator_Add_Sub#0": "killed",
        "calc.py:6:core/ReplaceComparisonOperator_Gt_GtE#0": "survived",
        "calc.py:12:core/ReplaceBinaryOperator_Add_Sub#1": "not-covered",
    }
    killed, survived, uncovered = sorted(report["mutants"], key=lambda m: m["line"])
    cells = [f"alpha/new/unit/py{sys.version_info[0]}.{sys.version_info[1]}"]
    cells.append(cells[0].replace("/new/", "/old/"))
    assert sorted(c["cell"] for c in killed["caught"]) == sorted(cells)
    assert {c["verdict"] for c in killed["caught"]} == {"regression"}
    assert "diff" not in killed
    assert survived["cells"] == sorted(cells)
    assert "+    if x >= 10:" in survived["diff"]
    assert uncovered["cells"] == []
    assert report["files"]["calc.py"]["score"] == 33.3
    assert report["survivors"] == [survived["id"], uncovered["id"]]
    markdown = (toy / "m.md").read_text()
    assert "| `calc.py` | 33.3% | 1 | 0 | 1 | 1 | 0 |" in markdown
    assert "Cells that should have caught it: none (no cell reached this line)." in markdown
    assert markdown in capsys.readouterr().out
    # The original is untouched, and the scratch copies are gone.
    assert "a + b" in (toy / "calc.py").read_text()
    assert list(Path(os.environ["TMPDIR"]).iterdir()) == []


def test_expect_unexpected_pass_counts_only_unexpected_passes(toy: Path) -> None:
    # `+` -> `-` fails the tests that should pass: a regression, not an unexpected pass.
    code = main(
        [
            "mutate",
            "--target",
            "calc.py",
            *OPERATORS[:2],
            "--expect",
            "unexpected-pass",
            "--json",
            "m.json",
        ]
    )
    assert code == 0
    report = json.loads((toy / "m.json").read_text())
    first = report["mutants"][0]
    assert (first["outcome"], first["detail"].count("regression")) == ("survived", 2)


def test_the_same_run_gives_the_same_bytes(toy: Path) -> None:
    args = ["mutate", "--target", "calc.py", *OPERATORS, "--jobs", "2"]
    assert main([*args, "--json", "a.json"]) == 0
    assert main([*args, "--json", "b.json"]) == 0
    assert (toy / "a.json").read_bytes() == (toy / "b.json").read_bytes()


def test_bad_arguments_are_usage_errors(toy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mutate", "--target", "nope.py"]) == 2
    assert "--target nope.py: no such Python file" in capsys.readouterr().err
    assert main(["mutate", "--target", "calc.py", "--budget", "soon"]) == 2
    assert "give a positive duration" in capsys.readouterr().err
    assert main(["mutate", "--target", "calc.py", "--operator", "core/Nope*"]) == 2
    assert "matches none of cosmic-ray's operators" in capsys.readouterr().err


def test_ctrl_c_mid_run_leaves_no_copy_and_no_process(toy: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    env = dict(os.environ, TOY_MARKS=str(marks))
    process = subprocess.Popen(
        [sys.executable, "-m", "migmatrix", "mutate", "--target", "calc.py", *OPERATORS],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(marks.iterdir()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no test run started"
        time.sleep(0.1)
    pids = [int(p.read_text()) for p in marks.iterdir() if p.read_text()]
    assert list(Path(env["TMPDIR"]).iterdir())  # the scratch copies exist mid-run
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in err
    assert list(Path(env["TMPDIR"]).iterdir()) == []
    assert pids
    assert not [pid for pid in pids if running(pid)]


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie left to an init that does not reap is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
