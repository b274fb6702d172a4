"""Storage: check the model URI, render per-model and per-cluster storage containers, drop internal annotations.

* ``spec.model.storageUri`` must use a scheme KServe accepts, or one a ClusterStorageContainer
  in the inputs (or the cluster profile's default one) covers.
* ``spec.storageInitializer`` renders a ClusterStorageContainer that serves exactly this
  model's URI and pins it with ``spec.predictor.storageContainerName`` (KServe >= v0.20.0), so
  the model's init container gets the image and resources asked for, whatever else is installed.
* The ClusterProfile section ``storageInitializerDefaults`` renders the ``default``
  ClusterStorageContainer (see :func:`cluster_objects`) and fills what a per-model block leaves out.
* Both obey one policy: pinned image, ``requests <= limits``, memory limit at least the minimum.
* ``internal.serving.kserve.io/*`` annotations are the controller's: dropped, with a warning.

``docs/storage.md`` explains the choices.
"""

from __future__ import annotations

import copy
import re
from dataclasses import field
from typing import Any

from ..lazydataclass import dataclass
from .. import catalog
from ..kserve import storage as ks
from ..kserve.resources import parse_quantity
from ..naming import derived_name
from ..problems import Problem
from ..source.yamlio import Doc
from ..spec.fields import STORAGE_DEFAULTS, STORAGE_INITIALIZER
from ..spec.reader import Reader, type_name
from ..unit import RenderContext, Unit

NAME = "storage"
ORDER = 20
SECTIONS = (STORAGE_INITIALIZER.name,)

SECTION = STORAGE_INITIALIZER.name
PROFILE_SECTION = STORAGE_DEFAULTS.name
PROFILE_SECTIONS = (PROFILE_SECTION,)   # ClusterProfile.spec sections this module parses
MODEL_FIELDS = STORAGE_INITIALIZER.names()
PROFILE_FIELDS = STORAGE_DEFAULTS.names()
RESOURCE_GROUPS = STORAGE_INITIALIZER["resources"].names()
INTERNAL_PREFIX = "internal.serving.kserve.io/"
DEFAULT_VERSION = "v0.20.0"
MIN_VERSION = (0, 20, 0)
LABEL_DEPLOYMENT = "kserve-cmp.io/model-deployment"
LABEL_NAMESPACE = "kserve-cmp.io/model-namespace"

_DIGEST = re.compile(r"@[A-Za-z0-9_+.-]+:[0-9a-fA-F]{32,}\Z")


@dataclass(frozen=True)
class StorageSettings:
    """A parsed ``storageInitializer`` block (per model) or ``storageInitializerDefaults`` section."""

    doc: Doc
    path: tuple
    image: str | None = None
    resources: dict = field(default_factory=dict)
    security_context: dict | None = None
    image_pull_secrets: tuple[str, ...] = ()
    min_memory: str | None = None


# ---------------------------------------------------------------- transform


def apply(unit: Unit, ctx: RenderContext) -> None:
    """Drop internal annotations, check the URI, render the per-model storage container."""
    _drop_internal_annotations(unit, ctx)
    defaults = profile_defaults(ctx)
    uri_path, uri = predictor_uri(unit)
    block = unit.deployment.spec.get(SECTION) if unit.deployment else None
    if isinstance(uri, str) and not _check_uri(unit, ctx, uri, uri_path, defaults, block is not None):
        return
    if block is None:
        return
    settings, problems = parse_settings(unit.source, ("spec", SECTION), MODEL_FIELDS)
    ctx.problems.extend(problems)
    if settings is not None and isinstance(uri, str):
        _per_model(unit, ctx, settings, uri, defaults)


def predictor_uri(unit: Unit) -> tuple[tuple, Any]:
    """(where it was written, value) of the predictor's ``storageUri``.

    A ModelDeployment's is ``spec.model.storageUri``; a raw InferenceService's sits in whichever
    implementation its predictor uses (``model``, or a framework such as ``sklearn`` or ``pytorch``).
    """
    if unit.deployment is not None:
        return ("spec", "model", "storageUri"), (unit.predictor.get("model") or {}).get("storageUri")
    for key in sorted(unit.predictor, key=lambda k: (k != "model", str(k))):
        implementation = unit.predictor[key]
        if isinstance(implementation, dict) and "storageUri" in implementation:
            return ("spec", "predictor", key, "storageUri"), implementation["storageUri"]
    return ("spec", "predictor"), None


