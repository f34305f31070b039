"""A seeded fuzzer for the matrix loader: mutants of real and small matrices, each loaded
in a forked child under a memory and a time cap.

Shared by the suite's bounded fuzz test (`test_load_fuzz.py`, a few hundred mutants)
and the longer benchmark (`benchmarks/fuzz_load.py`, thousands). Each mutant ends
in one of five ways: it loads; it is refused with a clean message (a
`MigmatrixError` whose text starts at `file:line:column` and stays short); it is
refused with a bad message (a clean error, but unlocated or enormous); it raises
any other exception (a traceback for the user); or it hangs or runs out of memory.
Only the first two are acceptable.

Run as a script it prints one count line and the first few bad mutants:
`python tests/migmatrix/load/load_fuzz.py --mutants 300 --seed 20`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
MEMORY_CAP = 1 << 30  # bytes of address space per mutant
TIME_CAP = 5  # seconds per mutant: far above a real load, far below a hang
MESSAGE_CAP = 4000  # characters: a clean message names the problem, it does not echo 5 MB

SMALL = [
    """\
python: ["3.12"]
timeout: 30
phases: {unit: suites/a}
adapters:
  old: {object: "pkg.mod:obj", features: [legacy]}
  part:
    object: "pkg.mod:obj"
    components:
      - {name: one, features: [f1]}
      - {name: two, features: [f2]}
    sweep: chain
envs: {unit: {features: [mem]}}
expect:
  default: pass
  rules:
    - {requires: [legacy], outcome: fail, reason: old code}
""",
    """\
python: ["3.11", "3.12"]
phases:
  a: suites/a
  b: {path: suites/b}
adapters:
  x: {object: "pkg:obj"}
envs:
  e1: {}
  e2:
    service:
      command: [python, -m, srv, --port, "{port}"]
      health: "http://{host}:{port}/health"
      startup_timeout: 5
exclude:
  - {phase: b, env: e2}
gates:
  fail_on: [unexpected-fail]
  coverage:
    - {name: c, files: "src/*.py", min_percent: 50}
