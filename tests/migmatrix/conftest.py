"""Fixtures shared by the harness's own tests."""

from __future__ import annotations

import pytest

from migmatrix.shard import CI_VARIABLES

# Every variable a CI system announces a parallel slot in, taken from the table
# the harness itself reads them by, so a CI added there is scrubbed here too.
CI_SHARD_VARIABLES = tuple(name for index, total, _ in CI_VARIABLES for name in (index, total))


@pytest.fixture
def no_ci_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the CI shard variables: inside GitLab, Buildkite or CircleCI they would
    quietly shard the runs a test compares."""
    for name in CI_SHARD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
