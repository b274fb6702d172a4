"""The two sides of a diff as directories: two given directories, or git revisions of one repository.

``--base REF`` exports that commit; ``--head REF`` exports another, else the head side is the
working tree as it is (uncommitted edits included; it is only read). ``--merge-base`` compares
against the common ancestor of base and head, which is what a pull request changes.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from ..problems import UsageError
from . import changes, gitrev
from .compare import Tree


@dataclass(frozen=True)
class Sides:
    """Both trees and the paths (relative to their roots) to look for apps under."""

    base: Tree
    head: Tree
    paths: list[str]
    changes: Callable[[], set[str]]      # root-relative paths that differ between the sides


@contextmanager
def directories(first: str, second: str) -> Iterator[Sides]:
    """``cmp diff DIR_A DIR_B``: each directory is a tree; apps are paired by relative path."""
    for path in (first, second):
        if not os.path.isdir(path):
            raise UsageError(f"{path}: no such directory")
    yield Sides(Tree(os.path.abspath(first), first), Tree(os.path.abspath(second), second), ["."],
                lambda: changes.directory_changes(first, second))


@contextmanager
def revisions(paths: list[str], base: str, head: str | None, use_merge_base: bool) -> Iterator[Sides]:
    """``cmp diff --base REF [--head REF] [PATH...]``: exported revisions (and the working tree)."""
    paths = paths or ["."]
    repo = gitrev.repo_root(next((p for p in paths if os.path.exists(p)), "."))
    relative = [repo_relative(repo, p) for p in paths]
    base_commit = gitrev.resolve(repo, base)
    head_commit = gitrev.resolve(repo, head) if head else None
    if use_merge_base:
        base_commit = gitrev.merge_base(repo, base_commit, head_commit or gitrev.resolve(repo, "HEAD"))
    with ExitStack() as stack:
        base_tree = Tree(stack.enter_context(gitrev.exported(repo, base_commit)), label(base, base_commit))
        if head_commit is None:
            head_tree = Tree(repo, "working tree")
        else:
            head_tree = Tree(stack.enter_context(gitrev.exported(repo, head_commit)), label(head, head_commit))
        yield Sides(base_tree, head_tree, relative, lambda: changes.git_changes(repo, base_commit, head_commit))


def repo_relative(repo: str, path: str) -> str:
    """``path`` (as the user gave it) relative to the repository's top directory."""
    full = os.path.realpath(path)
    relative = os.path.relpath(full, repo)
    if relative == ".." or relative.startswith(".." + os.sep):
        raise UsageError(f"{path}: outside the git repository at {repo}")
    return relative


def label(ref: str, commit: str) -> str:
    """``main (1a2b3c4)``."""
    return f"{ref} ({commit[:7]})"
