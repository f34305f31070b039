"""`migmatrix init`: a working migration matrix skeleton in an existing project.

It writes, from the templates of one shape (package data, `templates/<shape>/`):

- `runtime`: the migration is a runtime switch in one build (a flag, a setting):
  matrix.yaml with two in-process adapters, `adapters/migration.py` (their `open`),
  the two phase suites with an example test each, and noxfile.py;
- `versions`: the migration is an upgrade between two releases (of a dependency,
  or of this project at two git refs): matrix.yaml with two environment adapters,
  the suites and noxfile.py, and no adapter module.

Nothing that exists is overwritten: each file is written only where there is none,
and the report names every file kept. No conftest is needed: the plugin gives the
`cell` and `sut` fixtures. The skeleton passes its gate as written; a user replaces
the examples with their own system (docs/adopting.md).
"""

from __future__ import annotations

import dataclasses
import sys
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, TextIO

from migmatrix.errors import UsageError
from migmatrix.outcomes import ExitCode

SHAPES = ("runtime", "versions")
SUFFIX = ".tmpl"
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@dataclasses.dataclass(frozen=True)
class InitReport:
    """The files `init_project` wrote and the ones it kept, relative to the folder, sorted."""

    written: tuple[str, ...]
    kept: tuple[str, ...]


def _templates(shape: str) -> list[tuple[str, Any]]:
    """(relative target path, template) of every file of a shape, sorted.

    `templates/common/` holds what both shapes write (the suite packages); a shape's
    own folder holds the rest.
    """
    # Read through importlib.resources: the templates are package data, in a wheel or a zip too.
    templates = resources.files("migmatrix.init").joinpath("templates")
    found: list[tuple[str, Any]] = []

    def walk(folder: Any, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.name.endswith(SUFFIX):
                found.append((prefix + entry.name[: -len(SUFFIX)], entry))

    walk(templates.joinpath("common"), "")
    walk(templates.joinpath(shape), "")
    return sorted(found, key=lambda pair: pair[0])


def template_values(
    folder: Path, *, package: str | None = None, old: str | None = None, new: str | None = None
) -> dict[str, str]:
    """What the templates fill in: this Python, the project spec, the versions shape's releases."""
    installable = any((folder / name).is_file() for name in PROJECT_FILES)
    return {
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "project": '["."]' if installable else "[]",
        "package": package or "",
        "old": old or "",
        "new": new or "",
    }


def init_project(
    folder: Path,
    shape: str = "runtime",
    *,
    package: str | None = None,
    old: str | None = None,
    new: str | None = None,
) -> InitReport:
    """Write the skeleton of `shape` into `folder`; never overwrite a file that exists."""
    if shape not in SHAPES:
        msg = f"unknown shape {shape!r}; choose one of: {', '.join(SHAPES)}"
        raise UsageError(msg)
    if shape == "versions" and not (package and old and new):
        msg = (
            "--shape versions needs the package and its two releases: "
            "--package NAME --old X.Y.Z --new X.Y.Z (e.g. --package tomli --old 1.2.2 --new 1.2.3)"
        )
        raise UsageError(msg)
    if not folder.is_dir():
        msg = f"{folder} is not a folder; create it first or pass an existing one"
        raise UsageError(msg)
    values = template_values(folder, package=package, old=old, new=new)
    written: list[str] = []
    kept: list[str] = []
    for relative, template in _templates(shape):
        target = folder / relative
        if target.exists():
            kept.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        text = Template(template.read_text(encoding="utf-8")).substitute(values)
        # "x": a file that appeared since the check is kept, never replaced.
        try:
            with target.open("x", encoding="utf-8", newline="\n") as out:
                out.write(text)
        except FileExistsError:
            kept.append(relative)
            continue
        written.append(relative)
    return InitReport(tuple(written), tuple(sorted(kept)))


def run_init(
    folder: str,
    shape: str,
    out: TextIO,
    *,
    package: str | None = None,
    old: str | None = None,
    new: str | None = None,
) -> int:
    """`migmatrix init`: write the skeleton, name what was written and kept, say what next."""
    where = Path(folder)
    report = init_project(where, shape, package=package, old=old, new=new)
    for name in report.written:
        out.write(f"wrote {name}\n")
    for name in report.kept:
        out.write(f"kept  {name} (it exists; not overwritten)\n")
    if not any((where / name).is_file() for name in PROJECT_FILES) and shape == "runtime":
        out.write(
            "note: no pyproject.toml here, so the sessions install no project of yours "
            '(project=[] in noxfile.py); put ["."] there once the folder is a project\n'
        )
    out.write(
        "next: `migmatrix check`, then `nox -s matrix` for a first verdict; replace the "
        "examples with your own (docs/adopting.md)\n"
    )
    return int(ExitCode.OK)
