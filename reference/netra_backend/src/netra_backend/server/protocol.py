"""What a WebSocket client may send, checked before anything runs.

`parse_client_message` is a pure function from the raw frame to either a
`UserMessage` or an error text; the connection answers an error with an
`{"type": "error", "error": ...}` event and stays open.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

DEFAULT_AGENT = "triage_agent"


@dataclasses.dataclass(frozen=True)
class UserMessage:
    """A chat message: `thread_id` None asks for a new thread. `ref` is echoed back."""

    text: str
    thread_id: str | None
    agent_name: str = DEFAULT_AGENT
    ref: str | int | None = None


class ProtocolError(ValueError):
    """The frame is not a valid client message; `ref` is the client's id, if one was readable."""

    def __init__(self, message: str, ref: str | int | None = None) -> None:
        super().__init__(message)
        self.ref = ref


def error_event(message: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "error", "error": message}
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def parse_client_message(frame: str | bytes, max_bytes: int) -> UserMessage:
    """Read one frame; `ProtocolError` says what is wrong with it."""
    size = len(frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        msg = f"message too large: {size} bytes, the limit is {max_bytes}"
        raise ProtocolError(msg)
    try:
        data = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as exc:
        msg = f"malformed JSON: {exc}"
        raise ProtocolError(msg) from exc
    if not isinstance(data, dict):
        msg = f"a message must be a JSON object, got {type(data).__name__}"
        raise ProtocolError(msg)
    ref = data.get("id")
    if not isinstance(ref, (str, int)) or isinstance(ref, bool):
        ref = None
    kind = data.get("type")
    if kind != "user_message":
        msg = f"unknown message type {kind!r}; send type 'user_message'"
        raise ProtocolError(msg, ref)
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        msg = "missing field 'text': a non-empty string"
        raise ProtocolError(msg, ref)
    thread_id = data.get("thread_id")
    if thread_id is not None and (not isinstance(thread_id, str) or not thread_id):
        msg = "field 'thread_id' must be a thread id string, or null for a new thread"
        raise ProtocolError(msg, ref)
    agent_name = data.get("agent_name", DEFAULT_AGENT)
    if agent_name is None:
        agent_name = DEFAULT_AGENT
    if not isinstance(agent_name, str):
        msg = "field 'agent_name' must be a string"
        raise ProtocolError(msg, ref)
    return UserMessage(text=text, thread_id=thread_id, agent_name=agent_name, ref=ref)
