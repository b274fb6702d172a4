"""Keeping a kustomize build inside its repository, checked before kustomize runs.

kustomize's default load restrictor keeps *files* inside each kustomization's directory, but it
loads *directories* (``resources``, ``bases``, ``components``) from anywhere, through ``..`` or a
symbolic link. Repository content must not reach further than the repository, so every local
reference reachable from the app's kustomization is resolved (links followed) and refused when
it lands outside the repository root. Helm charts and plugin configurations other than
kustomize's built-in ones (exec plugins, KRM functions, Go plugins) are refused with a clear
message too: kserve-cmp never enables them, and kustomize's own error would not say why. Remote
bases are refused unless the ``allow-remote-bases`` setting is on.

The YAML files a kustomization loads (resource files and patches) get the limits of a plain
app directory before kustomize reads them: a size limit, and, when a file holds an anchor or a
tag (the only ways to an alias bomb or a language-specific tag), the bounded loader. kustomize
expands aliases itself, to gigabytes within seconds, and drops unknown tags silently.

The repository root is, in order: the tree Argo CD sent to the sidecar (the request directory
``_cmp_server/<uuid>``, see ``workdir``: the whole checkout, or with manifest-generate-paths the
common root of the annotated paths), the app directory with ``ARGOCD_APP_SOURCE_PATH`` taken
off its end, the nearest enclosing directory holding ``.git``,
the working directory when it encloses the app, else the app directory itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from ..problems import CmpError, Problem
from . import workdir
from .kustomize import kustomization_file
from .yamlio import Doc, load_stream

DIRECTORY_FIELDS = ("resources", "bases", "components")
PLUGIN_FIELDS = ("generators", "transformers", "validators")
HELM_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")
MAX_KUSTOMIZATION_BYTES = 1 << 20
#: What kustomize would fetch over the network (git or http bases), as written in a kustomization.
REMOTE = re.compile(r"^(https?://|git::|git@|ssh://|file://|github\.com/|gitlab\.com/|bitbucket\.org/)"
                    r"|\?ref=|\.git(//|$)")
RULE = "kustomize"


def find_repo_root(app: str, environ: Mapping[str, str] | None = None, cwd: str | None = None) -> str:
    """The real path of the repository that holds the app directory ``app``."""
    environ = os.environ if environ is None else environ
    real = os.path.realpath(app)
    sent = workdir.sent_root(real)
    if sent is not None:
        return sent
    source_path = os.path.normpath(environ.get("ARGOCD_APP_SOURCE_PATH", "") or ".")
    if source_path != "." and not os.path.isabs(source_path) and not source_path.startswith(".."):
        parts = source_path.split(os.sep)
        if real.split(os.sep)[-len(parts):] == parts:
            return real.rsplit(os.sep, len(parts))[0] or os.sep
    current = real
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    here = os.path.realpath(cwd or os.getcwd())
    return here if is_within(real, here) else real


def is_within(path: str, root: str) -> bool:
    """True when real path ``path`` is ``root`` or below it."""
    return os.path.commonpath([path, root]) == root


def check_tree(app: str, root: str, display_root: str, max_size: int, allow_remote: bool = False
               ) -> list[Problem]:
    """Every reference out of ``root``, remote base (unless ``allow_remote``), Helm chart, plugin and
    hostile YAML file reachable from ``app``.

    ``app`` and ``root`` are real paths; messages name files as ``display_root`` plus their
    path relative to the app, as the user typed the app directory. ``max_size`` bounds each
    YAML file kustomize will load.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    stack = [app]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        doc = _load_kustomization(current, app, display_root)
        if doc is None:
            continue
        problems.extend(_helm(doc))
        if not allow_remote:
            problems.extend(_remote(doc))
        for field in DIRECTORY_FIELDS:
            for i, target in _local_entries(doc, field, current):
                if not is_within(target, root):
                    problems.append(doc.problem((field, i), f"{doc.obj[field][i]!r} points outside the "
                                                            f"repository", rule=RULE))
                elif os.path.isdir(target):
                    stack.append(target)
        for field in PLUGIN_FIELDS:
            problems.extend(_plugins(doc, field, current, root))
        for path in _yaml_inputs(doc, current):
            if is_within(path, root):
                problems.extend(_hostile_yaml(path, _shown(path, app, display_root), max_size))
    return problems


