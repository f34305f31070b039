"""migmatrix.service: a port taken between choosing and binding it never fails a start.

Real processes on loopback: a grabber process holds ports (the ones the services were
told to use, or any the kernel hands out while many services start at once), and the
services must all come up healthy anyway, on other ports.
"""

from __future__ import annotations

import concurrent.futures
import json
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from migmatrix.model import EnvSpec, ServiceSpec
from migmatrix.service import RunningService, start_service

TINY = textwrap.dedent(
    """
    import http.server, signal, sys

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(sys.argv[1].encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    server.serve_forever(poll_interval=0.05)
    """
)

# Holds `count` listening ports (0: keeps grabbing new ones, holding the last 200), prints
# the first `count` it took as one JSON line, and lives until its stdin closes.
GRABBER = textwrap.dedent(
    """
    import collections, json, socket, sys, threading

    count = int(sys.argv[1])
    held = collections.deque()

    def grab():
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        held.append(sock)
        return sock.getsockname()[1]

    ports = [grab() for _ in range(max(count, 1))]
    print(json.dumps(ports), flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while count == 0 and not done.wait(0.001):
        grab()
        if len(held) > 200:
            held.popleft().close()
    done.wait()
    """
)


@pytest.fixture
def tiny(tmp_path: Path) -> EnvSpec:
    script = tmp_path / "tiny.py"
    script.write_text(TINY)
    service = ServiceSpec(
        command=("{python}", str(script), "{port}"), health="http://{host}:{port}/"
    )
    return EnvSpec(name="staging", features=("server",), service=service)


class Grabber:
    def __init__(self, count: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", GRABBER, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.ports: list[int] = json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def grabbers() -> Iterator[list[Grabber]]:
    started: list[Grabber] = []
    yield started
    for grabber in started:
        grabber.stop()


def answer(service: RunningService) -> str:
    with urllib.request.urlopen(service.health_url, timeout=5) as response:
        return str(response.read().decode())


def start_all(env: EnvSpec, tmp_path: Path, ports: list[int | None]) -> list[RunningService]:
    def one(index: int) -> RunningService:
        return start_service(
            env,
            workdir=tmp_path / f"w{index}",
            log_dir=tmp_path / f"log{index}",
            port=ports[index],
        )

    with concurrent.futures.ThreadPoolExecutor(len(ports)) as pool:
        return list(pool.map(one, range(len(ports))))


def test_services_told_to_use_taken_ports_start_on_others(
    tiny: EnvSpec, tmp_path: Path, grabbers: list[Grabber]
) -> None:
    grabber = Grabber(6)
    grabbers.append(grabber)
    services = start_all(tiny, tmp_path, list(grabber.ports))
    try:
        for service, taken in zip(services, grabber.ports, strict=True):
            assert service.alive()
            assert service.port != taken
            assert answer(service) == str(service.port)
            assert "address already in use" in service.log_excerpt().lower()
    finally:
        for service in services:
            service.stop()


def test_many_services_at_once_while_another_process_grabs_ports(
    tiny: EnvSpec, tmp_path: Path, grabbers: list[Grabber]
) -> None:
    grabbers.append(Grabber(0))
    services = start_all(tiny, tmp_path, [None] * 12)
    try:
        assert len({service.port for service in services}) == 12
        for service in services:
            assert answer(service) == str(service.port)
    finally:
        for service in services:
            service.stop()


def test_a_restart_keeps_its_port_or_moves_when_it_was_taken(tiny: EnvSpec, tmp_path: Path) -> None:
    with start_service(tiny, workdir=tmp_path / "w", log_dir=tmp_path) as service:
        first = service.port
        service.restart({})
        assert service.port == first
        service.stop()
        # Someone else (this test process) takes the port the stopped service had.
        with socket.socket() as taker:
            taker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taker.bind(("127.0.0.1", first))
            taker.listen()
            service.restart({})
            assert service.port != first
            assert answer(service) == str(service.port)


def test_the_reference_server_moves_off_a_taken_port(
    tmp_path: Path, grabbers: list[Grabber]
) -> None:
    grabber = Grabber(1)
    grabbers.append(grabber)
    spec = ServiceSpec(
        command=(
            "python",
            "-m",
            "netra_backend.server",
            "--port",
            "{port}",
            "--db",
            "{workdir}/s.db",
        ),
        health="http://{host}:{port}/health",
        env=(("NETRA_JWT_SECRET", "{secret}"),),
    )
    env = EnvSpec(name="staging", features=("server",), service=spec)
    with start_service(env, workdir=tmp_path, log_dir=tmp_path, port=grabber.ports[0]) as service:
        assert service.port != grabber.ports[0]
        with urllib.request.urlopen(service.health_url, timeout=5) as response:
            assert json.loads(response.read())["status"] == "ok"
