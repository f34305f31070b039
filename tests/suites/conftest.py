"""Registers the `slow` mark the matrix-on-a-copy tests carry (each runs the matrix three times)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs the unit matrix in subprocesses (~10 s a run)")
