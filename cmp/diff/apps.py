"""Finding the apps of a tree: the directories Argo CD would point an Application at.

An app is a directory with a kustomization whose resources (followed through local
directories and files) include a ModelDeployment, or a plain directory whose YAML/JSON files
hold one. A directory another app's kustomization pulls in (a ``base``, or the folder of a
file it lists) is part of that app, not an app of its own, unless it was named explicitly.
Only reading: nothing is built here; the render does that. Like the render, it reads nothing
outside the repository root (references leaving it are not followed) and no file over
``MAX_SCAN`` bytes or that is not a regular file; field names match as kustomize matches them.
"""

from __future__ import annotations

import os

from ..problems import CmpError
from ..source import confine, gojson
from ..source.kustomize import kustomization_file
from ..source.read import SUFFIXES
from ..source.yamlio import load_stream
from ..spec.deployment import KIND, is_model_deployment

_REF_FIELDS = ("resources", "bases", "components")
MAX_SCAN = 4 * 1024 * 1024


def find_apps(root: str, paths: list[str]) -> list[str]:
    """App directories under ``paths`` (relative to ``root``), relative to ``root``, sorted."""
    found: set[str] = set()
    for path in paths:
        start = os.path.normpath(os.path.join(root, path))
        if not os.path.isdir(start):
            continue
        real_root = os.path.realpath(root)
        candidates = {d for d in _walk(start) if is_app(d, real_root)}
        pulled_in = {p for d in candidates for p in _pulled_in(d, real_root)} - {start}
        found |= {os.path.relpath(d, root) for d in candidates - pulled_in}
    return sorted(found)


def _walk(start: str) -> list[str]:
    """``start`` and every directory below it, hidden ones left out, in sorted order."""
    out = []
    for directory, subdirs, _ in os.walk(start):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        out.append(os.path.normpath(directory))
    return out


def is_app(directory: str, root: str | None = None) -> bool:
    """True when the directory (through its kustomization, if any) holds a ModelDeployment.

    ``root`` (a real path; by default the repository root of ``directory``) bounds what is read.
    """
    root = root or confine.find_repo_root(directory)
    if kustomization_file(directory):
        return any(holds_deployment(f) for f in _closure_files(directory, set(), root))
    return any(holds_deployment(os.path.join(directory, n)) for n in sorted(os.listdir(directory))
               if n.endswith(SUFFIXES) and not n.startswith(".")
               and confine.is_within(os.path.realpath(os.path.join(directory, n)), root))


def has_inputs(directory: str) -> bool:
    """True when a render of ``directory`` would read something: a kustomization or a YAML/JSON file.

    A directory without either (say, one that now only holds the ``base/`` and ``prod/`` an app
    was split into) is no app on that side, rather than an app that renders nothing.
    """
    if not os.path.isdir(directory):
        return False
    if kustomization_file(directory):
        return True
    return any(n.endswith(SUFFIXES) and not n.startswith(".") and os.path.isfile(os.path.join(directory, n))
               for n in os.listdir(directory))


def holds_deployment(path: str) -> bool:
    """The file has a ModelDeployment document (or mentions one and does not parse: let the render say why)."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_SCAN:
            return False
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(MAX_SCAN + 1)
    except OSError:
        return False
    if KIND not in text:
        return False
    try:
        return any(is_model_deployment(doc.obj) for doc in load_stream(text, path))
    except CmpError:
        return True


def _references(directory: str, root: str) -> list[str]:
    """Local paths a kustomization lists in resources/bases/components (remote ones, control
    characters and paths leaving ``root`` skipped)."""
    file = kustomization_file(directory)
    if file is None or not confine.is_within(os.path.realpath(file), root):
        return []
    try:
        if os.path.getsize(file) > MAX_SCAN:
            return []
        with open(file, encoding="utf-8", errors="replace") as handle:
            docs = load_stream(handle.read(MAX_SCAN + 1), file)
    except (OSError, CmpError):
        return []
    spec = docs[0].obj if docs and isinstance(docs[0].obj, dict) else {}
    refs = [r for f in _REF_FIELDS for value in gojson.values(spec, f) if isinstance(value, list)
            for r in value if isinstance(r, str)]
    paths = [os.path.normpath(os.path.join(directory, r)) for r in refs
             if r and not confine.is_remote(r) and not confine.control_character(r)]
    return [p for p in paths if confine.is_within(os.path.realpath(p), root)]


def _closure_files(directory: str, seen: set[str], root: str) -> list[str]:
    """Files a kustomization reads as resources, through local bases (each directory once)."""
    if directory in seen:
        return []
    seen.add(directory)
    files: list[str] = []
    for ref in _references(directory, root):
        if os.path.isdir(ref):
            files += _closure_files(ref, seen, root)
        else:
            files.append(ref)
    return files


def _pulled_in(directory: str, root: str) -> set[str]:
    """Directories whose content the kustomization of ``directory`` uses (itself excluded)."""
    seen: set[str] = set()
    files = _closure_files(directory, seen, root)
    return (seen | {os.path.dirname(f) for f in files}) - {directory}
