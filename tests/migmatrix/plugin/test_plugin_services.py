"""The pytest plugin's services: started per env or per adapter state, watched, stopped.

Driven black-box with pytester like test_plugin.py (kept apart so each file
stays fast): a service that cannot start or dies mid-run turns only its cells'
tests into errors carrying its log; a matrix whose service templates use
`{adapter}` gets one server per adapter state, each with its own port, scratch
folder and log; a remote STAGING_URL serves every cell of its env; every server
is stopped when the run ends, also on Ctrl-C.
"""

from __future__ import annotations

import json
import sys

import pytest
from pytester_matrix import MODE_PARAMS, records_of, run, write_project

from migmatrix.endpoint import probe

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
# Every test here starts real servers (subprocesses): all slow.
pytestmark = [
    pytest.mark.usefixtures("no_ci_shard"),
    pytest.mark.slow,
]  # conftest.py: no CI may shard these runs


SERVICE_MATRIX = f"""
python: ["{PY}"]
phases: {{alpha: suites/alpha}}
adapters: {{old: {{object: "adapters.old:adapter"}}}}
envs:
  unit: {{features: []}}
  staging:
    features: [server]
    service:
      command: [python, -c, "import sys; print('boom: no database'); sys.exit(3)"]
      health: "http://{{host}}:{{port}}/health"
"""