def _yaml_inputs(doc: Doc, directory: str) -> list[str]:
    """Real paths of the files kustomize will parse as YAML for this kustomization: resources, patches."""
    obj = doc.obj
    names = [e for e in _strings(obj.get("resources")) + _strings(obj.get("bases"))
             + _strings(obj.get("patchesStrategicMerge")) if "\n" not in e and "://" not in e]
    for field in ("patches", "patchesJson6902"):
        names += [p["path"] for p in obj.get(field) or [] if isinstance(p, dict) and isinstance(p.get("path"), str)]
    paths = (os.path.realpath(os.path.join(directory, name)) for name in names if name)
    return sorted({p for p in paths if os.path.isfile(p)})


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _hostile_yaml(path: str, shown: str, max_size: int) -> list[Problem]:
    """The size limit, and the bounded loader's verdict on a file with anchors or tags."""
    size = os.path.getsize(path)
    if size > max_size:
        return [Problem(f"file is {size} bytes, over the limit of {max_size} (setting max-file-size)",
                        file=shown, rule="read")]
    with open(path, "rb") as handle:
        data = handle.read(max_size + 1)
    if b"&" not in data and b"!" not in data:
        return []
    try:
        load_stream(data, shown)
    except CmpError as exc:
        return exc.problems
    return []


def _shown(path: str, app: str, display_root: str) -> str:
    return os.path.normpath(os.path.join(display_root, os.path.relpath(path, app)))


def _load_kustomization(directory: str, app: str, display_root: str) -> Doc | None:
    path = kustomization_file(directory)
    if path is None:
        return None
    with open(path, "rb") as handle:
        docs = load_stream(handle.read(MAX_KUSTOMIZATION_BYTES), _shown(path, app, display_root))
    if not docs or not isinstance(docs[0].obj, dict):
        return None  # kustomize reports an empty or malformed kustomization itself
    return docs[0]


def _remote(doc: Doc) -> list[Problem]:
    return [doc.problem((field, i), f"remote base {entry!r} is not allowed (setting allow-remote-bases is off)",
                        rule="remote-base")
            for field in DIRECTORY_FIELDS for i, entry in enumerate(_list(doc.obj.get(field)))
            if isinstance(entry, str) and REMOTE.search(entry)]


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _local_entries(doc: Doc, field: str, directory: str) -> list[tuple[int, str]]:
    """(index, real path) of the entries of ``field`` that name local paths (not URLs, not inline YAML)."""
    out = []
    for i, entry in enumerate(_list(doc.obj.get(field))):
        if isinstance(entry, str) and entry and "\n" not in entry and not REMOTE.search(entry):
            out.append((i, os.path.realpath(os.path.join(directory, entry))))
    return out


def _helm(doc: Doc) -> list[Problem]:
    return [doc.problem((field,), "Helm charts are not supported (kserve-cmp never runs helm): render the "
                                  "chart ahead of time and commit its output", rule=RULE)
            for field in HELM_FIELDS if doc.obj.get(field) is not None]


def _plugins(doc: Doc, field: str, directory: str, root: str) -> list[Problem]:
    """Plugin configurations of ``field``: only kustomize's built-in ones (``apiVersion: builtin``) may run."""
    entries = doc.obj.get(field)
    problems = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, str):
            continue
        if "\n" in entry:
            configs = load_stream(entry, doc.file)
        else:
            target = os.path.realpath(os.path.join(directory, entry))
            if not is_within(target, root):
                problems.append(doc.problem((field, i), f"{entry!r} points outside the repository", rule=RULE))
                continue
            if not os.path.isfile(target):
                problems.append(doc.problem((field, i), f"{entry!r}: only plugin configuration files are "
                                                        f"supported here, not directories", rule=RULE))
                continue
            with open(target, "rb") as handle:
                configs = load_stream(handle.read(MAX_KUSTOMIZATION_BYTES), doc.file)
        for config in configs:
            reason = _not_builtin(config.obj)
            if reason:
                problems.append(doc.problem((field, i), f"{reason} is not allowed: kserve-cmp runs only "
                                                        f"kustomize's built-in generators and transformers "
                                                        f"(apiVersion: builtin), never exec plugins or KRM "
                                                        f"functions", rule=RULE))
    return problems


def _not_builtin(obj: object) -> str | None:
    """Why a plugin configuration is not a built-in one, or None when it is."""
    if not isinstance(obj, dict):
        return None  # kustomize rejects it with its own message
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    kind = f"{obj.get('kind')} ({obj.get('apiVersion')})"
    if any(a in annotations for a in FUNCTION_ANNOTATIONS):
        return f"KRM function {kind}"
    if obj.get("apiVersion") != "builtin":
        return f"plugin {kind}"
    return None
