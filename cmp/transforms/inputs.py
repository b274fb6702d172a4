"""Input mistakes that KServe would accept and then run differently: each an error or a warning with the fix.

* Extended resources (``limits``/``requests`` keys with a domain) are checked against the GPU
  names KServe knows (:mod:`cmp.kserve.gpu`) plus the model's ``serving.kserve.io/gpu-resource-types``
  annotation: a near miss of a known name (``nvidia.com/gpus``) is an error with the name it
  resembles; any other unknown name is a warning on a model (silenced by listing it in the
  annotation), and not reported on a runtime, which has no such annotation. Runtimes from the
  inputs get the near-miss check too.
* A storage URI of a scheme KServe knows but malformed (``s3:/bucket/m``, ``hf://gpt2``) is an
  error (:mod:`cmp.kserve.uri`).
* A multi-node model runs one replica: with no autoscaler (``autoscalerClass: none``) its head
  Deployment keeps ``minReplicas`` pods while KServe sizes the worker Deployment for one head
  (``RAY_NODE_COUNT - 1`` pods). ``maxReplicas`` above that, or ``minReplicas`` above 1, is an error.
* A server built for GPUs that gets no GPU: KServe's image rewrite (:mod:`cmp.kserve.image`) moves
  a vLLM server without an NVIDIA GPU limit to vLLM's CPU build, and a ``-gpu`` image on a pod
  without a GPU runs the GPU build on CPU. Both are warnings naming the image the pod will get.

Runs after ``spec.patches`` (900), so it sees the InferenceService as it is emitted, and before
the scaling rules (950), so the replica fields are still those the input asked for.
"""

from __future__ import annotations

from typing import Any

from ..kserve import gpu
from ..kserve import image as img
from ..kserve import uri as uris
from ..kserve.merge import AssemblyError, kserve_container, merge_runtime_container
from ..unit import RenderContext, Unit
from .storage import predictor_uri

NAME = "inputs"
ORDER = 940

_RESOURCE_GROUPS = ("limits", "requests")
_MEMO_RUNTIMES = "inputs-runtimes-checked"


def apply(unit: Unit, ctx: RenderContext) -> None:
    known = unit.kserve.gpu_resource_types
    _check_resource_names(unit, ctx, known)
    _check_input_runtimes(ctx, ctx.release.gpu_resource_types)
    _check_uri(unit, ctx)
    multinode = isinstance(unit.predictor.get("workerSpec"), dict)
    if multinode:
        _check_multinode_replicas(unit, ctx)
    else:
        _check_gpu_build(unit, ctx)


# ---------------------------------------------------------------- extended resources


def _check_resource_names(unit: Unit, ctx: RenderContext, defaults: tuple[str, ...]) -> None:
    annotations = (unit.isvc.get("metadata") or {}).get("annotations") or {}
    added, complaint = gpu.annotation_types(annotations)
    if complaint:
        ctx.add(unit.problem(("metadata", "annotations", gpu.ANNOTATION), complaint, rule=NAME))
    known = tuple(defaults) + tuple(added)
    for path, name in resource_names(unit.source.obj):
        if gpu.is_native(name) or gpu.is_known(name, known):
            continue
        guess = gpu.misspelling_of(name, known)
        if guess is not None:
            ctx.add(unit.problem(path, f"unknown resource {name!r}: did you mean {guess!r}? (no node offers "
                                       f"{name!r}, so the pod would never be scheduled; if the cluster really "
                                       f"has it, list it in metadata.annotations {gpu.ANNOTATION}: "
                                       f"'[\"{name}\"]')", rule=NAME))
        else:
            ctx.add(unit.problem(path, f"{name!r} is not a GPU or accelerator resource KServe knows "
                                       f"({_known_text(known)}): KServe will not count it as a GPU; if the "
                                       f"cluster has it, list it in metadata.annotations {gpu.ANNOTATION}: "
                                       f"'[\"{name}\"]'", rule=NAME, level="warning"))


def _check_input_runtimes(ctx: RenderContext, known: tuple[str, ...]) -> None:
    """Near misses in the runtimes among the inputs, once per render."""
    if ctx.memo.get(_MEMO_RUNTIMES):
        return
    ctx.memo[_MEMO_RUNTIMES] = True
    for doc in ctx.inputs:
        if not isinstance(doc.obj, dict) or doc.obj.get("kind") not in ("ServingRuntime", "ClusterServingRuntime"):
            continue
        for path, name in resource_names(doc.obj):
            if gpu.is_native(name) or gpu.is_known(name, known):
                continue
            guess = gpu.misspelling_of(name, known)
            if guess is not None:
                ctx.add(doc.problem(path, f"unknown resource {name!r}: did you mean {guess!r}? (no node offers "
                                          f"{name!r}, so the pod would never be scheduled)", rule=NAME))


def _known_text(known: tuple[str, ...]) -> str:
    return ", ".join(list(known) + [f"{gpu.MIG_PREFIX}*"])


