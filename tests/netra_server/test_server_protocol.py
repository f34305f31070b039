"""netra_backend.server.protocol: what a WebSocket client may send."""

from __future__ import annotations

import json

import pytest

from netra_backend.server.protocol import ProtocolError, UserMessage, parse_client_message

LIMIT = 1024


def frame(**fields: object) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            frame(type="user_message", thread_id=None, text="hi"),
            UserMessage(text="hi", thread_id=None),
        ),
        (
            frame(type="user_message", thread_id="t1", text="hi", agent_name="data_helper_agent"),
            UserMessage(text="hi", thread_id="t1", agent_name="data_helper_agent"),
        ),
        # agent_name null means the default agent; thread_id may be left out.
        (
            frame(type="user_message", text="hi", agent_name=None, id=7),
            UserMessage(text="hi", thread_id=None, ref=7),
        ),
        (
            frame(type="user_message", text="hi", id="abc").encode(),
            UserMessage(text="hi", thread_id=None, ref="abc"),
        ),
    ],
)
def test_valid_messages(raw: str | bytes, expected: UserMessage) -> None:
    assert parse_client_message(raw, LIMIT) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("not json", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        ("", "malformed JSON"),
        (frame(type="subscribe", thread_id="t1"), "unknown message type 'subscribe'"),
        (frame(text="hi"), "unknown message type None"),
        (frame(type="user_message"), "missing field 'text'"),
        (frame(type="user_message", text="   "), "missing field 'text'"),
        (frame(type="user_message", text=5), "missing field 'text'"),
        (frame(type="user_message", text="hi", thread_id=12), "'thread_id' must be"),
        (frame(type="user_message", text="hi", thread_id=""), "'thread_id' must be"),
        (frame(type="user_message", text="hi", agent_name=["x"]), "'agent_name' must be"),
        (
            frame(type="user_message", text="x" * LIMIT),
            f"message too large: {LIMIT + 36} bytes, the limit is {LIMIT}",
        ),
    ],
)
def test_invalid_messages(raw: str | bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error):
        parse_client_message(raw, LIMIT)


def test_the_size_limit_counts_utf8_bytes_not_characters() -> None:
    text = "é" * 500  # 500 characters, 1000 bytes
    raw = json.dumps({"type": "user_message", "text": text}, ensure_ascii=False)
    with pytest.raises(ProtocolError, match="too large"):
        parse_client_message(raw, LIMIT)


def test_the_client_id_is_kept_on_errors_after_the_json_is_read() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(frame(type="nope", id="m-1"), LIMIT)
    assert caught.value.ref == "m-1"
