"""netra_backend.server.body and its use by every route that reads a body.

The table `BODY_ROUTES` is every HTTP route that reads a body; each must answer 400
naming the problem for a body that is not a JSON object of the right fields, and 413
with a JSON error for a body over the cap, whether it declares its length or is
streamed without one. The server under test has a small cap so that "over" is cheap.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from server_helpers import SECRET, LiveServer, http

from netra_backend.app.core.migration import MigrationState
from netra_backend.server.body import (
    DEFAULT_MAX_BODY,
    BodyError,
    BodyStatus,
    check_fields,
    declared_length,
    parse_object,
)
from netra_backend.server.config import ConfigError, ServerConfig, check_max_body

CAP = 1024
_names = itertools.count()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db: Path = tmp_path_factory.mktemp("body") / "netra.db"
    config = ServerConfig(
        db_path=str(db), jwt_secret=SECRET, migration=MigrationState.ssot(), max_body_bytes=CAP
    )
    with LiveServer(config) as server:
        yield server


# (route, a valid body, the fields it requires): every HTTP route that reads a body.
BODY_ROUTES = [
    (
        "/auth/login",
        {"username": "someone", "password": "pw-long-enough"},
        ("username", "password"),
    ),
    ("/threads", {"title": "plans"}, ()),
]
ROUTE_IDS = [route for route, _, _ in BODY_ROUTES]


def headers_for(server: LiveServer, route: str) -> dict[str, str]:
    """What a client needs to reach the body check of `route` (a token for /threads)."""
    if route == "/threads":
        _, token = server.add_user(f"body{next(_names)}")
        return {"Authorization": f"Bearer {token}"}
    return {}


def post(
    server: LiveServer, route: str, content: bytes | AsyncIterator[bytes]
) -> tuple[int, dict[str, object], dict[str, str]]:
    async def go() -> tuple[int, dict[str, object], dict[str, str]]:
        async with http(server) as client:
            response = await client.post(route, content=content, headers=headers_for(server, route))
            return response.status_code, response.json(), dict(response.headers)

    return asyncio.run(go())


# --------------------------------------------------------------------------- the helper


def test_declared_length_refuses_bad_and_oversized_values_before_reading() -> None:
    assert declared_length(None, 10) is None
    assert declared_length("10", 10) == 10
    for bad in ("-1", "+5", "5_000", "1e3", "", "٣", "9" * 5000):
        with pytest.raises(BodyError) as refused:
            declared_length(bad, 10)
        assert refused.value.status is BodyStatus.BAD_REQUEST
        assert len(str(refused.value)) < 120  # a 5,000-digit value is not echoed whole
    with pytest.raises(BodyError) as over:
        declared_length("11", 10)
    assert over.value.status is BodyStatus.TOO_LARGE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"[1]", "a JSON list, not an object"),
        (b'"text"', "a JSON str, not an object"),
        (b"null", "a JSON NoneType, not an object"),
        (b"", "not valid JSON"),
    ],
)
def test_parse_object_refuses_what_is_not_a_json_object(body: bytes, message: str) -> None:
    with pytest.raises(BodyError) as refused:
        parse_object(body, empty_ok=False)
    assert refused.value.status is BodyStatus.BAD_REQUEST
    assert message in str(refused.value)


def test_an_empty_body_is_an_empty_object_only_where_allowed() -> None:
    assert parse_object(b"  ", empty_ok=True) == {}
    assert parse_object(b'{"a": 1}', empty_ok=False) == {"a": 1}


def test_check_fields_names_the_missing_or_mistyped_field() -> None:
    check_fields({"a": "x", "extra": 1}, ("a",), ("b",))
    with pytest.raises(BodyError, match="field 'a' is missing"):
        check_fields({}, ("a",))
    with pytest.raises(BodyError, match="field 'b' must be a string, not int"):
        check_fields({"a": "x", "b": 3}, ("a",), ("b",))
    with pytest.raises(BodyError, match="field 'a' must be a string, not null"):
        check_fields({"a": None}, ("a",))


def test_the_cap_is_configurable_within_bounds() -> None:
    assert ServerConfig(db_path=":memory:", jwt_secret=SECRET).max_body_bytes == DEFAULT_MAX_BODY
    assert check_max_body(1) == 1
    for bad in (0, -5, 10**12):
        with pytest.raises(ConfigError, match="--max-body-bytes"):
            check_max_body(bad)


# --------------------------------------------------------------------------- every route


def malformed_bodies(valid: dict[str, str], required: tuple[str, ...]) -> list[tuple[bytes, str]]:
    """(body, what the error must say) for one route."""
    bodies = [
        (b"not json at all", "not valid JSON"),
        (b"{'single': 'quotes'}", "not valid JSON"),
        (b'{"unterminated": ', "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b"42", "not an object"),
    ]
    for name in valid:
        bodies.append((json.dumps({**valid, name: 3}).encode(), f"field {name!r} must be a string"))
        bodies.append(
            (json.dumps({**valid, name: None}).encode(), f"field {name!r} must be a string")
        )
    for name in required:
        rest = {k: v for k, v in valid.items() if k != name}
        bodies.append((json.dumps(rest).encode(), f"field {name!r} is missing"))
    return bodies


@pytest.mark.parametrize(("route", "valid", "required"), BODY_ROUTES, ids=ROUTE_IDS)
def test_every_body_route_answers_400_naming_the_problem(
    small: LiveServer, route: str, valid: dict[str, str], required: tuple[str, ...]
) -> None:
    for body, message in malformed_bodies(valid, required):
        status, payload, _ = post(small, route, body)
        assert status == 400, (route, body, payload)
        assert message in str(payload["error"]), (route, body, payload)


@pytest.mark.parametrize(("route", "valid", "required"), BODY_ROUTES, ids=ROUTE_IDS)
def test_every_body_route_answers_413_over_the_cap(
    small: LiveServer, route: str, valid: dict[str, str], required: tuple[str, ...]
) -> None:
    # Valid JSON padded past the cap: the size alone is the reason.
    padded = json.dumps({**valid, "pad": "x" * CAP}).encode()
    status, payload, headers = post(small, route, padded)
    assert status == 413
    assert f"over the limit of {CAP} bytes" in str(payload["error"])
    assert headers["connection"] == "close"


@pytest.mark.parametrize(("route", "valid", "required"), BODY_ROUTES, ids=ROUTE_IDS)
def test_a_streamed_body_without_length_is_cut_at_the_cap(
    small: LiveServer, route: str, valid: dict[str, str], required: tuple[str, ...]
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        # Far more than the cap; the server must stop asking for more soon after it.
        nonlocal sent
        yield b'{"pad": "'
        for _ in range(10_000):
            sent += 256
            yield b"x" * 256

    status, payload, _ = post(small, route, endless())
    assert status == 413
    assert "over the limit" in str(payload["error"])
    assert sent < 100 * CAP


@pytest.mark.parametrize(("route", "valid", "required"), BODY_ROUTES, ids=ROUTE_IDS)
def test_a_valid_body_at_the_cap_is_accepted(
    small: LiveServer, route: str, valid: dict[str, str], required: tuple[str, ...]
) -> None:
    body = json.dumps(valid).encode()
    body += b" " * (CAP - len(body))
    status, _, _ = post(small, route, body)
    # Login of an unknown name is 401: past the body check, which is what counts here.
    assert status in {201, 401}, status


def test_post_threads_without_a_body_is_an_untitled_thread(small: LiveServer) -> None:
    status, payload, _ = post(small, "/threads", b"")
    assert status == 201
    assert payload["title"] == ""
