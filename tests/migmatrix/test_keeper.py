"""The keeper stops its service when the pipe from its parent closes, or on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migmatrix import keeper

SLEEPER = "import time, sys; print('up', flush=True); time.sleep(120)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('up', flush=True); time.sleep(120)"
)


def test_bad_arguments_are_a_usage_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert keeper.main(["3", "1"]) == 2
    assert "usage: python -m migmatrix.keeper FD GRACE -- COMMAND" in capsys.readouterr().err
    with pytest.raises(ValueError, match="usage"):
        keeper.parse_args(["x", "1", "cmd"])


def start(tmp_path: Path, script: str, grace: float = 5.0) -> tuple[subprocess.Popen[bytes], int]:
    read_end, write_end = os.pipe()
    out = (tmp_path / "out.log").open("wb")
    with out:
        process = subprocess.Popen(
            keeper.keeper_command(sys.executable, read_end, grace, [sys.executable, "-c", script]),
            pass_fds=(read_end,),
            stdout=out,
            start_new_session=True,
        )
    os.close(read_end)
    deadline = time.monotonic() + 60
    while "up" not in (tmp_path / "out.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return process, write_end


def service_pids(keeper_pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if int(stat[1]) == keeper_pid and stat[0] != "Z":
                found.append(int(entry))
    return found


@pytest.mark.slow  # real processes
def test_a_closed_pipe_stops_the_service(tmp_path: Path) -> None:
    process, write_end = start(tmp_path, SLEEPER)
    children = service_pids(process.pid)
    assert len(children) == 1
    os.close(write_end)  # what the kernel does when the controller dies
    code = process.wait(timeout=30)
    assert code == -signal.SIGTERM  # the keeper reports the service's end as its own
    with pytest.raises(ProcessLookupError):
        os.kill(children[0], 0)


@pytest.mark.slow  # real processes
def test_a_second_sigterm_kills_a_stubborn_service_at_once(tmp_path: Path) -> None:
    process, write_end = start(tmp_path, STUBBORN, grace=60.0)
    children = service_pids(process.pid)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert time.monotonic() - started < 30  # far below the 60 s grace
    with pytest.raises(ProcessLookupError):
        os.kill(children[0], 0)
    os.close(write_end)


@pytest.mark.slow  # real processes
def test_a_service_that_exits_gives_its_code(tmp_path: Path) -> None:
    process, write_end = start(tmp_path, "print('up', flush=True); raise SystemExit(7)")
    assert process.wait(timeout=30) == 7
    os.close(write_end)
