"""The word enums: every member round-trips through its word; a bad word is named with the fix."""

from __future__ import annotations

import pytest

from migmatrix.outcomes import Expected, Outcome, Verdict


@pytest.mark.parametrize("enum", [Outcome, Expected, Verdict])
def test_every_member_round_trips_through_its_word(
    enum: type[Outcome] | type[Expected] | type[Verdict],
) -> None:
    for member in enum:
        assert enum.from_str(member.serialize()) is member


@pytest.mark.parametrize(
    ("enum", "message"),
    [
        (
            Outcome,
            "unknown outcome 'Passed'; expected one of: "
            "passed, failed, error, skipped, crashed, timeout, unavailable",
        ),
        (
            Expected,
            "unknown expected outcome 'Passed'; expected one of: pass, fail, error, skip, "
            "unavailable",
        ),
        (
            Verdict,
            "unknown verdict 'Passed'; expected one of: as-expected, reproduced, "
            "unexpected-pass, regression, wrong-reason, flaky, missing, crashed, timeout, "
            "incomplete, unavailable",
        ),
    ],
    ids=["outcome", "expected", "verdict"],
)
def test_an_unknown_word_names_the_vocabulary_and_every_spelling(
    enum: type[Outcome] | type[Expected] | type[Verdict], message: str
) -> None:
    with pytest.raises(ValueError, match="unknown") as raised:
        enum.from_str("Passed")
    assert str(raised.value) == message
    assert raised.value.__suppress_context__  # `from None`: no enum-internal traceback
