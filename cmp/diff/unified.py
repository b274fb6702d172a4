"""Line diffs of objects as YAML: the view reviewers read under each object's heading."""

from __future__ import annotations

import difflib

from ..kserve.placeholders import ESCAPED_OPEN
from ..source.yamlio import dump_stream
from .result import ObjectDiff

CONTEXT = 3


#: Kinds whose container strings go through KServe's template pass (``{{`{{`}}`` renders ``{{``).
TEMPLATED_KINDS = ("ServingRuntime", "ClusterServingRuntime", "InferenceService")
#: The escapes kserve-cmp writes for a literal ``{{`` (and a ``{`` before a placeholder), and
#: what KServe's template pass renders them as (``cmp.kserve.placeholders``).
_UNESCAPE = ((ESCAPED_OPEN, "{{"), ("{{`{`}}", "{"))


def as_written(obj: dict | None) -> dict | None:
    """``obj`` with KServe's template escapes shown as the text the server receives: a reviewer reads
    ``{"a": 1}`` where the manifest holds ``{{`{{`}}"a": 1}``."""
    if obj is None or obj.get("kind") not in TEMPLATED_KINDS:
        return obj

    def undo(value: object) -> object:
        if isinstance(value, str):
            for escaped, text in _UNESCAPE:
                value = value.replace(escaped, text)
            return value
        if isinstance(value, list):
            return [undo(v) for v in value]
        if isinstance(value, dict):
            return {k: undo(v) for k, v in value.items()}
        return value
    return undo(obj)  # type: ignore[return-value]


def yaml_lines(obj: dict | None) -> list[str]:
    """The object as the render prints it (sorted keys), one string per line, no ``---``."""
    if obj is None:
        return []
    text = dump_stream([obj])
    return text.removeprefix("---\n").splitlines()


def diff_lines(item: ObjectDiff, context: int = CONTEXT) -> list[str]:
    """``+``/``-``/`` `` lines with ``@@`` hunk headers; a whole object for an addition or removal."""
    old, new = yaml_lines(as_written(item.old)), yaml_lines(as_written(item.new))
    if not old or not new:
        sign = "+" if new else "-"
        return [sign + line for line in new or old]
    return list(difflib.unified_diff(old, new, lineterm="", n=context))[2:]


def line_counts(lines: list[str]) -> tuple[int, int]:
    """(lines added, lines removed) of a diff."""
    added = sum(1 for line in lines if line.startswith("+"))
    removed = sum(1 for line in lines if line.startswith("-"))
    return added, removed
