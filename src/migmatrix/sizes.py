"""Sizes in bytes as matrix.yaml writes them (`memory: 2GiB`), parsed strictly, and shown back.

A size is a whole number of bytes (`1073741824`) or a number with one of the
binary units KiB, MiB, GiB, TiB (`512MiB`, `1.5GiB`; a space before the unit is
allowed). Decimal units (MB, GB) and bare letters (G) are refused rather than
guessed: 2G meaning 2*10^9 or 2*2^30 bytes is exactly the kind of doubt a limit
must not have.
"""

from __future__ import annotations

import re

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_SIZE = re.compile(r"(?P<number>[0-9]{1,15}(?:\.[0-9]{1,6})?) ?(?P<unit>B|KiB|MiB|GiB|TiB)?")
# Below this a process cannot even start Python: surely a typo.
MINIMUM = 16 << 20
HOW = "write a size like 512MiB or 2GiB (units B, KiB, MiB, GiB, TiB), at least 16MiB"


def parse_size(value: object) -> int:
    """Bytes for a size (see the module docstring); ValueError with the reason otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        msg = f"a size must be a string like 2GiB or a whole number of bytes; {HOW}"
        raise ValueError(msg)
    if isinstance(value, int):
        size = value
    else:
        found = _SIZE.fullmatch(value)
        if found is None:
            msg = f"not a size; {HOW}"
            raise ValueError(msg)
        number, unit = found["number"], found["unit"]
        if unit is None and "." in number:
            msg = f"a number of bytes must be whole; {HOW}"
            raise ValueError(msg)
        size = int(float(number) * UNITS[unit or "B"])
    if size < MINIMUM:
        msg = f"{size} bytes is too small for a Python process; {HOW}"
        raise ValueError(msg)
    return size


def format_size(size: int) -> str:
    """`2 GiB`, `1.5 GiB`, `600 MiB`: the largest unit under which the number is at least 1."""
    for unit in ("TiB", "GiB", "MiB", "KiB"):
        if size >= UNITS[unit]:
            return f"{size / UNITS[unit]:.3g} {unit}"
    return f"{size} B"
