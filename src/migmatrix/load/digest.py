"""The matrix digest a results file carries: which matrix decided what ran.

The gate refuses results whose digest differs from the matrix it judges with
(exit 3, "another matrix"): they ran other cells or other tests.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# The sections that only judge: editing them changes no test that runs, so results
# written before the edit can be judged again under it.
JUDGE_SIDE = ("expect", "gates")


def digest(data: Any) -> str:
    """sha256 of what decides what runs, as canonical JSON.

    That is the axes, phases, adapters, envs, include and exclude, limits and
    rollback paths: everything but `JUDGE_SIDE`. Comments and layout do not change it.
    """
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key not in JUDGE_SIDE}
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
