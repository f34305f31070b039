"""The netra_backend server: an ASGI app (Starlette) served by uvicorn.

`create_app(ServerConfig(...))` builds the app (for tests, in process);
`python -m netra_backend.server` serves it (see `cli`). Routes: POST /auth/login,
GET /health, POST /threads, GET /threads/{id}/messages, WebSocket /ws.
"""

from __future__ import annotations

from netra_backend.server.config import ServerConfig

__all__ = ["ServerConfig"]
