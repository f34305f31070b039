# /// script
# dependencies = ["nox[uv]", "migmatrix"]
# ///
"""`nox -s matrix` here runs both releases, each in its own environment, and gates them."""

import migmatrix.noxapi

# This folder is no package of its own: the sessions install tomli (per adapter),
# migmatrix and pytest, and the suites import tomli as any user of it would.
migmatrix.noxapi.matrix_sessions(project=[])
