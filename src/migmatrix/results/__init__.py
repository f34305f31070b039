"""Results files (JSON Lines, docs/contracts.md "Results files"): `write`, `read`, and
`lines`, what one line means.

The public names are re-exported here, so callers import `migmatrix.results.X`
whichever module holds it.
"""

from __future__ import annotations

from migmatrix.results.lines import SCHEMA_FAMILY
from migmatrix.results.read import ResultsFile, json_block, read_results
from migmatrix.results.write import (
    HEADER_KEYS,
    collected_lines,
    header_to_dict,
    record_to_dict,
    write_results,
)
from migmatrix.shard import shard_of

__all__ = [
    "HEADER_KEYS",
    "SCHEMA_FAMILY",
    "ResultsFile",
    "collected_lines",
    "header_to_dict",
    "json_block",
    "read_results",
    "record_to_dict",
    "shard_of",
    "write_results",
]
