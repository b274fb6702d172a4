"""Admission: the InferenceService webhook rules of the target KServe release, checked on what we emit.

Each rule is re-implemented from ``pkg/apis/serving/v1beta1/inference_service_validation.go`` (and
``pkg/validation/env_policy.go``, ``pkg/utils/utils.go``, ``pkg/constants/constants.go``) of the
releases it exists in; :data:`RULES` says which. A rule runs when the release selected by the cluster
profile's ``spec.kserve.version`` has it, on the InferenceService as it will be emitted (after every
other transform), and reports at the input line that wrote the field, with KServe's own message where
the sources hold it. Rules the schema check or other transforms already enforce (autoscaler
metrics and classes, the other multi-node rules in cmp/transforms/multinode.py, deployment modes,
the name format ``IsvcNameFmt``, which the output's name check enforces as an RFC 1035 label) are not
repeated here.

The runtimes among the inputs get the ServingRuntime webhook's rules that a manifest alone decides
(:func:`runtime_findings`): no two enabled runtimes of one scope auto-selecting the same format,
version and priority for a shared protocol, and one priority per format within a runtime.

Name lengths are not a webhook rule: a name KServe accepts can still be too long for an object KServe
or Knative derives from it. :func:`derived_names` lists those objects per mode; docs/reference.md
("Name lengths") gives the arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..catalog import Release
from ..kserve import gpu
from ..problems import Problem
from ..provenance import object_key
from ..source.yamlio import format_path
from ..unit import RenderContext, Unit

NAME = "admission"
ORDER = 960   # after spec.patches (900) and scaling (950): the InferenceService as it is emitted
KINDS = ("InferenceService",)

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
STANDARD_MODES = ("Standard", "RawDeployment")
COMPONENTS = ("predictor", "transformer", "explainer")
#: Resources ``HasUnknownGpuResourceType`` (pkg/utils/utils.go) never counts as a GPU type.
BASIC_RESOURCES = ("cpu", "memory", "storage", "ephemeral-storage")
#: The implementations a predictor may use (``predictorFrameworkContainer`` and ``validatePredictor``).
IMPLEMENTATIONS = ("model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface",
                   "pmml", "lightgbm", "paddle")
LABEL_MAX = 63          # a DNS label, a Kubernetes label value, an RFC 1035 Service name
WORKER_SUFFIX = "worker"
RAW_LABEL_PREFIX = "isvc."   # constants.GetRawServiceLabel: the pods' ``app`` label in Standard mode

Finding = tuple[tuple, str]   # (path in the emitted InferenceService, message)


@dataclass(frozen=True)
class Rule:
    """One admission rule: where it comes from, which releases have it, and the check."""

    name: str
    source: str                                   # who refuses it: KServe's upstream function and file
    exists: Callable[[Release], bool]             # is the rule in this release?
    check: Callable[[dict, Release, "Context"], list[Finding]]


@dataclass(frozen=True)
class Context:
    """What a check needs besides the InferenceService."""

    mode: str                  # "Knative" or "Standard", after defaults
    namespace: str | None


# ---------------------------------------------------------------- the rules


def check_blocked_env(isvc: dict, release: Release, ctx: Context) -> list[Finding]:
    """``validateBlockedEnvVars``: predictor (containers, initContainers, the implementation's container,
    workerSpec), transformer and explainer containers; the first offence is KServe's error."""
    blocked = set(release.blocked_env_vars)
    spec = _dict(isvc.get("spec"))
    name = _name(isvc)
    for path, container in _env_containers(spec):
        for i, env in enumerate(_list(container.get("env"))):
            if isinstance(env, dict) and env.get("name") in blocked:
                return [(path + ("env", i), f"the InferenceService \"{name}\" is invalid: setting {env['name']} in "
                                            f"container \"{container.get('name') or ''}\" is not allowed for "
                                            f"security reasons")]
    return []


