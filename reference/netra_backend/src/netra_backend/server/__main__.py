"""`python -m netra_backend.server` (see `netra_backend.server.cli`)."""

from __future__ import annotations

import os
import sys

from netra_backend.server.statename import as_migration_spec

# The migration module reads NETRA_MIGRATION when it is imported: give it the spec
# form of a matrix adapter state name before anything imports it.
if "NETRA_MIGRATION" in os.environ:
    os.environ["NETRA_MIGRATION"] = as_migration_spec(os.environ["NETRA_MIGRATION"])

try:
    from netra_backend.server.cli import main
except ValueError as exc:
    # A bad NETRA_MIGRATION is a configuration error to report plainly, not a traceback.
    print(f"error: NETRA_MIGRATION: {exc}", file=sys.stderr)
    sys.exit(2)

sys.exit(main())