""",
]

OUTCOMES = ("loaded", "clean", "bad-message", "traceback", "hang/memory")


# --------------------------------------------------------------------------- mutations


def _lines(rng: random.Random, text: str) -> list[str]:
    return text.splitlines(keepends=True) or ["\n"]


def _delete_line(rng: random.Random, text: str) -> str:
    lines = _lines(rng, text)
    del lines[rng.randrange(len(lines))]
    return "".join(lines)


def _duplicate_line(rng: random.Random, text: str) -> str:
    lines = _lines(rng, text)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "".join(lines)


def _swap_lines(rng: random.Random, text: str) -> str:
    lines = _lines(rng, text)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def _truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


def _insert_junk(rng: random.Random, text: str) -> str:
    junk = rng.choice(["{", "}", "[", "]", ":", "- ", "&a ", "*a", "!!binary ", "\t", "'", '"'])
    at = rng.randrange(len(text) + 1)
    return text[:at] + junk + text[at:]


HOSTILE_SCALARS = [
    "9" * 5000,
    "-" + "9" * 4400,
    "1" * 400,
    "1e400",
    "-1e400",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "0x" + "f" * 5000,
    "0o" + "7" * 6000,
    "0b" + "1" * 20000,
    "1_000_000_000_000_000_000_000",
    "2001-13-45",
    "'" + "x" * 300_000 + "'",
    '"name\\n"',
    '"3.12\\n"',
    '"bad\\x00char"',
    '"\\ud800"',
    '"\\U0010ffff"',
    "!!binary 'not base64!'",
    "!!python/object:os.system x",
    "!custom x",
    "null",
    "~",
    "true",
    "[]",
    "{}",
    "''",
    "0",
    "-1",
    "1e-400",
    "3.10",
]


def _scalar_swap(rng: random.Random, text: str) -> str:
    """Replace the value after one `key:` (or one list item) with a hostile scalar."""
    lines = _lines(rng, text)
    candidates = [i for i, line in enumerate(lines) if ":" in line or line.strip().startswith("-")]
    if not candidates:
        return text
    i = rng.choice(candidates)
    line = lines[i]
    value = rng.choice(HOSTILE_SCALARS)
    if ": " in line:
        head = line.split(": ", 1)[0]
        lines[i] = f"{head}: {value}\n"
    elif line.strip().startswith("-"):
        lines[i] = line[: line.index("-")] + f"- {value}\n"
    else:
        lines[i] = line.rstrip("\n") + f" {value}\n"
    return "".join(lines)


def _flow_token_swap(rng: random.Random, text: str) -> str:
    """Replace one word inside a flow collection or quoted string with a hostile scalar."""
    words = [i for i, ch in enumerate(text) if ch in "[{,"]
    if not words:
        return text
    at = rng.choice(words) + 1
    end = at
    while end < len(text) and text[end] not in ",]}\n":
        end += 1
    return text[:at] + " " + rng.choice(HOSTILE_SCALARS) + text[end:]


def _deep_nesting(rng: random.Random, text: str) -> str:
    depth = rng.choice([50, 200, 1000, 5000, 20000])
    style = rng.choice(["flow-seq", "flow-map", "block"])
    if style == "flow-seq":
        value = "[" * depth + "1" + "]" * depth
    elif style == "flow-map":
        value = "{a: " * depth + "1" + "}" * depth
    else:
        value = "".join(f"\n{'  ' * (k + 1)}k{k}:" for k in range(min(depth, 3000))) + " 1"
    key = rng.choice(["timeout", "python", "phases", "expect", "zz"])
    return text + f"\n{key}: {value}\n"


def _billion_laughs(rng: random.Random, text: str) -> str:
    levels = rng.choice([6, 9, 12, 20])
    width = rng.choice([5, 9])
    out = ['lol0: &l0 "lol"\n']
    for k in range(1, levels + 1):
        refs = ", ".join([f"*l{k - 1}"] * width)
        out.append(f"lol{k}: &l{k} [{refs}]\n")
    key = rng.choice(["python", "timeout", "zz", "envs"])
    return text + "".join(out) + f"{key}: *l{levels}\n"


def _recursive_alias(rng: random.Random, text: str) -> str:
    form = rng.choice(
        [
            "zz: &r [*r]\n",
            "zz: &r {a: *r}\n",
            "zz: &r {<<: *r}\n",
            "python: &r [*r, '3.12']\n",
            "envs: &r {e: *r}\n",
            "zz: &r [[[*r]]]\n",
        ]
    )
    return text + form


def _unicode(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    junk = rng.choice(["\u202e", "\ufeff", "\x85", "\u2028", "\x07", "\x1b[31m", "é", "𝔘"])
    return text[:at] + junk + text[at:]


def _long_key(rng: random.Random, text: str) -> str:
    size = rng.choice([300, 10_000, 1_000_000])
    name = "k" * size
    section = rng.choice(["phases", "adapters", "envs", None])
    if section is None:
        return text + f"{name}: 1\n"
    return text.replace(f"{section}:\n", f"{section}:\n  {name}: x\n", 1)


def _sweep_all(rng: random.Random, text: str) -> str:
    count = rng.choice([12, 20, 26, 40, 300])
    comps = "\n".join(f"      - {{name: c{k}, features: [f{k}]}}" for k in range(count))
    sweep = rng.choice(["all", "all", "pairwise", "chain"])
    adapter = f'  big:\n    object: "pkg:obj"\n    components:\n{comps}\n    sweep: {sweep}\n'
    return text.replace("adapters:\n", "adapters:\n" + adapter, 1)


def _many_problems(rng: random.Random, text: str) -> str:
    count = rng.choice([50, 5000])
    return text + "".join(f"bad{k}: {k}\n" for k in range(count))


TEXT_MUTATIONS: list[Callable[[random.Random, str], str]] = [
    _delete_line,
    _duplicate_line,
    _swap_lines,
    _truncate,
    _insert_junk,
    _scalar_swap,
    _scalar_swap,
    _flow_token_swap,
    _deep_nesting,
    _billion_laughs,
    _recursive_alias,
    _unicode,
    _long_key,
    _sweep_all,
    _many_problems,
]


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, (*path, i))


def _replacement(rng: random.Random, old: Any) -> Any:
    choices: list[Any] = [
        None,
        True,
        0,
        -5,
        10**30,
        1.5,
        float("nan"),
        float("inf"),
        "",
        "x\n",
        "3.12\n",
        "a" * rng.choice([10, 5000]),
        [],
        {},
        ["x"],
        {"k": "v"},
        [old],
        {"wrapped": old},
        "*",
        "?[",
    ]
    return rng.choice(choices)


def _data_mutation(rng: random.Random, text: str) -> str:
    """Parse, change one value (replace, delete, wrap, rename its key), dump again."""
    data = yaml.safe_load(text)
    paths = [p for p in _paths(data) if p]
    if not paths:
        return text
    for _ in range(rng.choice([1, 1, 2, 3])):
        path = rng.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = rng.choice(["replace", "replace", "delete", "rename"])
        try:
            if action == "replace":
                parent[last] = _replacement(rng, parent[last])
            elif action == "delete":
                del parent[last]
            elif isinstance(parent, dict):
                parent[rng.choice(["x\n", "k" * 300, "timeout", "python", "3.1", "name"])] = (
                    parent.pop(last)
                )
        except (KeyError, IndexError, TypeError):
            continue
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
    return yaml.safe_dump(data, allow_unicode=rng.random() < 0.5, width=rng.choice([80, 10**6]))


def mutants(seed: int, count: int) -> Iterator[tuple[int, bytes]]:
    """`count` mutants (index, file bytes), the same for the same seed."""
    rng = random.Random(seed)
    seeds = [(ROOT / "matrix.yaml").read_text(encoding="utf-8"), *SMALL]
    for index in range(count):
        text = rng.choice(seeds)
        # Structural changes first, on a seed PyYAML reads quickly; then text changes,
        # which may make a file no loader should read in full (and this one must not).
        if rng.random() < 0.4:
            text = _data_mutation(rng, text)
        for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
            text = rng.choice(TEXT_MUTATIONS)(rng, text)
        data = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.03:
            at = rng.randrange(len(data) + 1)
            data = data[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + data[at:]
        yield index, data


# --------------------------------------------------------------------------- running


@dataclasses.dataclass
class Counts:
    total: int = 0
    loaded: int = 0
    clean: int = 0
    bad_message: int = 0
    traceback: int = 0
    hang_memory: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def line(self) -> str:
        return (
            f"total={self.total} loaded={self.loaded} clean-errors={self.clean} "
            f"bad-messages={self.bad_message} tracebacks={self.traceback} "
            f"hangs/over-memory={self.hang_memory}"
        )


def _child(path: Path, report: int) -> None:
    """Load one mutant under the caps and write `outcome|detail` to the pipe."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    signal.alarm(TIME_CAP)  # default action: the child dies, the parent sees SIGALRM
    from migmatrix.errors import MigmatrixError
    from migmatrix.load import load_matrix

    try:
        load_matrix(path)
        outcome, detail = "loaded", ""
    except MigmatrixError as exc:
        text = str(exc)
        located = text.startswith(f"{path}:") and text.split(":", 3)[1].isdigit()
        if located and len(text) <= MESSAGE_CAP:
            outcome, detail = "clean", ""
        else:
            outcome, detail = "bad-message", f"{len(text)} chars: {text[:300]!r}"
    except MemoryError:
        outcome, detail = "hang/memory", "MemoryError"
    except BaseException as exc:  # every other exception is the finding
        outcome, detail = "traceback", f"{type(exc).__name__}: {str(exc)[:200]}"
    os.write(report, f"{outcome}|{detail}".encode("utf-8", "replace")[:2000])
    os._exit(0)