def cluster_objects(ctx: RenderContext) -> list[tuple[dict, Doc]]:
    """The ``default`` ClusterStorageContainer, when the profile configures one and is itself an input.

    A profile among an app's inputs marks the platform team's app, which owns cluster-wide
    objects; apps that only name the profile with the ``cluster-profile`` setting read it.
    """
    defaults = profile_defaults(ctx)
    if defaults is None or not any(doc is defaults.doc for doc in ctx.inputs):
        return []
    for problem in check_policy(defaults, defaults):
        _add_once(ctx, problem)
    csc = default_storage_container(defaults, kserve_version_text(ctx))
    ctx.provenance.record(csc, "spec.container", csc["spec"]["container"],
                          defaults.doc.where(defaults.path), PROFILE_SECTION)
    return [(csc, defaults.doc)]


# ---------------------------------------------------------------- profile access


def kserve_version_text(ctx: RenderContext) -> str:
    """The KServe version of the target cluster: the profile's, else the catalog's release."""
    text = getattr(ctx.profile, "kserve_version", None)
    return text if isinstance(text, str) and ks.parse_version(text) else DEFAULT_VERSION


def release_of(version_text: str) -> catalog.Release:
    """The shipped release a (profile-checked) version text selects; the default one for no version."""
    key = ks.parse_version(version_text) or ks.parse_version(DEFAULT_VERSION)
    return catalog.resolve("v%d.%d.%d" % key)


def first_release_accepting(uri: str) -> str:
    """``first in KServe vX`` for a URI a later release accepts on its own, or that no shipped release does."""
    return catalog.since_text(lambda r: uri.startswith(r.uri_prefixes)
                              or any(ks.format_matches(f, uri) for f in r.default_uri_formats))


def profile_defaults(ctx: RenderContext) -> StorageSettings | None:
    """The profile's ``spec.storageInitializerDefaults``, parsed; None when there is none.

    Problems in the section are added to ``ctx`` once, however many models read it.
    """
    doc = getattr(ctx.profile, "doc", None)
    if not isinstance(doc, Doc) or not isinstance(doc.obj, dict):
        return None
    spec = doc.obj.get("spec")
    if not isinstance(spec, dict) or spec.get(PROFILE_SECTION) is None:
        return None
    settings, problems = parse_settings(doc, ("spec", PROFILE_SECTION), PROFILE_FIELDS)
    for problem in problems:
        _add_once(ctx, problem)
    return settings


# ---------------------------------------------------------------- parsing


def parse_settings(doc: Doc, path: tuple, known: tuple[str, ...]) -> tuple[StorageSettings | None, list[Problem]]:
    """Parse a storage block of ``doc`` at ``path`` whose allowed fields are ``known``."""
    r = Reader(doc)
    raw = doc.obj
    for part in path:
        raw = raw.get(part) if isinstance(raw, dict) else None
    block = r.mapping(path, raw, known)
    image = r.string(path + ("image",), block.get("image"))
    resources = _resources(r, path + ("resources",), block.get("resources"))
    security = block.get("securityContext")
    if security is not None and not isinstance(security, dict):
        r.error(path + ("securityContext",), f"expected a mapping (a Kubernetes SecurityContext), "
                                             f"got {type_name(security)}")
        security = None
    secrets = _pull_secrets(r, path + ("imagePullSecrets",), block.get("imagePullSecrets"))
    min_memory = _quantity(r, path + ("minMemory",), block.get("minMemory"))
    if any(p.level == "error" for p in r.problems):
        return None, r.problems
    return StorageSettings(doc, path, image, resources, copy.deepcopy(security), secrets, min_memory), r.problems


def _resources(r: Reader, path: tuple, value: Any) -> dict:
    """``{requests: {...}, limits: {...}}`` with every quantity checked."""
    groups = r.mapping(path, value, RESOURCE_GROUPS)
    out: dict = {}
    for group in RESOURCE_GROUPS:
        items = groups.get(group)
        if items is None:
            continue
        if not isinstance(items, dict):
            r.error(path + (group,), f"expected a mapping of resource to quantity, got {type_name(items)}")
            continue
        quantities = {key: _quantity(r, path + (group, key), item) for key, item in items.items()}
        out[group] = {key: q for key, q in quantities.items() if q is not None}
    return out


def _quantity(r: Reader, path: tuple, value: Any) -> str | None:
    """A quantity as the string Kubernetes keeps (numbers become strings), or None with a problem."""
    if value is None:
        return None
    try:
        parse_quantity(value)
    except ValueError:
        r.error(path, f"expected a quantity such as 500m, 2 or 8Gi, got {value!r}")
        return None
    return value if isinstance(value, str) else str(value)


