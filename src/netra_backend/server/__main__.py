"""`python -m netra_backend.server` (see `netra_backend.server.cli`)."""

from __future__ import annotations

import sys

try:
    from netra_backend.server.cli import main
except ValueError as exc:
    # The migration module reads NETRA_MIGRATION when imported; a bad value is a
    # configuration error to report plainly, not a traceback.
    print(f"error: NETRA_MIGRATION: {exc}", file=sys.stderr)
    sys.exit(2)

sys.exit(main())
