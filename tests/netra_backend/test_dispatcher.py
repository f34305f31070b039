"""The tool dispatcher and its two tools."""

from __future__ import annotations

from typing import Any

import pytest

from netra_backend.app.tools.dispatcher import ToolDispatcher, UnknownToolError


async def test_the_built_in_tools_run_by_name() -> None:
    tools = ToolDispatcher()
    assert tools.names() == ["data_lookup", "system_status"]
    status = await tools.execute("system_status", {}, user_id="user1")
    assert status["status"] == "healthy"
    found = await tools.execute("data_lookup", {"query": "q3 revenue"}, user_id="user1")
    assert found["workspace"] == "user1"
    assert found["count"] == len(found["records"]) >= 1
    assert found == await tools.execute("data_lookup", {"query": "q3 revenue"}, user_id="user1")


async def test_unknown_tools_name_the_available_ones() -> None:
    with pytest.raises(UnknownToolError, match=r"'nope'.*data_lookup, system_status"):
        await ToolDispatcher().execute("nope", {}, user_id="user1")


async def test_tools_can_be_registered() -> None:
    async def echo(parameters: Any, user_id: str) -> dict[str, Any]:
        return {"echo": dict(parameters), "user": user_id}

    tools = ToolDispatcher({})
    tools.register("echo", echo)
    assert await tools.execute("echo", {"x": 1}, user_id="u9") == {"echo": {"x": 1}, "user": "u9"}
