"""A toy matrix project for `migmatrix mutate`: one line its suite pins, one it barely checks.

`calc.add` is tested exactly (its `+` -> `-` mutant is killed), `calc.clamp` only
below its bound (its `>` -> `>=` mutant survives), and `calc.unused` is never run
(its mutant is not covered). With `SLOW=1` in the environment the test sleeps
first and writes its pid, so an interrupt test can catch a run in flight.
"""

from __future__ import annotations

import sys
from pathlib import Path

PY = f"{sys.version_info.major}.{sys.version_info.minor}"

MATRIX = f"""\
python: ["{PY}"]
phases: {{alpha: suites/alpha}}
adapters:
  old: {{object: "toyadapters:old", features: []}}
  new: {{object: "toyadapters:new", features: [fixed]}}
envs: {{unit: {{features: []}}}}
"""

CALC = """\
def add(a, b):
    return a + b


def clamp(x):
    if x > 10:
        return 10
    return x


def unused(a, b):
    return a + b
"""

SUITE = """\
import os
import time

import calc


def test_calc(cell):
    marks = os.environ.get("TOY_MARKS")
    if marks and cell.adapter == "new":
        with open(os.path.join(marks, f"pid-{os.getpid()}"), "w") as handle:
            handle.write(str(os.getpid()))
        time.sleep(120)
    assert calc.add(2, 3) == 5
    assert calc.clamp(3) == 3
"""


def write_toy(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix.yaml").write_text(MATRIX)
    (folder / "toyadapters.py").write_text("def old():\n    return 1\n\ndef new():\n    return 2\n")
    (folder / "calc.py").write_text(CALC)
    suite = folder / "suites" / "alpha"
    suite.mkdir(parents=True)
    (suite / "test_calc.py").write_text(SUITE)
    return folder
