"""A small matrix project the loader's and the adapter importer's tests share.

`BASE` is a valid matrix.yaml whose line numbers the tests' tables name, and
`project_folder` makes its folder (for a `project` fixture), with the adapter modules a matrix may
import: one that works, one that raises at import, one with a missing dependency.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

# Line numbers matter: the bad-matrix table below names exact line:column positions in it.
BASE = """\
python: ["3.11", "3.12"]
phases:
  repro: suites/repro
  golden: {path: suites/golden}
adapters:
  old: {object: "mmad_adapters:adapter", features: [legacy]}
  partial:
    object: "mmad_adapters:adapter"
    components:
      - {name: engine, features: [ssot-engine]}
      - {name: factory, features: [ssot-factory]}
    sweep: chain
  new: {object: "mmad_adapters:adapter", features: [ssot-engine, ssot-factory]}
envs:
  unit: {features: [in-memory]}
  staging: {features: [server]}
"""

MODULES = ("mmad_adapters", "mmad_broken", "mmad_needs_dep")


def project_folder(tmp_path: Path) -> Iterator[Path]:
    """For a `project` fixture: a matrix folder with two suite folders and the adapter
    modules the matrices import; the modules are forgotten again afterwards."""
    (tmp_path / "suites" / "repro").mkdir(parents=True)
    (tmp_path / "suites" / "golden").mkdir(parents=True)
    (tmp_path / "mmad_adapters.py").write_text("adapter = {'name': 'the adapter'}\n")
    (tmp_path / "mmad_broken.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "mmad_needs_dep.py").write_text("import mmad_not_installed_anywhere\n")
    # The module names repeat across tests (each in its own folder): forget earlier imports.
    for name in MODULES:
        sys.modules.pop(name, None)
    yield tmp_path
    for name in MODULES:
        sys.modules.pop(name, None)


def write(project: Path, text: str) -> Path:
    path = project / "matrix.yaml"
    path.write_text(text)
    return path
