"""`migmatrix run --python` with an interpreter that lacks migmatrix says so, and names nox."""

from __future__ import annotations

import sys
import venv
from pathlib import Path

import pytest

from migmatrix.cli import main
from migmatrix.outcomes import ExitCode

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.slow  # starts the bare environment's interpreter
def test_an_interpreter_without_migmatrix_is_refused_naming_the_nox_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bare virtual environment: a real interpreter with nothing installed in it.
    venv.create(tmp_path / "bare", with_pip=False)
    python = tmp_path / "bare" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    (tmp_path / "matrix.yaml").write_text(
        f'python: ["{PY}"]\nphases: {{a: suites/a}}\nadapters: {{x: {{object: "m:x"}}}}\n'
        "envs: {unit: {}}\n",
        encoding="utf-8",
    )
    (tmp_path / "suites" / "a").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--python", str(python)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith(
        f"migmatrix run: error: migmatrix is not installed for {python} "
        "(ModuleNotFoundError: No module named 'migmatrix'): "
    )
    assert f"Run `nox -s run-{PY}` instead" in err
    assert not (tmp_path / "results").exists()


def test_run_help_asks_for_one_python() -> None:
    from migmatrix.cli_parser import build_parser

    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    (python,) = [a for a in run._actions if "--python" in a.option_strings]
    assert "repeatable" not in (python.help or "")
    assert main(["run", "--python", PY, "--python", PY]) == ExitCode.USAGE
