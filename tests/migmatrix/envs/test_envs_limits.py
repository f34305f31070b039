"""The per-cell limits hold in an environment adapter's own environment, under the real nox.

A newer suite run against code nobody here wrote can hang or grow without bound
(issue 15 part 4). The `timeout` and `memory` limits of matrix.yaml must hold in
the `run-X.Y(NAME)` session of an environment adapter as they do in-process:
the faulty tests end as explicit `timeout` and `crashed` records, every other
result of that environment and of the calm one is kept, and the gate fails.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from nox_project import nox, output

pytestmark = pytest.mark.slow

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

MATRIX = """\
python: ["{py}"]
timeout: 3
memory: 256MiB
phases:
  faults: suites/faults
adapters:
  calm: {{env: {{FAULT: "0"}}}}
  flagged: {{env: {{FAULT: "1"}}}}
envs:
  unit: {{}}
expect:
  default: pass
"""

SUITE = """\
import os
import time

FAULT = os.environ.get("FAULT") == "1"


def test_steady():
    assert True


def test_hangs_when_flagged():
    while FAULT:
        try:
            time.sleep(0.05)
        except BaseException:  # a retry loop that swallows everything, the watchdog too
            pass


def test_grows_when_flagged():
    hoard = []
    while FAULT:
        hoard.append(bytearray(16 * 2**20))


def test_steady_after():
    assert True
"""


def records(path: Path) -> dict[str, dict[str, object]]:
    """Test id -> its record, from a results file's record lines."""
    out: dict[str, dict[str, object]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if obj.get("kind") == "record":
            out[str(obj["test"])] = obj
    return out


def test_time_and_memory_limits_hold_in_an_environment_adapter(tmp_path: Path) -> None:
    project = tmp_path / "limits"
    (project / "suites" / "faults").mkdir(parents=True)
    (project / "suites" / "faults" / "test_faults.py").write_text(SUITE, encoding="utf-8")
    (project / "matrix.yaml").write_text(MATRIX.format(py=PY), encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "noxfile.py").write_text(
        "import migmatrix.noxapi\n\nmigmatrix.noxapi.matrix_sessions(project=[])\n",
        encoding="utf-8",
    )
    done = nox(project, timeout=600)
    text = output(done)
    assert done.returncode != 0, text[-4000:]
    assert "gate FAILED" in text, text[-4000:]

    flagged = records(project / "results" / f"py{PY}-flagged.jsonl")
    assert flagged["test_faults.py::test_hangs_when_flagged"]["outcome"] == "timeout"
    grown = flagged["test_faults.py::test_grows_when_flagged"]
    assert grown["outcome"] == "crashed"
    assert "memory limit 256 MiB exceeded" in str(grown["message"])
    for steady in ("test_faults.py::test_steady", "test_faults.py::test_steady_after"):
        assert flagged[steady]["outcome"] == "passed"
    calm = records(project / "results" / f"py{PY}-calm.jsonl")
    assert {test: r["outcome"] for test, r in calm.items()} == {
        "test_faults.py::test_steady": "passed",
        "test_faults.py::test_hangs_when_flagged": "passed",
        "test_faults.py::test_grows_when_flagged": "passed",
        "test_faults.py::test_steady_after": "passed",
    }
