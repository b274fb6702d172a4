"""Golden diffs, discovered: each ``tests/diff/cases/<name>/`` holds two app trees and the expected report.

A case directory has ``base/`` and ``head/`` (trees as a repository would hold them), and:
- ``cmd`` (optional): the command line, one argument per line; default
  ``diff base head --format markdown``;
- ``expected.out``: the exact stdout; ``expected.exit``: the exit code (0 no change, 1 changes,
  2 a head side that does not render).
The command runs in the case directory. ``KSERVE_CMP_UPDATE_GOLDEN=1`` rewrites both files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers import run_cli

CASES = Path(__file__).parent / "cases"
UPDATE = os.environ.get("KSERVE_CMP_UPDATE_GOLDEN") == "1"
DEFAULT = ["diff", "base", "head", "--format", "markdown"]


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())


def _command(case: Path) -> list[str]:
    cmd = case / "cmd"
    return [line for line in cmd.read_text().splitlines() if line.strip()] if cmd.exists() else DEFAULT


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_diff_case(case: Path) -> None:
    result = run_cli(_command(case), cwd=case, env={"CI": ""})
    out, code = case / "expected.out", case / "expected.exit"
    if UPDATE:
        out.write_text(result.stdout)
        code.write_text(f"{result.exit_code}\n")
    assert result.stdout == out.read_text(), result.stderr
    assert result.exit_code == int(code.read_text()), result.stderr


def _fences_closed(markdown: str) -> bool:
    """Every backtick fence that opens also closes (with the same run of backticks)."""
    open_fence = None
    for line in markdown.splitlines():
        found = re.match(r"^(`{3,})", line)
        if not found:
            continue
        if open_fence is None:
            open_fence = found.group(1)
        elif line.strip() == open_fence:
            open_fence = None
    return open_fence is None


@pytest.mark.parametrize("case", [c for c in _cases() if "markdown" in _command(c)], ids=lambda p: p.name)
def test_markdown_is_well_formed(case: Path) -> None:
    text = (case / "expected.out").read_text()
    assert text.startswith("<!-- kserve-cmp-diff -->\n")
    command = _command(case)
    budget = int(command[command.index("--max-size") + 1]) if "--max-size" in command else 65536
    parts = re.split(r"(?m)^(?=<!-- kserve-cmp-diff part \d+ -->$)", text)
    for part in parts:          # an over-budget report is split into comments, each well formed
        assert _fences_closed(part)
        assert part.count("<details") == part.count("</details>")
        assert len(part.encode("utf-16-le")) // 2 <= budget
