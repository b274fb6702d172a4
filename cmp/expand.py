"""Expansion: each ModelDeployment becomes one InferenceService unit, its runtime pinned.

The base runtime is looked up the way KServe looks it up (a ServingRuntime of the model's
namespace, then a ClusterServingRuntime), among the input documents first and the built-in
catalog second. Without ``spec.runtime`` it is auto-selected by KServe's own rules; either way
the InferenceService names it explicitly, with an explicit ``protocolVersion``, so what runs
never depends on what else is installed on the cluster.
"""

from __future__ import annotations

import copy

from . import catalog
from .kserve import select
from .kserve.placeholders import escape_strings
from .spec import llm
from .spec.deployment import ModelDeployment, ScalingSpec
from .unit import RenderContext, Unit

ISVC_API = "serving.kserve.io/v1beta1"
LLMISVC_API = "serving.kserve.io/v1alpha2"
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
DEFAULT_MODE = "Knative"

_SCALING_FIELDS = (("min_replicas", "minReplicas"), ("max_replicas", "maxReplicas"),
                   ("scale_metric", "scaleMetric"), ("scale_target", "scaleTarget"),
                   ("container_concurrency", "containerConcurrency"))


def expand(md: ModelDeployment, ctx: RenderContext) -> Unit | None:
    """The unit for one ModelDeployment, or None after adding problems to ``ctx``."""
    namespace = md.namespace or ctx.settings.namespace or None
    if md.kind == llm.LLM:
        return _llm_unit(md, ctx, namespace)
    mode = md.deployment_mode or _profile_mode(ctx) or DEFAULT_MODE
    meta: dict = {"name": md.name}
    if namespace:
        meta["namespace"] = namespace
    if md.labels:
        meta["labels"] = dict(md.labels)
    meta["annotations"] = {**md.annotations, MODE_ANNOTATION: mode}
    model: dict = {}
    isvc = {"apiVersion": ISVC_API, "kind": "InferenceService", "metadata": meta,
            "spec": {"predictor": {"model": model}}}
    if md.spec.get("multiNode") is not None:  # KServe auto-selects a multi-node runtime only for a workerSpec
        isvc["spec"]["predictor"]["workerSpec"] = {}
    unit = Unit(isvc=isvc, source=md.doc, deployment=md)
    record = _recorder(unit, ctx)
    record("metadata.annotations." + MODE_ANNOTATION, mode,
           ("spec", "deploymentMode") if md.deployment_mode else None, "deployment mode")

    m = md.model
    if m.format_name:
        model["modelFormat"] = {"name": m.format_name, **({"version": m.format_version} if m.format_version
                                                          else {})}
    model["storageUri"] = m.storage_uri
    record("spec.predictor.model.storageUri", m.storage_uri, ("spec", "model", "storageUri"), "model")
    if m.protocol_version:
        model["protocolVersion"] = m.protocol_version
    if m.runtime_version:
        model["runtimeVersion"] = m.runtime_version
    if m.env:
        model["env"] = escape_strings(m.env)
    if m.resources:
        model["resources"] = copy.deepcopy(m.resources)
    if not _pin_runtime(unit, ctx, namespace):
        return None
    write_scaling(unit, ctx, "predictor", md.scaling, ("spec", "scaling"))
    return unit


def _llm_unit(md: ModelDeployment, ctx: RenderContext, namespace: str | None) -> Unit:
    """The skeleton of a model's LLMInferenceService: identity and model; ``cmp.transforms.llm`` adds the
    rest. No deployment-mode annotation: an LLMInferenceService has none."""
    meta: dict = {"name": md.name}
    if namespace:
        meta["namespace"] = namespace
    if md.labels:
        meta["labels"] = dict(md.labels)
    if md.annotations:
        meta["annotations"] = dict(md.annotations)
    model = {"uri": md.model.storage_uri, "name": md.llm.model_name}
    obj = {"apiVersion": LLMISVC_API, "kind": llm.LLM, "metadata": meta, "spec": {"model": model}}
    unit = Unit(isvc=obj, source=md.doc, deployment=md)
    record = _recorder(unit, ctx)
    record("spec.model.uri", model["uri"], ("spec", "model", "storageUri"), "model")
    written = isinstance(md.spec.get("model"), dict) and "name" in md.spec["model"]
    record("spec.model.name", model["name"], ("spec", "model", "name") if written else ("metadata", "name"),
           "model name (always written: KServe's webhook would default it to metadata.name)")
    return unit


