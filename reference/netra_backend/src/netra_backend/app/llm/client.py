"""The LLM interface and the offline client used by default.

`OfflineLLMClient` answers deterministically and without a network: it finds
the topic of the prompt by keywords and writes an answer about that topic that
quotes the prompt back. Quoting the user's own words is what makes isolation
observable: an answer that quotes another user's words is contamination.
A real provider implements the same one-method protocol.
"""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable


@runtime_checkable
class LLMClient(Protocol):
    async def complete(self, prompt: str, *, system: str = "", user_id: str | None = None) -> str:
        """Answer `prompt`; `system` carries the agent's role and any context lines."""
        ...


# (topic, keywords, what an answer about it says). First match wins, so order
# from specific to general.
_TOPICS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "weather",
        ("weather", "rain", "sunny", "forecast", "temperature", "snow"),
        "For the weather: today's forecast is mild and mostly sunny, around 21°C, "
        "with a light breeze and a low chance of rain this evening.",
    ),
    (
        "system status",
        ("status", "health", "system", "uptime", "outage"),
        "On system status: all services report healthy, the API and the agent "
        "workers are up, and no incidents are open.",
    ),
    (
        "cost",
        ("cost", "spend", "billing", "invoice", "price", "budget"),
        "On cost: spend is tracked per workload; the largest savings usually come "
        "from right-sizing models and caching repeated prompts per user.",
    ),
    (
        "performance",
        ("latency", "performance", "slow", "throughput", "optimi"),
        "On performance: latency is dominated by model calls; batching and "
        "streaming partial answers keep the perceived response time low.",
    ),
    (
        "data",
        ("data", "record", "dataset", "table", "query", "lookup", "analy"),
        "On the data: the lookup returned the matching records, summarised below; "
        "each figure is scoped to your own workspace.",
    ),
    (
        "websocket events",
        ("websocket", "event"),
        "On WebSocket events: each run streams agent_started, agent_thinking, "
        "tool events and agent_completed to your connections only.",
    ),
)

_GENERAL = "Here is a general answer: the request was understood and handled by the agent."


def detect_topic(text: str) -> str:
    """The first topic whose keyword appears in `text`, else "general"."""
    lowered = text.lower()
    for topic, keywords, _ in _TOPICS:
        if any(word in lowered for word in keywords):
            return topic
    return "general"


def _topic_sentence(topic: str) -> str:
    for name, _, sentence in _TOPICS:
        if name == topic:
            return sentence
    return _GENERAL


class OfflineLLMClient:
    """A deterministic stand-in for a model: relevant to the prompt, quoting it."""

    def __init__(self, *, max_quote: int = 400) -> None:
        self.max_quote = max_quote
        self.calls = 0

    async def complete(self, prompt: str, *, system: str = "", user_id: str | None = None) -> str:
        self.calls += 1
        question = " ".join(prompt.split())[: self.max_quote]
        topic = detect_topic(question)
        parts = [f'You asked: "{question}".', _topic_sentence(topic)]
        earlier = re.search(r"^Earlier topic: (.+)$", system, flags=re.MULTILINE)
        if earlier:
            parts.append(f"Continuing our conversation about {earlier.group(1).strip()}.")
        facts = re.findall(r"^Fact: (.+)$", system, flags=re.MULTILINE)
        parts.extend(facts)
        return " ".join(parts)
