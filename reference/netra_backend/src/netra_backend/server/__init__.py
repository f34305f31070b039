"""The netra_backend server: an ASGI app (Starlette) served by uvicorn.

`netra_backend.server.app.create_app(ServerConfig(...))` builds the app (for tests,
in process); `python -m netra_backend.server` serves it (see `cli`). Routes: POST
/auth/login, GET /health, POST /threads, GET /threads/{id}/messages, WebSocket /ws.

Nothing is imported here: the migration module reads NETRA_MIGRATION when it is
imported, and `__main__` must be the one to turn a bad value into a plain message.
"""
