"""Does the matrix catch a bad migration? Scores on generated and hand-made mutants.

Two measurements, side by side, printed with the time each took:

1. `migmatrix mutate` on this repository's SSOT modules (cosmic-ray's mutants; only
   the cells whose coverage reached the mutated line run each one);
2. the hand-made set in benchmarks/mutants (manifest.json): each patch is applied in
   a scratch copy, the selected cells run and the gate judges them. An `ssot` mutant
   must be caught somewhere, a `legacy-fixed` one must show as unexpected-pass, and
   a `partial` one must be caught in exactly the states it breaks (outside the
   rollback phase, whose cells switch states on purpose).

    python benchmarks/detection.py [--cells 'unit'] [--max 40] [--budget 10m] [--jobs 2]
    python benchmarks/detection.py --skip-generated     # the hand-made set only

Run it from the repository root with the dev environment (it takes minutes).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from migmatrix.mutate.workspace import Workspace
from migmatrix.outcomes import EXPECTED_VERDICTS

ROOT = Path(__file__).resolve().parents[1]
APP = "reference/netra_backend/src/netra_backend/app"
SSOT_TARGETS = (
    f"{APP}/agents/supervisor/user_execution_engine.py",
    f"{APP}/websocket_core/emitter.py",
    f"{APP}/agents/supervisor/execution_engine_factory.py",
    f"{APP}/db/store.py",
)
FEATURES = {
    "engine": "ssot-engine",
    "factory": "ssot-factory",
    "emitter": "user-emitter",
    "state": "isolated-state",
}
ALL = frozenset(FEATURES.values())


def features_of(adapter: str) -> frozenset[str]:
    if adapter == "deprecated":
        return frozenset()
    if adapter == "ssot":
        return ALL
    inside = adapter[adapter.index("[") + 1 : -1]
    return frozenset(FEATURES[c] for c in inside.split("+") if c)


def all_states() -> list[frozenset[str]]:
    names = sorted(FEATURES.values())
    return [
        frozenset(n for i, n in enumerate(names) if mask >> i & 1)
        for mask in range(1 << len(names))
    ]


def label(state: frozenset[str]) -> str:
    return "{" + ",".join(sorted(state)) + "}" if state else "{}"


def generated(args: argparse.Namespace) -> None:
    argv = [sys.executable, "-m", "migmatrix", "mutate", "--cells", args.cells]
    for target in SSOT_TARGETS:
        argv += ["--target", target]
    argv += ["--max", str(args.max), "--budget", args.budget, "--jobs", str(args.jobs)]
    argv += [
        "--json",
        str(args.out / "ssot-mutate.json"),
        "--markdown",
        str(args.out / "ssot-mutate.md"),
    ]
    print("$", " ".join(argv[1:]), flush=True)
    started = time.monotonic()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    report = json.loads((args.out / "ssot-mutate.json").read_text())
    print(f"generated SSOT mutants: {report['totals']} in {seconds:.0f}s")
    for target, entry in report["files"].items():
        print(f"  {entry['score']}%  {target}  {entry}")
    for item in report["mutants"]:
        if item["outcome"] in ("survived", "not-covered"):
            print(f"  SURVIVOR {item['id']} ({item['outcome']}; cells {len(item['cells'])})")


def run_patch(
    space: Workspace, copy: Path, patch: Path, cells: str, out: Path
) -> dict[str, object]:
    subprocess.run(["git", "apply", str(patch)], cwd=copy, check=True)
    try:
        env = space.environ(copy, os.environ)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--matrix",
                "matrix.yaml",
                "--cells",
                cells,
                "--results-dir",
                str(out),
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                "2",
                "--basetemp",
                str(out / "basetemp"),
            ],
            cwd=copy,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "migmatrix",
                "gate",
                str(out),
                "--cells",
                cells,
                "--json",
                str(out / "gate.json"),
            ],
            cwd=copy,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    finally:
        subprocess.run(["git", "apply", "-R", str(patch)], cwd=copy, check=True)
    data: dict[str, object] = json.loads((out / "gate.json").read_text())
    return data


def handmade(args: argparse.Namespace) -> None:
    manifest = json.loads((ROOT / "benchmarks/mutants/manifest.json").read_text())
    if args.only:
        manifest = [e for e in manifest if fnmatch.fnmatch(e["patch"], args.only)]
    # The patched files' package roots go first on PYTHONPATH, so the copy is imported.
    space = Workspace(ROOT, sorted({entry["file"] for entry in manifest}))
    started = time.monotonic()
    ok = 0
    try:
        copy = space.copy("handmade")
        expected_ok = {v.value for v in EXPECTED_VERDICTS}
        for index, entry in enumerate(manifest):
            one = time.monotonic()
            report = run_patch(
                space,
                copy,
                ROOT / "benchmarks/mutants" / entry["patch"],
                args.cells,
                copy / ".detect" / str(index),
            )
            bad = [r for r in report["results"] if r["verdict"] not in expected_ok]  # type: ignore[index, union-attr]
            outside = [r for r in bad if not r["cell"].startswith("rollback/")]
            caught = {features_of(r["cell"].split("/")[1]) for r in outside}
            unexpected_pass = {
                features_of(r["cell"].split("/")[1])
                for r in outside
                if r["verdict"] == "unexpected-pass"
            }
            breaks = entry["breaks"]
            meant = {
                s
                for s in all_states()
                if set(breaks["requires"]) <= s and not set(breaks["unless"]) & s
            }
            if entry["kind"] == "ssot":
                good = bool(bad)
            elif entry["kind"] == "legacy-fixed":
                good = bool(unexpected_pass) and unexpected_pass <= meant
            else:
                good = caught == meant
            if entry.get("equivalent"):
                verdict = "equivalent" + (" (but caught)" if bad else "")
            else:
                verdict = "OK" if good else "MISSED"
                ok += good
            print(
                f"{verdict:10} {entry['kind']:12} {entry['patch']:45} "
                f"caught in {len(caught)}/{len(meant)} states, {len(bad)} items "
                f"({', '.join(sorted({r['verdict'] for r in bad})) or 'none'}) "
                f"{time.monotonic() - one:.0f}s",
                flush=True,
            )
            if verdict == "MISSED" and entry["kind"] == "partial":
                print(f"           meant {sorted(map(label, meant))}")
                print(f"           caught {sorted(map(label, caught))}")
    finally:
        space.release()
    judged = sum(1 for e in manifest if not e.get("equivalent"))
    print(
        f"hand-made set: {ok}/{judged} non-equivalent mutants detected as required, "
        f"{time.monotonic() - started:.0f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="unit and not staging")
    parser.add_argument("--max", type=int, default=40)
    parser.add_argument("--budget", default="10m")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--skip-handmade", action="store_true")
    parser.add_argument("--only", metavar="GLOB", help="hand-made patches matching GLOB only")
    args = parser.parse_args()
    # One interpreter's cells: the runs are this interpreter's, and the gate must not
    # count the other Pythons' cells as missing.
    args.cells = f"({args.cells}) and py{sys.version_info[0]}.{sys.version_info[1]}"
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.skip_generated:
        generated(args)
    if not args.skip_handmade:
        handmade(args)


if __name__ == "__main__":
    main()
