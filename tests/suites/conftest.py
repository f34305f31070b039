"""Registers the `slow` mark the matrix-on-a-copy tests carry (each runs the matrix three times)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs the unit matrix in subprocesses (~10 s a run)")


# The suites' support modules (`suites.support.*`) and the adapters are imported from
# the repository root, as the matrix run imports them (the matrix folder on sys.path).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