def _pull_secrets(r: Reader, path: tuple, value: Any) -> tuple[str, ...]:
    """Secret names from ``[name, ...]`` or ``[{name: ...}, ...]``, first occurrence kept."""
    if value is None:
        return ()
    if not isinstance(value, list):
        r.error(path, f"expected a list of secret names, got {type_name(value)}")
        return ()
    names = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            named = STORAGE_INITIALIZER["imagePullSecrets"].item.forms[1]
            r.mapping(path + (i,), item, named.names(), required=named.required_names())
            item = item.get("name")
        name = r.string(path + (i,), item)
        if name:
            names.append(name)
    return tuple(dict.fromkeys(names))


# ---------------------------------------------------------------- policy


def image_problem(image: str) -> str | None:
    """Why ``image`` is not pinned (no tag, ``latest``), or None; a digest always pins."""
    if _DIGEST.search(image):
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or "@" in last or not last.rsplit(":", 1)[1]:
        return f"image {image!r} has no tag: pin a version tag or a digest"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the tag 'latest': pin a version tag or a digest"
    return None


def check_policy(settings: StorageSettings, defaults: StorageSettings | None) -> list[Problem]:
    """Pinned image, requests <= limits, memory limit >= the minimum: one problem per violation."""
    problems = []
    where = settings.doc
    if settings.image is not None:
        reason = image_problem(settings.image)
        if reason:
            problems.append(where.problem(settings.path + ("image",), reason, rule=NAME))
    resources = effective_resources(settings, defaults)
    for key in sorted(set(resources["requests"]) & set(resources["limits"])):
        request, limit = resources["requests"][key], resources["limits"][key]
        if parse_quantity(request) > parse_quantity(limit):
            problems.append(where.problem(
                _resource_path(settings, "requests", key),
                f"requests.{key} {request} is above limits.{key} {limit}{_origin(settings, 'limits', key)}",
                rule=NAME))
    minimum = defaults.min_memory if defaults is not None else None
    memory = resources["limits"].get("memory")
    if minimum and memory and parse_quantity(memory) < parse_quantity(minimum):
        problems.append(where.problem(
            _resource_path(settings, "limits", "memory"),
            f"limits.memory {memory}{_origin(settings, 'limits', 'memory')} is below the cluster minimum "
            f"{minimum} for storage initializers ({PROFILE_SECTION}.minMemory)", rule=NAME))
    return problems


def effective_resources(settings: StorageSettings, defaults: StorageSettings | None) -> dict[str, dict[str, str]]:
    """Resources the init container gets: the block's, then the profile defaults', then KServe's."""
    out: dict[str, dict[str, str]] = {}
    for group in RESOURCE_GROUPS:
        merged = dict(ks.DEFAULT_RESOURCES[group])
        if defaults is not None:
            merged.update(defaults.resources.get(group) or {})
        merged.update(settings.resources.get(group) or {})
        out[group] = dict(sorted(merged.items()))
    return out


def _resource_path(settings: StorageSettings, group: str, key: str) -> tuple:
    if key in (settings.resources.get(group) or {}):
        return settings.path + ("resources", group, key)
    return settings.path + ("resources",) if settings.resources else settings.path


def _origin(settings: StorageSettings, group: str, key: str) -> str:
    if key in (settings.resources.get(group) or {}):
        return ""
    return f" (a default: set resources.{group}.{key})"


# ---------------------------------------------------------------- objects


def storage_container_name(namespace: str, name: str) -> str:
    """Deterministic, cluster-unique name of a model's ClusterStorageContainer.

    The hash of ``namespace/name`` keeps ``a-b``/``c`` and ``a``/``b-c`` apart.
    """
    import hashlib  # only here (OpenSSL's load costs ~3 ms)

    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:6]
    return derived_name(namespace, name, "si", digest)


def storage_container(name: str, container: dict, uri_formats: list[dict], labels: dict | None = None,
                      multi_model: bool = False) -> dict:
    """A ClusterStorageContainer for init containers."""
    meta: dict = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    spec: dict = {"container": container, "supportedUriFormats": uri_formats,
                  "workloadType": ks.INIT_CONTAINER_WORKLOAD}
    if multi_model:
        spec["supportsMultiModelDownload"] = True
    return {"apiVersion": ks.API_VERSION, "kind": ks.KIND, "metadata": meta, "spec": spec}


def init_container_spec(settings: StorageSettings, defaults: StorageSettings | None, version_text: str) -> dict:
    """The complete ``storage-initializer`` container: nothing left to the cluster's ConfigMap."""
    image = settings.image or (defaults.image if defaults else None) or release_image(version_text)
    container: dict = {"name": ks.INIT_CONTAINER_NAME, "image": image,
                       "resources": effective_resources(settings, defaults)}
    security = settings.security_context or (defaults.security_context if defaults else None)
    if security:
        container["securityContext"] = copy.deepcopy(security)
    return container