def check_multinode_gpu_types(isvc: dict, release: Release, ctx: Context) -> list[Finding]:
    """``validateMultiNodeVariables``/``HasUnknownGpuResourceType``: a multi-node predictor may request only
    basic resources and GPU types (the release's list plus the ``gpu-resource-types`` annotation)."""
    predictor = _dict(_dict(isvc.get("spec")).get("predictor"))
    worker = predictor.get("workerSpec")
    if not isinstance(worker, dict):
        return []
    added, complaint = gpu.annotation_types(_dict(_dict(isvc.get("metadata")).get("annotations")))
    if complaint:
        return [(("metadata", "annotations", gpu.ANNOTATION), complaint)]
    allowed = set(release.gpu_resource_types) | set(added)
    places: list[tuple[tuple, Any]] = []
    if isinstance(predictor.get("model"), dict):
        places.append((("spec", "predictor", "model", "resources"), predictor["model"].get("resources")))
    for i, container in enumerate(_list(worker.get("containers"))):
        if isinstance(container, dict):
            places.append((("spec", "predictor", "workerSpec", "containers", i, "resources"),
                           container.get("resources")))
    for path, resources in places:
        for group in ("limits", "requests"):
            for resource in sorted(_dict(_dict(resources).get(group))):
                if resource in BASIC_RESOURCES or resource in allowed:
                    continue
                return [(path + (group, resource), (
                    f"the InferenceService \"{_name(isvc)}\" is invalid: a multi-node predictor may request only "
                    f"{', '.join(BASIC_RESOURCES)} and GPU resource types ({', '.join(sorted(allowed))}), not "
                    f"{resource!r}; if {resource!r} is a GPU type, list it in metadata.annotations "
                    f"{gpu.ANNOTATION}: '[\"{resource}\"]'"))]
    return []


def check_implementation_name(isvc: dict, release: Release, ctx: Context) -> list[Finding]:
    """``validatePredictor``: the implementation's container takes no ``name``."""
    predictor = _dict(_dict(isvc.get("spec")).get("predictor"))
    for key in IMPLEMENTATIONS:
        implementation = predictor.get(key)
        if isinstance(implementation, dict) and implementation.get("name"):
            return [(("spec", "predictor", key, "name"), "the 'name' field is not allowed in standard predictor")]
    return []


def check_storage_uris(isvc: dict, release: Release, ctx: Context) -> list[Finding]:
    """``validateMultipleStorageURIs``/``validateStorageURISpec`` for each component."""
    spec = _dict(isvc.get("spec"))
    for component in COMPONENTS:
        part = spec.get(component)
        if not isinstance(part, dict) or part.get("storageUris") is None:
            continue
        path = ("spec", component, "storageUris")
        if any(isinstance(part.get(k), dict) and part[k].get("storageUri") is not None for k in IMPLEMENTATIONS):
            return [(path, "Setting both StorageURI and StorageURIs is not supported.")]
        for i, entry in enumerate(_list(part.get("storageUris"))):
            entry = _dict(entry)
            mount = entry.get("mountPath")
            if not entry.get("uri"):
                return [(path + (i, "uri"), "storage URI cannot be empty")]
            if isinstance(mount, str) and mount:
                if mount == "/":
                    return [(path + (i, "mountPath"), "storage path cannot be empty")]
                if not mount.startswith("/"):
                    return [(path + (i, "mountPath"), f"storage path must be absolute: {mount}")]
                if ".." in mount:
                    return [(path + (i, "mountPath"),
                             f"storage path cannot contain '..' for security reasons: {mount}")]
    return []


