"""``cmp diff`` end to end: choose the sides, compare, format. The CLI only parses options."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..problems import UsageError
from ..settings import Settings
from . import sides as sides_mod
from .compare import diff_trees
from .jsonout import render_json
from .markdown import MAX_SIZE, render_markdown_parts
from .result import DiffReport
from .text import render_text

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True)
class DiffRequest:
    """What the user asked for."""

    paths: tuple[str, ...]
    base: str | None = None
    head: str | None = None
    merge_base: bool = False
    fmt: str = "text"
    colour: bool = False
    show_secrets: bool = False
    max_size: int = MAX_SIZE
    comment_key: str = ""
    all_apps: bool = False                # render every app, not only those a changed file affects
    excludes: tuple[str, ...] = ()        # gitignore patterns of directories discovery skips
    parts_dir: str | None = None          # markdown: also write each comment part to DIR/part-N.md


def run_diff(request: DiffRequest, settings: Settings) -> tuple[str, int]:
    """The formatted report and the exit code (0 no change, 1 changes, 2 head does not render)."""
    report = build_report(request, settings)
    return format_report(report, request), report.exit_code()


def build_report(request: DiffRequest, settings: Settings) -> DiffReport:
    """Render and compare both sides of ``request``."""
    if request.base is None:
        if request.head is not None or request.merge_base:
            raise UsageError("--head and --merge-base need --base")
        if len(request.paths) != 2:
            raise UsageError("give --base REF (and PATHs), or exactly two directories to compare")
        context = sides_mod.directories(*request.paths)
    else:
        context = sides_mod.revisions(list(request.paths), request.base, request.head, request.merge_base)
    with context as sides:
        changed = None if request.all_apps else sides.changes()
        return diff_trees(sides.base, sides.head, sides.paths, settings, show_secrets=request.show_secrets,
                          changed=changed, excludes=request.excludes)


def format_report(report: DiffReport, request: DiffRequest) -> str:
    if request.fmt == "markdown":
        parts = render_markdown_parts(report, request.max_size, request.comment_key)
        if request.parts_dir:
            write_parts(parts, request.parts_dir)
        return "".join(parts)
    if request.fmt == "json":
        return render_json(report)
    return render_text(report, colour=request.colour)


def write_parts(parts: list[str], directory: str) -> None:
    """``part-1.md`` ... ``part-N.md`` in ``directory`` (created; an existing one must hold no
    earlier parts, so a stale part can never be posted)."""
    os.makedirs(directory, exist_ok=True)
    stale = sorted(n for n in os.listdir(directory) if n.startswith("part-") and n.endswith(".md"))
    if stale:
        raise UsageError(f"--parts-dir {directory}: holds earlier parts ({', '.join(stale)}); give an empty directory")
    for number, part in enumerate(parts, 1):
        with open(os.path.join(directory, f"part-{number}.md"), "w", encoding="utf-8") as handle:
            handle.write(part)
