"""CI workflow, sharding and tox tests (a package so its helpers import as ci.conftest)."""
