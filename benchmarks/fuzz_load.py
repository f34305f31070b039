"""A long fuzz of the matrix loader: thousands of hostile mutants, and how each ended.

Mutants of this repository's matrix.yaml and of small matrices (the generator is
`tests/migmatrix/load/load_fuzz.py`, which the suite's bounded fuzz test runs with
300 mutants) are each loaded in a forked child with a 1 GiB address-space cap and
a time cap. The line printed counts: total, loaded, clean errors (a located,
short message), bad messages (a clean error, but unlocated or enormous),
tracebacks (any other exception) and hangs or over-memory (killed by the time
cap, or MemoryError). Only the first two should ever be non-zero.

Usage:
    python benchmarks/fuzz_load.py [--mutants 2000] [--seed 1] [--verbose]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "migmatrix" / "load"))

import load_fuzz  # found through the path set just above

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--mutants" not in args:
        args = ["--mutants", "2000", *args]
    if "--seed" not in args:
        args = ["--seed", "1", *args]
    sys.exit(load_fuzz.main(args))
