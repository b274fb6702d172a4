"""What an app is, and where the apps of a tree are: one notion for ``diff``, ``validate`` and the
ApplicationSet example.

An app is a directory that Argo CD could point an Application at:

* it has a kustomization (of kind ``Kustomization``: a ``Component`` cannot be built alone), or
* one of its ``*.yaml``/``*.yml``/``*.json`` files holds a ModelDeployment, any KServe object
  (API group ``serving.kserve.io``), or a ClusterProfile that renders a cluster-wide object
  (``spec.storageInitializerDefaults``; a profile without it is read by the apps that name it and
  renders nothing alone);

and it is not part of another app: not a directory another app's kustomization pulls in (a
``base``, or the folder of a file it lists) and not below another app's directory. Discovery
walks down from the given paths, skips hidden directories and those excluded by
``.kserve-cmp-ignore`` at the root or ``--exclude`` (see :mod:`cmp.source.ignore`). A path named
explicitly is an app when it qualifies, whatever the exclusions say. Only reading: nothing is
built here; the render does that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..problems import CmpError
from ..source.confine import control_character, find_repo_root, is_remote, is_within
from ..source.ignore import Ignore
from ..source.ignore import load as load_ignore
from ..source.kustomization import kustomization_file
from ..source.read import SUFFIXES
from ..source.yamlio import load_stream
from .deployment import is_model_deployment
from .profile import is_cluster_profile

KSERVE_GROUP = "serving.kserve.io"
#: The ClusterProfile section that renders a cluster-wide object (the ``default``
#: ClusterStorageContainer, see ``cmp.transforms.storage.cluster_objects``): a directory holding
#: such a profile is the platform team's app; a profile without it is only read by the apps that
#: name it with the ``cluster-profile`` setting, and renders nothing on its own.
PROFILE_OWNS = "storageInitializerDefaults"
MAX_SCAN = 4 * 1024 * 1024
MAX_KUSTOMIZATION_BYTES = 1 << 20
MAX_STRINGS = 100_000
_MARKERS = ("ModelDeployment", "ClusterProfile", KSERVE_GROUP)


def find_apps(root: str, paths: list[str] | tuple[str, ...], ignore: Ignore | None = None) -> list[str]:
    """App directories under ``paths`` (relative to ``root``), relative to ``root``, sorted."""
    ignore = ignore or Ignore()
    found: set[str] = set()
    for path in paths:
        start = os.path.normpath(os.path.join(root, path))
        if not os.path.isdir(start):
            continue
        real_root = os.path.realpath(root)
        candidates = [d for d in _walk(start, root, ignore) if is_app(d, real_root)]
        pulled_in = {p for d in candidates for p in pulled_in_by(d, root)} - {start}
        kept: list[str] = []
        for directory in sorted(set(candidates) - pulled_in):
            if not any(_below(directory, outer) for outer in kept):
                kept.append(directory)
        found |= {os.path.relpath(d, root) for d in kept}
    return sorted(found)


def _below(path: str, outer: str) -> bool:
    return path != outer and path.startswith(outer.rstrip(os.sep) + os.sep)


def _walk(start: str, root: str, ignore: Ignore) -> list[str]:
    """``start`` and every directory below it, hidden and excluded ones left out, in sorted order."""
    out = []
    for directory, subdirs, _ in os.walk(start):
        kept = []
        for name in sorted(subdirs):
            full = os.path.join(directory, name)
            if name.startswith(".") or os.path.islink(full):
                continue
            if ignore.excluded(os.path.relpath(full, root)):
                continue
            kept.append(name)
        subdirs[:] = kept
        out.append(os.path.normpath(directory))
    return out


def is_app(directory: str, root: str | None = None) -> bool:
    """True when ``directory`` is an app by itself (see the module docstring).

    ``root`` (a real path; by default the repository root of ``directory``) bounds what is read:
    a file whose real path leaves it (a symbolic link out of the repository) is never opened.
    """
    root = root or find_repo_root(directory)
    file = kustomization_file(directory)
    if file is not None:
        return _kind(file, root) != "Component"
    return any(holds_app_document(path) for path in (os.path.join(directory, n) for n in sorted(os.listdir(directory))
                                                     if n.endswith(SUFFIXES) and not n.startswith("."))
               if is_within(os.path.realpath(path), root))


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


def _read(path: str) -> str | None:
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_SCAN:
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_SCAN + 1)
    except OSError:
        return None


def holds_app_document(path: str) -> bool:
    """The file has a ModelDeployment, ClusterProfile or KServe document (or mentions one and does
    not parse: the render then says why)."""
    text = _read(path)
    if text is None or not any(marker in text for marker in _MARKERS):
        return False
    try:
        return any(_is_app_document(doc.obj) for doc in load_stream(text, path))
    except CmpError:
        return True


def _is_app_document(obj: object) -> bool:
    if not isinstance(obj, dict):
        return False
    api_version = obj.get("apiVersion")
    group = api_version.split("/", 1)[0] if isinstance(api_version, str) and "/" in api_version else ""
    if is_cluster_profile(obj):
        spec = obj.get("spec")
        return isinstance(spec, dict) and PROFILE_OWNS in spec
    return is_model_deployment(obj) or group == KSERVE_GROUP


def _kind(kustomization: str, root: str) -> str | None:
    if not is_within(os.path.realpath(kustomization), root):
        return None
    text = _read(kustomization)
    try:
        docs = load_stream(text or "", kustomization)
    except CmpError:
        return None
    obj = docs[0].obj if docs else None
    return obj.get("kind") if isinstance(obj, dict) else None


@dataclass
class Closure:
    """What one app reads on one side: directories (with everything below them) and single files."""

    directories: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    unknown: bool = False          # something could not be read: treat every change as relevant

    def touches(self, changed: set[str]) -> bool:
        if self.unknown:
            return True
        for path in changed:
            if path in self.files:
                return True
            if any(path == d or path.startswith(d + os.sep) for d in self.directories):
                return True
        return False


def closure(root: str, app: str, cluster_profile: str = "") -> Closure:
    """What ``app`` (relative to ``root``) reads, as root-relative paths: its own directory, every
    directory and file its kustomizations name (through bases and components), and a cluster
    profile given relative to it.

    It over-approximates on purpose: every string in a kustomization that names an existing path
    relative to it counts, whatever the field, so a field kserve-cmp does not know still pulls
    its file in. A kustomization that cannot be read marks the closure unknown. Paths outside
    ``root`` are left out (the render refuses them).
    """
    out = Closure()
    real_root = os.path.realpath(root)
    pending = [os.path.join(root, app)]
    seen: set[str] = set()
    if cluster_profile and not os.path.isabs(cluster_profile):
        out.files.add(os.path.normpath(os.path.join(app, cluster_profile)))
    while pending:
        directory = os.path.normpath(pending.pop())
        real = os.path.realpath(directory)
        if real in seen:
            continue
        seen.add(real)
        if not is_within(real, real_root):
            continue            # outside the tree: the render refuses it, and nothing there is a change
        out.directories.add(os.path.relpath(real, real_root))
        file = kustomization_file(directory)
        if file is None:
            continue
        if not is_within(os.path.realpath(file), real_root):
            continue            # a kustomization linked from outside: the render refuses it
        strings = _strings_of(file)
        if strings is None:
            out.unknown = True
            return out
        for value in strings:
            target = os.path.realpath(os.path.join(directory, value))
            if not is_within(target, real_root):
                continue
            if os.path.isdir(target):
                pending.append(target)
            elif os.path.exists(target):
                out.files.add(os.path.relpath(target, real_root))
    return out


def _strings_of(file: str) -> list[str] | None:
    """Every string value in the kustomization that could be a relative path; None when unreadable."""
    try:
        if os.path.getsize(file) > MAX_KUSTOMIZATION_BYTES:
            return None
        with open(file, encoding="utf-8") as handle:
            docs = load_stream(handle.read(MAX_KUSTOMIZATION_BYTES + 1), file)
    except (OSError, UnicodeDecodeError, CmpError):
        return None
    found: list[str] = []
    stack = [d.obj for d in docs]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node and len(node) < 4096 and not control_character(node) \
                and not is_remote(node):
            found.append(node)
            if "=" in node:
                found.append(node.split("=", 1)[1])   # generators' files: [key=]path
            if len(found) > MAX_STRINGS:
                return None
    return found


def pulled_in_by(directory: str, root: str) -> set[str]:
    """Directories (absolute) whose content the kustomization of ``directory`` uses, itself excluded."""
    if kustomization_file(directory) is None:
        return set()
    found = closure(root, os.path.relpath(directory, root))
    paths = found.directories | {os.path.dirname(f) for f in found.files}
    return {os.path.normpath(os.path.join(root, p)) for p in paths} - {os.path.normpath(directory)}


def discover(paths: tuple[str, ...] | list[str], excludes: tuple[str, ...] = ()) -> list[str]:
    """The apps ``cmp validate`` renders for ``paths`` (as the user named them, relative to the
    working directory), sorted: a file stays itself; a directory is searched from the top of its
    repository (where ``.kserve-cmp-ignore`` is read) down from that directory."""
    found: set[str] = set()
    for path in paths:
        if os.path.isfile(path):
            found.add(path)
            continue
        if not os.path.isdir(path):
            found.add(path)           # the render says "no such directory"
            continue
        root = find_repo_root(path)
        start = os.path.relpath(os.path.realpath(path), root)
        for app in find_apps(root, [start], load_ignore(root, excludes)):
            shown = os.path.relpath(os.path.join(root, app))
            found.add(shown if not shown.startswith("..") else os.path.join(root, app))
    return sorted(found)
