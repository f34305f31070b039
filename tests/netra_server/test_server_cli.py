"""netra_backend.server.cli: the real server as a subprocess on a loopback port.

Configuration errors (no secret, a bad migration state) must stop it before it
binds; a started server binds loopback only, bootstraps its users, and on SIGTERM
lets a run in flight deliver its answer before it exits 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from server_helpers import SECRET, recv

from migmatrix.service import free_port

SERVER = [sys.executable, "-m", "netra_backend.server"]

# Every test here starts the server (or its CLI) as a process of its own.
pytestmark = pytest.mark.slow


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "NETRA_JWT_SECRET",
            "NETRA_MIGRATION",
            "NETRA_BOOTSTRAP_USERS",
            "NETRA_BOOTSTRAP_KDF_N",
        }
    }
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        SERVER + args, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Started:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"


def start(tmp_path: Path, args: list[str], env: dict[str, str]) -> Started:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*SERVER, "--port", str(port), "--db", str(tmp_path / "netra.db"), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"server exited {process.returncode}:\n{log.read_text()}")
        try:
            if get(f"http://127.0.0.1:{port}/health")[0] == 200:
                return Started(process, port, log)
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not get healthy:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.fixture
def server_stopper() -> Iterator[list[Started]]:
    started: list[Started] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


# --------------------------------------------------------------------------- refusals


def test_refuses_to_start_without_a_jwt_secret(tmp_path: Path) -> None:
    result = run_cli(["--port", str(free_port()), "--db", str(tmp_path / "x.db")], clean_env())
    assert result.returncode == 2
    assert "NETRA_JWT_SECRET is unset" in result.stderr
    assert "--dev-secret" in result.stderr
    short = run_cli(["--db", str(tmp_path / "x.db")], clean_env(NETRA_JWT_SECRET="short"))
    assert short.returncode == 2
    assert "too short" in short.stderr
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("partial:engine,bogus", "unknown migration component(s) 'bogus'"),
        ("half-migrated", "unknown migration state 'half-migrated'"),
    ],
)
def test_an_unknown_migration_state_is_a_clear_error(
    tmp_path: Path, spec: str, message: str
) -> None:
    result = run_cli(
        ["--dev-secret", "--db", str(tmp_path / "x.db")], clean_env(NETRA_MIGRATION=spec)
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_bootstrap_cost_is_a_clear_error_before_binding(tmp_path: Path) -> None:
    from netra_backend.server.cli import main

    environ = clean_env(NETRA_BOOTSTRAP_USERS="alice:pw", NETRA_BOOTSTRAP_KDF_N="1000")
    # In process: main() returns before serving, so nothing binds.
    assert main(["--dev-secret", "--db", str(tmp_path / "x.db")], environ) == 2
    assert not (tmp_path / "x.db").exists()


def test_create_user_from_env_or_stdin(tmp_path: Path) -> None:
    from netra_backend.server.users import UserStore

    db = str(tmp_path / "users.db")
    first = run_cli(["create-user", "alice", "--db", db], clean_env(NETRA_USER_PASSWORD="pw-a"))
    assert first.returncode == 0, first.stderr
    assert "created user alice" in first.stdout
    assert "pw-a" not in first.stdout + first.stderr
    second = run_cli(["create-user", "bob", "--db", db], clean_env(), stdin="pw-b\n")
    assert second.returncode == 0, second.stderr
    again = run_cli(["create-user", "alice", "--db", db], clean_env(NETRA_USER_PASSWORD="x"))
    assert again.returncode == 2
    assert "'alice' already exists" in again.stderr
    store = UserStore(db)
    assert store.authenticate("alice", "pw-a") is not None
    assert store.authenticate("bob", "pw-b") is not None


# --------------------------------------------------------------------------- a running server


def test_binds_loopback_only_by_default(tmp_path: Path, server_stopper: list[Started]) -> None:
    server = start(tmp_path, ["--dev-secret"], clean_env())
    server_stopper.append(server)
    assert get(server.url + "/health") == (200, {"status": "ok", "migration": "ssot"})
    # All of 127/8 reaches the loopback interface: a server bound to 0.0.0.0 would
    # answer on 127.0.0.2 too; one bound to 127.0.0.1 refuses.
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.2", server.port), timeout=2),
    ):
        pass
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=20) == 0


def test_bootstrap_login_and_graceful_shutdown_with_a_run_in_flight(
    tmp_path: Path, server_stopper: list[Started]
) -> None:
    env = clean_env(
        NETRA_JWT_SECRET=SECRET,
        # A matrix adapter state name (NETRA_MIGRATION: "{adapter}"), read as partial:...
        NETRA_MIGRATION="partial[engine+factory]",
        NETRA_BOOTSTRAP_USERS="alice:pw-alice,bob:pw-bob",
    )
    server = start(tmp_path, ["--llm-latency", "0.4", "--drain-timeout", "20"], env)
    server_stopper.append(server)
    assert get(server.url + "/health")[1]["migration"] == "partial:engine,factory"
    status, body = post(server.url + "/auth/login", {"username": "alice", "password": "pw-alice"})
    assert status == 200
    token = str(body["access_token"])
    assert post(server.url + "/auth/login", {"username": "bob", "password": "pw-alice"})[0] == 401

    async def converse_through_shutdown() -> list[dict[str, object]]:
        received: list[dict[str, object]] = []
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws?token={token}") as ws:
            await ws.send(
                json.dumps({"type": "user_message", "thread_id": None, "text": "status?"})
            )
            received.append(await recv(ws))  # agent_started: the run is in flight
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            # Draining: health says so, and a new message is refused, not lost silently.
            assert get(server.url + "/health") == (
                503,
                {"status": "draining", "migration": "partial:engine,factory"},
            )
            await ws.send(json.dumps({"type": "user_message", "thread_id": None, "text": "more"}))
            while received[-1]["type"] != "agent_response":
                received.append(await recv(ws, timeout=20))
        return received

    received = asyncio.run(converse_through_shutdown())
    types = [m["type"] for m in received]
    assert types[0] == "agent_started"
    assert "error" in types  # the message sent while draining
    answer = received[-1]
    assert answer["success"] is True
    assert "status?" in str(answer["response"])
    assert server.process.wait(timeout=30) == 0
    log = server.log.read_text()
    assert token not in log  # uvicorn logs WebSocket paths: the token is redacted
    assert "token=[redacted]" in log
    assert SECRET not in log


def test_a_rollback_restart_over_the_same_database_loses_nothing(tmp_path: Path) -> None:
    """Staging's rollback: the harness restarts the server in another state, same port,
    same database, same signing key ({secret}); the conversation carries on."""
    from migmatrix.model import EnvSpec, ServiceSpec
    from migmatrix.service import start_service

    env = EnvSpec(
        name="staging",
        service=ServiceSpec(
            command=(
                "python",
                "-m",
                "netra_backend.server",
                "--port",
                "{port}",
                "--db",
                "{workdir}/staging.db",
            ),
            health="http://{host}:{port}/health",
            env=(
                ("NETRA_JWT_SECRET", "{secret}"),
                ("NETRA_BOOTSTRAP_USERS", "alice:pw-alice"),
                ("NETRA_MIGRATION", "ssot"),
            ),
        ),
    )
    service = start_service(env, workdir=tmp_path, log_dir=tmp_path, environ=clean_env())
    try:
        token = str(
            post(service.url + "/auth/login", {"username": "alice", "password": "pw-alice"})[1][
                "access_token"
            ]
        )
        ws = f"ws://127.0.0.1:{service.port}/ws?token={token}"

        async def say(text: str, thread_id: str | None) -> dict[str, object]:
            async with websockets.connect(ws) as socket:
                frame = {"type": "user_message", "thread_id": thread_id, "text": text}
                await socket.send(json.dumps(frame))
                while (message := await recv(socket))["type"] != "agent_response":
                    pass
                return message

        first = asyncio.run(say("first question about the weather", None))
        thread_id = str(first["thread_id"])
        service.restart({"NETRA_MIGRATION": "deprecated"})
        assert get(service.url + "/health")[1]["migration"] == "deprecated"
        # The token issued before the restart still works: same key, same users.
        second = asyncio.run(say("second question, after the rollback", thread_id))
        assert second["thread_id"] == thread_id
        request = urllib.request.Request(
            f"{service.url}/threads/{thread_id}/messages",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            messages = json.loads(response.read())["messages"]
        assert [(m["role"], m["content"]) for m in messages] == [
            ("user", "first question about the weather"),
            ("assistant", first["response"]),
            ("user", "second question, after the rollback"),
            ("assistant", second["response"]),
        ]
    finally:
        assert service.stop() == 0
