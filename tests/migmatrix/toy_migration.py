"""A small migration project run for real through the plugin: shared by the update,
baseline and expiry tests.

Two components (engine, factory) swept over every subset, between an `old` and a
`new` adapter: 6 states, one env, the running Python. The reproduction phase's
tests fail until the feature that fixes them is present (`behaviour.py` says
which feature fixes what, so a test can fix a component in its copy), with
messages that carry a run-to-run value (an address), as real failures do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

MATRIX = f"""\
# The toy migration: imports and factories move to the single engine.
python: ["{PY}"]
phases:
  repro: suites/repro     # must fail before the migration
  golden: suites/golden   # must pass throughout
adapters:
  old: {{object: "toyadapter:adapter", features: []}}
  partial:
    object: "toyadapter:adapter"
    components:
      - {{name: engine, features: [ssot-engine]}}    # legacy imports -> the engine
      - {{name: factory, features: [ssot-factory]}}  # legacy factories -> the engine
    sweep: all
  new: {{object: "toyadapter:adapter", features: [ssot-engine, ssot-factory]}}
envs:
  unit: {{features: [in-memory]}}

expect:
  default: pass
  rules:
    # Legacy imports resolve to a second engine until the engine is migrated.
    - phase: repro
      test: "test_conflicts.py::*"
      unless: [ssot-engine]
      outcome: fail
      raises: AssertionError
      match: "SSOT VIOLATION: legacy imports"
      bug: "#1"
    # Legacy factories build the old engine until the factory is migrated.
    - phase: repro
      test: "test_factories.py::*"
      unless: [ssot-factory]
      outcome: fail
      raises: AssertionError
      match: "SSOT VIOLATION: legacy factories"
      bug: "#1"

    # golden: the default (pass) in every state.

gates:
  fail_on: [regression, unexpected-pass, wrong-reason, missing, crashed, timeout, incomplete]
"""

BEHAVIOUR = """\
# Which feature fixes which violation (a copy may change it: a rollout step).
FIXES = {"ssot-engine": {"imports"}, "ssot-factory": {"factories"}}


def remaining(features):
    fixed = set().union(*(FIXES.get(f, set()) for f in features))
    return {"imports", "factories"} - fixed
"""

CONFLICTS = """\
from behaviour import remaining


def test_imports_resolve_to_one_engine(cell):
    assert "imports" not in remaining(cell.features), (
        f"SSOT VIOLATION: legacy imports in {cell.adapter} at 0x{id(cell):x}"
    )


def test_import_paths_agree(cell):
    assert "imports" not in remaining(cell.features), (
        f"SSOT VIOLATION: legacy imports in {cell.adapter}, 2 paths"
    )
"""

FACTORIES = """\
from behaviour import remaining


def test_factory_builds_the_engine(cell):
    assert "factories" not in remaining(cell.features), (
        f"SSOT VIOLATION: legacy factories in {cell.adapter}: {len(cell.features)} features"
    )
"""

GOLDEN = """\
def test_chat_answers(cell):
    assert cell.phase == "golden"
"""


def write_toy(folder: Path) -> Path:
    """The project in `folder`; returns its matrix.yaml."""
    files = {
        "matrix.yaml": MATRIX,
        "toyadapter.py": "adapter = object()\n",
        "suites/repro/behaviour.py": BEHAVIOUR,
        "suites/repro/test_conflicts.py": CONFLICTS,
        "suites/repro/test_factories.py": FACTORIES,
        "suites/golden/test_golden.py": GOLDEN,
    }
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder / "matrix.yaml"


def run_toy(folder: Path, *args: str, results: str = "results") -> subprocess.CompletedProcess[str]:
    """`pytest --matrix matrix.yaml` in `folder`, results into folder/results."""
    argv = [sys.executable, "-m", "pytest", "--matrix", "matrix.yaml", "--results-dir", results]
    argv += ["-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=300)


def migmatrix(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `migmatrix` command in `folder`."""
    argv = [sys.executable, "-m", "migmatrix", *args]
    return subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=300)


def comments(text: str) -> list[str]:
    """Every line of `text` that holds a comment, as written."""
    return [line for line in text.splitlines(keepends=True) if "#" in line]


def drop_rule(text: str, first_line: str) -> str:
    """`text` without the rule that starts at the comment line `first_line` (up to the next
    rule's comment or the blank line after it)."""
    start = text.index(first_line)
    rest = text[start + len(first_line) :]
    ends = [i for i in (rest.find("\n    # "), rest.find("\n\n")) if i >= 0]
    return text[:start] + rest[min(ends) + 1 :]


IMPORTS_RULE = "    # Legacy imports resolve to a second engine until the engine is migrated.\n"
