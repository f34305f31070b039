"""AgentExecutionContext and AgentExecutionResult: the seed's constructors."""

from __future__ import annotations

from netra_backend.app.agents.supervisor.execution_context import (
    AgentExecutionContext,
    AgentExecutionResult,
)


def test_the_seed_keywords_build_a_context() -> None:
    ctx = AgentExecutionContext(
        agent_name="triage_agent",
        user_id="user1",
        thread_id="thread1",
        run_id="run1",
        user_input="What is the weather like today?",
        metadata={"test_case": "golden_path_protection"},
    )
    assert ctx.metadata["test_case"] == "golden_path_protection"
    assert AgentExecutionContext("a", "u", "t", "r").metadata == {}


def test_result_response_reads_the_answer_or_nothing() -> None:
    ok = AgentExecutionResult(success=True, agent_name="a", data={"response": "hello"})
    failed = AgentExecutionResult(success=False, agent_name="a", error="boom")
    assert ok.response == "hello"
    assert failed.response == ""
    assert failed.execution_time == 0.0
