"""The server's user accounts, kept in the same SQLite file as the chat data.

Users are created by the `create-user` command or, on a first start, from
`NETRA_BOOTSTRAP_USERS` ("alice:pw1,bob:pw2"). Only a password hash is stored. Each
operation opens its own connection, so the store is safe to call from the thread
pool the server runs the (deliberately slow) password checks in.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone

from netra_backend.server.auth import (
    SCRYPT_N,
    burn_password_check,
    hash_cost,
    hash_password,
    verify_password,
)

BOOTSTRAP_ENV = "NETRA_BOOTSTRAP_USERS"
BOOTSTRAP_COST_ENV = "NETRA_BOOTSTRAP_KDF_N"
MIN_KDF_N = 2**10
_USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MAX_PASSWORD_LENGTH = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS server_users (
    user_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


class UserError(ValueError):
    """A user name or password is unusable, or the user already exists."""


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        msg = f"user name {username!r} is not allowed: use 1-64 letters, digits or any of _ . @ -"
        raise UserError(msg)
    return username


def check_password(password: str) -> str:
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        msg = f"a password must have 1-{MAX_PASSWORD_LENGTH} characters"
        raise UserError(msg)
    return password


def parse_kdf_n(text: str) -> int:
    """scrypt's N for bootstrap accounts: empty means the default cost.

    A lower cost is for throwaway test accounts whose passwords are public anyway
    (a matrix's staging accounts): a slow hash protects nothing there, and it costs
    every start and every login a tenth of a second of CPU.
    """
    if not text.strip():
        return SCRYPT_N
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < MIN_KDF_N or value > SCRYPT_N or value & (value - 1):
        msg = (
            f"{BOOTSTRAP_COST_ENV}={text!r}: use a power of two from {MIN_KDF_N} to "
            f"{SCRYPT_N} (the default), or leave it unset"
        )
        raise UserError(msg)
    return value


def parse_bootstrap(text: str) -> list[tuple[str, str]]:
    """Read "alice:pw1,bob:pw2" into pairs; a password may contain ':' but not ','."""
    pairs: list[tuple[str, str]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        username, sep, password = item.partition(":")
        if not sep:
            msg = f"{BOOTSTRAP_ENV}: entry {username!r} has no ':password'; write name:password"
            raise UserError(msg)
        pairs.append((check_username(username.strip()), check_password(password)))
    return pairs


class UserStore:
    """User accounts in the SQLite file at `path` (table `server_users`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def create_user(self, username: str, password: str, *, cost: int = SCRYPT_N) -> str:
        """Create a user and return its new id; `UserError` if the name is taken.

        `cost` is scrypt's N; lower it only for throwaway accounts (a load run's
        hundreds of users), since the stored hash keeps whatever cost it was made with.
        """
        check_username(username)
        stored = hash_password(check_password(password), n=cost)
        user_id = f"usr_{secrets.token_hex(8)}"
        created = datetime.now(timezone.utc).isoformat()
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO server_users VALUES (?, ?, ?, ?)",
                    (user_id, username, stored, created),
                )
        except sqlite3.IntegrityError as exc:
            msg = f"user {username!r} already exists"
            raise UserError(msg) from exc
        return user_id

    def bootstrap(self, text: str, *, cost: int = SCRYPT_N) -> list[str]:
        """Create the users of a bootstrap spec that do not exist yet; returns their names.

        Existing users are left as they are (their password is not reset), so a
        restart over the same database changes nothing. `cost` is scrypt's N for
        the new accounts (see `parse_kdf_n`).
        """
        created = []
        for username, password in parse_bootstrap(text):
            if self.user_id(username) is not None:
                continue
            try:
                self.create_user(username, password, cost=cost)
            except UserError:
                # Another server on the same file created it meanwhile: that is fine.
                if self.user_id(username) is None:
                    raise
                continue
            created.append(username)
        return created

    def user_id(self, username: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT user_id FROM server_users WHERE username = ?", (username,)
            ).fetchone()
        return None if row is None else str(row[0])

    def username(self, user_id: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT username FROM server_users WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def authenticate(self, username: str, password: str) -> str | None:
        """The user id if the password is right, else None (same cost either way).

        An unknown name runs the same scrypt as a known one, at the cost of a stored
        hash, and every name goes through the same indexed lookup; the digests are
        compared in constant time (`verify_password`).
        """
        with self._connect() as db:
            row = db.execute(
                "SELECT user_id, password_hash FROM server_users WHERE username = ?",
                (username,),
            ).fetchone()
            if row is None:
                # The cost of the oldest account: bootstrap and create-user accounts
                # of one deployment share it.
                sample = db.execute(
                    "SELECT password_hash FROM server_users ORDER BY rowid LIMIT 1"
                ).fetchone()
        if row is None:
            burn_password_check(password, None if sample is None else hash_cost(str(sample[0])))
            return None
        return str(row[0]) if verify_password(password, str(row[1])) else None
