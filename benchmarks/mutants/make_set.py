# ruff: noqa: E501 - a table of source snippets, kept one mutant per entry
"""Writes the hand-made mutant set: one `NN_name.patch` per mutant and `manifest.json`.

Each mutant is a fault a developer could make while migrating netra_backend, given as
(file, old text, new text): the patch is made from it, so a patch that no longer
applies shows here as a missing `old` text. `kind` is one of
- `ssot`: a fault in the new code (engine, emitter, factory, store, rollback path),
- `legacy-fixed`: legacy code "accidentally fixed" (the matrix must show an
  unexpected-pass where the bug was expected),
- `partial`: a fault that shows only in some partial states.
`breaks` names, as features, the states the fault changes: every state having all of
`requires` and none of `unless` (empty: every state). `equivalent` marks a mutant no
test can tell from the original, with the reason.

    python benchmarks/mutants/make_set.py      # rewrite the patches and the manifest
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP = "reference/netra_backend/src/netra_backend/app"

MUTANTS: list[dict[str, object]] = [
    # ---- SSOT: emitter
    {
        "name": "emitter_registers_no_run",
        "kind": "ssot",
        "file": f"{APP}/websocket_core/emitter.py",
        "old": "            register(run_id, self.user_id)",
        "new": "            pass",
        "requires": ["user-emitter"],
        "what": "the emitter no longer tells the bridge whose run it is",
    },
    {
        "name": "emitter_loses_tool_result",
        "kind": "ssot",
        "file": f"{APP}/websocket_core/emitter.py",
        "old": "await self.target.notify_tool_completed(run_id, agent_name, tool_name, result)",
        "new": "await self.target.notify_tool_completed(run_id, agent_name, tool_name, {})",
        "requires": ["user-emitter"],
        "what": "tool_completed carries no result",
    },
    {
        "name": "emitter_direct_wrong_user",
        "kind": "ssot",
        "file": f"{APP}/websocket_core/emitter.py",
        "old": "        await self.target.send_to_user(self.user_id, message)",
        "new": "        await self.target.send_to_user(next(iter(getattr(self.target, '_connections', {self.user_id: 0}))), message)",
        "requires": ["user-emitter"],
        "what": "direct sends go to the first connected user",
    },
    {
        "name": "emitter_drops_thinking",
        "kind": "ssot",
        "file": f"{APP}/websocket_core/emitter.py",
        "old": "        await self.target.notify_agent_thinking(run_id, agent_name, reasoning, step_number)",
        "new": "        return None",
        "requires": ["user-emitter"],
        "what": "agent_thinking events are lost on a bridge",
    },
    # ---- SSOT: engine
    {
        "name": "engine_events_wrong_run_id",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/run_core.py",
        "old": "            return self._own_sink(), self.ctx.run_id",
        "new": "            return self._own_sink(), self.ctx.thread_id",
        "requires": ["user-emitter"],
        "what": "per-user events labelled with the thread id",
    },
    {
        "name": "engine_accepts_other_user",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/user_execution_engine.py",
        "old": "        if agent_context.user_id != self.context.user_id:",
        "new": "        if False:",
        "requires": [],
        "what": "an engine runs requests of another user",
    },
    {
        "name": "engine_runs_after_cleanup",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/user_execution_engine.py",
        "old": "        self._closed = True\n",
        "new": "        self._closed = False\n",
        "requires": [],
        "what": "cleanup() leaves the engine usable",
    },
    {
        "name": "engine_stats_no_user",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/user_execution_engine.py",
        "old": '        stats["user_id"] = self.context.user_id',
        "new": '        stats["user_id"] = None',
        "requires": [],
        "what": "get_execution_stats() does not say whose engine it is",
    },
    {
        "name": "engine_cache_key_without_user",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/run_core.py",
        "old": "    return (ctx.user_id, ctx.thread_id, ctx.agent_name, ctx.user_input, meta)",
        "new": "    return (ctx.thread_id, ctx.agent_name, ctx.user_input, meta)",
        "requires": ["isolated-state"],
        "equivalent": "the per-engine cache only ever holds one user's runs (an engine refuses other users)",
        "what": "the isolated cache key forgets the user",
    },
    {
        "name": "engine_timeout_is_success",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/run_core.py",
        "old": '        summary = {"success": result.success,',
        "new": '        summary = {"success": True,',
        "requires": [],
        "what": "agent_completed says success for a failed run",
    },
    # ---- SSOT: factory
    {
        "name": "factory_limit_off_by_one",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/execution_engine_factory.py",
        "old": "        if len(live) >= self.max_engines_per_user:",
        "new": "        if len(live) > self.max_engines_per_user:",
        "requires": [],
        "what": "one engine more than the per-user limit",
    },
    {
        "name": "factory_release_keeps_engine",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/execution_engine_factory.py",
        "old": "            live.remove(engine)",
        "new": "            pass",
        "requires": [],
        "what": "release() does not free the slot",
    },
    {
        "name": "factory_functions_legacy_when_migrated",
        "kind": "ssot",
        "file": f"{APP}/agents/supervisor/execution_engine_factory.py",
        "old": '    if current_migration().is_migrated("factory"):\n        return UserExecutionEngine.build_from_legacy(registry, websocket_bridge, user_context)\n    return _legacy_engines().ConsolidatedExecutionEngine',
        "new": "    if False:\n        return UserExecutionEngine.build_from_legacy(registry, websocket_bridge, user_context)\n    return _legacy_engines().ConsolidatedExecutionEngine",
        "requires": ["ssot-factory"],
        "what": "get_execution_engine stays legacy after the factory migration",
    },
    # ---- SSOT: store
    {
        "name": "store_get_thread_any_user",
        "kind": "ssot",
        "file": f"{APP}/db/store.py",
        "old": '            "WHERE thread_id = ? AND user_id = ?",\n            (thread_id, user_id),\n        )\n        if not rows:',
        "new": '            "WHERE thread_id = ? AND ? IS NOT NULL",\n            (thread_id, user_id),\n        )\n        if not rows:',
        "requires": [],
        "what": "a thread is readable by any user",
    },
    {
        "name": "store_run_upsert_keeps_status",
        "kind": "ssot",
        "file": f"{APP}/db/store.py",
        "old": "DO UPDATE SET status = excluded.status, ",
        "new": "DO UPDATE SET status = runs.status, ",
        "requires": [],
        "what": "a run's status never changes after its first record",
    },
    # ---- SSOT: rollback path
    {
        "name": "rollback_switch_does_nothing",
        "kind": "ssot",
        "file": f"{APP}/core/migration.py",
        "old": "    holder.state = _coerce(state)\n    return previous",
        "new": "    _coerce(state)\n    return previous",
        "requires": [],
        "what": "switch_migration() reports a switch but keeps the state",
    },
    {
        "name": "rollback_switch_only_process_default",
        "kind": "ssot",
        "file": f"{APP}/core/migration.py",
        "old": "    holder = _context.get() or _process_default",
        "new": "    holder = _process_default",
        "requires": [],
        "what": "switch_migration() ignores the use_migration block in effect",
    },
    # ---- legacy "accidentally fixed"
    {
        "name": "legacy_routing_fixed",
        "kind": "legacy-fixed",
        "file": f"{APP}/legacy/routing.py",
        "old": "        return current_run() or self.own",
        "new": "        return self.own",
        "requires": [],
        "unless": ["user-emitter"],
        "what": "the deprecated router sends each run's events to its own user",
    },
    {
        "name": "legacy_cache_key_fixed",
        "kind": "legacy-fixed",
        "file": f"{APP}/agents/supervisor/run_core.py",
        "old": "        return (ctx.agent_name, ctx.user_input)",
        "new": "        return (ctx.user_id, ctx.agent_name, ctx.user_input)",
        "requires": [],
        "unless": ["isolated-state"],
        "what": "the shared cache is keyed by user: results no longer leak",
    },
    {
        "name": "legacy_paths_one_class",
        "kind": "legacy-fixed",
        "file": f"{APP}/agents/supervisor/engine_resolution.py",
        "old": "    cls: type[Any] = getattr(legacy, legacy_class_name)",
        "new": '    cls: type[Any] = getattr(legacy, "ExecutionEngine")',
        "requires": [],
        "unless": ["ssot-engine"],
        "what": "every legacy import path gives the same legacy class",
    },
    {
        "name": "legacy_factories_one_type",
        "kind": "legacy-fixed",
        "file": f"{APP}/agents/supervisor/execution_engine_factory.py",
        "old": "    return _legacy_engines().ConsolidatedExecutionEngine(registry, websocket_bridge, user_context)",
        "new": "    return _legacy_engines().ExecutionEngine(registry, websocket_bridge, user_context)",
        "requires": [],
        "unless": ["ssot-factory"],
        "what": "both legacy factory functions return the same legacy type",
    },
    # ---- partial-state only
    {
        "name": "partial_state_needs_emitter",
        "kind": "partial",
        "file": f"{APP}/agents/supervisor/run_core.py",
        "old": '    if current_migration().is_migrated("state"):\n        return own',
        "new": '    if current_migration().is_migrated("state") and current_migration().is_migrated("emitter"):\n        return own',
        "requires": ["isolated-state"],
        "unless": ["user-emitter"],
        "what": "isolated state only takes effect once the emitter is migrated too",
    },
    {
        "name": "partial_emitter_needs_engine",
        "kind": "partial",
        "file": f"{APP}/agents/supervisor/run_core.py",
        "old": '        if current_migration().is_migrated("emitter"):\n            return self._own_sink(), self.ctx.run_id',
        "new": '        if current_migration().is_migrated("emitter") and current_migration().is_migrated("engine"):\n            return self._own_sink(), self.ctx.run_id',
        "requires": ["user-emitter"],
        "unless": ["ssot-engine"],
        "what": "the per-user emitter is used only once the engine is migrated too",
    },
    {
        "name": "partial_engine_needs_factory",
        "kind": "partial",
        "file": f"{APP}/agents/supervisor/engine_resolution.py",
        "old": '    if current_migration().is_migrated("engine"):',
        "new": '    if current_migration().is_migrated("engine") and current_migration().is_migrated("factory"):',
        "requires": ["ssot-engine"],
        "unless": ["ssot-factory"],
        "what": "the legacy import paths resolve to UserExecutionEngine only with the factory migrated",
    },
]


def main() -> None:
    for old in HERE.glob("*.patch"):
        old.unlink()
    manifest = []
    for index, mutant in enumerate(MUTANTS, 1):
        path = ROOT / str(mutant["file"])
        source = path.read_text()
        old, new = str(mutant["old"]), str(mutant["new"])
        if source.count(old) != 1:
            msg = f"{mutant['name']}: the old text occurs {source.count(old)} times in {path}"
            raise SystemExit(msg)
        mutated = source.replace(old, new)
        patch = "".join(
            difflib.unified_diff(
                source.splitlines(keepends=True),
                mutated.splitlines(keepends=True),
                fromfile=f"a/{mutant['file']}",
                tofile=f"b/{mutant['file']}",
            )
        )
        name = f"{index:02d}_{mutant['name']}.patch"
        (HERE / name).write_text(patch)
        entry = {
            "patch": name,
            "kind": mutant["kind"],
            "file": mutant["file"],
            "what": mutant["what"],
            "breaks": {"requires": mutant.get("requires", []), "unless": mutant.get("unless", [])},
        }
        if "equivalent" in mutant:
            entry["equivalent"] = mutant["equivalent"]
        manifest.append(entry)
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"{len(manifest)} mutants written to {HERE}")


if __name__ == "__main__":
    main()
