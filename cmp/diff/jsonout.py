"""``--format json``: the report as structured items for bots (stable keys, sorted output)."""

from __future__ import annotations

import json
from typing import Any

from .match import ObjectId
from .result import UNCHANGED, AppDiff, DiffReport, ModelDiff, ObjectDiff

VERSION = 1


def render_json(report: DiffReport) -> str:
    """The whole report as one JSON document (unchanged objects and models left out)."""
    doc = {"version": VERSION, "base": report.base, "head": report.head, "changed": report.changed,
           "failed": report.failed, "exitCode": report.exit_code(), "counts": report.counts(),
           "skipped": report.skipped, "stillBroken": [a.path for a in report.still_broken],
           "apps": [app_json(a) for a in report.apps]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def app_json(app: AppDiff) -> dict[str, Any]:
    return {"path": app.path, "changed": app.changed, "broken": app.head_failed(), "stillBroken": app.still_broken(),
            "errors": [{"side": e.side, "messages": list(e.messages)} for e in app.errors],
            "models": [model_json(m) for m in app.models if m.action != UNCHANGED],
            "objects": [object_json(o) for o in app.objects if o.action != UNCHANGED]}


def model_json(model: ModelDiff) -> dict[str, Any]:
    out = {"action": model.action, "name": model.name, "runtime": model.runtime, "image": model.image,
           "changes": [{"field": r.label, "old": r.old or None, "new": r.new or None} for r in model.rows]}
    if model.warnings:
        out["warnings"] = list(model.warnings)
    if model.old_name:
        out["oldName"] = model.old_name
    return out


def object_json(item: ObjectDiff) -> dict[str, Any]:
    out: dict[str, Any] = {"action": item.action, **_id_json(item.id),
                           "changes": [{"op": c.op, "path": c.path, "old": c.old, "new": c.new}
                                       for c in item.changes]}
    if item.action == "renamed" and item.old_id is not None:
        out["from"] = _id_json(item.old_id)
    return out


def _id_json(ident: ObjectId) -> dict[str, str]:
    return {"group": ident.group, "kind": ident.kind, "namespace": ident.namespace, "name": ident.name}
