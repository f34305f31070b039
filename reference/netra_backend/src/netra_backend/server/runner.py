"""Serving the app with uvicorn, with a shutdown that lets runs in flight finish.

uvicorn on its own closes every WebSocket (code 1012) as soon as it is told to stop,
which would cut a user off between an agent's events and its answer. So the first
SIGTERM or SIGINT here only starts draining: new runs are refused, `/health` says
"draining", and uvicorn's own shutdown begins once the runs in flight are done or
`drain_timeout` has passed. A second signal stops at once. The exit status is 0
(uvicorn would re-raise the signal after a graceful stop, which reads as a crash).
"""

from __future__ import annotations

import logging
import re
import time
from types import FrameType

import uvicorn

from netra_backend.server.app import Runtime, create_app
from netra_backend.server.config import ServerConfig

# Frames over our own limit get an error event; this larger bound is uvicorn's, past
# which it closes the connection (1009) rather than buffer an arbitrarily big frame.
WS_MAX_FRAME = 4 * 1024 * 1024


_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Blank `token=...` in log lines: uvicorn logs WebSocket paths with their query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_URL.sub(r"\1[redacted]", record.msg)
        return True


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first exit signal drains the runtime before stopping."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime
        self.drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain_deadline is None:
            self.drain_deadline = time.monotonic() + self.runtime.config.drain_timeout
            self.runtime.draining = True
        elif not self.should_exit:
            self.should_exit = True
        else:
            self.force_exit = True

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        if self.drain_deadline is None:
            return False
        return self.runtime.in_flight() == 0 or time.monotonic() >= self.drain_deadline


def serve(config: ServerConfig, *, host: str, port: int, log_level: str = "info") -> int:
    """Run the server until a signal stops it; returns the exit status."""
    runtime = Runtime(config)
    app = create_app(config, runtime)
    uv_config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ws_max_size=WS_MAX_FRAME,
        lifespan="on",
        timeout_graceful_shutdown=max(1, int(config.drain_timeout)),
        server_header=False,
    )
    server = DrainingServer(uv_config, runtime)
    redact = RedactTokens()
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(redact)
    server.run()
    return 0 if server.started else 1
