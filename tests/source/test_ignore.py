"""The ignore file follows gitignore: checked against git's own ``check-ignore`` on the same rules."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cmp.problems import CmpError
from cmp.source.ignore import IGNORE_FILE, MAX_PATTERN_LENGTH, load, parse

RULES = """\
# comments and blank lines are skipped

tests/
**/scratch
!keep/scratch
/deploy
docs/**
a/**/b
*.tmp
x[0-9]
y[!a-c]
\\#literal
build
!build/keep
trailing-space   
"""

DIRECTORIES = [
    "tests", "tests/cases/a", "src/tests", "scratch", "apps/b/scratch", "keep/scratch", "keep/scratch/deep",
    "deploy", "overlays/deploy", "docs", "docs/a", "docs/a/b", "a/b", "a/x/y/b", "q/a/b", "z.tmp", "x1", "xa",
    "yd", "yb", "#literal", "build", "build/keep", "trailing-space", "overlays/llama/prod", "deployment",
]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_same_verdicts_as_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for directory in DIRECTORIES:
        (repo / directory).mkdir(parents=True, exist_ok=True)
    (repo / IGNORE_FILE).write_text(RULES)
    (repo / ".gitignore").write_text(RULES)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=30)
    ours = load(str(repo))
    for directory in DIRECTORIES:
        # git reports a path ignored when it or a parent directory matches (it never descends there)
        parts = directory.split("/")
        theirs = False
        for depth in range(1, len(parts) + 1):
            probe = "/".join(parts[:depth]) + "/"
            done = subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", "--no-index", probe],
                                  capture_output=True, timeout=30)
            assert done.returncode in (0, 1), done.stderr
            if done.returncode == 0:
                theirs = True
                break
        assert ours.excluded(directory) is theirs, directory


def test_patterns_are_bounded_and_linear() -> None:
    with pytest.raises(CmpError, match="longer than"):
        parse(["a" * (MAX_PATTERN_LENGTH + 1)], IGNORE_FILE)
    with pytest.raises(CmpError, match="control character"):
        parse(["a\x1b[2Jb"], IGNORE_FILE)
    [pattern] = parse(["*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*ab"], IGNORE_FILE)
    start = time.monotonic()
    assert pattern.regex.fullmatch("a" * 5000) is None
    assert time.monotonic() - start < 1


def test_error_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / IGNORE_FILE).write_text("ok\n" + "x" * (MAX_PATTERN_LENGTH + 5) + "\n")
    with pytest.raises(CmpError) as caught:
        load(str(tmp_path))
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (IGNORE_FILE, 2)


def test_a_symlinked_ignore_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("x\n")
    (tmp_path / IGNORE_FILE).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CmpError, match="symbolic link"):
        load(str(tmp_path))
