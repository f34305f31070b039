"""netra_backend speed, side by side: engine creation and agent throughput on both engines.

Run: .venv/bin/python benchmarks/backend_speed.py [--quick]

Prints figures only; asserts nothing. The reference points: the real system's
`create_from_legacy` cost 41 ms per engine (and was removed for it), so the
ratio printed is ours / 41 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from netra_backend.app.agents.registry import get_agent_registry
from netra_backend.app.agents.supervisor.execution_context import AgentExecutionContext
from netra_backend.app.agents.supervisor.user_execution_engine import UserExecutionEngine
from netra_backend.app.core.migration import use_migration
from netra_backend.app.core.reset import reset_process_state
from netra_backend.app.services.user_execution_context import UserExecutionContext
from netra_backend.app.websocket_core.bridge import AgentWebSocketBridge
from netra_backend.app.websocket_core.manager import RecordingConnection, WebSocketConnectionManager

REAL_SYSTEM_MS = 41.0


def _context(i: int) -> UserExecutionContext:
    return UserExecutionContext(
        user_id=f"bench_user_{i}", thread_id=f"thread_{i}", run_id=f"run_{i}"
    )


async def _measure_creation(count: int) -> list[float]:
    registry = get_agent_registry()
    bridge = AgentWebSocketBridge()
    contexts = [_context(i) for i in range(count)]
    per_engine = []
    for ctx in contexts:
        started = time.perf_counter()
        await UserExecutionEngine.create_from_legacy(registry, bridge, ctx)
        per_engine.append(time.perf_counter() - started)
    return per_engine


def _engine_maker(
    kind: str, registry: Any, bridge: Any
) -> Callable[[UserExecutionContext], Awaitable[Any]]:
    async def make(ctx: UserExecutionContext) -> Any:
        if kind == "UserExecutionEngine (ssot)":
            return await UserExecutionEngine.create_from_legacy(registry, bridge, ctx)
        from netra_backend.app.legacy.engines import ExecutionEngine

        return ExecutionEngine(registry, bridge, ctx)

    return make


async def _throughput(kind: str, state: str, users: int, runs_per_user: int) -> float:
    reset_process_state()
    manager = WebSocketConnectionManager()
    bridge = AgentWebSocketBridge(manager)
    make = _engine_maker(kind, get_agent_registry(), bridge)
    with use_migration(state):
        contexts = [_context(i) for i in range(users)]
        for ctx in contexts:
            manager.connect(ctx.user_id, RecordingConnection())
        engines = [await make(ctx) for ctx in contexts]

        async def session(engine: Any, ctx: UserExecutionContext) -> None:
            for n in range(runs_per_user):
                # Distinct inputs: measure running agents, not the response cache.
                request = AgentExecutionContext(
                    agent_name="supervisor_agent",
                    user_id=ctx.user_id,
                    thread_id=ctx.thread_id,
                    run_id=f"{ctx.run_id}_{n}",
                    user_input=f"Analyze the system status, request {n} from {ctx.user_id}",
                )
                result = await engine.execute_agent(request, ctx)
                if not result.success:
                    msg = f"benchmark run failed: {result.error}"
                    raise RuntimeError(msg)

        started = time.perf_counter()
        await asyncio.gather(*(session(e, c) for e, c in zip(engines, contexts, strict=False)))
        elapsed = time.perf_counter() - started
    reset_process_state()
    return users * runs_per_user / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args(argv)
    creations = 500 if args.quick else 5000
    single_runs = 200 if args.quick else 2000
    per_user = 4 if args.quick else 40

    costs = asyncio.run(_measure_creation(creations))
    mean_ms = statistics.fmean(costs) * 1000
    median_ms = statistics.median(costs) * 1000
    p95_ms = sorted(costs)[int(len(costs) * 0.95)] * 1000
    max_ms = max(costs) * 1000
    out = sys.stdout
    out.write(f"Python {sys.version.split()[0]}\n\n")
    out.write(f"create_from_legacy, {creations} engines:\n")
    out.write(
        f"  mean {mean_ms:.4f} ms per engine, median {median_ms:.4f}, p95 {p95_ms:.4f}, "
        f"max {max_ms:.3f} ms (target < 1 ms)\n"
    )
    out.write(
        f"  ratio to the real system's {REAL_SYSTEM_MS:.0f} ms: {mean_ms / REAL_SYSTEM_MS:.5f} "
        f"({REAL_SYSTEM_MS / mean_ms:,.0f}x faster)\n\n"
    )

    out.write("execute_agent throughput (supervisor_agent: 1 tool call, 6 events per run):\n")
    rows = [
        ("ExecutionEngine (legacy)", "deprecated"),
        ("UserExecutionEngine (ssot)", "ssot"),
    ]
    figures: dict[tuple[str, int], float] = {}
    for kind, state in rows:
        for users, runs in ((1, single_runs), (50, per_user)):
            rate = asyncio.run(_throughput(kind, state, users, runs))
            figures[(kind, users)] = rate
            out.write(f"  {kind:28} state={state:10} users={users:3}  {rate:9,.0f} runs/s\n")
    for users in (1, 50):
        ratio = figures[(rows[1][0], users)] / figures[(rows[0][0], users)]
        out.write(f"  ssot / legacy throughput, {users} user(s): {ratio:.2f}x\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