def _profile_mode(ctx: RenderContext) -> str | None:
    return getattr(ctx.profile, "deployment_mode", None) if ctx.profile is not None else None


def _recorder(unit: Unit, ctx: RenderContext):
    def record(path: str, value, source_path: tuple | None, rule: str) -> None:
        source = unit.where(source_path) if source_path else "kserve-cmp default"
        ctx.provenance.record(unit.isvc, path, value, source, rule)
    return record


def _format_hint(wanted: str, formats: list[str]) -> str:
    guess = select.closest(wanted, formats)
    return f" (did you mean {guess!r}?)" if guess and guess != wanted else ""


def _runtime_refusal(md, base: dict, reason: str):
    """KServe's refusal of the named runtime, at the field to change: for a format the runtime does
    not list, the format line, with the formats it does list."""
    formats = select.format_names(base.get("spec") or {})
    wanted = md.model.format_name or ""
    if "model format" in reason and wanted:
        return md.problem(("spec", "model", "format"),
                          f"{reason}{_format_hint(wanted, formats)}; it supports: {', '.join(formats) or 'none'}",
                          rule="runtime")
    return md.problem(("spec", "runtime"), reason, rule="runtime")


def _no_runtime(md, model: dict, ctx: RenderContext):
    """No runtime auto-selects the model: the formats that do, and the protocol only when written."""
    fmt = model["modelFormat"]
    want = fmt["name"] + (f":{fmt['version']}" if fmt.get("version") else "")
    runtimes = list(ctx.runtimes.values()) + list(ctx.release.runtimes.values())
    formats = sorted({name for rt in runtimes for name in select.format_names(rt.get("spec") or {})}, key=str.lower)
    written = md.model.protocol_version
    if fmt.get("version") and fmt["name"] in formats and not written:
        message = (f"no runtime supports version {fmt['version']!r} of model format {fmt['name']!r}; drop the "
                   "version or set spec.runtime")
    elif written and fmt["name"] in formats:
        message = f"no runtime supports model format {want!r} with protocol {written}; set spec.runtime or " \
                  "another protocolVersion"
    else:
        message = (f"no runtime supports model format {want!r}{_format_hint(fmt['name'], formats)}; "
                   f"formats: {', '.join(formats)}")
    return md.problem(("spec", "model", "format"), message, rule="runtime")


