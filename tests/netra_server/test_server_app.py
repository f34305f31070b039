"""netra_backend.server.app: the routes and the chat WebSocket, against a real uvicorn.

HTTP goes through httpx's ASGI transport into the same app (no socket needed);
WebSockets go to the live server on loopback with the `websockets` client.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time

import jwt
import pytest
import websockets
from server_helpers import FIVE, SECRET, LiveServer, converse, http, recv, refused_status

from netra_backend.server.auth import ISSUER

_names = itertools.count()


def user(live: LiveServer, prefix: str = "user") -> tuple[str, str]:
    return live.add_user(f"{prefix}{next(_names)}")


def bad_tokens(user_id: str) -> dict[str, str]:
    """Tokens that must be refused, each for a different reason, all naming a real user."""
    now = int(time.time())
    claims = {"sub": user_id, "name": "x", "iss": ISSUER, "iat": now, "exp": now + 600}
    none_header = {"alg": "none", "typ": "JWT"}

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return {
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, SECRET, "HS256"),
        "forged": jwt.encode(claims, "not-the-server-secret-" + "z" * 40, "HS256"),
        "hs512": jwt.encode(claims, SECRET, "HS512"),
        "alg-none": f"{b64(none_header)}.{b64(claims)}.",
        "garbage": "abc.def.ghi",
    }


# --------------------------------------------------------------------------- HTTP


def test_health_names_the_migration_state(live: LiveServer) -> None:
    async def go() -> None:
        async with http(live) as client:
            response = await client.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "migration": "ssot"}

    asyncio.run(go())


def test_login_issues_a_token_and_refuses_bad_credentials(live: LiveServer) -> None:
    user_id = live.runtime.users.create_user("loginuser", "the-right-password")

    async def go() -> None:
        async with http(live) as client:
            ok = await client.post(
                "/auth/login", json={"username": "loginuser", "password": "the-right-password"}
            )
            assert ok.status_code == 200
            body = ok.json()
            assert body["token_type"] == "bearer"
            assert body["user_id"] == user_id
            assert live.runtime.issuer.verify(body["access_token"]).user_id == user_id
            # The token works on a protected route.
            auth = {"Authorization": f"Bearer {body['access_token']}"}
            assert (await client.post("/threads", json={}, headers=auth)).status_code == 201

            wrong = await client.post(
                "/auth/login", json={"username": "loginuser", "password": "nope"}
            )
            unknown = await client.post(
                "/auth/login", json={"username": "ghost", "password": "nope"}
            )
            # Same answer for a wrong password and an unknown user: no user enumeration.
            assert wrong.status_code == unknown.status_code == 401
            assert wrong.json() == unknown.json() == {"error": "invalid username or password"}
            assert wrong.headers["www-authenticate"].startswith("Bearer")

            for bad in (b"not json", b"[1]", json.dumps({"username": 1}).encode()):
                response = await client.post("/auth/login", content=bad)
                assert response.status_code == 400

    asyncio.run(go())


def test_protected_routes_refuse_missing_and_bad_tokens(live: LiveServer) -> None:
    user_id, _ = user(live)

    async def go() -> None:
        async with http(live) as client:
            assert (await client.post("/threads")).status_code == 401
            assert (await client.get("/threads/x/messages")).status_code == 401
            for reason, token in bad_tokens(user_id).items():
                headers = {"Authorization": f"Bearer {token}"}
                response = await client.get("/threads/x/messages", headers=headers)
                assert response.status_code == 401, reason
            # A valid signature for a user that does not exist (any more).
            ghost = live.runtime.issuer.issue("usr_ghost", "ghost")
            response = await client.post("/threads", headers={"Authorization": f"Bearer {ghost}"})
            assert response.status_code == 401

    asyncio.run(go())


def test_a_thread_is_readable_by_its_owner_only(live: LiveServer) -> None:
    _, alice = user(live, "alice")
    _, bob = user(live, "bob")

    async def go() -> None:
        async with websockets.connect(f"{live.ws_url}?token={alice}") as ws:
            _, answer = await converse(ws, "check the system status please")
        thread_id = answer["thread_id"]
        async with http(live) as client:
            mine = await client.get(
                f"/threads/{thread_id}/messages", headers={"Authorization": f"Bearer {alice}"}
            )
            theirs = await client.get(
                f"/threads/{thread_id}/messages", headers={"Authorization": f"Bearer {bob}"}
            )
            nothing = await client.get(
                "/threads/thread_doesnotexist/messages",
                headers={"Authorization": f"Bearer {bob}"},
            )
        assert mine.status_code == 200
        roles = [(m["role"], m["content"]) for m in mine.json()["messages"]]
        assert roles[0] == ("user", "check the system status please")
        assert roles[1] == ("assistant", answer["response"])
        # Another user's thread is indistinguishable from a thread that does not exist.
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json() == nothing.json() == {"error": "thread not found"}
        assert theirs.content == nothing.content

    asyncio.run(go())


def test_post_threads_creates_an_empty_owned_thread(live: LiveServer) -> None:
    _, alice = user(live)

    async def go() -> None:
        auth = {"Authorization": f"Bearer {alice}"}
        async with http(live) as client:
            created = await client.post("/threads", json={"title": "plans"}, headers=auth)
            assert created.status_code == 201
            thread_id = created.json()["thread_id"]
            listed = await client.get(f"/threads/{thread_id}/messages", headers=auth)
            assert listed.json() == {"thread_id": thread_id, "messages": []}
            bad = await client.post("/threads", json={"title": 3}, headers=auth)
            assert bad.status_code == 400
        # And the WebSocket can post into it.
        async with websockets.connect(f"{live.ws_url}?token={alice}") as ws:
            _, answer = await converse(ws, "hello there", thread_id=thread_id)
        assert answer["thread_id"] == thread_id

    asyncio.run(go())


# --------------------------------------------------------------------------- WebSocket


def test_websocket_refuses_missing_and_bad_tokens_at_the_handshake(live: LiveServer) -> None:
    user_id, good = user(live)

    async def go() -> None:
        # Closing with 1008 before accepting turns into an HTTP 403 refusal of the handshake.
        assert await refused_status(live.ws_url) == 403
        for reason, token in bad_tokens(user_id).items():
            assert await refused_status(f"{live.ws_url}?token={token}") == 403, reason
        assert (
            await refused_status(
                live.ws_url,
                additional_headers={"Authorization": f"Bearer {bad_tokens(user_id)['hs512']}"},
            )
            == 403
        )
        # The good token is accepted, in the query or in the Authorization header.
        assert await refused_status(f"{live.ws_url}?token={good}") is None
        assert (
            await refused_status(
                live.ws_url, additional_headers={"Authorization": f"Bearer {good}"}
            )
            is None
        )

    asyncio.run(go())


def test_websocket_streams_the_five_events_then_the_answer(live: LiveServer) -> None:
    user_id, token = user(live)

    async def go() -> None:
        async with websockets.connect(
            live.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            events, answer = await converse(ws, "what is the system status?")
            assert answer["success"] is True
            assert "system status" in answer["response"]
            types = [e["type"] for e in events]
            assert types[0] == "agent_started"
            assert types[-1] == "agent_completed"
            assert set(types) == set(FIVE)
            for event in events:
                assert event["user_id"] == user_id
                assert event["run_id"] == answer["run_id"]
                assert event["agent_name"] == "supervisor_agent"
                assert {"timestamp", "payload"} <= set(event)
            # A second message continues the same thread.
            _, again = await converse(ws, "and now?", thread_id=answer["thread_id"])
            assert again["thread_id"] == answer["thread_id"]
            assert again["run_id"] != answer["run_id"]

    asyncio.run(go())


def test_a_user_cannot_post_into_another_users_thread(live: LiveServer) -> None:
    alice_id, alice = user(live, "alice")
    _, bob = user(live, "bob")

    async def go() -> None:
        async with websockets.connect(f"{live.ws_url}?token={alice}") as ws:
            _, answer = await converse(ws, "my secret plans")
        thread_id = answer["thread_id"]
        async with websockets.connect(f"{live.ws_url}?token={bob}") as ws:
            for target in (thread_id, "thread_doesnotexist"):
                await ws.send(
                    json.dumps({"type": "user_message", "thread_id": target, "text": "hi"})
                )
                error = await recv(ws)
                assert error["type"] == "error"
                assert error["error"] == "thread not found"
            # Still usable afterwards.
            _, mine = await converse(ws, "my own question")
            assert mine["thread_id"] != thread_id
        # Nothing of bob's reached alice's thread.
        messages = live.runtime.store.list_messages(thread_id, alice_id)
        assert [m["content"] for m in messages if m["role"] == "user"] == ["my secret plans"]

    asyncio.run(go())


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("{not json", "malformed JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"type": "subscribe", "thread_id": "x"}), "unknown message type"),
        (json.dumps({"type": "user_message"}), "missing field 'text'"),
        (json.dumps({"type": "user_message", "text": "x" * (100 * 1024)}), "message too large"),
        (b"\xff\xfe binary garbage", "malformed JSON"),
        (json.dumps({"type": "user_message", "text": "hi", "agent_name": "evil"}), "unknown agent"),
    ],
)
def test_bad_frames_get_an_error_event_and_the_connection_stays_usable(
    live: LiveServer, frame: str | bytes, error: str
) -> None:
    _, token = user(live)

    async def go() -> None:
        async with websockets.connect(f"{live.ws_url}?token={token}") as ws:
            await ws.send(frame)
            reply = await recv(ws)
            assert reply["type"] == "error"
            assert error in reply["error"]
            _, answer = await converse(ws, "still there?")
            assert answer["success"] is True

    asyncio.run(go())


def test_concurrent_users_each_get_only_their_own_events(live: LiveServer) -> None:
    users = [user(live) for _ in range(4)]

    async def one(user_id: str, token: str) -> None:
        async with websockets.connect(f"{live.ws_url}?token={token}") as ws:
            for turn in range(2):
                events, answer = await converse(ws, f"status for {user_id} turn {turn}")
                assert {e["user_id"] for e in events} == {user_id}
                assert {e["run_id"] for e in events} == {answer["run_id"]}
                assert user_id in answer["response"]

    async def go() -> None:
        await asyncio.gather(*(one(u, t) for u, t in users))

    asyncio.run(go())