def release_image(version_text: str) -> str:
    """KServe's own storage-initializer image of a release (``v0.20.0`` -> ``...:v0.20.0``)."""
    major, minor, patch = ks.parse_version(version_text) or ks.parse_version(DEFAULT_VERSION)
    return f"{ks.RELEASE_IMAGE}:v{major}.{minor}.{patch}"


def default_storage_container(defaults: StorageSettings, version_text: str) -> dict:
    """The ``default`` ClusterStorageContainer, with KServe's URI formats and the profile's container."""
    formats = release_of(version_text).default_uri_formats
    return storage_container(ks.DEFAULT_CONTAINER_NAME, init_container_spec(defaults, None, version_text),
                             [dict(f) for f in formats], multi_model=True)


# ---------------------------------------------------------------- per unit


def _per_model(unit: Unit, ctx: RenderContext, settings: StorageSettings, uri: str,
               defaults: StorageSettings | None) -> None:
    version_text = kserve_version_text(ctx)
    problems = []
    if ks.parse_version(version_text) < MIN_VERSION:
        problems.append(unit.problem(settings.path, (
            f"per-model storage initializers need KServe >= v0.20.0 (the cluster profile says {version_text}): "
            f"older releases cannot pin a storage container (spec.predictor.storageContainerName) and pick "
            f"among matching ones in an unspecified order"), rule=NAME))
    if not ks.needs_init_container(uri):
        problems.append(unit.problem(settings.path, (
            f"{uri.split('://')[0]}:// models get no storage-initializer init container (KServe mounts or "
            f"runs them directly), so a storageInitializer block would have no effect: remove it"), rule=NAME))
    if not unit.namespace:
        problems.append(unit.problem(settings.path, (
            "a per-model storage initializer renders a cluster-wide ClusterStorageContainer whose name "
            "includes the namespace: set metadata.namespace or --namespace"), rule=NAME))
    problems.extend(check_policy(settings, defaults))
    if defaults is not None:  # what the defaults fill in must obey the policy too (reported once)
        problems.extend(p for p in check_policy(defaults, defaults) if p not in ctx.problems.items)
    if problems:
        ctx.problems.extend(problems)
        return
    name = storage_container_name(unit.namespace, unit.name)
    container = init_container_spec(settings, defaults, version_text)
    csc = storage_container(name, container, [{"prefix": uri}],
                            labels={LABEL_DEPLOYMENT: unit.name, LABEL_NAMESPACE: unit.namespace})
    unit.extra.append(csc)
    unit.predictor["storageContainerName"] = name
    where = unit.where(settings.path)
    ctx.provenance.record(csc, "spec.container", container, where, SECTION)
    ctx.provenance.record(unit.isvc, "spec.predictor.storageContainerName", name, where, SECTION)
    if settings.image_pull_secrets:
        _add_pull_secrets(unit, ctx, settings)


def _add_pull_secrets(unit: Unit, ctx: RenderContext, settings: StorageSettings) -> None:
    """Pull secrets are pod-level: they go on the predictor, merged by name."""
    current = unit.predictor.get("imagePullSecrets") or []
    names = [s.get("name") for s in current if isinstance(s, dict)]
    added = [n for n in settings.image_pull_secrets if n not in names]
    unit.predictor["imagePullSecrets"] = list(current) + [{"name": n} for n in added]
    ctx.provenance.record(unit.isvc, "spec.predictor.imagePullSecrets", unit.predictor["imagePullSecrets"],
                          unit.where(settings.path + ("imagePullSecrets",)), SECTION)


def _check_uri(unit: Unit, ctx: RenderContext, uri: str, path: tuple, defaults: StorageSettings | None,
               own_container: bool) -> bool:
    """Is ``uri`` accepted? Storage containers in the inputs and the profile's default one count; a
    per-model block counts for the schemes KServe's own default container lists."""
    release = release_of(kserve_version_text(ctx))
    containers = known_storage_containers(ctx, defaults)
    if ks.uri_accepted(uri, containers, release.uri_prefixes) or (
            own_container and any(ks.format_matches(f, uri) for f in release.default_uri_formats)):
        return _check_download(unit, ctx, uri, path, containers, release, own_container)
    prefixes = ", ".join(release.uri_prefixes)
    scheme = ks.uri_scheme(uri)
    since = f" ({scheme}:// is {first_release_accepting(uri)})" if scheme else ""
    ctx.add(unit.problem(path, f"unsupported storage URI {uri!r} on KServe {kserve_version_text(ctx)}{since}: "
                               f"must start with one of {prefixes} (or a prefix that a ClusterStorageContainer "
                               f"in the inputs or the cluster profile supports), or be a local path", rule=NAME))
    return False


