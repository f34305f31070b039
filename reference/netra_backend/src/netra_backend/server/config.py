"""The server's settings: from the command line for what differs per start, from the
environment for secrets and the migration state.

Secrets never come from the repository: the JWT secret is `NETRA_JWT_SECRET`, or a
random throwaway one with `--dev-secret` (printed nowhere, so tokens die with the
process). The migration state is `NETRA_MIGRATION` (default "ssot"); an unknown
state or component is an error at startup, not at the first request.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping

from netra_backend.app.core.migration import MigrationError, MigrationState
from netra_backend.server.auth import SCRYPT_N, check_secret
from netra_backend.server.body import DEFAULT_MAX_BODY
from netra_backend.server.statename import as_migration_spec

SECRET_ENV = "NETRA_JWT_SECRET"
MIGRATION_ENV = "NETRA_MIGRATION"
DEFAULT_HOST = "127.0.0.1"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Everything `create_app` needs; `repr` hides the secret."""

    db_path: str
    jwt_secret: str = dataclasses.field(repr=False)
    migration: MigrationState = dataclasses.field(default_factory=MigrationState.ssot)
    token_ttl: float = 3600.0
    max_message_bytes: int = 64 * 1024
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_runs_per_connection: int = 16
    run_timeout: float = 60.0
    drain_timeout: float = 15.0
    llm_latency: float = 0.0
    db_synchronous: str = "NORMAL"
    bootstrap_users: str = dataclasses.field(default="", repr=False)
    bootstrap_kdf_n: int = SCRYPT_N


def load_secret(environ: Mapping[str, str], *, dev_secret: bool) -> str:
    """The JWT secret from the environment, or a fresh random one for `--dev-secret`."""
    secret = environ.get(SECRET_ENV, "")
    if secret:
        try:
            return check_secret(secret)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    if dev_secret:
        return secrets.token_urlsafe(32)
    try:
        check_secret(secret)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    raise AssertionError  # pragma: no cover - check_secret refuses an empty secret


SYNCHRONOUS_LEVELS = ("FULL", "NORMAL")
# A body cap past this is no cap at all for JSON APIs of this size.
MAX_BODY_CEILING = 16 * 1024 * 1024


def check_max_body(size: int) -> int:
    """`size` if it is a usable request-body cap in bytes, else `ConfigError`."""
    if not 1 <= size <= MAX_BODY_CEILING:
        msg = f"--max-body-bytes {size}: use a byte count from 1 to {MAX_BODY_CEILING}"
        raise ConfigError(msg)
    return size


def check_synchronous(level: str) -> str:
    value = level.upper()
    if value not in SYNCHRONOUS_LEVELS:
        msg = f"--db-synchronous {level!r}: use one of {', '.join(SYNCHRONOUS_LEVELS)}"
        raise ConfigError(msg)
    return value


def parse_migration(text: str) -> MigrationState:
    """A migration spec, or a matrix adapter state name (`partial[engine+factory]`), so
    a matrix can start one server per state with `NETRA_MIGRATION: "{adapter}"`."""
    return MigrationState.parse(as_migration_spec(text))


def load_migration(environ: Mapping[str, str]) -> MigrationState:
    text = environ.get(MIGRATION_ENV, "ssot")
    try:
        return parse_migration(text)
    except MigrationError as exc:
        msg = f"{MIGRATION_ENV}={text!r}: {exc}"
        raise ConfigError(msg) from exc
