"""What one agent run is asked to do, and what it produced."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class AgentExecutionContext:
    """One request to run an agent for a user: the seed's constructor, keyword-compatible."""

    agent_name: str
    user_id: str
    thread_id: str
    run_id: str
    user_input: str = ""
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class AgentExecutionResult:
    """The outcome of one run; `data["response"]` holds the answer text on success."""

    success: bool
    agent_name: str
    data: dict[str, Any] | None = None
    error: str | None = None
    execution_time: float = 0.0
    run_id: str | None = None
    user_id: str | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def response(self) -> str:
        """The answer text, or "" when the run failed."""
        if not self.data:
            return ""
        return str(self.data.get("response", ""))
