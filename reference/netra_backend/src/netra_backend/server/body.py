"""Reading a request body as a JSON object, never more of it than the server accepts.

Every route that reads a body goes through `read_json_object`. A declared
`Content-Length` over the cap is refused before a byte of the body is read; a body
without one (chunked) is streamed and refused as soon as it passes the cap. Either
way the server holds at most the cap plus one chunk, whatever the client sends. The
body then has to be a JSON object whose fields have the types the route declares;
anything else is a `BodyError` with the status (413 or 400) and a message naming
the field, which the route turns into a JSON error response.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

# These are small JSON APIs: a login or a thread title fits many times over.
DEFAULT_MAX_BODY = 64 * 1024


class BodyStatus(enum.IntEnum):
    """Why a body was refused, as the HTTP status it is answered with."""

    BAD_REQUEST = 400
    TOO_LARGE = 413


class BodyError(Exception):
    """A body the route cannot use; `status` is the HTTP status to answer with."""

    def __init__(self, status: BodyStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def declared_length(header: str | None, limit: int) -> int | None:
    """The `Content-Length` value, or None without one; `BodyError` if bad or over `limit`."""
    if header is None:
        return None
    text = header.strip()
    # int() would also take "+5", "5_000" or a 5,000-digit number; a length is plain digits.
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        msg = f"Content-Length {header[:40]!r} is not a byte count"
        raise BodyError(BodyStatus.BAD_REQUEST, msg)
    length = int(text)
    if length > limit:
        raise BodyError(BodyStatus.TOO_LARGE, too_large(limit))
    return length


def too_large(limit: int) -> str:
    return f"request body is over the limit of {limit} bytes; send a smaller JSON object"


async def read_capped(request: Request, limit: int) -> bytes:
    """The body of `request`, refused (413) as soon as it is known to pass `limit` bytes."""
    declared_length(request.headers.get("content-length"), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(BodyStatus.TOO_LARGE, too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(body: bytes, *, empty_ok: bool) -> dict[str, Any]:
    """`body` as a JSON object; an empty body is `{}` when `empty_ok`."""
    if not body.strip() and empty_ok:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8 too; RecursionError a deeply nested array.
        msg = "the body is not valid JSON; send a JSON object"
        raise BodyError(BodyStatus.BAD_REQUEST, msg) from None
    if not isinstance(data, dict):
        msg = f"the body is a JSON {type(data).__name__}, not an object; send a JSON object"
        raise BodyError(BodyStatus.BAD_REQUEST, msg)
    return data


def check_fields(
    data: Mapping[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> None:
    """Every `required` field present and a string, every present `optional` one a string."""
    for name in required:
        if name not in data:
            msg = f"field {name!r} is missing; it must be a string"
            raise BodyError(BodyStatus.BAD_REQUEST, msg)
    for name in (*required, *optional):
        if name in data and not isinstance(data[name], str):
            kind = type(data[name]).__name__ if data[name] is not None else "null"
            msg = f"field {name!r} must be a string, not {kind}"
            raise BodyError(BodyStatus.BAD_REQUEST, msg)


async def read_json_object(
    request: Request,
    limit: int,
    *,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    empty_ok: bool = False,
) -> dict[str, Any]:
    """The request's body as a JSON object with string fields `required` (and `optional`)."""
    data = parse_object(await read_capped(request, limit), empty_ok=empty_ok)
    check_fields(data, required, optional)
    return data
