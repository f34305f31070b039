"""The offline LLM client: relevant, deterministic, quoting the prompt."""

from __future__ import annotations

import pytest

from netra_backend.app.llm.client import LLMClient, OfflineLLMClient, detect_topic


@pytest.mark.parametrize(
    ("prompt", "topic"),
    [
        ("What is the weather like today?", "weather"),
        ("Perform system health check in staging", "system status"),
        ("Why is my billing so high?", "cost"),
        ("Look up the records for Q3", "data"),
        ("Test WebSocket event delivery", "websocket events"),
        ("Hello there", "general"),
    ],
)
async def test_answers_are_about_the_prompt_and_quote_it(prompt: str, topic: str) -> None:
    client = OfflineLLMClient()
    assert detect_topic(prompt) == topic
    answer = await client.complete(prompt)
    assert f'"{prompt}"' in answer
    if topic != "general":
        assert topic in answer.lower()
    assert answer == await client.complete(prompt), "deterministic"
    assert client.calls == 2


async def test_system_lines_add_history_and_facts() -> None:
    answer = await OfflineLLMClient().complete(
        "and tomorrow?", system="Role: x\nEarlier topic: weather\nFact: 3 records found."
    )
    assert "Continuing our conversation about weather." in answer
    assert "3 records found." in answer


def test_the_offline_client_satisfies_the_protocol() -> None:
    assert isinstance(OfflineLLMClient(), LLMClient)