def check_canary(isvc: dict, release: Release, ctx: Context) -> list[Finding]:
    """``validateCanarySpecs`` (v0.20.0): the parts that a manifest alone decides."""
    spec = _dict(isvc.get("spec"))
    canaries = _list(spec.get("canary"))
    if not canaries:
        return []
    if ctx.mode != "Standard":
        return [(("spec", "canary"), "canary is only supported in Standard deployment mode")]
    stable = _dict(spec.get("predictor")).get("name")
    seen: set[str] = set()
    total = 0
    for i, canary in enumerate(canaries):
        predictor = _dict(_dict(canary).get("predictor"))
        name = predictor.get("name") or ""
        path = ("spec", "canary", i)
        if not name:
            return [(path + ("predictor", "name"), f"canary[{i}] predictor.name is required")]
        if name in seen:
            return [(path + ("predictor", "name"), f"canary predictor.name \"{name}\" is duplicated")]
        seen.add(name)
        if name == stable:
            return [(path + ("predictor", "name"),
                     f"canary predictor.name \"{name}\" conflicts with stable predictor name")]
        traffic = _dict(canary).get("trafficPercent") or 0
        if isinstance(traffic, int) and not 0 <= traffic <= 100:
            return [(path + ("trafficPercent",),
                     f"canary \"{name}\" trafficPercent must be between 0 and 100, got {traffic}")]
        total += traffic if isinstance(traffic, int) else 0
        for field in ("workerSpec", "maxReplicas", "scaleTarget", "scaleMetric", "autoScaling"):
            if predictor.get(field) not in (None, 0):
                why = "multi-node is not yet supported for canary" if field == "workerSpec" else \
                    "canary uses fixed replicas"
                return [(path + ("predictor", field), f"canary \"{name}\" must not set {field} ({why})")]
    if total > 100:
        return [(("spec", "canary"), f"sum of canary trafficPercent values ({total}) must be <= 100")]
    return []


def check_name_lengths(isvc: dict, release: Release, ctx: Context) -> list[Finding]:
    """Every name KServe and Knative derive from the InferenceService's must fit its own limit."""
    name = _name(isvc)
    if not name:
        return []
    for derived in derived_names(isvc, release, ctx):
        if len(derived.value) > derived.limit:
            room = derived.limit - (len(derived.value) - len(name))
            return [(("metadata", "name"), (
                f"the name {name!r} ({len(name)} characters) is too long for {ctx.mode} mode: {derived.what} "
                f"would be {derived.value!r} ({len(derived.value)} characters, at most {derived.limit}: "
                f"{derived.why}); here the name may have at most {max(room, 0)} characters"))]
    return []


def _has_canary_field(release: Release) -> bool:
    # The canary rules came with the field (v0.20.0's CRD and webhook); the schema refuses it before.
    from ..validate import schema_for

    validator = schema_for("serving.kserve.io/v1beta1", "InferenceService", release)
    probe = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "x"},
             "spec": {"predictor": {}, "canary": []}}
    return validator is not None and not validator.validate(probe)


def _always(release: Release) -> bool:
    return True


_VALIDATION = "inference_service_validation.go"
#: Every rule, in the order KServe's ``validateInferenceService`` runs them (names first).
RULES: tuple[Rule, ...] = (
    Rule("name-length", "Kubernetes refuses the object, or DNS the host; docs/reference.md, \"Name lengths\"",
         _always, check_name_lengths),
    Rule("blocked-env", f"validateBlockedEnvVars, {_VALIDATION}; DefaultBlockedEnvVars, pkg/validation/env_policy.go",
         lambda r: bool(r.blocked_env_vars), check_blocked_env),
    Rule("multinode-gpu-types", f"validateMultiNodeVariables, {_VALIDATION}; HasUnknownGpuResourceType, "
                                "pkg/utils/utils.go", _always, check_multinode_gpu_types),
    Rule("implementation-name", f"validatePredictor, {_VALIDATION}", _always, check_implementation_name),
    Rule("storage-uris", f"validateMultipleStorageURIs, {_VALIDATION}", _always, check_storage_uris),
    Rule("canary", f"validateCanarySpecs, {_VALIDATION}", _has_canary_field, check_canary),
)


def rules_of(release: Release) -> list[Rule]:
    """The rules the release's webhook has."""
    return [rule for rule in RULES if rule.exists(release)]


# ---------------------------------------------------------------- derived names


@dataclass(frozen=True)
class Derived:
    what: str       # the object or host, in words
    value: str      # its name
    limit: int
    why: str        # where the limit comes from


