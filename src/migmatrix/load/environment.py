"""An adapter's environment keys, checked beyond the schema (issue 15).

`requirements` must each be a PEP 508 requirement (parsed with `packaging`, the
parser pip and uv follow); a `versions` sweep needs `{version}` in at least one
requirement, or every state would install the same thing; `install`, `repo` and
`requirements_file` only make sense beside what they complete. The schema has
already checked the types (strings for `env` values, a list for `versions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from migmatrix.errors import MatrixError
from migmatrix.load.yamldoc import KeyPath
from migmatrix.text import shorten

Fail = Callable[..., MatrixError]


def environment_fields(value: Mapping[str, Any], base: KeyPath, fail: Fail) -> dict[str, Any]:
    """The AdapterSpec fields of one adapter's environment keys, or the first problem."""
    requirements = tuple(value.get("requirements", ()))
    versions = tuple(value.get("versions", ()))
    for i, text in enumerate(requirements):
        try:
            Requirement(text.replace("{version}", "0"))
        except InvalidRequirement as exc:
            why = str(exc).splitlines()[0]
            msg = (
                f"{shorten(repr(text))} is not a PEP 508 requirement ({why}); write it as "
                "`name`, `name==1.2.3` or `name @ https://...`"
            )
            raise fail(msg, (*base, "requirements", i)) from None
    if versions and not any("{version}" in text for text in requirements):
        msg = (
            '`versions` needs `{version}` in `requirements` (e.g. "somelib=={version}"), '
            "or every version would install the same thing"
        )
        raise fail(msg, (*base, "versions"), at_key=True)
    if versions and value.get("components"):
        msg = "give either `versions` or `components`, not both: each makes the states"
        raise fail(msg, (*base, "versions"), at_key=True)
    if not versions:
        for i, text in enumerate(requirements):
            if "{version}" in text:
                msg = "`{version}` needs a `versions: [...]` list to take its values from"
                raise fail(msg, (*base, "requirements", i))
    for key, needs in (("repo", "ref"), ("install", "ref")):
        if key in value and needs not in value:
            msg = f"`{key}` needs `{needs}`: it says where the checked-out ref comes from"
            raise fail(msg, (*base, key), at_key=True)
    if not value.get("object") and not (
        requirements or value.get("requirements_file") or value.get("ref") or value.get("env")
    ):
        msg = (
            "an adapter needs `object:` (imported in-process) or an environment "
            "(`requirements`, `requirements_file`, `ref` or `env`)"
        )
        raise fail(msg, base, at_key=True)
    return {
        "requirements": requirements,
        "requirements_file": value.get("requirements_file"),
        "ref": value.get("ref"),
        "repo": value.get("repo"),
        "install": value.get("install", "."),
        "env": tuple(sorted(value.get("env", {}).items())),
        "versions": versions,
    }
