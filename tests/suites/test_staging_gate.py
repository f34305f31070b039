"""The staging env of matrix.yaml catches a broken server in exactly its cells.

Like test_suites_gate.py, each test copies the repository (src/, the reference
system's src/, adapters/, suites/, matrix.yaml) into a temporary folder, runs the
matrix on the copy with the copy's netra_backend, and gates the results; here over
the staging cells of one state pair, deprecated and ssot (two real servers, ~16
tests over HTTP and WebSocket):

- untouched, the gate passes and every staging cell of both states has results,
  all passing but the concurrent-users test on deprecated (reproduced);
- with the copy's server made to die at the first chat message it receives in
  the deprecated state, the gate fails with regressions in exactly the deprecated
  staging cells that send messages, none in ssot's, and the tests that ran after
  the death are errors carrying the server's log excerpt and naming its log, which
  holds the line the server wrote as it died;
- with the copy's server opening a fresh database whenever it starts in the
  deprecated state, the staging rollback (its own server, restarted in the target
  state) fails in exactly the rollback staging cell's two tests, naming the path to
  deprecated, while the path to the previous state (same database) loses nothing.

Each run starts a few servers and takes ~5-10 s on two busy cores: `slow`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from repo_copy import PY, copy_repository, patch
from repo_copy import run_and_gate as repo_copy_run
from test_suites_gate import unexpected, verdicts

pytestmark = pytest.mark.slow

SELECTION = "staging and (deprecated or ssot)"
PHASES = ("golden_path", "business", "staging")
CONCURRENT = (
    "test_e2e_staging_validation.py::test_e2e_staging_concurrent_users_get_their_own_events"
)
STORE_PROMISES = "test_chat_store_promises.py::"
DYING_WORDS = "BROKEN ON PURPOSE: the deprecated server dies at its first chat message"


def staging_cell(phase: str, adapter: str) -> str:
    return f"{phase}/{adapter}/staging/py{PY}"


def run_and_gate(
    copy: Path, selection: str = SELECTION
) -> tuple[int, dict[str, Any], list[dict[str, Any]], str]:
    """Run the selected staging cells on the copy; the gate's code and JSON, and the records."""
    return repo_copy_run(copy, selection)


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repository(tmp_path / "repo")


def test_staging_cells_of_a_state_pair_pass_the_gate(repo_copy: Path) -> None:
    code, report, records, text = run_and_gate(repo_copy)
    assert code == 0, text
    assert unexpected(report) == {}
    cells = {c["id"]: c for c in report["cells"] if not c["no_results"]}
    assert set(cells) == {staging_cell(p, a) for p in PHASES for a in ("deprecated", "ssot")}
    # Every test of every staging cell ran against its server and passed, but one: on
    # deprecated, concurrent users get each other's events (reproduced, as expected).
    # (The chat store's promises are checked in process: skipped in staging, as expected.)
    skipped = {r["test"] for r in records if r["outcome"] == "skipped"}
    assert skipped == {t for t in skipped if t.startswith(STORE_PROMISES)}, skipped
    records = [r for r in records if not r["test"].startswith(STORE_PROMISES)]
    failed = {(r["cell"], r["test"]) for r in records if r["outcome"] != "passed"}
    assert failed == {(staging_cell("staging", "deprecated"), CONCURRENT)}, records
    assert verdicts(report)[(staging_cell("staging", "deprecated"), CONCURRENT)] == "reproduced"
    assert len(records) == 2 * 11  # per state: 6 staging, 2 business, 3 golden path


def test_a_server_dying_in_one_state_fails_exactly_its_staging_cells(repo_copy: Path) -> None:
    app = repo_copy / "reference/netra_backend/src/netra_backend/server/app.py"
    # The server of the deprecated state exits as soon as a chat message starts a run.
    patch(
        app,
        "    async def run(self, message: UserMessage, thread_id: str, run_id: str) -> None:\n"
        "        runtime = self.runtime\n",
        "    async def run(self, message: UserMessage, thread_id: str, run_id: str) -> None:\n"
        "        runtime = self.runtime\n"
        '        if runtime.config.migration.spec == "deprecated":\n'
        "            import os, sys\n"
        f'            print("{DYING_WORDS}", file=sys.stderr, flush=True)\n'
        "            os._exit(3)\n",
    )

    code, report, records, text = run_and_gate(repo_copy)
    assert code == 1, text
    found = unexpected(report)
    # The test expected to fail for its reason on deprecated fails for another one now.
    assert found.pop((staging_cell("staging", "deprecated"), CONCURRENT)) == "wrong-reason"
    assert set(found.values()) == {"regression"}, found
    # Exactly the deprecated staging cells: each of them has a test that sends a message.
    assert {cell for cell, _ in found} == {staging_cell(p, "deprecated") for p in PHASES}, found
    ssot = [
        r for r in records if "/ssot/" in r["cell"] and not r["test"].startswith(STORE_PROMISES)
    ]
    assert ssot, records
    assert {r["outcome"] for r in ssot} == {"passed"}, ssot
    # The tests that ran after the death are errors carrying the server's log excerpt.
    after = [r for r in records if "is down" in str(r.get("message"))]
    assert after, [r.get("message") for r in records if "/deprecated/" in r["cell"]]
    for record in after:
        assert record["outcome"] == "error", record
        assert "staging[deprecated]" in record["message"], record["message"]
        assert "migration=deprecated" in record["message"], record["message"]
    # The record keeps the head of a long message (1000 characters), so the excerpt's
    # last lines may be cut there; the log it names, kept beside the results, has them.
    log = repo_copy / "results" / "service-staging_deprecated_.log"
    assert f"log {log}" in after[0]["message"], after[0]["message"]
    assert DYING_WORDS in log.read_text(encoding="utf-8")


def test_a_rollback_restart_that_loses_the_database_fails_the_staging_rollback(
    repo_copy: Path,
) -> None:
    cli = repo_copy / "reference/netra_backend/src/netra_backend/server/cli.py"
    # A server started in the deprecated state opens a fresh database next to the real
    # one: a rollback to deprecated then loses every conversation (and every account).
    patch(
        cli,
        "        db_path=args.db,\n",
        "        db_path=args.db\n"
        '        + (".fresh" if load_migration(environ).spec == "deprecated" else ""),\n',
    )
    code, report, records, text = run_and_gate(repo_copy, "rollback and staging")
    assert code == 1, text
    rollback = staging_cell("rollback", "partial[engine+factory+emitter+state]")
    # Both tests roll back (or walk down) to deprecated; only that step loses data.
    assert unexpected(report) == {
        (rollback, "test_rollback_validation.py::test_rollback_paths"): "regression",
        (rollback, "test_rollback_validation.py::test_partial_migration_state"): "regression",
    }, text
    messages = {r["test"]: str(r["message"]) for r in records}
    paths = messages["test_rollback_validation.py::test_rollback_paths"]
    assert "[partial[engine+factory+emitter+state] -> deprecated] ROLLBACK FAILURE" in paths
    # The path to the previous state restarted over the same database and lost nothing.
    assert "-> partial[engine+factory+emitter]]" not in paths