def derived_names(isvc: dict, release: Release, ctx: Context) -> list[Derived]:
    """The names KServe and Knative derive from the InferenceService in its mode, with their limits."""
    name = _name(isvc)
    spec = _dict(isvc.get("spec"))
    components = [c for c in COMPONENTS if c == "predictor" or isinstance(spec.get(c), dict)]
    out: list[Derived] = []
    for component in components:
        service = f"{name}-{component}"
        if ctx.mode == "Standard":
            out.append(Derived(f"the {component}'s Deployment, Service and autoscaler", service, LABEL_MAX,
                               "a Kubernetes Service name is an RFC 1035 label"))
            out.append(Derived(f"the {component} pods' label app", RAW_LABEL_PREFIX + service, LABEL_MAX,
                               "a Kubernetes label value"))
            if component == "predictor" and isinstance(_dict(spec.get("predictor")).get("workerSpec"), dict):
                worker = f"{service}-{WORKER_SUFFIX}"
                out.append(Derived("the worker pods' label app", RAW_LABEL_PREFIX + worker, LABEL_MAX,
                                   "a Kubernetes label value"))
        else:
            out.append(Derived(f"the {component}'s Knative Service (and the Kubernetes Service its Route creates)",
                               service, LABEL_MAX, "a Kubernetes Service name is an RFC 1035 label"))
        if ctx.namespace and ctx.mode == "Standard":
            host = domain_name(release.ingress, service, ctx.namespace)
            if host:
                out.append(Derived(f"the first label of the {component}'s host {host!r}", host.split(".")[0],
                                   LABEL_MAX, "a DNS label"))
    if ctx.namespace:
        host = domain_name(release.ingress, name, ctx.namespace)
        if host:
            out.append(Derived(f"the first label of the model's host {host!r}", host.split(".")[0], LABEL_MAX,
                               "a DNS label"))
    return out


_PLACEHOLDER = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


def domain_name(ingress: dict, name: str, namespace: str) -> str | None:
    """KServe's ``domainTemplate`` filled in, when it uses only ``.Name``, ``.Namespace``, ``.IngressDomain``."""
    template = ingress.get("domainTemplate")
    if not isinstance(template, str):
        return None
    values = {"Name": name, "Namespace": namespace, "IngressDomain": str(ingress.get("ingressDomain") or "")}
    if any(m.group(1) not in values for m in _PLACEHOLDER.finditer(template)):
        return None
    filled = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    return None if "{{" in filled else filled


# ---------------------------------------------------------------- the transform


def findings(isvc: dict, release: Release, context: Context) -> list[tuple[Rule, tuple, str]]:
    """(rule, path, message) for every rule of ``release`` that ``isvc`` breaks."""
    return [(rule, path, message) for rule in rules_of(release)
            for path, message in rule.check(isvc, release, context)]


def apply(unit: Unit, ctx: RenderContext) -> None:
    """Run every rule of the target release over the InferenceService to be emitted."""
    release = ctx.release
    context = Context(mode=mode_of(unit.isvc, ctx), namespace=unit.namespace or ctx.settings.namespace or None)
    for rule, path, message in findings(unit.isvc, release, context):
        by = rule.source if rule.name == "name-length" else f"KServe {release.tag} refuses it: {rule.source}"
        ctx.add(_located(unit, ctx, path, f"{message} ({by})"))


def mode_of(isvc: dict, ctx: RenderContext) -> str:
    """The deployment mode KServe will use: the annotation, else the profile's default, else Knative."""
    value = _dict(_dict(isvc.get("metadata")).get("annotations")).get(MODE_ANNOTATION)
    if value is None:
        value = getattr(ctx.profile, "deployment_mode", None) or "Knative"
    return "Standard" if value in STANDARD_MODES else "Knative"


