"""A git ref, checked out once per commit into a cache, as a plain folder (`git archive`).

The ref is resolved to its commit in the repository it names; the commit's tree
is unpacked into `<cache>/<commit>` once, and every later run of any Python finds
it there. An archive rather than a worktree: nothing is registered in the user's
repository, and the folder holds exactly the committed files (nothing built,
nothing untracked), which is what is installed, not in editable mode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from migmatrix.errors import UsageError

_TIMEOUT = 300


def _git(repo: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        msg = "a `ref:` adapter needs git on PATH; install git"
        raise UsageError(msg)
    return subprocess.run(
        [git, "-C", repo, *args], capture_output=True, timeout=_TIMEOUT, check=False
    )


def resolve(repo: str, ref: str) -> str:
    """The commit `ref` names in `repo`; a UsageError naming both when there is none."""
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        detail = f" ({why[-1]})" if why else ""
        msg = (
            f"ref {ref!r} does not exist in the git repository {repo}{detail}; "
            "name a branch, tag or commit of that repository"
        )
        raise UsageError(msg)
    return done.stdout.decode().strip()


def checkout(repo: str, ref: str, cache: str | os.PathLike[str]) -> tuple[Path, str]:
    """The folder holding `ref`'s tree (made once per commit) and the commit itself."""
    commit = resolve(repo, ref)
    target = Path(cache) / commit
    if target.is_dir():
        return target, commit
    Path(cache).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        archive = Path(scratch) / "tree.tar"
        done = _git(repo, "archive", "--format=tar", f"--output={archive}", commit)
        if done.returncode != 0:
            msg = f"git archive of {ref} ({commit[:12]}) in {repo} failed: {done.stderr.decode()}"
            raise UsageError(msg)
        unpacked = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        try:
            unpacked.rename(target)
        except OSError:
            if not target.is_dir():  # another session made it at the same moment: fine
                raise
    return target, commit
