"""Load on the real staging server: many WebSocket users at once, per migration state.

    .venv/bin/python benchmarks/staging_load.py [--users 200] [--messages 5]
        [--states ssot,deprecated] [--llm-latency 0] [--deadline 180]

The server is started the way the matrix starts it (`migmatrix.service.start_service`,
free loopback port, log kept) and restarted over the same database for each
migration state (`RunningService.restart`, as a rollback in staging does). Every
user logs in through /auth/login, opens its own WebSocket and sends its messages one
after another to `supervisor_agent` (the agent whose runs emit all five event
types). A user keeps listening until every user is done, so events delivered to
the wrong user are seen.

Per state it prints the latency (send -> agent_response) percentiles, throughput,
and the delivery check: for every run, were its events all delivered to its own
user (and to no one else)? On ssot nothing may be lost or misrouted (exit 1
otherwise); on deprecated the misrouting that the reproduction tests expect shows.

Bounded: users are capped by `ulimit -n`, every receive has a timeout, and a global
deadline stops the whole run. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from migmatrix.model import EnvSpec, ServiceSpec
from migmatrix.service import RunningService, start_service

FIVE = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
NAME = re.compile(r"load\d{4}")  # the load users' names, quoted back in answers
PASSWORD = "load-password"  # throwaway accounts in a temporary database


@dataclasses.dataclass
class UserLog:
    name: str
    user_id: str = ""
    latencies: list[float] = dataclasses.field(default_factory=list)
    runs: list[str] = dataclasses.field(default_factory=list)
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Outcome:
    state: str
    users: int
    messages: int
    answered: int
    wall: float
    latencies: list[float]
    events: int
    misrouted: int  # events provably received by the wrong user (a lower bound)
    lost_runs: int  # runs whose owner did not receive exactly its events (see run_is_exact)
    victims: int  # users who received at least one event of someone else's run
    errors: list[str]


def user_cap(wanted: int) -> int:
    """At most what the open-file limit leaves room for (one socket per user, plus slack)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, min(wanted, soft - 64))


def server_env(latency: float) -> EnvSpec:
    command = (
        "python", "-m", "netra_backend.server", "--port", "{port}",
        "--db", "{workdir}/load.db", "--log-level", "warning",
        "--llm-latency", str(latency), "--drain-timeout", "10",
    )  # fmt: skip
    return EnvSpec(
        name="staging",
        service=ServiceSpec(
            command=command,
            health="http://{host}:{port}/health",
            env=(("NETRA_JWT_SECRET", "{secret}"),),
            startup_timeout=60,
        ),
    )


async def login_all(url: str, logs: list[UserLog]) -> dict[str, str]:
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def login(log: UserLog) -> tuple[str, str]:
            response = await client.post(
                "/auth/login", json={"username": log.name, "password": PASSWORD}
            )
            response.raise_for_status()
            body = response.json()
            log.user_id = body["user_id"]
            return log.name, body["access_token"]

        return dict(await asyncio.gather(*(login(log) for log in logs)))


async def one_user(
    ws_url: str, token: str, log: UserLog, messages: int, all_sent: asyncio.Event, done: list[int]
) -> None:
    async with websockets.connect(f"{ws_url}?token={token}", open_timeout=30) as ws:

        async def receive_until_answer() -> dict[str, Any]:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] in ("agent_response", "error"):
                    return dict(message)
                log.events.append(message)

        thread_id = None
        for turn in range(messages):
            text = f"system status for {log.name}, message {turn}"
            frame = {"type": "user_message", "thread_id": thread_id, "text": text,
                     "agent_name": "supervisor_agent"}  # fmt: skip
            started = time.perf_counter()
            await ws.send(json.dumps(frame))
            answer = await receive_until_answer()
            if answer["type"] == "error":
                log.errors.append(str(answer["error"]))
                continue
            log.latencies.append(time.perf_counter() - started)
            log.runs.append(answer["run_id"])
            thread_id = answer["thread_id"]
            if not answer.get("success") or log.name not in answer.get("response", ""):
                log.errors.append(f"bad answer for {log.name}: {answer.get('error')}")
        done[0] += 1
        if done[0] == done[1]:
            all_sent.set()
        # Keep listening until everyone is done: late events for others land here too.
        await all_sent.wait()
        while True:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 0.3))
            except asyncio.TimeoutError:
                break
            log.events.append(message)


def run_is_exact(types: list[str]) -> bool:
    """One run's events as its owner must see them: one start, one end, all five types."""
    count = collections.Counter(types)
    return (
        set(count) == set(FIVE)
        and count["agent_started"] == count["agent_completed"] == 1
        and count["tool_executing"] == count["tool_completed"]
    )


def check(state: str, logs: list[UserLog], messages: int, wall: float) -> Outcome:
    """Who got what: an event is misrouted if its run, or the text it carries, is not the
    receiver's. (The deprecated emitter relabels an event with the "current run", so a
    misrouted event may carry the receiver's run id but another user's words.)"""
    owner = {run: log.name for log in logs for run in log.runs}
    misrouted = 0
    victims: set[str] = set()
    types: dict[str, list[str]] = collections.defaultdict(list)
    for log in logs:
        foreign = 0
        for event in log.events:
            mentioned = set(NAME.findall(json.dumps(event.get("payload", ""))))
            if owner.get(event.get("run_id", "")) != log.name or mentioned - {log.name}:
                foreign += 1
            else:
                types[event["run_id"]].append(event["type"])
        misrouted += foreign
        if foreign:
            victims.add(log.name)
    incomplete = sum(1 for run in owner if not run_is_exact(types.get(run, [])))
    # A relabeled event is only provably foreign as a surplus: a second start or end.
    for run in owner:
        count = collections.Counter(types.get(run, []))
        surplus = max(0, count["agent_started"] - 1) + max(0, count["agent_completed"] - 1)
        misrouted += surplus
        if surplus:
            victims.add(owner[run])
    return Outcome(
        state=state,
        users=len(logs),
        messages=len(logs) * messages,
        answered=sum(len(log.runs) for log in logs),
        wall=wall,
        latencies=[t for log in logs for t in log.latencies],
        events=sum(len(log.events) for log in logs),
        misrouted=misrouted,
        lost_runs=incomplete,
        victims=len(victims),
        errors=[e for log in logs for e in log.errors],
    )


