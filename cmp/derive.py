"""Derived ServingRuntimes: a private, namespaced copy of a model's base runtime.

A transform that must change what the runtime gives the predictor container (args, ports,
the launch script...) calls :func:`ensure_derived_runtime`; the first call clones the base,
later calls return the same object. The clone can never be picked by another InferenceService:
every supported model format has ``autoSelect: false``, and the InferenceService pins it.
"""

from __future__ import annotations

import copy

from .naming import derived_name
from .unit import RenderContext, Unit

LABEL_BASE = "kserve-cmp.io/base-runtime"
LABEL_BASE_KIND = "kserve-cmp.io/base-runtime-kind"
LABEL_DEPLOYMENT = "kserve-cmp.io/model-deployment"
RUNTIME_API = "serving.kserve.io/v1alpha1"


def ensure_derived_runtime(unit: Unit, ctx: RenderContext, reason: str) -> dict:
    """The unit's derived ServingRuntime, created from its base runtime on first use."""
    if unit.runtime is not None:
        return unit.runtime
    base = unit.base_runtime
    if base is None:  # callers only derive when the base is known
        raise ValueError(f"{unit.name}: no base runtime to derive from")
    base_meta = base.get("metadata") or {}
    base_name = base_meta.get("name", "runtime")
    labels = dict(base_meta.get("labels") or {})
    labels.update({LABEL_BASE: base_name, LABEL_BASE_KIND: base.get("kind", "ClusterServingRuntime"),
                   LABEL_DEPLOYMENT: unit.name})
    meta: dict = {"name": derived_name(unit.name, base_name), "labels": labels}
    if unit.namespace:
        meta["namespace"] = unit.namespace
    if base_meta.get("annotations"):
        meta["annotations"] = dict(base_meta["annotations"])
    spec = copy.deepcopy(base.get("spec") or {})
    for fmt in spec.get("supportedModelFormats") or []:
        fmt["autoSelect"] = False
    runtime = {"apiVersion": RUNTIME_API, "kind": "ServingRuntime", "metadata": meta, "spec": spec}
    unit.runtime = runtime
    model = unit.predictor.setdefault("model", {})
    model["runtime"] = meta["name"]
    ctx.provenance.record(unit.isvc, "spec.predictor.model.runtime", meta["name"],
                          f"derived from {base.get('kind', 'runtime')} {base_name}", reason)
    return runtime


def runtime_container(runtime: dict, name: str = "kserve-container") -> dict | None:
    """The named container of a runtime spec (KServe keys the predictor on ``kserve-container``)."""
    for container in (runtime.get("spec") or {}).get("containers") or []:
        if container.get("name") == name:
            return container
    return None