def run(seed: int, count: int, *, verbose: bool = False, loaded: bool = False) -> Counts:
    """Load `count` mutants, each in a forked child; count how each ended."""
    from migmatrix.load import load_matrix

    load_matrix(ROOT / "matrix.yaml")  # warm the schema cache once, before forking
    counts = Counts()
    with tempfile.TemporaryDirectory(prefix="mm-fuzz-") as tmp:
        folder = Path(tmp)
        for name in ("suites", "adapters"):
            (folder / name).symlink_to(ROOT / name)
        for sub in ("a", "b"):
            (folder / "suites_small" / sub).mkdir(parents=True)
        for index, data in mutants(seed, count):
            path = folder / f"m{index}.yaml"
            if b"suites/a" in data or b"suites/b" in data:
                data = data.replace(b"suites/a", b"suites_small/a")
                data = data.replace(b"suites/b", b"suites_small/b")
            path.write_bytes(data)
            outcome, detail = _load_in_child(path)
            counts.total += 1
            field = outcome.replace("/memory", "_memory").replace("-", "_")
            if outcome == "hang/memory" and not detail:
                detail = "killed by its time cap"
            setattr(counts, field, getattr(counts, field) + 1)
            if outcome not in ("loaded", "clean") or (loaded and outcome == "loaded"):
                counts.examples.append(f"#{index} {outcome}: {detail}")
                if verbose:
                    print(f"#{index} {outcome}: {detail}", file=sys.stderr)
            path.unlink()
    return counts


def _load_in_child(path: Path) -> tuple[str, str]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            _child(path, write)
        finally:
            os._exit(1)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 4096):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode("utf-8", "replace")
    if "|" in text:
        outcome, detail = text.split("|", 1)
        return outcome, detail
    if os.WIFSIGNALED(status):
        return "hang/memory", f"killed by signal {os.WTERMSIG(status)}"
    return "hang/memory", f"child ended with status {status} and no report"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--verbose", action="store_true", help="print each bad mutant")
    parser.add_argument(
        "--loaded", action="store_true", help="list the mutants that loaded among the examples"
    )
    args = parser.parse_args(argv)
    counts = run(args.seed, args.mutants, verbose=args.verbose, loaded=args.loaded)
    if args.json:
        print(json.dumps(dataclasses.asdict(counts)))
    else:
        print(counts.line())
        for example in counts.examples[: 10**6 if args.loaded else 20]:
            print("  " + example)
    return 0


if __name__ == "__main__":
    sys.exit(main())
