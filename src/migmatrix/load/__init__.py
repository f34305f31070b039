"""Load matrix.yaml into a validated, typed `Matrix`, or say exactly what is wrong.

Checking runs in three layers, each on data the previous one has vouched for, each
in its own module:

1. `yamldoc`: YAML itself, read so every value keeps its line and column: syntax,
   duplicate keys (YAML silently keeps the last one), keys that are not strings.
2. `explain`: the shipped JSON Schema (`matrix.schema.json`, the same file editors
   use): unknown keys (with the closest valid key), wrong types (with the quoting
   fix for `3.10`, which YAML reads as the number 3.1), missing keys, bad words.
3. `build`: meaning: suite folders exist, names referenced by
   include/exclude/rules/states/rollback paths exist, regexes compile, excludes
   leave a cell.

Only the first error is the headline; the others follow it in file order, so one
run shows every problem. Nothing here prints, and nothing here imports adapter
objects: the run side does, when a cell needs one.
"""

from __future__ import annotations

import os
from pathlib import Path

from migmatrix.errors import MatrixError
from migmatrix.load.build import Builder
from migmatrix.load.digest import digest
from migmatrix.load.explain import raise_all, schema_problems
from migmatrix.load.yamldoc import KeyPath, compose, dotted
from migmatrix.model import Location, Matrix
from migmatrix.text import shorten

__all__ = ["KeyPath", "digest", "dotted", "load_matrix"]


def load_matrix(path: str | os.PathLike[str]) -> Matrix:
    """Read, validate and type `path`; raise `MatrixError` naming file:line:column otherwise."""
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"matrix file {file!r} does not exist; pass the right path with --matrix"
        raise MatrixError(msg) from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(file, exc) from None
    except OSError as exc:
        msg = f"cannot read matrix file {file!r}: {exc}"
        raise MatrixError(msg) from None
    try:
        doc = compose(file, text)
        raise_all(schema_problems(doc))
        return Builder(doc, Path(file).resolve()).build()
    except RecursionError:
        # The composer's depth limit and the alias checks stop every known way in; this
        # is the net for one not known yet, so it still ends as a message.
        msg = "the file is nested too deeply to check; flatten the deepest values"
        raise MatrixError(msg, Location(file, 1, 1)) from None
    except MemoryError:
        msg = "the file is too large to load; a matrix needs far fewer values"
        raise MatrixError(msg, Location(file, 1, 1)) from None
    except (ValueError, OverflowError) as exc:
        msg = f"a value cannot be used: {shorten(str(exc))}; fix or shorten it"
        raise MatrixError(msg, Location(file, 1, 1)) from None


def _not_utf8(file: str, exc: UnicodeDecodeError) -> MatrixError:
    """The error for a byte that is not UTF-8, at the line and column it sits at."""
    before = exc.object[: exc.start]
    line = before.count(b"\n") + 1
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    msg = (
        f"cannot read matrix file {file!r}: byte 0x{exc.object[exc.start]:02x} here is not "
        f"UTF-8 ({exc.reason}); save the file as UTF-8"
    )
    return MatrixError(msg, Location(file, line, column))
