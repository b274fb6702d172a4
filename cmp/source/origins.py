"""Where a field of a kustomize-built object was written: the base file, or an overlay's patch.

kustomize says which file an object came from (``config.kubernetes.io/origin``) and which
kustomizations transformed it (``alpha.config.kubernetes.io/transformations``), but not which
patch set which field. This module reads the patches those kustomizations name (inline or in
files; strategic-merge and JSON 6902) and returns, for every field path a patch wrote, the file
and line of that write. Patches apply in the order kustomize lists them, so later ones win.

The annotation is kustomize's output, which content can write as well: its paths are never opened
directly. Every file is read through the caller's ``read``, which opens only files
``cmp.source.confine`` checked before the build (inside the repository, size-bounded). A patch
``target`` is matched as kustomize matches it: each of group, version, kind, name and namespace a
Go regular expression anchored as ``^(?:...)$`` (api/types/selector.go, v5.8.1), here with RE2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from .. import goregexp
from . import gojson
from .yamlio import Doc, load_stream

Reader = Callable[[str, str], list]

PATCH_TRANSFORMERS = ("PatchTransformer", "PatchStrategicMergeTransformer", "PatchJson6902Transformer")
_OPS_WITH_TARGET = ("add", "replace", "move", "copy")


@dataclass(frozen=True)
class Write:
    """A field path an overlay's patch wrote, where, and whether it replaced everything below it."""

    path: tuple
    file: str
    line: int
    whole: bool


def patch_writes(obj: dict, transformations: str, wrapper: str, show, cache: dict, read: Reader) -> list[Write]:
    """Every write the overlays' patches made to ``obj``, in application order.

    ``transformations`` is the annotation text, ``wrapper`` the directory its relative paths start
    from, ``show(abs_path)`` how a file is named in messages; ``cache`` (one per build) keeps each
    kustomization's parsed patches; ``read(path, shown)`` the documents of a checked file (none for
    any other path).
    """
    writes: list[Write] = []
    for kfile in _patching_kustomizations(transformations, wrapper):
        if kfile not in cache:
            kdocs = read(kfile, show(kfile))
            cache[kfile] = list(_patches(kdocs[0], os.path.dirname(kfile), show, read)) \
                if kdocs and isinstance(kdocs[0].obj, dict) else []
        for patch_docs, offset, target in cache[kfile]:
            for doc in patch_docs:
                if _applies(doc.obj, target, obj):
                    writes.extend(_writes(doc, offset, obj))
    return writes


def _patching_kustomizations(text: str, wrapper: str) -> list[str]:
    try:
        entries = load_stream(text)
    except Exception:  # informative only: kustomize wrote it
        return []
    out: list[str] = []
    for entry in entries[0].obj if entries and isinstance(entries[0].obj, list) else []:
        kind = ((entry or {}).get("configuredBy") or {}).get("kind") if isinstance(entry, dict) else None
        where = entry.get("configuredIn") if isinstance(entry, dict) else None
        if kind in PATCH_TRANSFORMERS and isinstance(where, str):
            path = os.path.normpath(os.path.join(wrapper, where))
            if path not in out:
                out.append(path)
    return out


def _patches(kdoc: Doc, directory: str, show, read: Reader):
    """(patch documents, line offset, target) for each patch entry of a kustomization."""
    k = kdoc.obj
    entries: list[tuple[tuple, Any, Any]] = []
    for field in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        key = next((key for key in k if gojson.match((field,), key) == field), None)
        items = k.get(key) if key is not None else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if field == "patchesStrategicMerge":
                entries.append(((key, i), item, None))
            elif isinstance(item, dict):
                entries.append(((key, i), gojson.get(item, "path") or gojson.get(item, "patch"),
                                gojson.get(item, "target")))
    for path, content, target in entries:
        if not isinstance(content, str):
            continue
        inline = "\n" in content or content.lstrip().startswith(("-", "[", "{", "apiVersion"))
        if inline:
            key = path + ("patch",) if isinstance(_get(k, path), dict) else path
            try:
                docs = load_stream(content, kdoc.file)
            except Exception:
                continue
            yield docs, (kdoc.line_of(key) or 0), target
        else:
            full = os.path.normpath(os.path.join(directory, content))
            yield read(full, show(full)), 0, target


def _get(obj: Any, path: tuple) -> Any:
    for part in path:
        obj = obj[part]
    return obj


def _applies(patch: Any, target: Any, obj: dict) -> bool:
    meta = obj.get("metadata") or {}
    if isinstance(target, dict):
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        actual = {"group": group, "version": version, "kind": str(obj.get("kind", "")),
                  "name": str(meta.get("name", "")), "namespace": str(meta.get("namespace") or "")}
        for field, text in actual.items():
            pattern = gojson.get(target, field)
            if not isinstance(pattern, str):
                continue
            try:
                if not goregexp.selector_match(pattern, text):
                    return False
            except goregexp.PatternError:  # refused before the build (cmp.source.confine)
                return False
        return True
    if isinstance(patch, dict):
        pmeta = patch.get("metadata") or {}
        return patch.get("kind") == obj.get("kind") and pmeta.get("name") == meta.get("name")
    return False


def _writes(doc: Doc, offset: int, obj: dict) -> list[Write]:
    if isinstance(doc.obj, list):
        return _json6902(doc, offset, obj)
    if isinstance(doc.obj, dict):
        return _strategic(doc, offset)
    return []


def _strategic(doc: Doc, offset: int) -> list[Write]:
    """A strategic-merge patch on a custom kind: maps merge, lists and scalars replace."""
    out = []
    for path, line in sorted(doc.marks.items(), key=lambda kv: (len(kv[0]), kv[1])):
        if path and path[0] in ("apiVersion", "kind") or path[:2] == ("metadata", "name"):
            continue
        value = _value_at(doc.obj, path)
        out.append(Write(path, doc.file, offset + line, not isinstance(value, dict)))
    return out


def _json6902(doc: Doc, offset: int, obj: dict) -> list[Write]:
    ops = [(i, op) for i, op in enumerate(doc.obj) if isinstance(op, dict) and op.get("op") in _OPS_WITH_TARGET]
    appends: dict[tuple, int] = {}
    for _, op in ops:
        parts = _pointer(op.get("path"))
        if parts and parts[-1] == "-":
            appends[parts[:-1]] = appends.get(parts[:-1], 0) + 1
    seen: dict[tuple, int] = {}
    out = []
    for i, op in ops:
        parts = _pointer(op.get("path"))
        if parts is None:
            continue
        if parts and parts[-1] == "-":
            parent = parts[:-1]
            length = len(_value_at(obj, parent) or [])
            index = length - appends[parent] + seen.get(parent, 0)
            seen[parent] = seen.get(parent, 0) + 1
            parts = parent + (index,)
        line = doc.marks.get((i,)) or doc.line or 1
        out.append(Write(parts, doc.file, offset + line, True))
    return out


def _pointer(pointer: Any) -> tuple | None:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return None
    parts: list = []
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        parts.append(int(token) if token.isdigit() else token)
    return tuple(parts)


def _value_at(obj: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and isinstance(part, int) and 0 <= part < len(obj):
            obj = obj[part]
        else:
            return None
    return obj


def apply_writes(marks: dict, moved: dict, writes: list[Write]) -> None:
    """Point every written path (and forget base lines below a wholesale write) at its patch."""
    for write in writes:
        if write.whole:
            depth = len(write.path)
            for path in [p for p in marks if len(p) > depth and p[:depth] == write.path]:
                marks.pop(path)
                moved.pop(path, None)
        marks[write.path] = write.line
        moved[write.path] = write.file
