"""migmatrix.service: a real throwaway HTTP server script started, probed, restarted and stopped."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from migmatrix.endpoint import ServiceInfo, read_log_excerpt, service_key, service_problem
from migmatrix.model import Cell, EnvSpec, ServiceSpec
from migmatrix.plugin.services import remote_service_info, url_from_environment
from migmatrix.service import RunningService, ServiceError, free_port, start_service

SERVER = textwrap.dedent(
    """
    import http.server, json, os, signal, sys

    mode = sys.argv[2] if len(sys.argv) > 2 else "ok"
    if mode == "exit":
        print("boom: the database is locked", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status = 503 if mode == "sick" else 200
            body = json.dumps({"path": self.path, "flavor": os.environ.get("FLAVOR"),
                               "cwd": os.getcwd(), "pid": os.getpid(),
                               "ppid": os.getppid()}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("tiny server listening on", sys.argv[1], flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if mode != "stubborn":
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        print("tiny server stopped", flush=True)
    """
)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_server.py"
    path.write_text(SERVER)
    return path


def make_env(script: Path, mode: str = "ok", **spec: object) -> EnvSpec:
    service = ServiceSpec(
        command=("{python}", str(script), "{port}", mode),
        health="http://{host}:{port}/health",
        **spec,  # type: ignore[arg-type]
    )
    return EnvSpec(name="staging", features=("server",), service=service)


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, object] = json.loads(response.read())
        return data


@pytest.mark.slow  # starts a real server process
def test_start_health_log_and_stop(script: Path, tmp_path: Path) -> None:
    env = make_env(script, env=(("FLAVOR", "vanilla-{port}"),))
    service = start_service(env, workdir=tmp_path / "work", log_dir=tmp_path / "logs")
    try:
        assert service.alive()
        assert service.url == f"http://127.0.0.1:{service.port}"
        data = get_json(service.url + "/health")
        # Placeholders are filled in env values too, and the command runs in the workdir.
        assert data["flavor"] == f"vanilla-{service.port}"
        assert data["cwd"] == str((tmp_path / "work").resolve())
        assert data["ppid"] == service.pid  # the keeper is the server's parent
        assert service_problem(service.info()) is None
    finally:
        code = service.stop()
    assert code == 0
    assert not service.alive()
    assert service.stop() == 0  # idempotent
    assert service.log_path == (tmp_path / "logs" / "service-staging.log").resolve()
    log = service.log_path.read_text()
    assert "tiny server listening on" in log
    assert "tiny server stopped" in log
    assert "tiny server stopped" in service.log_excerpt(lines=1)


@pytest.mark.slow  # starts a real server process
def test_a_bare_python_program_means_the_harness_interpreter(script: Path, tmp_path: Path) -> None:
    env = EnvSpec(
        name="staging",
        service=ServiceSpec(
            command=("python", str(script), "{port}"), health="http://{host}:{port}/"
        ),
    )
    service = start_service(env, workdir=tmp_path, log_dir=tmp_path, python=sys.executable)
    try:
        assert service.command[0] == sys.executable
        assert "tiny server listening" in service.log_excerpt()
    finally:
        service.stop()


@pytest.mark.slow  # starts a real server process
def test_a_service_that_exits_at_start_raises_with_its_log(script: Path, tmp_path: Path) -> None:
    env = make_env(script, mode="exit")
    with pytest.raises(ServiceError, match="exited with code 3") as caught:
        start_service(env, workdir=tmp_path, log_dir=tmp_path / "logs")
    assert "boom: the database is locked" in str(caught.value)
    assert "service-staging.log" in str(caught.value)
    # The log is kept for the report even though the start failed.
    assert "boom" in (tmp_path / "logs" / "service-staging.log").read_text()


@pytest.mark.slow  # starts a real server process
def test_a_service_that_never_gets_healthy_is_stopped(script: Path, tmp_path: Path) -> None:
    env = make_env(script, mode="sick", startup_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"did not answer 200 within 0.5s") as caught:
        start_service(env, workdir=tmp_path, log_dir=tmp_path)
    assert time.monotonic() - started < 10
    assert "tiny server listening" in str(caught.value)
    assert "tiny server stopped" in (tmp_path / "service-staging.log").read_text()


@pytest.mark.slow  # starts a real server process
def test_stop_escalates_to_sigkill(script: Path, tmp_path: Path) -> None:
    service = start_service(make_env(script, mode="stubborn"), workdir=tmp_path, log_dir=tmp_path)
    started = time.monotonic()
    code = service.stop(timeout=0.3)
    assert code == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert "ignoring SIGTERM" in service.log_excerpt()


@pytest.mark.slow  # starts a real server process
def test_stop_also_on_failure_with_the_context_manager(script: Path, tmp_path: Path) -> None:
    service = start_service(make_env(script), workdir=tmp_path, log_dir=tmp_path)

    def run_tests() -> None:
        with service:
            msg = "a test run blew up"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="a test run blew up"):
        run_tests()
    assert not service.alive()


@pytest.mark.slow  # starts a real server process
def test_restart_keeps_port_and_workdir_and_applies_overrides(script: Path, tmp_path: Path) -> None:
    env = make_env(script, env=(("FLAVOR", "first"),))
    service = start_service(env, workdir=tmp_path / "w", log_dir=tmp_path)
    try:
        port, first_pid = service.port, service.pid
        assert get_json(service.url + "/health")["flavor"] == "first"
        service.restart({"FLAVOR": "second"})
        assert service.port == port
        assert service.pid != first_pid
        data = get_json(service.url + "/health")
        assert data["flavor"] == "second"
        assert data["cwd"] == str((tmp_path / "w").resolve())
    finally:
        service.stop()
    # One log across both lives, each start marked.
    assert service.log_path.read_text().count("--- migmatrix: starting") == 2


@pytest.mark.slow  # starts a real server process
def test_secret_placeholder_is_random_stable_across_restarts_and_not_logged(
    script: Path, tmp_path: Path
) -> None:
    env = EnvSpec(
        name="staging",
        service=ServiceSpec(
            command=("{python}", str(script), "{port}", "ok", "--key={secret}"),
            health="http://{host}:{port}/health",
            env=(("FLAVOR", "{secret}"),),
        ),
    )
    service = start_service(env, workdir=tmp_path, log_dir=tmp_path)
    other = start_service(
        make_env(script, env=(("FLAVOR", "{secret}"),)),
        workdir=tmp_path,
        log_dir=tmp_path / "other",
    )
    try:
        secret = get_json(service.url + "/health")["flavor"]
        assert isinstance(secret, str)
        assert len(secret) >= 32
        assert get_json(other.url + "/health")["flavor"] != secret  # one per service
        service.restart({})
        assert get_json(service.url + "/health")["flavor"] == secret  # tokens survive a restart
    finally:
        service.stop()
        other.stop()
    log = service.log_path.read_text()
    assert secret not in log
    assert "--key=***" in log


@pytest.mark.slow  # starts a real server process
def test_service_problem_reports_a_dead_service_with_its_log(script: Path, tmp_path: Path) -> None:
    service = start_service(make_env(script), workdir=tmp_path, log_dir=tmp_path)
    info = ServiceInfo.from_dict(json.loads(json.dumps(service.info().to_dict())))
    assert info == service.info()
    server_pid = get_json(service.url + "/health")["pid"]
    assert isinstance(server_pid, int)
    os.kill(server_pid, signal.SIGKILL)  # the server itself: its keeper then exits too
    service._process.wait(timeout=30)  # type: ignore[union-attr]  # reap, as the controller would
    problem = service_problem(info)
    assert problem is not None
    assert f"process {info.pid} is gone" in problem
    assert "tiny server listening" in problem
    service.stop()


def test_service_problem_checks_health_when_the_pid_is_unknown(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("line one\nfatal: out of cheese\n")
    port = free_port()
    health = f"http://127.0.0.1:{port}/health"
    info = ServiceInfo(env="staging", url="x", health=health, log_path=str(log))
    problem = service_problem(info, timeout=0.5)
    assert problem is not None
    assert "no answer" in problem
    assert "out of cheese" in problem
    assert service_problem(ServiceInfo(env="staging", url="http://remote")) is None


@pytest.mark.parametrize(
    ("environ", "url_env", "expected"),
    [
        ({}, "STAGING_URL", None),  # unset: start a local service
        ({"STAGING_URL": ""}, "STAGING_URL", None),  # empty counts as unset
        ({"STAGING_URL": "https://staging.example/"}, "STAGING_URL", "https://staging.example"),
        ({"STAGING_URL": "https://a", "MY_URL": "https://b"}, "MY_URL", "https://b"),  # spec wins
        ({"STAGING_URL": "https://a"}, "MY_URL", None),
    ],
)
def test_url_from_environment(environ: dict[str, str], url_env: str, expected: str | None) -> None:
    env = EnvSpec(name="staging", service=ServiceSpec(command=("x",), health="h", url_env=url_env))
    assert url_from_environment(env, environ) == expected
    info = remote_service_info(env, environ)
    assert (info.url if info else None) == expected


def test_url_from_environment_without_a_service_uses_staging_url() -> None:
    assert (
        url_from_environment(EnvSpec(name="staging"), {"STAGING_URL": "http://h:1"}) == "http://h:1"
    )


def test_bad_placeholder_and_missing_service_are_clear_errors(tmp_path: Path) -> None:
    env = EnvSpec(name="staging", service=ServiceSpec(command=("{python}", "{prot}"), health="h"))
    with pytest.raises(ServiceError, match=r"bad placeholder .prot.; use only \{host\}, \{port\}"):
        start_service(env, workdir=tmp_path, log_dir=tmp_path)
    with pytest.raises(ServiceError, match="declares no service"):
        start_service(EnvSpec(name="unit"), workdir=tmp_path, log_dir=tmp_path)
    missing = EnvSpec(name="s", service=ServiceSpec(command=(str(tmp_path / "nope"),), health="h"))
    with pytest.raises(ServiceError, match=r"service 's': cannot start .*fix the command"):
        start_service(missing, workdir=tmp_path, log_dir=tmp_path)


def test_read_log_excerpt_edges(tmp_path: Path) -> None:
    assert read_log_excerpt(None) == "(no log: remote service)"
    assert "unreadable" in read_log_excerpt(tmp_path / "absent.log")
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert read_log_excerpt(empty) == "(log is empty)"
    many = tmp_path / "many.log"
    many.write_text("".join(f"line {i}\n" for i in range(100)))
    assert read_log_excerpt(many, lines=2) == "line 98\nline 99"


@pytest.mark.slow  # starts a real server process
def test_running_service_repr_names_env_and_url(script: Path, tmp_path: Path) -> None:
    service = start_service(make_env(script), workdir=tmp_path, log_dir=tmp_path)
    try:
        assert isinstance(service, RunningService)
        assert f"url='http://127.0.0.1:{service.port}'" in repr(service)
    finally:
        service.stop()


def cell(adapter: str, base: str = "", components: tuple[str, ...] = ()) -> Cell:
    return Cell("staging", adapter, "staging", "3.12", adapter_base=base, components=components)


def test_service_key_varies_only_with_the_cell_placeholders_used() -> None:
    plain = EnvSpec(name="staging", service=ServiceSpec(command=("x", "{port}"), health="h"))
    per_adapter = EnvSpec(
        name="staging",
        service=ServiceSpec(command=("x",), health="h", env=(("STATE", "{adapter}"),)),
    )
    partial = cell("partial[engine+factory]", "partial", ("engine", "factory"))
    # One service for all cells unless a template names a cell placeholder.
    assert service_key(plain, partial) == service_key(plain, cell("ssot")) == "staging"
    assert service_key(per_adapter, partial) == "staging[partial[engine+factory]]"
    assert service_key(per_adapter, cell("ssot")) == "staging[ssot]"
    assert service_key(per_adapter) == "staging"
    assert service_key(EnvSpec(name="unit"), partial) == "unit"


@pytest.mark.slow  # starts a real server process
def test_a_service_per_adapter_state(script: Path, tmp_path: Path) -> None:
    env = make_env(script, env=(("FLAVOR", "{adapter}|{adapter_base}|{components}"),))
    partial = cell("partial[engine]", "partial", ("engine",))
    service = start_service(env, workdir=tmp_path, log_dir=tmp_path, cell=partial)
    try:
        assert get_json(service.url + "/health")["flavor"] == "partial[engine]|partial|engine"
        assert service.info().env == "staging[partial[engine],partial,engine]"
        assert service.log_path.name == "service-staging_partial_engine__partial_engine_.log"
    finally:
        service.stop()
    # Without a cell, a per-cell template is a clear error naming the placeholders.
    with pytest.raises(ServiceError, match="bad placeholder 'adapter'"):
        start_service(env, workdir=tmp_path, log_dir=tmp_path)
