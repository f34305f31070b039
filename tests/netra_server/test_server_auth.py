"""netra_backend.server.auth: password hashing and the tokens the server accepts."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest

from netra_backend.server.auth import (
    ALGORITHM,
    ISSUER,
    SecretError,
    TokenError,
    TokenIssuer,
    bearer_token,
    check_secret,
    hash_password,
    verify_password,
)

SECRET = "unit-test-secret-" + "s" * 64  # long enough for HS512 too (no key warning)


def test_password_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$16384$8$1$")
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert verify_password("correct horse", second)
    assert not verify_password("correct horsE", first)
    assert not verify_password("", first)


@pytest.mark.parametrize(
    "stored",
    [
        "",  # empty
        "plain-text-password",  # not our format
        "pbkdf2$1$2$3$YQ==$YQ==",  # another scheme
        "scrypt$x$8$1$YQ==$YQ==",  # bad cost
        "scrypt$16384$8$1$!!!$YQ==",  # bad base64
    ],
)
def test_damaged_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_token_round_trip_carries_the_user() -> None:
    issuer = TokenIssuer(SECRET)
    identity = issuer.verify(issuer.issue("usr_1", "alice"))
    assert (identity.user_id, identity.username) == ("usr_1", "alice")
    assert identity.token_id


def forge(claims: dict[str, object], key: str, algorithm: str) -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def good_claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {"sub": "usr_1", "name": "alice", "iss": ISSUER}
    claims.update(iat=now, exp=now + 60)
    claims.update(overrides)
    return claims


def alg_none_token() -> str:
    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(good_claims())}."


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda: None, "missing token"),
        (lambda: "", "missing token"),
        (lambda: "not.a.jwt", "invalid token"),
        # Expired (an hour ago), though correctly signed.
        (lambda: forge(good_claims(iat=1, exp=2), SECRET, ALGORITHM), "token expired"),
        # Signed with another key: forged.
        (lambda: forge(good_claims(), "another-secret-" + "k" * 32, ALGORITHM), "invalid token"),
        # Right key, wrong algorithm: only HS256 is accepted.
        (lambda: forge(good_claims(), SECRET, "HS512"), "invalid token"),
        (lambda: forge(good_claims(), SECRET, "HS384"), "invalid token"),
        # alg "none": no signature at all.
        (alg_none_token, "invalid token"),
        # Right key and algorithm, but not ours (issuer) or incomplete (no exp / no sub).
        (lambda: forge(good_claims(iss="someone-else"), SECRET, ALGORITHM), "invalid token"),
        (
            lambda: forge({"sub": "usr_1", "iss": ISSUER, "iat": 1}, SECRET, ALGORITHM),
            "invalid token",
        ),
        (lambda: forge(good_claims(sub=""), SECRET, ALGORITHM), "invalid token"),
        (lambda: forge(good_claims(sub=42), SECRET, ALGORITHM), "invalid token"),
    ],
)
def test_bad_tokens_are_refused(make_token: Callable[[], str | None], reason: str) -> None:
    # Tokens are made when the test runs, not at collection: a good token's one-minute
    # lifetime must not run out while a long xdist session reaches this test.
    with pytest.raises(TokenError, match=reason):
        TokenIssuer(SECRET).verify(make_token())


def test_a_token_expires_after_its_ttl() -> None:
    issuer = TokenIssuer(SECRET, ttl=60)
    token = issuer.issue("usr_1", "alice", now=time.time() - 61)
    with pytest.raises(TokenError, match="token expired"):
        issuer.verify(token)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc ", "abc"),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_short_or_missing_secret_is_refused() -> None:
    with pytest.raises(SecretError, match="unset"):
        check_secret("")
    with pytest.raises(SecretError, match="too short"):
        check_secret("short")
    assert check_secret("k" * 32) == "k" * 32