async def load(service: RunningService, names: list[str], messages: int, state: str) -> Outcome:
    logs = [UserLog(name) for name in names]
    tokens = await login_all(service.url, logs)
    ws_url = service.url.replace("http://", "ws://") + "/ws"
    all_sent = asyncio.Event()
    done = [0, len(logs)]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(one_user(ws_url, tokens[log.name], log, messages, all_sent, done) for log in logs),
        return_exceptions=True,
    )
    wall = time.perf_counter() - started
    outcome = check(state, logs, messages, wall)
    failures = [r for r in results if isinstance(r, BaseException)]
    outcome.errors.extend(f"{type(r).__name__}: {r}" for r in failures)
    return outcome


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(outcome: Outcome) -> None:
    ms = [t * 1000 for t in outcome.latencies]
    print(f"\n== NETRA_MIGRATION={outcome.state}: {outcome.users} users x "
          f"{outcome.messages // max(outcome.users, 1)} messages")  # fmt: skip
    print(f"answered     {outcome.answered}/{outcome.messages} in {outcome.wall:.2f} s")
    print(f"throughput   {outcome.answered / outcome.wall:.1f} messages/s, "
          f"{outcome.events / outcome.wall:.1f} events/s")  # fmt: skip
    print(f"latency ms   p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
          f"p99 {percentile(ms, 99):.1f}  max {max(ms, default=float('nan')):.1f}")  # fmt: skip
    print(f"events       {outcome.events} received, >= {outcome.misrouted} to the wrong user "
          f"({outcome.victims} users got someone else's), {outcome.lost_runs} runs not "
          f"delivered exactly to their owner")  # fmt: skip
    if outcome.errors:
        print(f"errors       {len(outcome.errors)}, e.g. {outcome.errors[:3]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--states", default="ssot,deprecated")
    parser.add_argument("--llm-latency", type=float, default=0.0)
    parser.add_argument("--deadline", type=float, default=180.0, help="global bound, s")
    args = parser.parse_args(argv)
    users = user_cap(args.users)
    if users < args.users:
        print(f"ulimit -n allows {users} users, not {args.users}")
    states = [s.strip() for s in args.states.split(",") if s.strip()]

    from netra_backend.server.users import UserStore

    with tempfile.TemporaryDirectory(prefix="staging-load-") as tmp:
        workdir = Path(tmp)
        names = [f"load{i:04d}" for i in range(users)]
        store = UserStore(str(workdir / "load.db"))
        for name in names:
            # A cheap KDF cost for throwaway accounts, so setup does not dominate.
            store.create_user(name, PASSWORD, cost=2**4)
        env = server_env(args.llm_latency)
        deadline = time.monotonic() + args.deadline
        outcomes: list[Outcome] = []
        service = None
        try:
            for index, state in enumerate(states):
                if service is None:
                    service = start_service(
                        env, workdir=workdir, log_dir=workdir, environ=_environ(state)
                    )
                else:
                    service.restart({"NETRA_MIGRATION": state})
                assert index == 0 or service is not None
                left = deadline - time.monotonic()
                if left <= 0:
                    print(f"deadline reached before {state}")
                    return 1
                try:
                    outcome = asyncio.run(
                        asyncio.wait_for(load(service, names, args.messages, state), left)
                    )
                except asyncio.TimeoutError:
                    print(f"deadline of {args.deadline:g}s reached during {state}; stopping")
                    print(service.log_excerpt(20))
                    return 1
                report(outcome)
                outcomes.append(outcome)
        finally:
            if service is not None:
                service.stop()
    return verdict(outcomes)


def _environ(state: str) -> dict[str, str]:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("NETRA_")}
    environ["NETRA_MIGRATION"] = state
    return environ


def verdict(outcomes: list[Outcome]) -> int:
    print()
    status = 0
    for outcome in outcomes:
        clean = (
            outcome.misrouted == 0
            and outcome.lost_runs == 0
            and not outcome.errors
            and outcome.answered == outcome.messages
        )
        if outcome.state == "ssot":
            word = "OK: every user got exactly its own runs" if clean else "FAILED"
            status |= 0 if clean else 1
        elif outcome.misrouted:
            word = (
                f"misrouting reproduced: >= {outcome.misrouted} events to the wrong user, "
                f"{outcome.lost_runs}/{outcome.answered} runs incomplete for their owner"
            )
        else:
            word = "no misrouting seen" + ("" if clean else " (but errors or losses)")
        print(f"{outcome.state:>12}: {word}")
    if len(outcomes) > 1 and outcomes[0].latencies and outcomes[1].latencies:
        a, b = outcomes[0], outcomes[1]
        ratio = percentile(b.latencies, 50) / percentile(a.latencies, 50)
        print(f"p50 latency {b.state}/{a.state}: {ratio:.2f}x")
    return status


if __name__ == "__main__":
    sys.exit(main())
