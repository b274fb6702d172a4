"""``cmp render PATH...``: several apps in one command, each rendered on its own, checked together.

Each path (a directory, a manifest file, or ``-`` for a YAML stream on stdin) is one app with its
own settings, budgets and checks; the outputs are concatenated in the order given. Two apps that
produce the same object (group, kind, namespace, name; a namespaced object without a namespace
lands in the ``namespace`` setting's) are an error, as Argo CD would apply them as one. Every
app is rendered even after one fails, so every problem is reported at once; any problem means
no output at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Callable

from . import pipeline
from .pipeline import RenderResult
from .problems import CmpError, Problem, UsageError
from .scope import group_of, is_cluster_scoped
from .settings import Settings
from .source.read import STDIN

STDIN_PATH = "-"


@dataclass
class Rendered:
    objects: list[dict]        # every app's objects, app after app, each app's in its own order
    warnings: list[Problem]


def render_paths(paths: list[str], settings: Settings, stdin: Callable[[], BinaryIO]) -> Rendered:
    """Render every path; raises CmpError with every problem of every app (UsageError first)."""
    if paths.count(STDIN_PATH) > 1:
        raise UsageError(f"{STDIN_PATH!r} (stdin) is given {paths.count(STDIN_PATH)} times; stdin is read once")
    results: list[tuple[str, RenderResult]] = []
    warnings: list[Problem] = []
    errors: list[Problem] = []
    usage = False
    for path in paths:
        try:
            if path == STDIN_PATH:
                result = pipeline.render_stream(stdin(), settings)
            else:
                result = pipeline.render(path, settings)
        except CmpError as exc:
            usage = usage or isinstance(exc, UsageError)
            warnings.extend(exc.warnings)
            errors.extend(_located(p, path) if len(paths) > 1 else p for p in exc.problems)
            continue
        warnings.extend(result.warnings)
        results.append((path, result))
    if not errors:
        errors = _clashes(results, settings.namespace)
    if errors:
        raise (UsageError if usage else CmpError)(errors, warnings=warnings)
    return Rendered([obj for _, result in results for obj in result.objects], warnings)


def _shown(path: str) -> str:
    return STDIN if path == STDIN_PATH else path


def _located(problem: Problem, path: str) -> Problem:
    """Among several apps, a problem without a file (an empty render, kustomize's failure) names its app."""
    if problem.file:
        return problem
    return Problem(problem.message, file=_shown(path), line=problem.line, path=problem.path, rule=problem.rule,
                   level=problem.level, column=problem.column)


def _clashes(results: list[tuple[str, RenderResult]], namespace: str) -> list[Problem]:
    seen: dict[tuple, str] = {}
    problems = []
    for path, result in results:
        for obj in result.objects:
            meta = obj.get("metadata") or {}
            where = meta.get("namespace") or ("" if is_cluster_scoped(obj) else namespace)
            key = (group_of(obj.get("apiVersion")), obj.get("kind"), where, meta.get("name"))
            first = seen.setdefault(key, path)
            if first != path:
                shown = "/".join(p for p in (obj.get("kind"), where, meta.get("name")) if p)
                problems.append(Problem(f"{shown} is rendered by two apps: {_shown(first)} and {_shown(path)} "
                                        "(Argo CD would apply them as one object)", file=_shown(path),
                                        rule="duplicate"))
    return problems
