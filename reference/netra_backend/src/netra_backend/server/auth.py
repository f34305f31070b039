"""Passwords and tokens: a slow salted KDF for the one, signed HS256 JWTs for the other.

Passwords are stored as `scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64 salt and hash), so
the cost can be raised later without invalidating stored hashes. Comparison is
constant-time. Tokens carry the user id (`sub`), the user name, issue and expiry
times and a random id; verification pins the algorithm, so `alg: none`, an HS512
token or an RS256 token signed with the secret read as a public key are all refused.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import secrets
import time
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "netra_backend"
# RFC 7518 3.2: an HS256 key of at least 256 bits.
MIN_SECRET_LENGTH = 32

# scrypt N=2**14, r=8, p=1: ~70 ms and 16 MiB per hash on these machines.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32


class TokenError(Exception):
    """A token is missing, malformed, forged, expired or signed with another algorithm."""


class SecretError(ValueError):
    """The JWT secret is missing or too short."""


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The storable hash of `password` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p)
    return "$".join(("scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches `stored`; False for a wrong password or a damaged hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.lru_cache(maxsize=8)
def _dummy_hash(n: int, r: int, p: int) -> str:
    return hash_password(secrets.token_urlsafe(16), n=n, r=r, p=p)


def hash_cost(stored: str) -> tuple[int, int, int] | None:
    """scrypt's (n, r, p) of a stored hash, or None if it is not a usable scrypt hash."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = (int(part) for part in parts[1:4])
    except ValueError:
        return None
    return (n, r, p)


def burn_password_check(password: str, cost: tuple[int, int, int] | None = None) -> None:
    """Spend the time of one password check, for an unknown user name.

    So "no such user" costs as much as "wrong password", and login timing does not
    reveal which user names exist. `cost` is the (n, r, p) of the hashes stored for
    real users: a dummy at a different cost (bootstrap accounts may use a cheaper one)
    would take a different time and give the answer away.
    """
    n, r, p = cost or (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    try:
        dummy = _dummy_hash(n, r, p)
    except ValueError:
        # A damaged stored hash names a cost scrypt refuses; its check would fail fast too.
        dummy = _dummy_hash(SCRYPT_N, SCRYPT_R, SCRYPT_P)
    verify_password(password, dummy)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=2**26
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_secret(secret: str) -> str:
    """`secret` if it is usable as the HMAC key, else `SecretError` saying what to set."""
    if len(secret) < MIN_SECRET_LENGTH:
        msg = (
            f"NETRA_JWT_SECRET is {'unset' if not secret else 'too short'}: set it to at least "
            f"{MIN_SECRET_LENGTH} random characters (e.g. `python -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))'`), or pass --dev-secret for a throwaway one"
        )
        raise SecretError(msg)
    return secret


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for."""

    user_id: str
    username: str
    token_id: str


@dataclasses.dataclass(frozen=True)
class TokenIssuer:
    """Issues and verifies the server's tokens with one secret."""

    secret: str
    ttl: float = 3600.0

    def issue(self, user_id: str, username: str, *, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "sub": user_id,
            "name": username,
            "iss": ISSUER,
            "iat": issued,
            "exp": issued + int(self.ttl),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str | None) -> Identity:
        if not token:
            msg = "missing token"
            raise TokenError(msg)
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            msg = "token expired"
            raise TokenError(msg) from exc
        except jwt.PyJWTError as exc:
            msg = f"invalid token ({type(exc).__name__})"
            raise TokenError(msg) from exc
        user_id, name = claims.get("sub"), claims.get("name", "")
        if not isinstance(user_id, str) or not user_id or not isinstance(name, str):
            msg = "invalid token (bad subject)"
            raise TokenError(msg)
        return Identity(user_id=user_id, username=name, token_id=str(claims.get("jti", "")))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
