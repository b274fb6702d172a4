"""Golden directories, discovered: ``tests/cases/<name>/`` renders, ``tests/errors/<name>/`` fails.

Each case directory holds ``input/`` (the app: a directory as a user would have it) and:
- ``cmd`` (optional): the command line, default ``render input``; one argument per line;
- ``env`` (optional): ``NAME=value`` lines set for the run (e.g. ``KSERVE_CMP_NAMESPACE=x``);
- ``expected.yaml`` (cases: the exact stdout) or ``expected.txt`` (errors: the exact stderr;
  stdout must be empty and the exit code non-zero);
- ``expected-stderr.txt`` (cases, optional): the exact stderr, for cases that show a warning.
The command runs with the case directory as working directory, so messages name
``input/<file>:<line>``. ``KSERVE_CMP_UPDATE_GOLDEN=1`` rewrites the expected files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import run_cli

HERE = Path(__file__).parent
UPDATE = os.environ.get("KSERVE_CMP_UPDATE_GOLDEN") == "1"


def _cases(kind: str) -> list[Path]:
    root = HERE / kind
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _command(case: Path) -> list[str]:
    cmd = case / "cmd"
    if cmd.exists():
        return [line for line in cmd.read_text().splitlines() if line.strip()]
    return ["render", "input"]


def _env(case: Path) -> dict[str, str]:
    env = {}
    path = case / "env"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, value = line.partition("=")
                env[name.strip()] = value
    return env


@pytest.mark.parametrize("case", _cases("cases"), ids=lambda p: p.name)
def test_case_renders(case: Path) -> None:
    result = run_cli(_command(case), cwd=case, env=_env(case))
    expected = case / "expected.yaml"
    if UPDATE:
        expected.write_text(result.stdout)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected.read_text()
    stderr = case / "expected-stderr.txt"
    if UPDATE and stderr.exists():
        stderr.write_text(result.stderr)
    if stderr.exists():
        assert result.stderr == stderr.read_text()


@pytest.mark.parametrize("case", _cases("errors"), ids=lambda p: p.name)
def test_error_case(case: Path) -> None:
    result = run_cli(_command(case), cwd=case, env=_env(case))
    expected = case / "expected.txt"
    if UPDATE:
        expected.write_text(result.stderr)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr == expected.read_text()
