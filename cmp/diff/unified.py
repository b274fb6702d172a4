"""Line diffs of objects as YAML: the view reviewers read under each object's heading."""

from __future__ import annotations

import difflib

from ..source.yamlio import dump_stream
from .result import ObjectDiff

CONTEXT = 3


def yaml_lines(obj: dict | None) -> list[str]:
    """The object as the render prints it (sorted keys), one string per line, no ``---``."""
    if obj is None:
        return []
    text = dump_stream([obj])
    return text.removeprefix("---\n").splitlines()


def diff_lines(item: ObjectDiff, context: int = CONTEXT) -> list[str]:
    """``+``/``-``/`` `` lines with ``@@`` hunk headers; a whole object for an addition or removal."""
    old, new = yaml_lines(item.old), yaml_lines(item.new)
    if not old or not new:
        sign = "+" if new else "-"
        return [sign + line for line in new or old]
    return list(difflib.unified_diff(old, new, lineterm="", n=context))[2:]


def line_counts(lines: list[str]) -> tuple[int, int]:
    """(lines added, lines removed) of a diff."""
    added = sum(1 for line in lines if line.startswith("+"))
    removed = sum(1 for line in lines if line.startswith("-"))
    return added, removed