#: Where a ModelDeployment writes what lands at a path of its InferenceService (prefix -> prefix).
_MD_PATHS: tuple[tuple[tuple, tuple], ...] = (
    (("spec", "predictor", "model", "env"), ("spec", "model", "env")),
    (("spec", "predictor", "model", "resources"), ("spec", "model", "resources")),
    (("spec", "predictor", "model"), ("spec", "model")),
    (("metadata",), ("metadata",)),
)


def _located(unit: Unit, ctx: RenderContext, path: tuple, message: str):
    """The problem at the input line that wrote ``path``: the raw InferenceService's own field, else the
    provenance record or the ModelDeployment field it comes from, else the document's start."""
    if unit.deployment is None:
        return unit.problem(path, message, rule=NAME)
    key = object_key(unit.isvc)
    parts = path
    while parts:
        record = ctx.provenance.latest(key, format_path(parts))
        if record is not None:
            file, _, line = record.source.rpartition(":")
            if file and line.isdigit():
                return Problem(f"{key} {format_path(path)}: {message}", file=file, line=int(line), rule=NAME)
        parts = parts[:-1]
    for prefix, md_prefix in _MD_PATHS:
        if path[:len(prefix)] == prefix:
            rest = path[len(prefix):]
            if md_prefix == ("spec", "model", "env") and rest and isinstance(rest[0], int):
                rest = (_env_key(unit, rest[0]),) + rest[1:]
            return unit.problem(md_prefix + rest, message, rule=NAME)
    return unit.problem((), message, rule=NAME)


def _env_key(unit: Unit, index: int) -> int | str:
    """The ``spec.model.env`` entry of the input: a list index, or the key of the mapping form."""
    raw = _dict(_dict(_dict(unit.source.obj).get("spec")).get("model")).get("env")
    if isinstance(raw, dict):
        keys = list(raw)
        return keys[index] if index < len(keys) else index
    return index


# ---------------------------------------------------------------- helpers


def _env_containers(spec: dict) -> list[tuple[tuple, dict]]:
    """The containers ``validateBlockedEnvVars`` looks at, with their paths, in its order."""
    out: list[tuple[tuple, dict]] = []
    predictor = _dict(spec.get("predictor"))
    base = ("spec", "predictor")
    out += _containers(predictor, base, "containers") + _containers(predictor, base, "initContainers")
    for key in IMPLEMENTATIONS:
        if isinstance(predictor.get(key), dict):
            out.append((base + (key,), predictor[key]))
            break
    worker = predictor.get("workerSpec")
    if isinstance(worker, dict):
        out += _containers(worker, base + ("workerSpec",), "containers")
        out += _containers(worker, base + ("workerSpec",), "initContainers")
    for component in ("transformer", "explainer"):
        part = spec.get(component)
        if isinstance(part, dict):
            out += _containers(part, ("spec", component), "containers")
            out += _containers(part, ("spec", component), "initContainers")
    explainer = _dict(spec.get("explainer"))
    if isinstance(explainer.get("art"), dict):
        out.append((("spec", "explainer", "art"), explainer["art"]))
    return out


def _containers(holder: dict, path: tuple, key: str) -> list[tuple[tuple, dict]]:
    return [(path + (key, i), c) for i, c in enumerate(_list(holder.get(key))) if isinstance(c, dict)]


def _name(isvc: dict) -> str:
    return str(_dict(isvc.get("metadata")).get("name") or "")


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


# ---------------------------------------------------------------- the ServingRuntime webhook

RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")
#: Read from KServe master's servingruntime_webhook.go; the per-release sources shipped to the generator do
#: not include it, so these rules are applied to every release (docs/reference.md says so).
_SR_WEBHOOK = "the ServingRuntime webhook, pkg/webhook/admission/servingruntime/servingruntime_webhook.go"


