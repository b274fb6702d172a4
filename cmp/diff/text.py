"""``--format text``: the diff for a terminal (coloured when asked to), read top to bottom."""

from __future__ import annotations

from typing import Callable

import click

from ..safetext import visible
from .result import ACTIONS, UNCHANGED, AppDiff, DiffReport, ModelDiff
from .unified import diff_lines

_SIGNS = {"added": "+", "removed": "-", "changed": "~", "renamed": ">", "unchanged": "="}
_COLOURS = {"+": "green", "-": "red", "@": "cyan"}


def render_text(report: DiffReport, colour: bool = False) -> str:
    """The whole report; ``colour`` adds ANSI colours (for a terminal)."""
    plain: Callable[..., str] = click.style if colour else (lambda text, **_: text)

    def style(text: str, **how: object) -> str:
        """One line of content, controls shown escaped (:mod:`cmp.safetext`), then coloured."""
        return plain(visible(text), **how)

    lines = [style(f"kserve-cmp diff: {report.base} → {report.head}", bold=True), style(counts_line(report))]
    for app in report.apps:
        if app.changed or app.still_broken():
            lines += [""] + app_lines(app, style)
    unchanged = [a.path for a in report.apps if not a.changed and not a.still_broken()]
    if unchanged:
        lines += ["", style(f"unchanged apps: {', '.join(unchanged)}")]
    return "\n".join(lines) + "\n"


def counts_line(report: DiffReport) -> str:
    """``2 objects: 1 added, 1 changed (InferenceService ~1, ServingRuntime +1)`` or ``no changes``."""
    counts = report.counts()
    totals = {a: sum(k.get(a, 0) for k in counts.values()) for a in ACTIONS}
    failed = sum(1 for a in report.apps if a.head_failed())
    parts = [f"{n} {a}" for a, n in totals.items() if n]
    if failed:
        parts.append(f"{failed} app{'s' if failed > 1 else ''} failed to render")
    broken = len(report.still_broken)
    tail = f", {broken} app{'s' if broken > 1 else ''} broken before this change too" if broken else ""
    if report.skipped:
        tail += f" ({report.skipped} not rendered: the change touches none of their inputs)"
    if not parts:
        total = len(report.apps) + report.skipped
        return f"no changes in {total} app{'s' if total != 1 else ''}{tail}"
    kinds = ", ".join(f"{kind} " + " ".join(f"{_SIGNS[a]}{n}" for a, n in per.items())
                      for kind, per in counts.items())
    return ", ".join(parts) + (f" ({kinds})" if kinds else "") + tail


def app_lines(app: AppDiff, style: Callable[..., str]) -> list[str]:
    """One app: errors, model summaries, then each object's line diff."""
    lines = [style(f"== {app.path}", bold=True)]
    for error in app.errors:
        lines.append(style(f"{error.side} does not render:", fg="red", bold=True))
        lines += [style("  " + m) for m in error.messages]
    for model in app.models:
        if model.action != UNCHANGED:
            lines += [style(line) for line in model_lines(model)]
    for item in app.objects:
        if item.action == UNCHANGED:
            continue
        lines.append(style(f"{_SIGNS[item.action]} {item.title()} ({item.action})", bold=True))
        lines += [style(line, fg=_COLOURS.get(line[:1])) for line in diff_lines(item)]
    return lines


def model_lines(model: ModelDiff) -> list[str]:
    """``model ns/name (changed): runtime …, image …`` and one ``label: old → new`` line per fact."""
    renamed = f" (renamed from {model.old_name})" if model.old_name else f" ({model.action})"
    lines = [f"model {model.name}{renamed}: runtime {model.runtime or '?'}, image {model.image or '?'}"]
    lines += [f"  {row.label}: {row.old or '(none)'} → {row.new or '(none)'}" for row in model.rows]
    lines += [f"  warning: {warning}" for warning in model.warnings]
    return lines