def _pin_runtime(unit: Unit, ctx: RenderContext, namespace: str | None) -> bool:
    """Find the base runtime, check it can serve the model, pin runtime and protocol."""
    md = unit.deployment
    model = unit.predictor["model"]
    if md.runtime:
        base, origin = lookup_runtime(md.runtime, namespace, ctx)
        if base is None:
            available = sorted({n for n, _ in ctx.runtimes} | set(ctx.release.runtime_names()))
            listed = md.runtime in (getattr(ctx.profile, "cluster_runtimes", ()) or ())
            hint = (" (the cluster profile lists it in spec.kserve.clusterRuntimes: add its definition to the "
                    "inputs with the annotation kserve-cmp.io/emit: \"false\" to reference it without emitting it)"
                    if listed else "")
            if not hint and md.runtime not in ctx.release.runtimes:
                later = catalog.first_release(lambda r: md.runtime in r.runtimes)
                if later is not None:
                    hint = (f" (a built-in runtime first in KServe {later.tag}; the target release is "
                            f"{ctx.release.tag}, from the cluster profile's spec.kserve.version)")
            if not hint:
                guess = select.closest(md.runtime, available)
                hint = f" (did you mean {guess!r}?)" if guess else ""
            ctx.add(md.problem(("spec", "runtime"), f"unknown runtime {md.runtime!r}{hint}; available: "
                                                   f"{', '.join(available)}", rule="runtime"))
            return False
        if "modelFormat" not in model:
            formats = (base.get("spec") or {}).get("supportedModelFormats") or []
            if not formats:
                ctx.add(md.problem(("spec", "model"), f"runtime {md.runtime!r} lists no model format; "
                                                      f"set spec.model.format", rule="runtime"))
                return False
            first = formats[0]
            model["modelFormat"] = {"name": first["name"], **({"version": first["version"]}
                                                              if first.get("version") else {})}
        reason = select.check_explicit_runtime(unit.isvc, base)
        if reason:
            ctx.add(_runtime_refusal(md, base, reason))
            return False
    else:
        if "modelFormat" not in model:
            ctx.add(md.problem(("spec",), "set spec.runtime or spec.model.format", rule="runtime"))
            return False
        base, origin = auto_select(unit.isvc, namespace, ctx)
        if base is None:
            ctx.add(_no_runtime(md, model, ctx))
            return False
    unit.base_runtime, unit.base_from = base, origin
    name = base["metadata"]["name"]
    model["runtime"] = name
    ctx.provenance.record(unit.isvc, "spec.predictor.model.runtime", name,
                          unit.where(("spec", "runtime")) if md.runtime else f"auto-selected from {origin}",
                          "runtime")
    if "protocolVersion" not in model:
        proto = select.default_protocol(unit.isvc) or select.lowest_protocol(base)
        if proto:
            model["protocolVersion"] = proto
            ctx.provenance.record(unit.isvc, "spec.predictor.model.protocolVersion", proto,
                                  f"runtime {name}", "protocol pinned")
    return True


def lookup_runtime(name: str, namespace: str | None, ctx: RenderContext) -> tuple[dict | None, str]:
    """(copy of the runtime, "inputs" | "catalog"), or (None, "") when neither has it."""
    found = ctx.runtime_in_inputs(name, namespace)
    if found is not None:
        return copy.deepcopy(found), "inputs"
    found = ctx.release.runtime(name)
    if found is not None:
        return found, "catalog"
    return None, ""


def auto_select(isvc: dict, namespace: str | None, ctx: RenderContext) -> tuple[dict | None, str]:
    """The runtime KServe would auto-select among the inputs and the catalog."""
    namespaced = [r for (n, ns), r in sorted(ctx.runtimes.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
                  if ns is not None and ns == namespace]
    cluster_inputs = {n: r for (n, ns), r in ctx.runtimes.items() if ns is None}
    cluster = [cluster_inputs[n] for n in sorted(cluster_inputs)]
    cluster += [ctx.release.runtime(n) for n in ctx.release.runtime_names() if n not in cluster_inputs]
    chosen = select.select_runtime(isvc, namespaced, cluster)
    if chosen is None:
        return None, ""
    name = chosen["metadata"]["name"]
    in_inputs = any(r is chosen for r in namespaced) or name in cluster_inputs
    return copy.deepcopy(chosen), "inputs" if in_inputs else "catalog"


def write_scaling(unit: Unit, ctx: RenderContext, component: str, s: ScalingSpec, input_path: tuple) -> None:
    """One component's ``scaling`` section as that component's replica and metric fields (the
    scaling transform folds and checks them later, with every other spelling)."""
    target = unit.isvc["spec"].setdefault(component, {})
    for attr, key in _SCALING_FIELDS:
        value = getattr(s, attr)
        if value is not None:
            target[key] = value
            ctx.provenance.record(unit.isvc, f"spec.{component}.{key}", value, unit.where(input_path + (key,)),
                                  "scaling")
