"""Which apps a change can affect, so ``cmp diff`` renders only those.

The files that differ between the two sides come from git (``git diff --name-only`` between
the commits, plus untracked files when the head is the working tree) or, for two directories,
from comparing their files. An app is affected when a changed path lies in its *input
closure* on either side (:func:`cmp.spec.apps.closure`). Settings,
the cluster profile given as an absolute path and the kserve-cmp version are the same on both
sides by construction (one invocation renders both), so they never single out an app;
``--all`` renders every app regardless.
"""

from __future__ import annotations

import filecmp
import os

from . import gitrev


def git_changes(repo: str, base: str, head: str | None) -> set[str]:
    """Repository-relative paths that differ between commit ``base`` and commit ``head`` (or the
    working tree, untracked files included, when ``head`` is None)."""
    args = ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base] + ([head] if head else [])
    changed = _split(gitrev.git(repo, *args, "--"))
    if head is None:
        changed |= _split(gitrev.git(repo, "ls-files", "--others", "--exclude-standard", "-z"))
    return changed


def _split(output: bytes) -> set[str]:
    return {os.path.normpath(p.decode("utf-8", "surrogateescape")) for p in output.split(b"\0") if p}


def directory_changes(first: str, second: str) -> set[str]:
    """Relative paths of files that differ between two directory trees (hidden entries skipped)."""
    def files(root: str) -> set[str]:
        out = set()
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            out |= {os.path.relpath(os.path.join(directory, n), root) for n in names if not n.startswith(".")}
        return out
    a, b = files(first), files(second)
    changed = a ^ b
    for path in a & b:
        if not filecmp.cmp(os.path.join(first, path), os.path.join(second, path), shallow=False):
            changed.add(path)
    return changed
