"""Keeping a kustomize build inside its repository, checked before kustomize runs.

Every kustomization kustomize would load (the app's, and recursively those of its local
``resources``, ``bases`` and ``components``) is read here first and checked against an
allow-list that mirrors kustomize's own types (``api/types/kustomization.go`` and the types it
embeds, kustomize v5.8.1): every top-level field must be one kserve-cmp knows, and every field that
names a file, a directory or a URL is checked. Field names match the way kustomize's decoder
matches them (Go's ``encoding/json``: case-insensitive, with Unicode simple folding, so
``Resources:`` and ``reſources:`` are ``resources``). Refused, with the entry's ``file:line``:

* a URL or anything kustomize would fetch (a scheme, ``user@host:``, ``github.com/``) unless the
  ``allow-remote-bases`` setting is on; ``file://`` always;
* a path holding a control character (kustomize would take ``"https://...\\n"`` as a path, and
  then as a remote base);
* a path that resolves (through ``..`` or a symbolic link) outside the repository root, a
  kustomization file that does, and anything that is not a regular file or a directory;
* Helm, and ``generators``/``transformers``/``validators`` configurations other than the
  kustomize built-ins kserve-cmp knows (their own file fields are checked the same way): exec
  plugins, KRM functions, Go plugins.

The YAML files a kustomization loads (resource files, patches, CRDs, configurations,
replacements, the OpenAPI schema) get the limits of a plain app directory before kustomize reads
them: a size limit, and, when a file holds an anchor or a tag (the only ways to an alias bomb or a
language-specific tag), the bounded loader. kustomize expands aliases itself, to gigabytes within
seconds, and drops unknown tags silently. Generator inputs (``files``, ``envs``) are size-checked.
Inline patch text (``patches[].patch``, an inline ``patchesStrategicMerge`` entry, the built-in
patch transformers' ``patch``/``patches``/``jsonOp``) gets the same checks as a patch file.

The repository root is, in order: the tree Argo CD sent to the sidecar (the request directory
``_cmp_server/<uuid>``, see ``workdir``: the whole checkout, or with manifest-generate-paths the
common root of the annotated paths), the app directory with ``ARGOCD_APP_SOURCE_PATH`` taken
off its end, the nearest enclosing directory holding ``.git``,
the working directory when it encloses the app, else the app directory itself.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from .. import goregexp
from ..problems import CmpError, Problem
from . import gojson, workdir
from .kustomization import KUSTOMIZATION_FILES
from .yamlio import Doc, load_stream

FUNCTION_ANNOTATIONS = ("config.kubernetes.io/function", "config.k8s.io/function")
RULE = "kustomize"
REMOTE_RULE = "remote-base"

#: What kustomize's loaders would fetch instead of reading a local path (kustomize v5.8.1:
#: ``api/internal/loader/fileloader.go`` IsRemoteFile takes any URL whose scheme is http(s);
#: ``api/internal/git/repospec.go`` NewRepoSpecFromURL takes a scheme prefix, ``git::``, a
#: ``user@`` prefix or ``github.com/``/``github.com:``, all case-insensitively). This is a
#: superset: any scheme at all, a ``user@`` prefix, ``github.com/`` and a network path ``//``.
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:")
_USER = re.compile(r"^\s*[A-Za-z][A-Za-z0-9\-]*@")
_HOSTS = re.compile(r"^\s*(//|(github\.com|gitlab\.com|bitbucket\.org)[/:])", re.I)
_FILE_SCHEME = re.compile(r"^\s*(git::)?file:", re.I)


# -- the allow-list: kustomize's types, as far as kserve-cmp needs to know them -----------------

@dataclass(frozen=True)
class Ref:
    """A string naming something kustomize loads: ``resource`` (a file, a kustomization directory
    or a remote base), ``component`` (a directory or remote base), ``file`` (a file or an http(s)
    URL), ``kv-file`` (``[key=]file``), ``file-or-inline`` (a file, else inline YAML), ``plugin``
    (inline YAML, else like ``resource``)."""

    what: str
    yaml: bool = True  # kustomize parses the file as YAML (or JSON)


@dataclass(frozen=True)
class Seq:
    item: object


@dataclass(frozen=True)
class Fields:
    """A Go struct decoded by ``encoding/json``: names match case-insensitively; unknown ones are refused."""

    fields: Mapping


@dataclass(frozen=True)
class Keys:
    """A Go ``map[string]string`` kustomize reads by exact key; other keys are refused."""

    fields: Mapping


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass(frozen=True)
class Pattern:
    """A Go regular expression kustomize anchors as ``^(?:...)$`` (a selector field): it must compile
    with RE2, which the origin tracker matches it with."""


@dataclass(frozen=True)
class Inline:
    """Patch text kustomize parses as YAML (or JSON): it gets the checks of a patch file."""


OPAQUE = None  # a field that names nothing kustomize loads
INLINE = Inline()
HELM = Refused("Helm charts are not supported (kserve-cmp never runs helm): render the chart ahead of "
               "time and commit its output")
FILE = Ref("file")
# api/types/selector.go (resid.ResId and resid.Gvk inline)
SELECTOR = Fields({"group": Pattern(), "version": Pattern(), "kind": Pattern(), "name": Pattern(),
                   "namespace": Pattern(), "annotationSelector": OPAQUE, "labelSelector": OPAQUE})
# api/types/patch.go
PATCH = Fields({"path": FILE, "patch": INLINE, "target": SELECTOR, "options": OPAQUE})
# api/types/kvpairsources.go, generatorargs.go, configmapargs.go, secretargs.go
KV_SOURCES = {"literals": OPAQUE, "files": Seq(Ref("kv-file", yaml=False)),
              "envs": Seq(Ref("file", yaml=False)), "env": Ref("file", yaml=False)}
GENERATOR_ARGS = {"namespace": OPAQUE, "name": OPAQUE, "behavior": OPAQUE, "options": OPAQUE, **KV_SOURCES}
SECRET_ARGS = {**GENERATOR_ARGS, "type": OPAQUE}
# api/types/replacementfield.go, replacement.go
REPLACEMENT = Fields({"path": FILE, "source": OPAQUE, "targets": OPAQUE, "sourceValue": OPAQUE})
# api/types/kustomization.go (type Kustomization, with TypeMeta inline)
KUSTOMIZATION = Fields({
    "apiVersion": OPAQUE, "kind": OPAQUE, "metadata": OPAQUE,
    "openapi": Keys({"path": FILE, "version": OPAQUE}),
    "namePrefix": OPAQUE, "nameSuffix": OPAQUE, "namespace": OPAQUE, "commonLabels": OPAQUE, "labels": OPAQUE,
    "commonAnnotations": OPAQUE,
    "patchesStrategicMerge": Seq(Ref("file-or-inline")), "patchesJson6902": Seq(PATCH), "patches": Seq(PATCH),
    "images": OPAQUE, "imageTags": OPAQUE, "replacements": Seq(REPLACEMENT), "replicas": OPAQUE, "vars": OPAQUE,
    "sortOptions": OPAQUE,
    "resources": Seq(Ref("resource")), "components": Seq(Ref("component")), "crds": Seq(FILE),
    "bases": Seq(Ref("resource")),
    "configMapGenerator": Seq(Fields(GENERATOR_ARGS)), "secretGenerator": Seq(Fields(SECRET_ARGS)),
    "helmGlobals": HELM, "helmCharts": HELM, "helmChartInflationGenerator": HELM,
    "generatorOptions": OPAQUE, "configurations": Seq(FILE),
    "generators": Seq(Ref("plugin")), "transformers": Seq(Ref("plugin")), "validators": Seq(Ref("plugin")),
    "buildMetadata": OPAQUE,
})
#: kustomize's built-in plugins (``apiVersion: builtin``; api/internal/builtins/*.go) and their
#: configuration fields. Not here, so refused: HelmChartInflationGenerator (Helm),
#: IAMPolicyGenerator (cloud identities), ValueAddTransformer (alpha).
_META = {"apiVersion": OPAQUE, "kind": OPAQUE, "metadata": OPAQUE}
BUILTINS = {
    "AnnotationsTransformer": Fields({**_META, "annotations": OPAQUE, "fieldSpecs": OPAQUE}),
    "LabelTransformer": Fields({**_META, "labels": OPAQUE, "fieldSpecs": OPAQUE}),
    "NamespaceTransformer": Fields({**_META, "fieldSpecs": OPAQUE, "unsetOnly": OPAQUE,
                                    "setRoleBindingSubjects": OPAQUE}),
    "PrefixTransformer": Fields({**_META, "prefix": OPAQUE, "fieldSpecs": OPAQUE}),
    "SuffixTransformer": Fields({**_META, "suffix": OPAQUE, "fieldSpecs": OPAQUE}),
    "ImageTagTransformer": Fields({**_META, "imageTag": OPAQUE, "fieldSpecs": OPAQUE}),
    "ReplicaCountTransformer": Fields({**_META, "replica": OPAQUE, "fieldSpecs": OPAQUE}),
    "SortOrderTransformer": Fields({**_META, "sortOptions": OPAQUE}),
    "HashTransformer": Fields(_META),
    "PatchTransformer": Fields({**_META, "path": FILE, "patch": INLINE, "target": SELECTOR,
                                       "options": OPAQUE}),
    "PatchJson6902Transformer": Fields({**_META, "path": FILE, "target": SELECTOR, "jsonOp": INLINE}),
    "PatchStrategicMergeTransformer": Fields({**_META, "paths": Seq(Ref("file-or-inline")), "patches": INLINE}),
    "ReplacementTransformer": Fields({**_META, "replacements": Seq(REPLACEMENT)}),
    "ConfigMapGenerator": Fields({**_META, **GENERATOR_ARGS}),
    "SecretGenerator": Fields({**_META, **SECRET_ARGS}),
}


def _match(fields: Mapping, key: object) -> str | None:
    """The canonical field ``key`` decodes into, or None."""
    return gojson.match(fields, key)


# -- the repository root -------------------------------------------------------------------------

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


def is_remote(entry: str) -> bool:
    """True when kustomize could read ``entry`` over the network (see ``_SCHEME``)."""
    return bool(_SCHEME.match(entry) or _USER.match(entry) or _HOSTS.match(entry))


def control_character(text: str) -> str | None:
    """The first control character (Unicode category Cc) of ``text``, as ``U+000A``, or None."""
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            return f"U+{ord(ch):04X}"
    return None


# -- the walk -------------------------------------------------------------------------------------

class _Walk:
    def __init__(self, app: str, root: str, display_root: str, max_size: int, allow_remote: bool):
        self.app, self.root, self.display_root = app, root, display_root
        self.max_size, self.allow_remote = max_size, allow_remote
        self.problems: list[Problem] = []
        self.stack: list[str] = [app]
        self.seen_dirs: set[str] = set()
        self.checked: set[str] = set()
        #: Real paths of every file checked here (kustomization files, YAML inputs): the only files
        #: the origin tracker may open after the build.
        self.files: set[str] = set()

    def shown(self, path: str) -> str:
        return os.path.normpath(os.path.join(self.display_root, os.path.relpath(path, self.app)))

    def run(self) -> None:
        while self.stack:
            current = self.stack.pop()
            if current in self.seen_dirs:
                continue
            self.seen_dirs.add(current)
            doc = self.kustomization(current)
            if doc is not None:
                self.value(doc, doc.obj, KUSTOMIZATION, (), current)

    def kustomization(self, directory: str) -> Doc | None:
        names = [n for n in KUSTOMIZATION_FILES if os.path.lexists(os.path.join(directory, n))]
        if not names:
            return None  # kustomize reports a missing kustomization itself
        path = os.path.join(directory, names[0])
        shown = self.shown(path)
        if len(names) > 1:
            self.problems.append(Problem(f"more than one kustomization file here ({', '.join(names)})",
                                         file=shown, rule=RULE))
            return None
        real = os.path.realpath(path)
        if not is_within(real, self.root):
            self.problems.append(Problem("kustomization file points outside the repository", file=shown, rule=RULE))
            return None
        data = self.read(real, shown)
        if data is None:
            return None
        try:
            docs = load_stream(data, shown)
        except CmpError as exc:
            self.problems.extend(exc.problems)
            return None
        self.files.add(real)
        if not docs or not isinstance(docs[0].obj, dict):
            return None  # kustomize reports an empty or malformed kustomization itself
        return docs[0]

    def read(self, real: str, shown: str) -> bytes | None:
        """The bytes of a regular file of at most ``max_size`` bytes, or None with a problem."""
        try:
            info = os.stat(real)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            self.problems.append(Problem("not a regular file", file=shown, rule="read"))
            return None
        if info.st_size > self.max_size:
            self.problems.append(Problem(f"file is {info.st_size} bytes, over the limit of {self.max_size} "
                                         f"(setting max-file-size)", file=shown, rule="read"))
            return None
        with open(real, "rb") as handle:
            data = handle.read(self.max_size + 1)
        if len(data) > self.max_size:
            self.problems.append(Problem(f"file grew past the limit of {self.max_size} (setting max-file-size)",
                                         file=shown, rule="read"))
            return None
        return data

    def value(self, doc: Doc, value: object, spec: object, path: tuple, directory: str) -> None:
        if spec is OPAQUE:
            return
        if isinstance(spec, Refused):
            self.problems.append(doc.problem(path, spec.reason, rule=RULE))
        elif isinstance(spec, Seq):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    self.value(doc, item, spec.item, path + (i,), directory)
        elif isinstance(spec, (Fields, Keys)):
            if not isinstance(value, dict):
                return
            for key, item in value.items():
                name = _match(spec.fields, key) if isinstance(spec, Fields) else \
                    (key if key in spec.fields else None)
                if name is None:
                    where = "kustomization field" if spec is KUSTOMIZATION else "field"
                    self.problems.append(doc.problem(path + (key,), f"{where} {str(key)!r} is not one kserve-cmp "
                                                                    f"knows: refused", rule=RULE))
                    continue
                self.value(doc, item, spec.fields[name], path + (key,), directory)
        elif isinstance(spec, Ref) and isinstance(value, str):
            self.ref(doc, value, spec, path, directory)
        elif isinstance(spec, Inline) and isinstance(value, str):
            self.inline_yaml(doc, value, path)
        elif isinstance(spec, Pattern) and isinstance(value, str) and value:
            try:
                goregexp.compile_go(goregexp.anchored(value))
            except goregexp.PatternError as exc:
                self.problems.append(doc.problem(path, f"invalid regular expression {value!r}: {exc.reason} "
                                                       f"(kustomize matches it as ^(?:...)$ with Go's regexp)",
                                                 rule=RULE))

    def ref(self, doc: Doc, entry: str, spec: Ref, path: tuple, directory: str) -> None:
        what = spec.what
        if what == "file-or-inline" and "\n" in entry:
            # inline patch text: kustomize tries it as a file first, and a URL cannot hold a newline
            return self.inline_yaml(doc, entry, path)
        if what == "plugin" and self.inline_plugins(doc, entry, path, directory):
            return
        bad = control_character(entry)
        if bad:
            self.problems.append(doc.problem(path, f"{entry!r}: a path may not hold control characters "
                                                   f"(found {bad})", rule=RULE))
            return
        target = entry.split("=", 1)[1] if what == "kv-file" and entry.count("=") == 1 else entry
        if is_remote(entry) or is_remote(target):
            if _FILE_SCHEME.match(entry) or _FILE_SCHEME.match(target):
                self.problems.append(doc.problem(path, f"{entry!r}: file URLs are not allowed", rule=RULE))
            elif not self.allow_remote:
                noun = "base" if what in ("resource", "component", "plugin") else "file"
                self.problems.append(doc.problem(path, f"remote {noun} {entry!r} is not allowed (setting "
                                                       f"allow-remote-bases is off)", rule=REMOTE_RULE))
            return
        if not target:
            return
        real = os.path.realpath(os.path.join(directory, target))
        if not is_within(real, self.root):
            self.problems.append(doc.problem(path, f"{entry!r} points outside the repository", rule=RULE))
            return
        if not os.path.lexists(real):
            if what == "file-or-inline":  # kustomize reads the entry as inline YAML
                self.inline_yaml(doc, entry, path)
            return  # else kustomize reports it
        if os.path.isdir(real):
            if what in ("resource", "component"):
                self.stack.append(real)
            elif what == "plugin":
                self.problems.append(doc.problem(path, f"{entry!r}: only plugin configuration files are "
                                                       f"supported here, not directories", rule=RULE))
            else:
                self.problems.append(doc.problem(path, f"{entry!r} is a directory, not a file", rule=RULE))
            return
        if real in self.checked:
            return
        self.checked.add(real)
        shown = self.shown(real)
        data = self.read(real, shown)
        if data is None:
            return
        self.files.add(real)
        if what == "plugin":
            try:
                configs = load_stream(data, shown)
            except CmpError as exc:
                self.problems.extend(exc.problems)
                return
            for config in configs:
                self.plugin(config, config.obj, (), doc, path, directory)
        elif spec.yaml and (b"&" in data or b"!" in data):
            try:
                load_stream(data, shown)
            except CmpError as exc:
                self.problems.extend(exc.problems)

    def inline_yaml(self, doc: Doc, text: str, path: tuple) -> None:
        """Inline patch text: the bounded loader, as for a patch file (the kustomization holding it
        is size-checked already)."""
        try:
            load_stream(text, doc.file)
        except CmpError as exc:
            self.problems.extend(doc.problem(path, f"inline patch: {p.message}", rule=p.rule) for p in exc.problems)

    def inline_plugins(self, doc: Doc, entry: str, path: tuple, directory: str) -> bool:
        """Check ``entry`` as inline plugin configurations when kustomize would read it so (it parses
        as one or more objects); False when it is a path."""
        try:
            configs = load_stream(entry, doc.file)
        except CmpError:
            return False
        if not configs or not all(isinstance(c.obj, dict) for c in configs):
            return False
        for config in configs:
            self.plugin(doc, config.obj, path, doc, path, directory)
        return True

    def plugin(self, doc: Doc, obj: object, path: tuple, ref_doc: Doc, ref_path: tuple, directory: str) -> None:
        """A generator/transformer/validator configuration: one of kustomize's built-ins, whose file
        fields are checked like a kustomization's (kustomize resolves them against the directory of
        the kustomization that names the configuration)."""
        if not isinstance(obj, dict):
            return  # kustomize rejects it with its own message
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        kind = f"{obj.get('kind')} ({obj.get('apiVersion')})"
        if any(a in annotations for a in FUNCTION_ANNOTATIONS) or obj.get("apiVersion") != "builtin":
            what = "KRM function" if any(a in annotations for a in FUNCTION_ANNOTATIONS) else "plugin"
            self.problems.append(ref_doc.problem(ref_path, f"{what} {kind} is not allowed: kserve-cmp runs only "
                                                           f"kustomize's built-in generators and transformers "
                                                           f"(apiVersion: builtin), never exec plugins or KRM "
                                                           f"functions", rule=RULE))
            return
        if obj.get("kind") not in BUILTINS:
            self.problems.append(ref_doc.problem(ref_path, f"built-in plugin {obj.get('kind')!r} is not allowed "
                                                           f"(allowed: {', '.join(sorted(BUILTINS))})", rule=RULE))
            return
        self.value(doc, obj, BUILTINS[obj["kind"]], path, directory)


def check_tree(app: str, root: str, display_root: str, max_size: int, allow_remote: bool = False,
               files: set[str] | None = None) -> list[Problem]:
    """Everything reachable from ``app`` that would let kustomize reach outside ``root`` or blow up.

    ``app`` and ``root`` are real paths; messages name files as ``display_root`` plus their
    path relative to the app, as the user typed the app directory. ``max_size`` bounds each
    file kustomize will load. ``files``, when given, receives the real path of every file checked.
    """
    walk = _Walk(app, root, display_root, max_size, allow_remote)
    walk.run()
    if files is not None:
        files.update(walk.files)
    return walk.problems
