"""``cmp explain`` for an LLMInferenceService: what KServe's LLM path will run for the model.

The view is a plain mapping (JSON-ready): the workloads with their replicas or scaling range and
parallelism, and for each pod spec that exists the container ``main`` as the service writes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from .unit import Unit

#: Pod specs of an LLMInferenceService, in the order they are shown.
PODS = (("template", ("template",)), ("worker", ("worker",)), ("prefill.template", ("prefill", "template")),
        ("prefill.worker", ("prefill", "worker")))


def describe(unit: Unit) -> dict:
    """The LLM view of one unit (``spec`` as emitted)."""
    spec = unit.isvc.get("spec") if isinstance(unit.isvc.get("spec"), dict) else {}
    model = spec.get("model") if isinstance(spec.get("model"), dict) else {}
    out: dict = {"model": {"name": model.get("name"), "uri": model.get("uri")},
                 "workloads": {}, "pods": {}}
    for key, block in (("decode" if isinstance(spec.get("prefill"), dict) else "main", spec),
                       ("prefill", spec.get("prefill"))):
        if isinstance(block, dict):
            out["workloads"][key] = workload(block)
    for key, path in PODS:
        pod = _get(spec, path)
        if isinstance(pod, dict):
            out["pods"][key] = main_container(pod)
    if isinstance(spec.get("router"), dict):
        out["router"] = sorted(spec["router"])
    return out


def workload(block: Mapping) -> dict:
    """Replicas or scaling range, parallelism and topology of one workload (main/decode or prefill)."""
    found: dict = {"topology": "LeaderWorkerSet (leader + workers)" if isinstance(block.get("worker"), dict)
                   else "Deployment"}
    for key in ("replicas", "scaling", "parallelism"):
        if block.get(key) is not None:
            found[key] = block[key]
    return found


def main_container(pod: Mapping) -> dict:
    containers = pod.get("containers") if isinstance(pod.get("containers"), list) else []
    main = next((c for c in containers if isinstance(c, dict) and c.get("name") == "main"), {})
    return {key: main[key] for key in ("args", "env", "resources") if key in main}


def _get(obj, path: tuple):
    for part in path:
        obj = obj.get(part) if isinstance(obj, Mapping) else None
    return obj


def text_lines(info: Mapping) -> list[str]:
    """The view as indented text lines (without the model's heading)."""
    model = info.get("model") or {}
    lines = [f"  kind: LLMInferenceService (KServe's LLM path)",
             f"  model: {model.get('name')}  ({model.get('uri')})"]
    for key, found in (info.get("workloads") or {}).items():
        lines.append(f"  {key} workload: {found['topology']}")
        for field in ("replicas", "scaling", "parallelism"):
            if field in found:
                lines.append(f"    {field}: {_compact(found[field])}")
    for key, container in (info.get("pods") or {}).items():
        lines.append(f"  pod {key}, container main:")
        for field, value in container.items():
            lines.append(f"    {field}: {_compact(value)}")
    if info.get("router"):
        lines.append(f"  router: {', '.join(info['router'])}")
    return lines


def _compact(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
