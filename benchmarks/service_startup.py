"""Starting (and stopping) one staging server per adapter state: one after another vs concurrently.

The matrix's staging env, with `NETRA_MIGRATION: "{adapter}"` so every adapter
state gets its own `netra_backend.server` (what `plugin.services.prepare_controller`
does for a matrix whose service templates use `{adapter}`). Each server takes
a second or so to answer its health URL; the harness starts them on threads.
Both ways are measured alternately in one process, REPEAT times; medians and
their ratio are printed.

    .venv/bin/python benchmarks/service_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

from migmatrix import endpoint, load, service
from migmatrix.model import Cell
from migmatrix.plugin import run_state, services

STATES = [
    ("deprecated", "deprecated", ()),
    ("partial[]", "partial", ()),
    ("partial[engine]", "partial", ("engine",)),
    ("partial[engine+factory]", "partial", ("engine", "factory")),
    ("ssot", "ssot", ()),
]


def staging_run(root: Path) -> tuple[run_state.MatrixRun, dict[str, tuple[object, Cell]]]:
    matrix = load.load_matrix(str(Path(__file__).resolve().parents[1] / "matrix.yaml"))
    env = next(e for e in matrix.envs if e.service is not None)
    assert env.service is not None
    values = dict(env.service.env)
    values["NETRA_MIGRATION"] = "{adapter}"
    env = dataclasses.replace(
        env, service=dataclasses.replace(env.service, env=tuple(sorted(values.items())))
    )
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    cells = [
        Cell("staging", name, env.name, py, adapter_base=base, components=components)
        for name, base, components in STATES
    ]
    run = run_state.MatrixRun(
        matrix=matrix, python=py, cells=tuple(cells), phase_dirs={}, selection=None,
        shard=None, results_dir=root / "results", run_id="bench", named_run=True,
        timeout=0, started=run_state.now_iso(), workdir=str(root / "work"),
    )  # fmt: skip
    wanted = {endpoint.service_key(env, cell): (env, cell) for cell in cells}
    return run, wanted  # type: ignore[return-value]


def sequential(root: Path) -> tuple[float, float]:
    run, wanted = staging_run(root)
    running = []
    start = time.perf_counter()
    for key, (env, cell) in sorted(wanted.items()):
        workdir = Path(str(run.workdir)) / "services" / endpoint.safe_name(key)
        running.append(
            service.start_service(env, workdir=workdir, log_dir=run.results_dir, cell=cell)  # type: ignore[arg-type]
        )
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    for item in running:
        item.stop()
    return elapsed, time.perf_counter() - start


def concurrent(root: Path) -> tuple[float, float]:
    run, wanted = staging_run(root)
    running: list[object] = []
    start = time.perf_counter()
    services.start_services(run, wanted, running)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert not run.service_problems, run.service_problems
    assert len(running) == len(STATES)
    start = time.perf_counter()
    services.release_controller(run, running)
    return elapsed, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"sequential": [], "concurrent": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            for name, how in (("sequential", sequential), ("concurrent", concurrent)):
                times[name].append(how(Path(tmp) / f"{name}-{round_}"))
    print(f"{len(STATES)} staging servers (one per adapter state), median of {args.repeat}:")
    for index, what in enumerate(("start", "stop")):
        seq, con = (statistics.median(t[index] for t in times[k]) for k in times)
        print(
            f"  {what}: one after another {seq:.2f} s, concurrently {con:.2f} s, "
            f"ratio {seq / con:.2f}x"
        )


if __name__ == "__main__":
    main()
