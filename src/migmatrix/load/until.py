"""A rule's `until:` date, and the `fail_on` word for rules past it.

YAML reads an unquoted `2026-06-30` as a date and a quoted one as text; both
mean the same day. Anything else (a datetime, `next week`, `2026-02-30`) is not a
date the gate can compare with today.
"""

from __future__ import annotations

import datetime
import re
from typing import Literal

EXPIRED = "expired"
"""The `gates.fail_on` word that makes a rule past its `until:` date fail the gate."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def until_date(value: object) -> datetime.date | Literal[False] | None:
    """The date `value` names, None when there is none, False when it is not a date."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return False
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return False
    return False