def cluster_objects(ctx: RenderContext) -> list:
    """Renders nothing: checks the runtimes among the inputs once per render (the hook runs once)."""
    runtimes = []
    for doc in ctx.inputs:
        obj = doc.obj
        if isinstance(obj, dict) and obj.get("kind") in RUNTIME_KINDS \
                and str(obj.get("apiVersion", "")).startswith("serving.kserve.io/"):
            if obj["kind"] == "ServingRuntime" and not _dict(obj.get("metadata")).get("namespace"):
                obj = {**obj, "metadata": {**_dict(obj.get("metadata")), "namespace": ctx.settings.namespace or None}}
            runtimes.append((doc, obj))
    for doc, path, message in runtime_findings(runtimes):
        ctx.add(doc.problem(path, f"{message} (KServe {ctx.release.tag} refuses it: {_SR_WEBHOOK})", rule=NAME))
    return []


def runtime_findings(runtimes: list[tuple[Any, dict]]) -> list[tuple[Any, tuple, str]]:
    """(doc, path, message) for each runtime among the inputs KServe's ServingRuntime webhook would refuse.

    ``runtimes`` are the (document, runtime) pairs of the inputs. Two enabled runtimes of one scope (a
    namespace, or the cluster) may not both auto-select the same format and version with the same
    priority for a shared protocol; one runtime may not give one format two priorities. The release's
    built-in runtimes are not compared: a cluster need not have installed them all.
    """
    out: list[tuple[Any, tuple, str]] = []
    for doc, runtime in runtimes:
        out.extend((doc, path, message) for path, message in _own_priorities(runtime))
    seen: list[tuple[Any, dict]] = []
    for doc, runtime in runtimes:
        for other_doc, other in seen:
            clash = _clash(runtime, other)
            if clash is not None:
                path, message = clash
                out.append((doc, path, f"{message} ({_name(other)}: {other_doc.where(())})"))
        seen.append((doc, runtime))
    return out


def _own_priorities(runtime: dict) -> list[Finding]:
    priorities: dict[str, int] = {}
    for i, fmt in enumerate(_list(_dict(runtime.get("spec")).get("supportedModelFormats"))):
        fmt = _dict(fmt)
        name, priority = fmt.get("name"), fmt.get("priority")
        if not isinstance(name, str) or not isinstance(priority, int):
            continue
        if name in priorities and priorities[name] != priority:
            return [(("spec", "supportedModelFormats", i, "priority"),
                     f"{runtime.get('kind')} {_name(runtime)!r} gives model format {name!r} two priorities "
                     f"({priorities[name]} and {priority}): KServe refuses different priorities for one format")]
        priorities[name] = priority
    return []


def _scope(runtime: dict) -> tuple:
    meta = _dict(runtime.get("metadata"))
    return (runtime.get("kind"), meta.get("namespace") if runtime.get("kind") == "ServingRuntime" else None)


def _clash(runtime: dict, other: dict) -> Finding | None:
    """Does ``runtime`` auto-select a format, version, priority and protocol that ``other`` does too?"""
    if _scope(runtime) != _scope(other) or _name(runtime) == _name(other):
        return None
    spec, other_spec = _dict(runtime.get("spec")), _dict(other.get("spec"))
    if spec.get("disabled") is True or other_spec.get("disabled") is True:
        return None
    shared = set(_list(spec.get("protocolVersions"))) & set(_list(other_spec.get("protocolVersions")))
    if not shared:
        return None
    theirs = {(f.get("name"), f.get("version"), f.get("priority")) for f in map(_dict, _list(
        other_spec.get("supportedModelFormats"))) if f.get("autoSelect") is True and isinstance(f.get("priority"), int)}
    for i, fmt in enumerate(map(_dict, _list(spec.get("supportedModelFormats")))):
        key = (fmt.get("name"), fmt.get("version"), fmt.get("priority"))
        if fmt.get("autoSelect") is True and isinstance(fmt.get("priority"), int) and key in theirs:
            shown = f"{key[0]}" + (f":{key[1]}" if key[1] else "")
            return (("spec", "supportedModelFormats", i),
                    f"{runtime.get('kind')} {_name(runtime)!r} auto-selects {shown} with priority {key[2]} for "
                    f"protocol {', '.join(sorted(shared))}, as {_name(other)!r} does: KServe refuses two such "
                    f"runtimes in one scope; give one another priority or autoSelect: false")
    return None
