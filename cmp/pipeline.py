"""One render: read -> parse -> expand -> transforms -> validate -> emit. Returns a result, never prints.

Fail closed: any error in any stage raises :class:`CmpError` with every problem found, and
nothing is emitted. Output order does not depend on input order: objects are sorted by kind
rank, group, kind, namespace and name, and keys are sorted when dumped.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from . import catalog
from .expand import expand
from .kserve import select
from .problems import CmpError, Problem, Problems
from .provenance import Provenance, object_key
from .scope import declared_cluster_kinds, is_cluster_scoped
from .settings import Settings
from .source.read import read_app, read_stream
from .source.yamlio import (RENDER_BYTES_FACTOR, Doc, ambiguous_scalars, dump_stream, format_path,
                           render_budget)
from .spec import deployment, profile
from .transforms import PROFILE_SECTIONS, SUPPORTED_SECTIONS, cluster_objects, run_all
from .unit import RenderContext, Unit

OUR_GROUP = deployment.API_GROUP
RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")
KSERVE_GROUP = "serving.kserve.io"
UNIT_KINDS = ("InferenceService", "InferenceGraph", "LLMInferenceService")

#: Objects that must exist before others (CRDs, namespaces, runtimes) come first.
_KIND_RANK = {"CustomResourceDefinition": 0, "Namespace": 1, "ClusterStorageContainer": 2,
              "ClusterServingRuntime": 3, "ServingRuntime": 3, "InferenceService": 5, "InferenceGraph": 6}


@dataclass
class RenderResult:
    objects: list[dict]
    units: list[Unit]
    warnings: list[Problem]
    provenance: Provenance
    text: str = ""
    consumed: list[Doc] = field(default_factory=list)
    release: catalog.Release | None = None   # the KServe release rendered for


def render(path: str, settings: Settings) -> RenderResult:
    """Render the app at ``path``; raises CmpError (with every problem) instead of partial output.

    Every YAML stream the render loads shares one budget (``cmp.source.yamlio.render_budget``).
    """
    with render_budget(settings.max_file_size):
        docs = read_app(path, settings)
        return render_docs(docs, settings)


def render_stream(stream: BinaryIO, settings: Settings) -> RenderResult:
    """Render a YAML stream (stdin) as :func:`render` renders a directory holding one file, ``<stdin>``."""
    with render_budget(settings.max_file_size):
        return render_docs(read_stream(stream, settings.max_file_size), settings)


def render_docs(docs: list[Doc], settings: Settings) -> RenderResult:
    ctx = RenderContext(settings=settings, inputs=docs)
    ours, profiles, passthrough = _split(docs, ctx)
    if settings.namespace:
        _default_namespace(passthrough, settings.namespace)
    for doc in ours + [d for d in passthrough if str(d.obj.get("apiVersion", "")).startswith(KSERVE_GROUP + "/")]:
        ctx.problems.extend(ambiguous_scalars(doc, _converted_to_text))
    ctx.profile, found = profile.resolve(profiles, settings.cluster_profile, settings.max_file_size,
                                         PROFILE_SECTIONS)
    ctx.problems.extend(found)
    ctx.release = catalog.resolve(getattr(ctx.profile, "kserve_version", None))  # checked by profile.parse
    # Raw KServe inputs are checked before anything reads them: runtimes are bases and raw
    # InferenceServices go through the transforms, which rely on the CRD schema's types.
    _validate([(d.obj, d, None) for d in passthrough], ctx.problems, ctx.provenance, ctx.release)
    ctx.problems.raise_if_errors()
    _index_runtimes(passthrough, ctx)
    passthrough = _drop_unowned_runtimes(passthrough, ctx)
    units: list[Unit] = []
    for doc in ours:
        md, problems = deployment.parse(doc, SUPPORTED_SECTIONS)
        ctx.problems.extend(problems)
        if md is not None:
            unit = expand(md, ctx)
            if unit is not None:
                units.append(unit)
    raw_units, passthrough = _raw_units(passthrough)
    units.extend(raw_units)
    for unit in units:
        unit.release = ctx.release
    ctx.problems.raise_if_errors()
    run_all(units, ctx)
    cluster = cluster_objects(ctx)
    ctx.problems.raise_if_errors()
    rendered = [(o, u.source, u) for u in units for o in u.objects()] + [(obj, doc, None) for obj, doc in cluster]
    located = rendered + [(d.obj, d, None) for d in passthrough]
    _check_identity(located, ctx.problems)
    ctx.problems.raise_if_errors()
    _check_duplicates(located, ctx.problems, settings.namespace)
    _validate(rendered, ctx.problems, ctx.provenance, ctx.release)  # pass-through objects were checked on the way in
    ctx.problems.raise_if_errors()
    objects = sorted((o for o, _, _ in located), key=sort_key)
    if not objects and not settings.allow_empty:
        raise CmpError(Problem("rendered zero objects (pass --allow-empty if that is intended: Argo CD would "
                               "prune everything this app deployed)", rule="empty"))
    text = dump_stream(objects)
    limit = RENDER_BYTES_FACTOR * settings.max_file_size
    if len(text.encode("utf-8")) > limit:
        raise CmpError(Problem(f"the rendered output exceeds {limit} bytes ({RENDER_BYTES_FACTOR} x setting "
                               f"max-file-size)", rule="output"))
    return RenderResult(objects, units, ctx.problems.warnings, ctx.provenance, text, ours + profiles, ctx.release)


def _converted_to_text(path: tuple) -> bool:
    """Where a number is printed as text (an args map's value): it must read as written (see
    docs/reference.md, "Plain scalars")."""
    return len(path) >= 2 and path[-2] == "args" and isinstance(path[-1], str)


def _split(docs: list[Doc], ctx: RenderContext) -> tuple[list[Doc], list[Doc], list[Doc]]:
    """ModelDeployments and ClusterProfiles (consumed), and everything else (passed through)."""
    ours, profiles, others = [], [], []
    for doc in docs:
        api = doc.obj.get("apiVersion", "")
        if api.split("/")[0] != OUR_GROUP:
            others.append(doc)
        elif deployment.is_model_deployment(doc.obj):
            ours.append(doc)
        elif profile.is_cluster_profile(doc.obj):
            profiles.append(doc)
        elif doc.obj.get("kind") in (deployment.KIND, profile.KIND) and api != deployment.API_VERSION:
            ctx.add(doc.problem(("apiVersion",), f"apiVersion {api!r} is not one kserve-cmp serves: "
                                                 f"{doc.obj.get('kind')} is {deployment.API_VERSION!r}",
                                rule="kind"))
        else:
            kind = doc.obj.get("kind")
            guess = select.closest(kind, [deployment.KIND, profile.KIND]) if isinstance(kind, str) else None
            hint = f" (did you mean {guess!r}?)" if guess else ""
            ctx.add(doc.problem(("kind",), f"unknown kserve-cmp document {kind!r} "
                                           f"({api}){hint}; known: {deployment.KIND}, {profile.KIND} "
                                           f"({deployment.API_VERSION})",
                                rule="kind"))
    return ours, profiles, others


def _default_namespace(docs: list[Doc], namespace: str) -> None:
    """The ``namespace`` setting on every raw namespaced object whose input names none, as kustomize's
    ``namespace:`` field does (``api/filters/namespace``, kustomize v5.8.1): cluster-scoped kinds
    (:mod:`cmp.scope`, and those a CustomResourceDefinition among the inputs declares cluster-scoped)
    are left alone. Argo CD would apply such an object into its destination namespace anyway; written
    out, the output means the same to ``kubectl apply`` and to ``cmp diff``."""
    declared = declared_cluster_kinds(d.obj for d in docs)
    for doc in docs:
        meta = doc.obj.get("metadata")
        if isinstance(meta, dict) and not meta.get("namespace") and not is_cluster_scoped(doc.obj, declared):
            doc.obj = {**doc.obj, "metadata": {**meta, "namespace": namespace}}


def _index_runtimes(docs: list[Doc], ctx: RenderContext) -> None:
    for doc in docs:
        obj = doc.obj
        if obj.get("kind") in RUNTIME_KINDS and obj.get("apiVersion", "").startswith(KSERVE_GROUP + "/"):
            meta = obj.get("metadata") or {}
            ns = None if obj["kind"] == "ClusterServingRuntime" else (meta.get("namespace")
                                                                       or ctx.settings.namespace or None)
            if meta.get("name"):
                ctx.runtimes[(meta["name"], ns)] = obj


EMIT_ANNOTATION = "kserve-cmp.io/emit"


def _drop_unowned_runtimes(docs: list[Doc], ctx: RenderContext) -> list[Doc]:
    """Runtimes installed on the cluster by someone else: known (selection, merge, explain), not emitted.

    An input runtime annotated ``kserve-cmp.io/emit: "false"`` is never emitted; a ClusterServingRuntime
    that the profile's ``spec.kserve.clusterRuntimes`` lists is emitted only by the app whose inputs hold
    the profile (the platform team's), so apps sharing its definition never fight over the object.
    """
    listed = set(getattr(ctx.profile, "cluster_runtimes", ()) or ())
    profile_doc = getattr(ctx.profile, "doc", None)
    owner = profile_doc is not None and any(d is profile_doc for d in ctx.inputs)
    kept = []
    for doc in docs:
        obj = doc.obj
        if obj.get("kind") not in RUNTIME_KINDS or not str(obj.get("apiVersion", "")).startswith(KSERVE_GROUP + "/"):
            kept.append(doc)
            continue
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        emit = annotations.get(EMIT_ANNOTATION) if isinstance(annotations, dict) else None
        if emit is not None and emit not in ("true", "false"):
            ctx.add(doc.problem(("metadata", "annotations", EMIT_ANNOTATION),
                                f'{EMIT_ANNOTATION} must be "true" or "false", got {emit!r}', rule="runtime"))
        name = (obj.get("metadata") or {}).get("name")
        if emit == "false" or (obj["kind"] == "ClusterServingRuntime" and name in listed and not owner):
            continue
        kept.append(doc)
    return kept


def _raw_units(docs: list[Doc]) -> tuple[list[Unit], list[Doc]]:
    """Raw InferenceServices and InferenceGraphs become units (transforms may fix them); the rest passes.

    One without a ``spec`` mapping is malformed: it passes through to the schema check, which says why.
    """
    units, rest = [], []
    for doc in docs:
        obj = doc.obj
        if obj.get("kind") in UNIT_KINDS and obj.get("apiVersion", "").startswith(KSERVE_GROUP + "/") \
                and isinstance((obj.get("metadata") or {}).get("name"), str) and isinstance(obj.get("spec"), dict):
            units.append(Unit(isvc=copy.deepcopy(obj), source=doc))
        else:
            rest.append(doc)
    return units, rest


def sort_key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    api = obj.get("apiVersion", "")
    group = api.split("/")[0] if "/" in api else ""
    return (_KIND_RANK.get(obj.get("kind"), 4), group, obj.get("kind", ""), meta.get("namespace") or "",
            meta.get("name") or "")


#: Every rendered object's identity, checked whole (``fullmatch``): apiVersion ``group/version`` or
#: ``version`` (a group is a DNS subdomain, a version a DNS label), a kind (a DNS label in any
#: case, as the API server requires of a CRD's kind), and a name Kubernetes accepts for the kind.
_API_VERSION = re.compile(r"(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/)?[a-z](?:[-a-z0-9]*[a-z0-9])?")
_KIND = re.compile(r"[A-Za-z](?:[-A-Za-z0-9]*[A-Za-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?")   # at most 253 characters
_DNS1123_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")       # at most 63
_DNS1035_LABEL = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?")          # at most 63
#: Kinds whose names are path segments (apimachinery's ValidatePathSegmentName: RBAC, e.g.
#: ``system:controller:x``); we also refuse whitespace and control characters in them.
_PATH_SEGMENT_KINDS = {("rbac.authorization.k8s.io", k) for k in ("Role", "ClusterRole", "RoleBinding",
                                                                  "ClusterRoleBinding")}
_PATH_SEGMENT = re.compile(r"[^/%\s\x00-\x1f\x7f-\x9f]+")
#: Names that are labels: Namespace and Service (Kubernetes), InferenceService (KServe's admission,
#: ``IsvcNameFmt`` in pkg/apis/serving/v1beta1/inference_service_validation.go, v0.20.0).
_LABEL_KINDS = {("", "Namespace"): (_DNS1123_LABEL, "RFC 1123 label"),
                ("", "Service"): (_DNS1035_LABEL, "RFC 1035 label"),
                (KSERVE_GROUP, "InferenceService"): (_DNS1035_LABEL, "RFC 1035 label")}


def _check_identity(located: list[tuple[dict, Doc, Unit | None]], problems: Problems) -> None:
    """Fail closed on objects Argo CD could not apply or would name differently: every object has
    apiVersion, kind and a valid ``metadata.name``; a namespace, when set, is an RFC 1123 label."""
    for obj, doc, _ in located:
        for message in identity_problems(obj):
            problems.add(doc.problem((), f"{object_key(obj) or 'object'}: {message}", rule="identity"))


def identity_problems(obj: object) -> list[str]:
    """What is wrong with an object's apiVersion, kind, name and namespace ([] when nothing)."""
    if not isinstance(obj, dict):
        return ["not a mapping"]
    api, kind, meta = obj.get("apiVersion"), obj.get("kind"), obj.get("metadata")
    out = []
    if not isinstance(api, str) or not _API_VERSION.fullmatch(api):
        out.append(f"apiVersion {api!r} is not group/version or version")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        out.append(f"kind {kind!r} is not a Kubernetes kind")
    if not isinstance(meta, dict) or not meta.get("name"):
        return out + ["has no metadata.name"]
    name, namespace = meta["name"], meta.get("namespace")
    group = api.split("/")[0] if isinstance(api, str) and "/" in api else ""
    if not isinstance(name, str):
        out.append(f"metadata.name {name!r} is not a string")
    elif (group, kind) in _PATH_SEGMENT_KINDS:
        if len(name) > 253 or name in (".", "..") or not _PATH_SEGMENT.fullmatch(name):
            out.append(f"metadata.name {name!r} is not a valid name (no '/', '%', space or control character)")
    else:
        pattern, rule = _LABEL_KINDS.get((group, kind), (_DNS1123_SUBDOMAIN, "RFC 1123 subdomain"))
        longest = 63 if (group, kind) in _LABEL_KINDS else 253
        if len(name) > longest or not pattern.fullmatch(name):
            out.append(f"metadata.name {name!r} is not a valid {rule} (at most {longest} lower-case letters, "
                       f"digits and '-'{', ' + repr('.') if longest == 253 else ''})")
    if namespace is not None and (not isinstance(namespace, str) or len(namespace) > 63
                                  or not _DNS1123_LABEL.fullmatch(namespace)):
        out.append(f"metadata.namespace {namespace!r} is not a valid namespace name (RFC 1123 label)")
    return out


def _check_duplicates(located: list[tuple[dict, Doc, Unit | None]], problems: Problems, namespace: str) -> None:
    """Two objects Argo CD would apply as one. A namespace-less object lands in the destination
    namespace (``namespace``), so it is compared as if it named that one."""
    seen: dict[tuple, Doc] = {}
    for obj, doc, _ in located:
        api = obj.get("apiVersion", "")
        meta = obj.get("metadata") or {}
        where = meta.get("namespace") or namespace
        key = (api.split("/")[0] if "/" in api else "", obj.get("kind"), where, meta.get("name"))
        if key in seen:
            first = seen[key]
            shown = "/".join(p for p in (obj.get("kind"), where, meta.get("name")) if p)
            defaulted = "" if meta.get("namespace") or not namespace else \
                f" (an object without a namespace lands in the destination namespace {namespace!r})"
            problems.add(doc.problem((), f"{shown} is produced twice (also by "
                                         f"{first.file}:{first.line}){defaulted}", rule="duplicate"))
        else:
            seen[key] = doc


def _validate(located: list[tuple[dict, Doc, Unit | None]], problems: Problems, provenance: Provenance,
              release: catalog.Release | None = None) -> None:
    """CRD schema check of every KServe object (the target release's CRDs), located at its input."""
    from .validate import validate_object  # schemas load lazily, on the first KServe object

    for obj, doc, unit in located:
        errors = validate_object(obj, release)
        for err in errors:
            if unit is not None and unit.deployment is not None:
                file, line = _written_at(provenance, obj, err.path, doc)
                problems.add(Problem(f"{object_key(obj)} {err.path}: {err.message}", file=file, line=line,
                                     rule="schema"))
            else:
                problems.add(doc.problem(_split_path(err.path), err.message, rule="schema"))


def _written_at(provenance: Provenance, obj: dict, path: str, doc: Doc) -> tuple[str | None, int | None]:
    """Where the input set the field (or its nearest ancestor), else the input document's start."""
    key = object_key(obj)
    parts = _split_path(path)
    while parts:
        record = provenance.latest(key, format_path(parts))
        if record is not None:
            file, _, line = record.source.rpartition(":")
            if file and line.isdigit():
                return file, int(line)
        parts = parts[:-1]
    return doc.file, doc.line


def _split_path(path: str) -> tuple:
    """``spec.a[0].b`` -> ``('spec', 'a', 0, 'b')`` (inverse of format_path)."""
    out: list = []
    for part in path.replace("]", "").split("."):
        if not part:
            continue
        name, *indexes = part.split("[")
        if name:
            out.append(name)
        out.extend(int(i) for i in indexes if i.isdigit())
    return tuple(out)

