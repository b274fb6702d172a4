"""Render an app on both sides and compare: the core of ``cmp diff``, independent of git and output.

Each app is rendered with :func:`cmp.pipeline.render`, the function the sidecar runs, from
inside its tree (so messages name ``apps/x/model.yaml:12`` on both sides, never a temporary
path). A side that does not render becomes a :class:`~cmp.diff.result.SideError`; an app
that exists on one side only is compared with nothing (all added, or all removed).
"""

from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from ..argocd import policy
from ..pipeline import render
from ..problems import CmpError, UsageError
from ..settings import Settings
from ..unit import Unit
from ..source import ignore
from ..spec.apps import closure, find_apps, has_inputs
from .match import match, object_id
from .normalize import align, flatten, normalize
from .result import (ADDED, CHANGED, REMOVED, RENAMED, UNCHANGED, AppDiff, DiffReport, FieldChange, ObjectDiff,
                     SideError)
from .secrets import mask_pair
from .summary import compare_models, model_facts, model_key


@dataclass(frozen=True)
class Tree:
    """One side: a directory on disk and how to name it to readers."""

    root: str
    label: str


@dataclass
class Rendered:
    """One app rendered on one side: objects and units, or the messages of its failure."""

    objects: list[dict] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    error: tuple[str, ...] = ()


def diff_trees(base: Tree, head: Tree, paths: list[str], settings: Settings, *,
               show_secrets: bool = False, changed: set[str] | None = None,
               excludes: tuple[str, ...] = ()) -> DiffReport:
    """Every app found under ``paths`` (relative to the roots) on either side, compared.

    A relative ``cluster_profile`` is relative to each app's directory (an Application's
    parameter); give an absolute path for one file used by every app on both sides. With
    ``changed`` (root-relative paths that differ between the sides), only apps whose input
    closure on either side holds one of them are rendered; the others are counted as skipped.
    ``excludes`` and each tree's ``.kserve-cmp-ignore`` leave directories out of discovery.
    """
    for path in paths:
        if not any(os.path.isdir(os.path.join(tree.root, path)) for tree in (base, head)):
            raise UsageError(f"{path!r} is not a directory on either side ({base.label}, {head.label})")
    apps = sorted(set(find_apps(base.root, paths, ignore.load(base.root, excludes)))
                  | set(find_apps(head.root, paths, ignore.load(head.root, excludes))))
    report = DiffReport(base.label, head.label)
    for app in apps:
        if changed is not None and not _affected(app, base.root, head.root, changed, settings):
            report.skipped += 1
            continue
        old = render_app(base.root, app, settings)
        new = render_app(head.root, app, settings)
        report.apps.append(diff_app(app, old, new, show_secrets=show_secrets))
    return report


def _affected(app: str, base_root: str, head_root: str, changed: set[str], settings: Settings) -> bool:
    """True when a changed path lies in what ``app`` reads on either side."""
    if not changed:
        return False
    profile = settings.cluster_profile or ""
    return any(closure(root, app, profile).touches(changed) for root in (base_root, head_root)
               if os.path.isdir(os.path.join(root, app)))


def app_settings(app: str, settings: Settings) -> tuple[Settings, tuple[str, ...]]:
    """``settings`` for rendering ``app`` from the top of its tree (the working directory), and
    the messages of the sidecar's refusal, if any: a relative cluster profile is read from the
    app's directory and must stay inside the tree, as :mod:`cmp.argocd.policy` requires."""
    value = settings.cluster_profile
    if not value or os.path.isabs(value):
        return settings, ()
    refused = policy.path_problems({"cluster-profile": value}, app, {})
    if refused:
        return settings, tuple(p.format() for p in refused)
    path = os.path.join(app, value)
    if not os.path.isfile(path):
        return settings, (f"cluster-profile: {value}: no such file (relative to {app})",)
    return dataclasses.replace(settings, cluster_profile=path), ()


@contextmanager
def working_directory(path: str) -> Iterator[None]:
    """Run the body in ``path``, then return to where we were."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def render_app(root: str, app: str, settings: Settings) -> Rendered | None:
    """The app rendered from inside ``root``; None when the app does not exist on this side
    (no such directory, or one without a kustomization or YAML/JSON file)."""
    if not has_inputs(os.path.join(root, app)):
        return None
    with working_directory(root):
        settings, refused = app_settings(app, settings)
        if refused:
            return Rendered(error=refused)
        try:
            result = render(app, settings)
        except UsageError:
            raise
        except CmpError as exc:
            return Rendered(error=tuple(p.format() for p in exc.warnings + exc.problems))
    return Rendered(result.objects, result.units)


def diff_app(app: str, old: Rendered | None, new: Rendered | None, *, show_secrets: bool = False) -> AppDiff:
    """The comparison of one app's two renders (None: the app is absent on that side)."""
    out = AppDiff(app)
    for side, rendered in (("base", old), ("head", new)):
        if rendered is not None and rendered.error:
            out.errors.append(SideError(side, rendered.error))
    if out.errors:
        return out
    old = old or Rendered()
    new = new or Rendered()
    out.objects = [diff_object(a, b, show_secrets) for a, b in match(map(normalize, old.objects),
                                                                      map(normalize, new.objects))]
    renames = {model_key(o.old): model_key(o.new) for o in out.objects
               if o.action == RENAMED and o.new_id.kind == "InferenceService" and o.old_id.kind == o.new_id.kind}
    out.models = compare_models([model_facts(u, old.objects) for u in old.units],
                                [model_facts(u, new.objects) for u in new.units], renames)
    return out


def diff_object(old: dict | None, new: dict | None, show_secrets: bool) -> ObjectDiff:
    """One matched pair (either side may be None) as an :class:`ObjectDiff`."""
    if old is not None and new is not None:
        new = align(old, new)
    if not show_secrets:
        old, new = mask_pair(old, new)
    old_id = object_id(old) if old is not None else None
    new_id = object_id(new) if new is not None else None
    changes = field_changes(old or {}, new or {})
    if old is None:
        action = ADDED
    elif new is None:
        action = REMOVED
    elif old_id != new_id:
        action = RENAMED
    else:
        action = CHANGED if changes else UNCHANGED
    return ObjectDiff(action, old_id, new_id, old, new, changes)


def field_changes(old: dict, new: dict) -> tuple[FieldChange, ...]:
    """Leaf-level differences, in path order."""
    a, b = (flatten(old) if old else {}), (flatten(new) if new else {})
    out = []
    for path in sorted(a.keys() | b.keys()):
        if path not in b:
            out.append(FieldChange("remove", path, old=a[path]))
        elif path not in a:
            out.append(FieldChange("add", path, new=b[path]))
        elif a[path] != b[path]:
            out.append(FieldChange("change", path, a[path], b[path]))
    return tuple(out)
