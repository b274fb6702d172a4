"""The serving summary of each model: what its pod will run, before and after.

For every InferenceService of a render the predictor container is assembled the way KServe
assembles it, with the same runtime lookup and admission defaults as ``cmp explain``
(:func:`cmp.kserve.merge.assemble_predictor_container`: runtime container, ISVC fields merged
over it, args concatenated, placeholders resolved, image tag rules) and read
into a few facts a reviewer cares about: runtime, image, each effective flag, replicas,
GPUs and how the model gets downloaded. Replica counts come from the scaling transform's
decisions in ``unit.facts`` when it made them (they include cluster defaults the
InferenceService does not spell out). Comparing the facts of the two sides gives the rows of a
:class:`~cmp.diff.result.ModelDiff`, e.g. ``--max-model-len: 4096 → 8192``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import explain
from ..kserve.autoscaling import CLASS, KSERVE_CLASS, METRIC
from ..kserve.flags import flag_rules_for, parse_args
from ..kserve.gpu import amounts as gpus
from ..kserve.merge import AssemblyError, assemble_predictor_container
from ..transforms.health import FLAG as HEALTH_FLAG
from ..unit import Unit
from . import llm_summary
from .result import ADDED, CHANGED, REMOVED, RENAMED, UNCHANGED, ModelDiff, Row

INITIAL_SCALE = "autoscaling.knative.dev/initial-scale"
MODE = "serving.kserve.io/deploymentMode"
BASE_LABEL = "kserve-cmp.io/base-runtime"
NONE = ""
#: Facts every summary line shows anyway (not repeated as rows of a new model).
IDENTITY = ("runtime", "image")
_SCALING = (("scale metric", "scaleMetric"), ("scale target", "scaleTarget"),
            ("container concurrency", "containerConcurrency"))


@dataclass(frozen=True)
class ModelFacts:
    """One model on one side: its key (``namespace/name``) and its facts, label -> text."""

    key: str
    runtime: str
    image: str
    values: dict[str, str]


def model_key(isvc: dict) -> str:
    meta = isvc.get("metadata") or {}
    return "/".join(p for p in (meta.get("namespace"), meta.get("name")) if p)


def model_facts(unit: Unit, objects: list[dict]) -> ModelFacts:
    """The facts of ``unit`` as rendered with ``objects`` (the side's output, for runtime lookup)."""
    isvc = unit.isvc
    if isvc.get("kind") == llm_summary.KIND:
        runtime, image, llm_values = llm_summary.facts(unit)
        return ModelFacts(model_key(isvc), runtime, image, llm_values)
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    model = predictor.get("model")
    runtime_name = str((model or {}).get("runtime") or "")
    runtime = explain.find_runtime(isvc, objects, unit.release)[0] if runtime_name else None
    container, note = _container(runtime, explain.admitted(isvc), predictor)
    values: dict[str, str] = {"runtime": _runtime_text(runtime_name, runtime, model),
                              "image": str(container.get("image") or NONE) if container else note}
    values.update(flag_values(container.get("args") or [], runtime or {}, isvc) if container else {})
    values.update(replicas(isvc, predictor, unit.facts))
    values["GPUs"] = gpus(container.get("resources") or {}) if container else NONE
    values.update(multinode(unit.facts.get("multinode")))
    values.update(autoscaler(isvc, unit.facts))
    if model is not None:
        values["storage URI"] = str(model.get("storageUri") or NONE)
        values["storage initializer"] = storage_initializer(model.get("storageUri"), predictor, objects)
        values.update(storage_container(predictor, objects))
    values.update(pod(predictor, ""))
    values.update(transformer((isvc.get("spec") or {}).get("transformer")))
    return ModelFacts(model_key(isvc), values["runtime"], values["image"], values)


def multinode(facts: Any) -> dict[str, str]:
    """Parallel sizes, worker pods and GPUs per node as KServe computes them (the multinode transform)."""
    if not isinstance(facts, dict):
        return {}
    resource = str(facts.get("gpuResource") or "GPU")
    return {"tensor parallel size": text(facts.get("tensorParallelSize")),
            "pipeline parallel size": text(facts.get("pipelineParallelSize")),
            "worker pods": text(facts.get("workers")),
            "GPUs per head pod": f"{text(facts.get('headGpus'))} {resource}",
            "GPUs per worker pod": f"{text(facts.get('workerGpus'))} {resource}"}


def autoscaler(isvc: dict, facts: dict) -> dict[str, str]:
    """The autoscaler class and metric the model gets (annotations; the HPA metric KServe creates)."""
    annotations = (isvc.get("metadata") or {}).get("annotations") or {}
    predictor = ((isvc.get("spec") or {}).get("predictor") or {})
    own = predictor.get("annotations") or {}
    values = {"autoscaler class": text(own.get(KSERVE_CLASS) or annotations.get(KSERVE_CLASS)
                                       or own.get(CLASS) or annotations.get(CLASS)),
              "autoscaler metric": text(own.get(METRIC) or annotations.get(METRIC))}
    scaling = facts.get("scaling") if isinstance(facts.get("scaling"), dict) else {}
    metric = (((scaling.get("components") or {}).get("predictor")) or {}).get("metric")
    if isinstance(metric, dict) and metric.get("value") is not None:
        values["HPA metric"] = text(metric["value"])
    return values


def storage_container(predictor: dict, objects: list[dict]) -> dict[str, str]:
    """Image and resources of the model's pinned ClusterStorageContainer, when it has one."""
    name = predictor.get("storageContainerName")
    csc = next((o for o in objects if o.get("kind") == "ClusterStorageContainer"
                and (o.get("metadata") or {}).get("name") == name), None) if name else None
    if csc is None:
        return {}
    container = ((csc.get("spec") or {}).get("container") or {})
    return {"storage initializer image": text(container.get("image")),
            "storage initializer resources": text(container.get("resources"))}


def transformer(spec: Any) -> dict[str, str]:
    """The transformer's image, args and whether it checks the predictor's health."""
    if not isinstance(spec, dict):
        return {}
    containers = spec.get("containers") or []
    first = containers[0] if containers and isinstance(containers[0], dict) else {}
    args = [str(a) for a in first.get("args") or []]
    health = HEALTH_FLAG in args        # the render writes the bare flag, once, when the check is on
    values = {"transformer image": text(first.get("image")),
              "transformer args": " ".join(args),
              "transformer health check": "on" if health else "off",
              "transformer min replicas": text(spec.get("minReplicas")),
              "transformer max replicas": text(spec.get("maxReplicas"))}
    values.update(pod(spec, "transformer "))
    return values


#: Pod fields a reviewer checks (ModelDeployment ``spec.pod``, written inline in the component as
#: KServe's PodSpec; kserve v0.20.0 pkg/apis/serving/v1beta1/component.go), label -> field.
POD_FIELDS = (("service account", "serviceAccountName"), ("node selector", "nodeSelector"),
              ("tolerations", "tolerations"), ("affinity", "affinity"),
              ("priority class", "priorityClassName"), ("image pull secrets", "imagePullSecrets"),
              ("pod labels", "labels"))  # annotations: the autoscaler facts and the hunks


def pod(component: dict, prefix: str) -> dict[str, str]:
    """The pod fields a component sets (absent ones give no fact, so an unset field shows as empty)."""
    return {f"{prefix}{label}": text(component[key]) for label, key in POD_FIELDS
            if component.get(key) not in (None, {}, [])}


def _container(runtime: dict | None, isvc: dict, predictor: dict) -> tuple[dict, str]:
    """The predictor container KServe will run, or ({}, why it is not known)."""
    if "model" not in predictor:
        containers = predictor.get("containers") or []
        return (dict(containers[0]), "") if containers else ({}, "(no container)")
    if runtime is None:
        return {}, "(runtime not known here: selected on the cluster)"
    try:
        return assemble_predictor_container(runtime, isvc), ""
    except AssemblyError as exc:
        return {}, f"({exc})"


def _runtime_text(name: str, runtime: dict | None, model: dict | None) -> str:
    if model is None:
        return "(custom container)"
    if not name:
        return "(auto-selected on the cluster)"
    base = ((runtime or {}).get("metadata") or {}).get("labels", {}).get(BASE_LABEL)
    return f"{name} (from {base})" if base else name


def flag_values(tokens: list, runtime: dict, isvc: dict) -> dict[str, str]:
    """``{"--flag": value}`` of the effective args, parsed with the runtime's flag rules."""
    rules = flag_rules_for(runtime)
    out: dict[str, list[str]] = {}
    positional = 0
    parsed = parse_args([str(t) for t in tokens], normalize_underscores=rules.normalize_underscores,
                        repeatable=rules.repeatable, meta=dict(isvc.get("metadata") or {}))
    for arg in parsed:
        if arg.key is None:
            out[f"arg {positional}"] = [str(arg.value)]
            positional += 1
            continue
        flag = arg.key if arg.key.startswith("-") else f"--{arg.key}"
        value = ("(off)" if arg.negated else "(on)") if arg.value is None else arg.value
        if arg.repeatable:
            out.setdefault(flag, []).append(value)
        else:
            out[flag] = [value]
    return {k: ", ".join(v) for k, v in out.items()}


def replicas(isvc: dict, predictor: dict, facts: dict) -> dict[str, str]:
    """Mode and replica counts: the scaling transform's decisions (``facts["scaling"]``) where it
    made them, else the InferenceService's own fields."""
    scaling = facts.get("scaling") if isinstance(facts.get("scaling"), dict) else {}
    decided = ((scaling.get("components") or {}).get("predictor")) or {}
    annotations = (isvc.get("metadata") or {}).get("annotations") or {}
    values = {"deployment mode": text(_decision(scaling, "mode", annotations.get(MODE))),
              "min replicas": text(_decision(decided, "min", predictor.get("minReplicas"))),
              "max replicas": text(_decision(decided, "max", predictor.get("maxReplicas"))),
              "initial replicas": text(_decision(decided, "start", annotations.get(INITIAL_SCALE)))}
    values.update({label: text(predictor.get(key)) for label, key in _SCALING})
    return values


def _decision(facts: dict, key: str, fallback: Any) -> Any:
    """The ``value`` of a decision recorded under ``key``, else ``fallback``."""
    decision = facts.get(key)
    if isinstance(decision, dict) and decision.get("value") is not None:
        return decision["value"]
    return fallback


def storage_initializer(uri: Any, predictor: dict, objects: list[dict]) -> str:
    """How the model reaches the pod, as the storage-initializer webhook decides it."""
    if not uri:
        return "none (no storageUri)"
    uri = str(uri)
    if uri.startswith("pvc://"):
        return "none (PVC mounted at /mnt/models)"
    if uri.startswith("oci+native://"):
        return "none (image volume)"
    if uri.startswith("oci://"):
        return "modelcar sidecar"
    name = predictor.get("storageContainerName")
    if not name:
        return "storage-initializer (cluster default)"
    csc = next((o for o in objects if o.get("kind") == "ClusterStorageContainer"
                and (o.get("metadata") or {}).get("name") == name), None)
    resources = ((((csc or {}).get("spec") or {}).get("container") or {}).get("resources") or {})
    limits = ", ".join(f"{k} {v}" for k, v in sorted((resources.get("limits") or {}).items()))
    return f"ClusterStorageContainer {name}" + (f" (limits: {limits})" if limits else "")


def text(value: Any) -> str:
    """A fact as text; absent is empty."""
    if value is None:
        return NONE
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def compare_models(old: list[ModelFacts], new: list[ModelFacts], renames: dict[str, str]) -> list[ModelDiff]:
    """One :class:`ModelDiff` per model of either side; ``renames`` maps old keys to new ones."""
    old_by = {m.key: m for m in old}
    new_by = {m.key: m for m in new}
    back = {v: k for k, v in renames.items() if k in old_by and v in new_by}
    out: list[ModelDiff] = []
    for key in sorted(new_by):
        after = new_by[key]
        before = old_by.get(back.get(key, key))
        if before is None:
            facts = tuple(r for r in rows(None, after) if r.label not in IDENTITY)
            out.append(ModelDiff(ADDED, key, "", after.runtime, after.image, facts))
            continue
        changed = rows(before, after)
        action = RENAMED if before.key != key else CHANGED if changed else UNCHANGED
        out.append(ModelDiff(action, key, before.key if action == RENAMED else "", after.runtime, after.image,
                             changed, llm_summary.update_warnings(before.values, after.values)))
    paired = {back.get(k, k) for k in new_by}
    for key in sorted(set(old_by) - paired):
        out.append(ModelDiff(REMOVED, key, "", old_by[key].runtime, old_by[key].image))
    return sorted(out, key=lambda m: m.name)


def rows(before: ModelFacts | None, after: ModelFacts) -> tuple[Row, ...]:
    """The facts whose text differs (every fact of a new model), in the new side's order."""
    old = before.values if before else {}
    labels = list(after.values) + [k for k in old if k not in after.values]
    return tuple(Row(label, old.get(label, NONE), after.values.get(label, NONE)) for label in labels
                 if old.get(label, NONE) != after.values.get(label, NONE))
