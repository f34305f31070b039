"""The JSON Schema of matrix.yaml, shipped inside the package.

Editors validate matrix.yaml with it (`migmatrix schema > matrix.schema.json`, or a
`# yaml-language-server: $schema=...` comment); the loader validates with the same
file, so what the editor accepts and what the harness accepts never drift apart.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

SCHEMA_FILE = "matrix.schema.json"


def schema_text() -> str:
    """The schema as shipped: pretty-printed JSON, what `migmatrix schema` prints."""
    return resources.files("migmatrix").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _parsed() -> str:
    return json.dumps(json.loads(schema_text()))


def load_schema() -> dict[str, Any]:
    """A fresh copy of the parsed schema (callers may mutate it)."""
    data: dict[str, Any] = json.loads(_parsed())
    return data