SERVICE_SUITE = """
def test_url(cell):
    if cell.env == "staging":
        assert cell.service_url == "http://remote.example:8080"
    else:
        assert cell.service_url is None
"""


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_a_dead_service_turns_its_cells_tests_into_errors_with_the_log(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    write_project(pytester, SERVICE_MATRIX, {"alpha/test_a.py": SERVICE_SUITE})
    monkeypatch.delenv("STAGING_URL", raising=False)
    run(pytester, mode, "suites/alpha")
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    dead = records[(f"alpha/old/staging/py{PY}", "test_a.py::test_url")]
    assert dead.outcome.value == "error"
    assert "boom: no database" in dead.message
    assert records[(f"alpha/old/unit/py{PY}", "test_a.py::test_url")].outcome.value == "passed"

    # With STAGING_URL set nothing is started: the cells get that URL.
    monkeypatch.setenv("STAGING_URL", "http://remote.example:8080/")
    run(pytester, mode, "suites/alpha")
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    assert {r.outcome.value for r in records.values()} == {"passed"}


STATE_SERVER = """
import http.server, json, os, sys

STATE = os.environ["STATE"]
DIES = STATE == os.environ.get("DIE_STATE")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"state": STATE, "cwd": os.getcwd()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if DIES:
            print(STATE, "server: lost its database", flush=True)
            os._exit(7)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""

PER_STATE_MATRIX = """
python: ["{py}"]
phases: {{alpha: suites/alpha}}
adapters:
  old: {{object: "adapters.old:adapter"}}
  partial:
    object: "adapters.partial:adapter"
    components: [{{name: engine, features: [fixed]}}]
    sweep: chain
  new: {{object: "adapters.new:adapter", features: [fixed]}}
envs:
  unit: {{features: []}}
  staging:
    features: [server]
    service:
      command: [python, "{server}", "{{port}}"]
      health: "http://{{host}}:{{port}}/health"
      env: {{STATE: "{{adapter}}", DIE_STATE: "partial[]"}}
"""

PER_STATE_SUITE = """
import json, os, pathlib, urllib.request

def test_state(cell):
    if cell.env != "staging":
        assert cell.service_url is None
        return
    with urllib.request.urlopen(cell.service_url + "/state", timeout=5) as response:
        seen = json.loads(response.read())
    assert seen["state"] == cell.adapter
    out = pathlib.Path(os.environ["ATTRS_DIR"]) / (cell.adapter + ".json")
    out.write_text(json.dumps({"url": cell.service_url, "cwd": seen["cwd"]}))
"""


@pytest.mark.parametrize("mode", MODE_PARAMS)
def test_one_service_per_adapter_state_and_a_dead_one_fails_only_its_cells(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    server = pytester.path / "stateserver.py"
    server.write_text(STATE_SERVER)
    matrix = PER_STATE_MATRIX.format(py=PY, server=server)
    write_project(pytester, matrix, {"alpha/test_a.py": PER_STATE_SUITE})
    attrs = pytester.mkdir("attrs")
    monkeypatch.setenv("ATTRS_DIR", str(attrs))
    monkeypatch.delenv("STAGING_URL", raising=False)
    run(pytester, mode, "suites/alpha")
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    outcomes = {cell: r.outcome.value for (cell, _), r in records.items()}
    states = ("old", "partial[]", "partial[engine]", "new")
    assert outcomes == {
        **{f"alpha/{s}/unit/py{PY}": "passed" for s in states},
        **{f"alpha/{s}/staging/py{PY}": "passed" for s in states if s != "partial[]"},
        # Its server answered the start-up health check, then died: the test gets
        # an error carrying that server's log, and the other states are unaffected.
        f"alpha/partial[]/staging/py{PY}": "error",
    }
    dead = records[(f"alpha/partial[]/staging/py{PY}", "test_a.py::test_state")]
    assert "partial[] server: lost its database" in dead.message
    assert "staging[partial[]]" in dead.message

    # Each live state got its own server, in its own scratch folder.
    seen = {p.stem: json.loads(p.read_text()) for p in attrs.iterdir()}
    assert sorted(seen) == ["new", "old", "partial[engine]"]
    assert len({v["url"] for v in seen.values()}) == 3
    assert len({v["cwd"] for v in seen.values()}) == 3
    assert [probe(v["url"] + "/health", timeout=0.5) for v in seen.values()] == [None] * 3, (
        "every server is stopped when the run ends"
    )
    logs = sorted(p.name for p in (pytester.path / "results").glob("service-*.log"))
    assert logs == [
        "service-staging_new_.log",
        "service-staging_old_.log",
        "service-staging_partial___.log",
        "service-staging_partial_engine__.log",
    ]


def test_a_remote_staging_url_serves_every_adapter_state(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    matrix = PER_STATE_MATRIX.format(py=PY, server="/nonexistent/server.py")
    suite = (
        "def test_url(cell):\n"
        "    expected = 'http://remote.example:1' if cell.env == 'staging' else None\n"
        "    assert cell.service_url == expected\n"
    )
    write_project(pytester, matrix, {"alpha/test_a.py": suite})
    monkeypatch.setenv("STAGING_URL", "http://remote.example:1")
    run(pytester, "serial", "suites/alpha")
    records = records_of(pytester.path / "results" / f"py{PY}.jsonl")
    assert len(records) == 8
    assert {r.outcome.value for r in records.values()} == {"passed"}
    assert not list((pytester.path / "results").glob("service-*.log"))


@pytest.mark.slow
def test_ctrl_c_mid_run_still_stops_every_server(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = pytester.path / "stateserver.py"
    server.write_text(STATE_SERVER)
    matrix = PER_STATE_MATRIX.format(py=PY, server=server).replace("partial[]", "none")
    suite = (
        "import os, pathlib, signal\n"
        "def test_url(cell):\n"
        "    urls = pathlib.Path(os.environ['ATTRS_DIR']) / 'urls.txt'\n"
        "    with urls.open('a') as out:\n"
        "        out.write(str(cell.service_url) + '\\n')\n"
        "    if cell.adapter == 'new':\n"
        # A process started in the background of a non-interactive shell inherits
        # SIGINT ignored; Ctrl-C at a terminal would still interrupt it.
        "        signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
    )
    write_project(pytester, matrix, {"alpha/test_a.py": suite})
    attrs = pytester.mkdir("attrs")
    monkeypatch.setenv("ATTRS_DIR", str(attrs))
    monkeypatch.delenv("STAGING_URL", raising=False)
    result = pytester.runpytest_subprocess(
        "--matrix", "matrix.yaml", "-p", "no:xdist", "-p", "no:cacheprovider",
        "--cells", "staging", "-k", "old or new",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.INTERRUPTED
    urls = set((attrs / "urls.txt").read_text().split())
    assert len(urls) == 2
    assert [probe(url + "/health", timeout=0.5) for url in sorted(urls)] == [None, None]
