"""The serving summary of an LLMInferenceService: replicas or scaling, parallelism, GPUs per pod,
presets and the vLLM command line, before and after; and the change KServe will refuse.

KServe's webhook refuses an update that changes a workload's total parallelism size
(``validateImmutableParallelism`` in pkg/apis/serving/v1alpha2/llm_inference_service_validation.go,
v0.20.0): ``data / dataLocal`` with data parallelism, else ``pipeline``, else 1
(``ParallelismSpec.GetSize``). An Argo CD sync of such a change fails until the service is deleted
and created again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .. import llmisvc
from ..kserve import gpu
from ..unit import Unit

KIND = "LLMInferenceService"
#: Facts holding each workload's total parallelism size.
SIZE = {"main": "pods per replica (parallelism size)", "prefill": "prefill pods per replica (parallelism size)"}


def facts(unit: Unit) -> tuple[str, str, dict[str, str]]:
    """(runtime text, image text, facts) of one LLMInferenceService."""
    spec = unit.isvc.get("spec") if isinstance(unit.isvc.get("spec"), dict) else {}
    model = spec.get("model") if isinstance(spec.get("model"), dict) else {}
    values: dict[str, str] = {"model name": _text(model.get("name")), "storage URI": _text(model.get("uri"))}
    values.update(_workload(spec, "main", ""))
    if isinstance(spec.get("prefill"), dict):
        values.update(_workload(spec["prefill"], "prefill", "prefill "))
    router = spec.get("router") if isinstance(spec.get("router"), dict) else {}
    values["routing"] = ", ".join(_router(router)) or "none (workload Service only)"
    composed = (unit.facts.get("llm") or {}).get("composition")
    if not isinstance(composed, llmisvc.Composition):
        composed = llmisvc.compose(unit.isvc, unit.kserve.tag)
    values["presets"] = ", ".join(p.name for p in composed.presets)
    for pod in llmisvc.POD_PATHS:
        if _pod(spec, pod) is not None:
            values[f"vLLM command line ({pod})"] = " ".join(w for w, _ in llmisvc.vllm_argv(composed, pod))
    runtime = f"{KIND} (presets of KServe {composed.release})"
    image = _text(_main(_pod(composed.spec, "template")).get("image")) or "(unknown)"
    return runtime, image, {"runtime": runtime, "image": image, **values}


def _pod(spec: Mapping, pod: str) -> Any:
    for part in llmisvc.POD_PATHS[pod]:
        spec = spec.get(part) if isinstance(spec, Mapping) else None
    return spec


def size(parallelism: Any) -> int:
    """KServe's total parallelism size of one workload (``GetSize``; 1 when unset)."""
    if not isinstance(parallelism, Mapping):
        return 1
    data, local, pipeline = (parallelism.get(k) for k in ("data", "dataLocal", "pipeline"))
    if (data or 0) > 0 or (local or 0) > 0:
        return max(max(data or 1, 1) // max(local or 1, 1), 1)
    if (pipeline or 0) > 0:
        return pipeline
    return 1


def _workload(block: Mapping, key: str, prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    scaling = block.get("scaling") if isinstance(block.get("scaling"), Mapping) else None
    if scaling is not None:
        wva = scaling.get("wva") if isinstance(scaling.get("wva"), Mapping) else {}
        actuator = next((a for a in ("hpa", "keda") if a in wva), "?")
        out[f"{prefix}replicas"] = f"{scaling.get('minReplicas', 1)}..{scaling.get('maxReplicas')} (WVA, {actuator})"
    else:
        out[f"{prefix}replicas"] = _text(block.get("replicas"))
    parallelism = block.get("parallelism") if isinstance(block.get("parallelism"), Mapping) else {}
    for field in ("tensor", "data", "dataLocal", "pipeline"):
        if parallelism.get(field) is not None:
            out[f"{prefix}parallelism.{field}"] = _text(parallelism[field])
    out[SIZE[key]] = str(size(parallelism))
    main = _main(block.get("template"))
    out[f"{prefix}GPUs per pod"] = gpu.amounts(main.get("resources"))
    return out


def _main(pod: Any) -> Mapping:
    containers = pod.get("containers") if isinstance(pod, Mapping) and isinstance(pod.get("containers"), list) else []
    return next((c for c in containers if isinstance(c, Mapping) and c.get("name") == "main"), {})


def _router(router: Mapping) -> list[str]:
    parts = []
    gateway = router.get("gateway")
    if isinstance(gateway, Mapping):
        refs = gateway.get("refs") or []
        parts.append("gateway " + (", ".join(f"{r.get('namespace')}/{r.get('name')}" for r in refs
                                             if isinstance(r, Mapping)) or "(cluster default)"))
    parts += [name for name in ("route", "scheduler") if name in router]
    return parts


def update_warnings(old: dict[str, str], new: dict[str, str]) -> tuple[str, ...]:
    """What KServe's webhook will refuse when ``old`` is updated to ``new`` (both LLM facts)."""
    out = []
    for key, label in SIZE.items():
        if label in old and label in new and old[label] != new[label]:
            what = "the prefill workload's" if key == "prefill" else "the"
            out.append(f"{what} total parallelism changes from {old[label]} to {new[label]} pods: KServe's webhook "
                       "refuses this update (the size is immutable), so the sync fails; delete the "
                       "LLMInferenceService and sync again to recreate it")
    return tuple(out)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
