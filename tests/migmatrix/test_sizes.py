"""Sizes as matrix.yaml writes them: binary units only, parsed strictly, shown back plainly."""

from __future__ import annotations

import pytest

from migmatrix.sizes import format_size, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2GiB", 2 << 30),
        ("512MiB", 512 << 20),
        ("1.5 GiB", 3 << 29),
        ("1TiB", 1 << 40),
        ("65536KiB", 64 << 20),
        (1 << 30, 1 << 30),
        ("1073741824", 1 << 30),
    ],
)
def test_sizes_in_binary_units(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2GB", "not a size"),
        ("2G", "not a size"),
        ("2 gib", "not a size"),
        ("-1GiB", "not a size"),
        ("2GiB\n", "not a size"),
        ("1e9", "not a size"),
        ("1.5", "whole"),
        ("1MiB", "too small"),
        (True, "a size must be"),
        (2.5, "a size must be"),
        ("9" * 400, "not a size"),
    ],
)
def test_anything_else_is_refused_with_the_fix(text: object, why: str) -> None:
    with pytest.raises(ValueError, match=why) as info:
        parse_size(text)
    assert "512MiB or 2GiB" in str(info.value)


def test_sizes_are_shown_in_the_largest_unit() -> None:
    assert format_size(2 << 30) == "2 GiB"
    assert format_size(3 << 29) == "1.5 GiB"
    assert format_size(600 << 20) == "600 MiB"
    assert format_size(100) == "100 B"
