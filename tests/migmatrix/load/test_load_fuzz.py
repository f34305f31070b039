"""A seeded, bounded fuzz of the loader: a few hundred hostile mutants, never a traceback.

Each mutant (of this repository's matrix.yaml or of a small matrix: keys deleted,
duplicated or renamed, types swapped, deep nesting, aliases, huge numbers, long
strings, bad unicode, NaN and infinities) is loaded in a forked child under a
memory cap (RLIMIT_AS) and a time cap (SIGALRM), by `load_fuzz.py`, which the
longer benchmark (`benchmarks/fuzz_load.py`) shares.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).with_name("load_fuzz.py")


@pytest.mark.slow
def test_hostile_mutants_load_or_get_a_located_message() -> None:
    done = subprocess.run(
        [sys.executable, str(FUZZ), "--mutants", "300", "--seed", "20", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout)
    assert counts["total"] == 300
    # A seed that only made files the loader refuses at once would prove little.
    assert counts["loaded"] > 0
    assert counts["clean"] > 200
    assert counts["examples"] == []
    assert counts["loaded"] + counts["clean"] == counts["total"]