def _check_download(unit: Unit, ctx: RenderContext, uri: str, path: tuple, containers: list[dict],
                    release: catalog.Release, own_container: bool) -> bool:
    """A URI the controller accepts must also be one the init container can download: KServe's own
    storage initializer of the release knows only some schemes (``modelscope://`` is in none shipped)."""
    scheme = ks.uri_scheme(uri)
    if scheme is None or not ks.needs_init_container(uri) or uri.startswith(release.downloader_schemes):
        return True
    if own_container:
        block = unit.deployment.spec.get(SECTION) if unit.deployment else None
        image = (block.get("image") if isinstance(block, dict) else None) or getattr(profile_defaults(ctx), "image", None)
        where = "the per-model storage initializer"
    else:
        name = unit.predictor.get("storageContainerName")
        chosen, _ = ks.select_storage_container(uri, containers, name if isinstance(name, str) else None)
        image = ((chosen or {}).get("spec") or {}).get("container", {}).get("image") if chosen else None
        where = f"ClusterStorageContainer {chosen['metadata'].get('name')!r}" if chosen else "the storage initializer"
    if not ks.is_kserve_initializer(image):
        return True
    ctx.add(unit.problem(path, (
        f"{scheme}:// models cannot be downloaded on KServe {kserve_version_text(ctx)}: {where} runs KServe's own "
        f"storage-initializer{f' ({image})' if image else ''}, which downloads only "
        f"{', '.join(release.downloader_schemes)}; {scheme}:// support is "
        f"{catalog.since_text(lambda r: uri.startswith(r.downloader_schemes))}. Use a storage container with an image that can fetch it"),
        rule=NAME))
    return False


def known_storage_containers(ctx: RenderContext, defaults: StorageSettings | None) -> list[dict]:
    """ClusterStorageContainers in the inputs, sorted by name, then the profile's default one."""
    found = list(input_storage_containers(ctx))
    if defaults is not None:
        found.append(default_storage_container(defaults, kserve_version_text(ctx)))
    return found


def input_storage_containers(ctx: RenderContext) -> list[dict]:
    """ClusterStorageContainers in the inputs, sorted by name: found once per render, not once per model.

    A ``regex`` in their ``supportedUriFormats`` that RE2 (Go's syntax) refuses is an error at its line.
    """
    if "storage-containers" not in ctx.memo:
        docs = [d for d in ctx.inputs
                if isinstance(d.obj, dict) and d.obj.get("kind") == ks.KIND
                and str(d.obj.get("apiVersion", "")).startswith("serving.kserve.io/")]
        for doc in docs:
            formats = (doc.obj.get("spec") or {}).get("supportedUriFormats") if isinstance(doc.obj.get("spec"), dict) \
                else None
            for i, uri_format in enumerate(formats if isinstance(formats, list) else []):
                reason = ks.regex_problem(uri_format)
                if reason:
                    ctx.add(doc.problem(("spec", "supportedUriFormats", i, "regex"), reason, rule=NAME))
        found = [d.obj for d in docs]
        found.sort(key=lambda o: str((o.get("metadata") or {}).get("name")))
        ctx.memo["storage-containers"] = found
    return ctx.memo["storage-containers"]


def _drop_internal_annotations(unit: Unit, ctx: RenderContext) -> None:
    """Remove controller-owned annotations from the InferenceService and its components."""
    spec = unit.isvc.get("spec") or {}
    holders = [(("metadata", "annotations"), unit.isvc.get("metadata") or {})]
    holders += [(("spec", part, "annotations"), spec[part]) for part in sorted(spec) if isinstance(spec[part], dict)]
    for path, holder in holders:
        annotations = holder.get("annotations")
        if not isinstance(annotations, dict):
            continue
        for key in sorted(k for k in annotations if str(k).startswith(INTERNAL_PREFIX)):
            del annotations[key]
            ctx.add(unit.problem(path + (key,), f"dropped: {INTERNAL_PREFIX}* annotations belong to the "
                                                f"KServe controller, which sets or ignores them", rule=NAME, level="warning"))
        if not annotations:
            del holder["annotations"]


def _add_once(ctx: RenderContext, problem: Problem) -> None:
    if problem not in ctx.problems.items:
        ctx.add(problem)
