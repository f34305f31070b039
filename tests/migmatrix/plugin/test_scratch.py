"""The scratch folder's lock: a live run's folder is never swept, a dead run's always is."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from migmatrix.plugin import scratch


def test_a_held_folder_survives_the_sweep_and_release_removes_it(tmp_path: Path) -> None:
    mine = scratch.make("run1", parent=str(tmp_path))
    (Path(mine.path) / "migmatrix-run-x.pickle").write_bytes(b"handoff")
    assert Path(mine.path).name.startswith("migmatrix-run1-")
    assert scratch.sweep(str(tmp_path)) == []
    assert Path(mine.path).is_dir()
    scratch.release(mine)
    assert not Path(mine.path).exists()
    scratch.release(mine)  # idempotent


def test_the_folder_of_a_dead_owner_is_swept_and_foreign_folders_are_not(tmp_path: Path) -> None:
    # The owner is another process that exits without cleaning up, as a SIGKILLed one would.
    code = textwrap.dedent(
        f"""
        import os
        from migmatrix.plugin import scratch
        made = scratch.make("dead", parent={str(tmp_path)!r})
        print(made.path, flush=True)
        os._exit(0)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    dead = Path(done.stdout.strip())
    assert dead.is_dir()
    unlocked = tmp_path / "migmatrix-someone-else"  # no lock file: not ours to judge
    unlocked.mkdir()
    other = tmp_path / "unrelated"
    other.mkdir()
    assert scratch.sweep(str(tmp_path)) == [str(dead)]
    assert not dead.exists()
    assert unlocked.is_dir()
    assert other.is_dir()


def test_the_lock_is_not_inherited_by_children(tmp_path: Path) -> None:
    mine = scratch.make("run2", parent=str(tmp_path))
    assert mine.lock_fd is not None
    assert not os.get_inheritable(mine.lock_fd)
    scratch.release(mine)
