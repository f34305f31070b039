"""Nothing outlives a matrix run, however it is stopped.

Real processes: a pytest controller (`-n 2` or one process) runs a matrix whose
staging env starts one small HTTP server per adapter state; its tests hang once
they have signalled that they run. The test then sends the controller SIGINT,
SIGTERM or SIGKILL, and checks that no server, keeper or worker is left (by the
server script's path in the command line, and by the controller's process group)
and no scratch folder or hand-off file in the run's temp directory. After a SIGKILL
the controller cleans nothing itself: the keepers stop the servers, and the next
run's controller removes the scratch folder. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytester_matrix import write_project

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = [pytest.mark.usefixtures("no_ci_shard"), pytest.mark.slow]

SERVER = """
import http.server, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

MATRIX = """
python: ["{py}"]
phases: {{alpha: suites/alpha}}
adapters:
  old: {{object: "adapters.old:adapter"}}
  new: {{object: "adapters.new:adapter"}}
envs:
  staging:
    features: [server]
    service:
      command: [python, "{server}", "{{port}}"]
      health: "http://{{host}}:{{port}}/health"
      env: {{STATE: "{{adapter}}"}}
"""

SUITE = """
import os, pathlib, time

def test_hangs(cell):
    ready = pathlib.Path(os.environ["READY_DIR"]) / cell.adapter
    ready.write_text(cell.service_url or "")
    time.sleep(120)
"""

MODES = {"xdist": ["-n", "2"], "serial": ["-p", "no:xdist"]}
# Generous bounds: two noisy shared cores, and a server start takes a second or two.
START_BOUND = 90.0
STOP_BOUND = 60.0
LEFTOVER_BOUND = 20.0


def _sigint_as_at_a_terminal() -> None:
    # A run started in the background of a script (as CI may start this suite)
    # inherits SIGINT ignored, and Python then leaves it ignored; a user's run at a
    # terminal has it. The runs under test get the terminal's disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_run(project: Path, mode: str, tmp: Path, ready: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmp), "READY_DIR": str(ready)}
    env.pop("STAGING_URL", None)
    argv = [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml"]
    argv += ["-p", "no:cacheprovider", *MODES[mode]]
    log = (project / "run.log").open("wb")
    with log:
        # Its own process group: what it leaves behind in it is found by the group id.
        return subprocess.Popen(
            argv,
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_sigint_as_at_a_terminal,
        )


def wait_for(predicate: object, bound: float) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def processes_left(marker: str, group: int) -> list[str]:
    """Live processes whose command line holds `marker` or that are in process group `group`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        if stat[0] == "Z":
            continue
        if marker in cmdline or int(stat[2]) == group:
            found.append(f"{entry}: {cmdline.strip()}")
    return found


def leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("migmatrix-"))


@pytest.fixture(autouse=True)
def _kill_what_a_failing_test_left(pytester: pytest.Pytester) -> Iterator[None]:
    """A failed check must not leave this test's servers running on the shared machine."""
    yield
    for line in processes_left(str(pytester.path / "leftover_probe_server.py"), -1):
        with contextlib.suppress(OSError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


def setup_project(pytester: pytest.Pytester) -> tuple[Path, Path, Path, str]:
    server = pytester.path / "leftover_probe_server.py"
    server.write_text(SERVER)
    write_project(pytester, MATRIX.format(py=PY, server=server), {"alpha/test_a.py": SUITE})
    tmp = pytester.mkdir("tmp")
    ready = pytester.mkdir("ready")
    return pytester.path, tmp, ready, str(server)


def interrupt_mid_test(pytester: pytest.Pytester, mode: str, signum: int) -> tuple[Path, str, int]:
    """Start the run, send `signum` once a test is hanging, wait for the controller to end."""
    project, tmp, ready, marker = setup_project(pytester)
    controller = start_run(project, mode, tmp, ready)
    try:
        started = wait_for(lambda: any(ready.iterdir()), START_BOUND)
        log = (project / "run.log").read_text(errors="replace")
        assert started, f"no test started within {START_BOUND}s:\n{log}"
        assert processes_left(marker, -1), "the servers should be running"
        controller.send_signal(signum)
        controller.wait(timeout=STOP_BOUND)
    finally:
        if controller.poll() is None:
            os.killpg(controller.pid, signal.SIGKILL)
            controller.wait()
    return tmp, marker, controller.pid


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_controller_leaves_nothing_behind(
    pytester: pytest.Pytester, mode: str, signum: int
) -> None:
    tmp, marker, group = interrupt_mid_test(pytester, mode, signum)
    log = (pytester.path / "run.log").read_text(errors="replace")
    # SIGTERM takes Ctrl-C's path: pytest's "interrupted" exit, not a death by signal.
    assert wait_for(lambda: not processes_left(marker, group), LEFTOVER_BOUND), (
        processes_left(marker, group),
        log,
    )
    assert leftovers(tmp) == [], log
    assert "KeyboardInterrupt" in log


@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_killed_controller_leaves_no_server_and_the_next_run_sweeps_its_folder(
    pytester: pytest.Pytester, mode: str
) -> None:
    tmp, marker, group = interrupt_mid_test(pytester, mode, signal.SIGKILL)
    # The keepers see their pipe close and stop the servers; the workers see xdist's
    # channel close.
    assert wait_for(lambda: not processes_left(marker, group), LEFTOVER_BOUND), processes_left(
        marker, group
    )
    assert len(leftovers(tmp)) == 1  # the killed run's scratch folder, hand-off file inside
    env = {**os.environ, "TMPDIR": str(tmp)}
    argv = [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", "--co", "-q"]
    argv += ["-p", "no:cacheprovider", "-p", "no:xdist"]
    done = subprocess.run(argv, cwd=pytester.path, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout.decode(errors="replace")
    assert leftovers(tmp) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_migmatrix_run_reaches_its_pytest_which_cleans_up(
    pytester: pytest.Pytester, signum: int
) -> None:
    project, tmp, ready, marker = setup_project(pytester)
    env = {**os.environ, "TMPDIR": str(tmp), "READY_DIR": str(ready)}
    env.pop("STAGING_URL", None)
    argv = [sys.executable, "-m", "migmatrix", "run", "--matrix", "matrix.yaml", "--workers", "2"]
    with (project / "run.log").open("wb") as log:
        outer = subprocess.Popen(
            argv,
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_sigint_as_at_a_terminal,
        )
    try:
        started = wait_for(lambda: any(ready.iterdir()), START_BOUND)
        assert started, (project / "run.log").read_text(errors="replace")
        outer.send_signal(signum)
        # `migmatrix run` waits for its pytest instead of leaving it to init.
        code = outer.wait(timeout=STOP_BOUND)
    finally:
        if outer.poll() is None:
            os.killpg(outer.pid, signal.SIGKILL)
            outer.wait()
    log = (project / "run.log").read_text(errors="replace")
    assert wait_for(lambda: not processes_left(marker, outer.pid), LEFTOVER_BOUND), (
        processes_left(marker, outer.pid),
        log,
    )
    assert leftovers(tmp) == [], log
    # The pytest was interrupted (its exit code 2), so the results are not complete.
    assert "migmatrix run: pytest exited 2" in log
    assert code == 3, log
