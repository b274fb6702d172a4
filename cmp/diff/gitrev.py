"""Git revisions as plain directory trees, without touching the user's working tree or index.

A revision is exported with ``git archive`` into a private temporary directory (the repository
is only read: no worktree is registered, no ref or index changes). Git runs as argv, never
through a shell, with a time limit; failures raise :class:`~cmp.problems.ToolError` carrying
git's own message.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator

from ..problems import Problem, ToolError, UsageError

TIMEOUT = 120.0


def git(repo: str, *args: str, timeout: float = TIMEOUT, stdout: IO[bytes] | None = None) -> bytes:
    """Output of ``git -C repo ARGS`` (or written to ``stdout``); ToolError with git's stderr when it fails."""
    argv = ("git", "-C", repo, *args)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=stdout or subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ToolError(Problem("git is not installed (needed for --base/--head)", rule="git")) from None
    except subprocess.TimeoutExpired:
        raise ToolError(Problem(f"`git {' '.join(args)}` timed out after {timeout:g}s", rule="git")) from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise ToolError(Problem(f"`git {' '.join(args)}` failed: {message}", rule="git"))
    return proc.stdout or b""


def repo_root(path: str) -> str:
    """The top directory of the working tree that holds ``path``."""
    start = path if os.path.isdir(path) else os.path.dirname(path) or "."
    try:
        return os.path.realpath(git(start, "rev-parse", "--show-toplevel").decode().strip())
    except ToolError:
        raise UsageError(f"{path}: not inside a git working tree (--base needs one)") from None


def resolve(repo: str, ref: str) -> str:
    """The commit ``ref`` names (full hex id); a UsageError for an unknown revision."""
    if ref.startswith("-"):
        raise UsageError(f"{ref!r} is not a git revision")
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    except ToolError:
        raise UsageError(f"unknown git revision {ref!r}") from None


def merge_base(repo: str, base: str, head: str) -> str:
    """The best common ancestor of two commits."""
    return git(repo, "merge-base", base, head).decode().strip()


@contextmanager
def exported(repo: str, commit: str) -> Iterator[str]:
    """A temporary directory holding the tree of ``commit``; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kserve-cmp-diff-") as tmp:
        archive = os.path.join(tmp, "tree.tar")
        root = os.path.join(tmp, "tree")
        os.mkdir(root)
        with open(archive, "wb") as handle:
            git(repo, "archive", "--format=tar", commit, stdout=handle)
        extract(archive, root)
        os.remove(archive)
        yield root


def extract(archive: str, root: str) -> None:
    """Unpack a tar safely: members that would land outside ``root`` (or are devices) are skipped."""
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter=_safe_member)


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    try:
        return tarfile.data_filter(member, dest)
    except tarfile.FilterError:
        return None
