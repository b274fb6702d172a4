"""Every data file the package reads is in what ``pip install .`` installs.

setuptools installs a package's non-Python files only when ``[tool.setuptools.package-data]``
names them (glob patterns relative to the package directory). A data directory added without a
pattern works in an editable install and in this checkout, and fails only where the package is
installed, as in the image and in ``.ci/run``: the LLMInferenceService presets once did
(FileNotFoundError from ``cmp/catalog/llmisvc``). This test expands the patterns as setuptools
does (``glob`` from the package directory) and compares them with the files git tracks.
"""

from __future__ import annotations

import glob
import subprocess
import tomllib
from pathlib import Path

from helpers import REPO


def _package_of(path: Path) -> Path:
    """The nearest directory above ``path`` that is a Python package (has ``__init__.py``)."""
    parent = path.parent
    while not (REPO / parent / "__init__.py").exists():
        parent = parent.parent
    return parent


def test_every_tracked_data_file_under_cmp_is_installed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]
    tracked = subprocess.run(["git", "ls-files", "cmp"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    data = [Path(p) for p in tracked if not p.endswith(".py")]
    assert len(data) > 20
    installed = set()
    for package, globs in patterns.items():
        root = REPO / package.replace(".", "/")
        for pattern in globs:
            installed.update(Path(p).relative_to(REPO) for p in glob.glob(str(root / pattern)))
    missing = sorted(str(p) for p in data if p not in installed)
    assert missing == [], f"add a pattern to [tool.setuptools.package-data] for {missing}"
    assert all(_package_of(p).as_posix().replace("/", ".") in patterns for p in data)
