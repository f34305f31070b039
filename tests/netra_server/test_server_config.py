"""netra_backend.server.config: the secret and the migration state, from the environment."""

from __future__ import annotations

import pytest

from netra_backend.server.cli import _serve_parser, load_config
from netra_backend.server.config import (
    ConfigError,
    check_synchronous,
    load_migration,
    load_secret,
    parse_migration,
)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("ssot", "ssot"),
        ("deprecated", "deprecated"),
        ("partial:engine,factory", "partial:engine,factory"),
        ("partial:factory,engine", "partial:engine,factory"),  # canonical rollout order
        # The matrix's adapter state names, for NETRA_MIGRATION: "{adapter}".
        ("partial[engine+factory]", "partial:engine,factory"),
        ("partial[]", "deprecated"),
        ("sweep[engine+factory+emitter+state]", "ssot"),
    ],
)
def test_parse_migration(text: str, spec: str) -> None:
    assert parse_migration(text).spec == spec


def test_load_migration_defaults_to_ssot_and_names_bad_values() -> None:
    assert load_migration({}).spec == "ssot"
    with pytest.raises(ConfigError, match=r"NETRA_MIGRATION='partial\[engine\+bogus\]'.*'bogus'"):
        load_migration({"NETRA_MIGRATION": "partial[engine+bogus]"})


def test_the_secret_comes_from_the_environment_or_is_a_throwaway() -> None:
    secret = "s" * 40
    assert load_secret({"NETRA_JWT_SECRET": secret}, dev_secret=False) == secret
    assert load_secret({"NETRA_JWT_SECRET": secret}, dev_secret=True) == secret
    first, second = load_secret({}, dev_secret=True), load_secret({}, dev_secret=True)
    assert first != second
    assert len(first) >= 32
    with pytest.raises(ConfigError, match="NETRA_JWT_SECRET is unset"):
        load_secret({}, dev_secret=False)
    with pytest.raises(ConfigError, match="too short"):
        load_secret({"NETRA_JWT_SECRET": "short"}, dev_secret=True)


def test_check_synchronous() -> None:
    assert check_synchronous("normal") == "NORMAL"
    with pytest.raises(ConfigError, match="use one of FULL, NORMAL"):
        check_synchronous("off")


def test_the_body_cap_comes_from_the_command_line_and_is_checked() -> None:
    environ = {"NETRA_JWT_SECRET": "s" * 40}
    args = _serve_parser().parse_args(["--db", ":memory:", "--max-body-bytes", "2048"])
    assert load_config(args, environ).max_body_bytes == 2048
    default = _serve_parser().parse_args(["--db", ":memory:"])
    assert load_config(default, environ).max_body_bytes == 64 * 1024
    zero = _serve_parser().parse_args(["--db", ":memory:", "--max-body-bytes", "0"])
    with pytest.raises(ConfigError, match="--max-body-bytes 0: use a byte count from 1 to"):
        load_config(zero, environ)
