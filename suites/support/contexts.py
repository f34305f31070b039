"""Seed 8: logged-in users and the real parts the seed's tests ask for.

`create_authenticated_user_context` logs a user in the way the server does: a
signed HS256 token is issued for the user and verified, and the user context is
built from the verified identity (never from what the caller claims). The
secret is random per system under test, so a token of one test means nothing
in another.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any


def _issuer(sut: Any) -> Any:
    from netra_backend.server.auth import TokenIssuer

    issuer = getattr(sut, "_login_issuer", None)
    if issuer is None:
        issuer = TokenIssuer(secrets.token_urlsafe(32))
        sut._login_issuer = issuer
    return issuer


def login(sut: Any, username: str) -> str:
    """A signed access token for `username` (user id = the user name)."""
    return str(_issuer(sut).issue(username, username))


def create_authenticated_user_context(
    sut: Any, username: str, *, thread_id: str | None = None, run_id: str | None = None
) -> Any:
    """Log `username` in and return the UserExecutionContext of the verified identity."""
    identity = _issuer(sut).verify(login(sut, username))
    return sut.user(
        identity.user_id,
        thread_id=thread_id,
        run_id=run_id or f"run_{identity.user_id}_{uuid.uuid4().hex[:8]}",
    )


def get_real_agent_registry(sut: Any) -> Any:
    """The real AgentRegistry (triage, supervisor, data helper on the offline LLM)."""
    return sut.registry


def get_real_websocket_bridge(sut: Any) -> Any:
    """The real AgentWebSocketBridge over the system's connection manager."""
    return sut.bridge