def resource_names(obj: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """(path, name) of every key of a ``limits``/``requests`` mapping in ``obj``, in document order.

    A JSON-patch operation whose ``path`` ends in ``.../limits/<name>`` names a resource too
    (``~1`` in the pointer is ``/``).
    """
    found: list[tuple[tuple, str]] = []
    if isinstance(obj, dict):
        pointer = obj.get("path") if "op" in obj else None
        if isinstance(pointer, str):
            parts = pointer.split("/")
            if len(parts) >= 2 and parts[-2] in _RESOURCE_GROUPS:
                found.append((path + ("path",), parts[-1].replace("~1", "/").replace("~0", "~")))
        for key, value in obj.items():
            if key in _RESOURCE_GROUPS and isinstance(value, dict):
                found.extend((path + (key, name), name) for name in value if isinstance(name, str))
            else:
                found.extend(resource_names(value, path + (key,)))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found.extend(resource_names(item, path + (i,)))
    return found


# ---------------------------------------------------------------- storage URI


def _check_uri(unit: Unit, ctx: RenderContext) -> None:
    path, value = predictor_uri(unit)
    if isinstance(value, str):
        why = uris.problem(value)
        if why:
            ctx.add(unit.problem(path, why, rule=NAME))


# ---------------------------------------------------------------- multi-node replicas


def _check_multinode_replicas(unit: Unit, ctx: RenderContext) -> None:
    predictor = unit.predictor
    low, high = predictor.get("minReplicas"), predictor.get("maxReplicas")
    if isinstance(low, bool) or not isinstance(low, (int, type(None))) or isinstance(high, bool) \
            or not isinstance(high, (int, type(None))):
        return  # the schema check reports it
    floor = 1 if low is None else low
    if low is not None and low > 1:
        ctx.add(unit.problem(_replica_path(unit, "minReplicas"),
                             f"minReplicas {low} on a multi-node model: KServe runs {low} head pods but sizes the "
                             "worker Deployment for one (RAY_NODE_COUNT - 1 workers), so only one replica can "
                             "run; set minReplicas to 1 (or 0 to stop the model)", rule=NAME))
    if high is not None and high > max(floor, 1):
        ctx.add(unit.problem(_replica_path(unit, "maxReplicas"),
                             f"maxReplicas {high} can never apply: a multi-node model runs without an autoscaler "
                             "(serving.kserve.io/autoscalerClass: none) and only one replica of it can run; "
                             "remove maxReplicas", rule=NAME))


def _replica_path(unit: Unit, field: str) -> tuple:
    if unit.deployment is not None:
        scaling = unit.deployment.spec.get("scaling") or {}
        return ("spec", "scaling", field) if field in scaling else ("spec", "multiNode")
    return ("spec", "predictor", field)


# ---------------------------------------------------------------- GPU builds without a GPU


def _check_gpu_build(unit: Unit, ctx: RenderContext) -> None:
    runtime = unit.runtime or unit.base_runtime
    model = unit.predictor.get("model")
    if runtime is None or not isinstance(model, dict):
        return
    try:
        merged = merge_runtime_container(kserve_container(runtime), model)
    except (AssemblyError, TypeError, ValueError, AttributeError):
        return  # explain and the schema check say why
    written = merged.get("image")
    if not isinstance(written, str) or "@sha256:" in written:
        return
    resources = merged.get("resources") if isinstance(merged.get("resources"), dict) else {}
    if img.gpu_enabled(resources):
        return
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    others = sorted(n for n in limits if isinstance(n, str) and not gpu.is_native(n))
    known = unit.kserve.gpu_resource_types
    if any(not gpu.is_known(n, known) and gpu.misspelling_of(n, known) for n in others):
        return  # the misspelt name is an error of its own
    version = model.get("runtimeVersion")
    kind = img.kserve_server_type(runtime)
    runs = img.update_image_tag(written, runtime_version=version, server_type=kind, resources=resources,
                                runtime_name=(runtime.get("metadata") or {}).get("name"), release=unit.kserve.tag)
    where = _resources_path(unit)
    if not version and kind in img.CPU_REPO_SERVER_TYPES and runs != written:
        because = (f"KServe picks the GPU build only for an nvidia.com/gpu (or MIG) limit, not {', '.join(others)}"
                   if others else "the model has no nvidia.com/gpu limit")
        fix = ("set spec.model.runtimeVersion (KServe then keeps the repository and sets only the tag)"
               if others else "add nvidia.com/gpu to resources.limits for the GPU build")
        ctx.add(unit.problem(where, f"the server will run the CPU build {runs} instead of {written}: {because}; "
                                    f"{fix}", rule=NAME, level="warning"))
    elif _tag(runs).endswith("-gpu") and not others:
        cpu_build = runs[: -len("-gpu")]
        ctx.add(unit.problem(where, f"the image {runs} is a GPU build but the model has no GPU limit: add "
                                    f"nvidia.com/gpu to resources.limits, or use the CPU build {cpu_build}",
                             rule=NAME, level="warning"))


def _tag(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


def _resources_path(unit: Unit) -> tuple:
    if unit.deployment is not None:
        model = unit.deployment.spec.get("model") or {}
        return ("spec", "model", "resources") if "resources" in model else ("spec", "model")
    return ("spec", "predictor", "model")
