"""What ``cmp explain`` shows beside the predictor container: the transformer container and each
component's pod fields, each value with the input (or rule) it came from.

The transformer container is the one KServe's controller builds (:mod:`cmp.kserve.transformer`:
nothing merged, its own arguments appended when missing); the predictor's pod fields are the
runtime's pod-level fields with the InferenceService's merged over them, as ``MergePodSpec`` does
(:func:`cmp.kserve.merge.merge_pod_spec`). Sources come from the provenance records the
transforms wrote (``spec.pod`` lines, ``spec.patches`` operations), else the input document of a
raw InferenceService, else the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping

from .kserve.merge import merge_pod_spec
from .kserve.transformer import SOURCE as KSERVE_ADDS
from .kserve.transformer import assemble_transformer_container
from .provenance import Provenance, object_key
from .source.yamlio import format_path
from .unit import Unit

#: The fact the health transform leaves: ``[(token, file:line), ...]`` of the transformer's args.
FACT_TRANSFORMER_ARGS = "transformer_args"
#: Pod fields shown, in this order: PodSpec fields, then the component's pod metadata.
POD_FIELDS = ("serviceAccountName", "nodeSelector", "tolerations", "affinity", "priorityClassName",
              "imagePullSecrets", "labels", "annotations")
CONTAINER_FIELDS = ("image", "env", "resources", "readinessProbe", "livenessProbe")


def source_of(unit: Unit, provenance: Provenance | None, path: tuple) -> str:
    """Who last wrote ``path`` (or a field inside it, or an object around it) of the unit's object."""
    text = format_path(path)
    if provenance is not None:
        for record in reversed(provenance.for_object(object_key(unit.isvc))):
            inside = record.path.startswith((text + ".", text + "["))
            around = text.startswith((record.path + ".", record.path + "["))
            if record.path == text or inside or around:
                return record.source
    if unit.deployment is None:
        return unit.where(path)
    return f"InferenceService {unit.name}"


def pod_fields(unit: Unit, provenance: Provenance | None, component: str, runtime: Mapping | None = None) -> dict:
    """``{field: {"value", "source"[, "workers"]}}`` of a component's pods (the runtime's merged in)."""
    spec = (unit.isvc.get("spec") or {}).get(component) or {}
    merged = merge_pod_spec((runtime or {}).get("spec") or {}, spec) if runtime is not None else dict(spec)
    worker = spec.get("workerSpec") if component == "predictor" and isinstance(spec.get("workerSpec"), dict) else {}
    runtime_name = ((runtime or {}).get("metadata") or {}).get("name")
    out: dict = {}
    for name in POD_FIELDS:
        value = merged.get(name) if name not in ("labels", "annotations") else spec.get(name)
        if not value:
            continue
        if name in spec:
            source = source_of(unit, provenance, ("spec", component, name))
            if runtime_name and ((runtime or {}).get("spec") or {}).get(name) and value != spec[name]:
                source += f" (merged over runtime {runtime_name}'s)"
        else:
            source = f"runtime {runtime_name}"
        out[name] = {"value": value, "source": source}
        if worker.get(name) == value:
            out[name]["workers"] = True
    return out


def transformer_view(unit: Unit, provenance: Provenance | None) -> dict | None:
    """The transformer container KServe runs, every argument's and field's source, its pod fields."""
    built = assemble_transformer_container(unit.isvc)
    if built is None:
        return None
    container, added = built
    args = list(container.get("args") or [])
    given = args[:len(args) - added]
    fact = unit.facts.get(FACT_TRANSFORMER_ARGS)
    if isinstance(fact, list) and [token for token, _ in fact] == given:
        sources = [source for _, source in fact]
    else:
        sources = [source_of(unit, provenance, ("spec", "transformer", "containers", 0, "args", i))
                   for i in range(len(given))]
    return {
        "container": container,
        "args": [{"arg": a, "source": s} for a, s in zip(given, sources)]
                + [{"arg": a, "source": KSERVE_ADDS} for a in args[len(given):]],
        "sources": {name: source_of(unit, provenance, ("spec", "transformer", "containers", 0, name))
                    for name in CONTAINER_FIELDS if name in container and name != "env"},
        "pod": pod_fields(unit, provenance, "transformer"),
    }


def pod_text(fields: Mapping, compact, indent: str = "  ") -> list[str]:
    """The ``pod:`` lines of the text view."""
    if not fields:
        return []
    lines = [f"{indent}pod:"]
    for name, item in fields.items():
        workers = " (workers too)" if item.get("workers") else ""
        lines.append(f"{indent}  {name}: {compact(item['value'])}  <- {item['source']}{workers}")
    return lines


def transformer_text(view: Mapping | None, compact, env_text) -> list[str]:
    """The ``transformer:`` lines of the text view."""
    if not view:
        return []
    container, sources = view["container"], view["sources"]
    lines = ["  transformer:", f"    image: {container.get('image')}  <- {sources.get('image', '')}".rstrip(" <-")]
    if view["args"]:
        width = max(len(a["arg"]) for a in view["args"])
        lines.append("    args:")
        lines += [f"      {a['arg'].ljust(width)}  <- {a['source']}" for a in view["args"]]
    if container.get("env"):
        lines.append("    env:")
        lines += [f"      {env_text(e)}" for e in container["env"]]
    for name in CONTAINER_FIELDS[2:]:
        if container.get(name):
            lines.append(f"    {name}: {compact(container[name])}  <- {sources.get(name, '')}")
    return lines + pod_text(view.get("pod") or {}, compact, indent="    ")
