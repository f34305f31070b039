"""`python -m migmatrix`: the same as the `migmatrix` command."""

from __future__ import annotations

import sys

from migmatrix.cli import main

if __name__ == "__main__":
    sys.exit(main())
