"""Which well-known presets the controller merges under a service, and why.

``combineBaseRefsConfig`` in ``pkg/controller/v1alpha2/llmisvc/config_merge.go`` (every shipped release)
decides on the spec (with its ``baseRefs`` merged over it; kserve-cmp's services have none), in this order:

1. ``router.scheduler`` set and no ``pool.ref`` -> ``kserve-config-llm-scheduler``;
2. a latency producer plugin in the scheduler config -> ``kserve-config-llm-scheduler-latency-predictor``
   (v0.20.0; detected here as a ``predicted-latency-producer`` plugin type in ``config.inline``);
3. ``router.route`` set and no ``http.refs`` -> ``kserve-config-llm-router-route``;
4. ``tracing`` set -> ``kserve-config-llm-tracing`` (v0.20.0);
5. the workload: with ``prefill``, a prefill preset (``prefill-template`` without ``prefill.worker``,
   ``prefill-worker-data-parallel`` with it and data parallelism, ``prefill-worker-pipeline-parallel``
   with pipeline parallelism) then a decode preset (``decode-template`` / ``decode-worker-data-parallel``
   / ``decode-worker-pipeline-parallel``); without, ``template`` / ``worker-data-parallel`` /
   ``worker-pipeline-parallel``. Data parallel means ``data`` or ``dataLocal`` > 0, pipeline parallel
   ``pipeline`` > 0 (``llm_inference_service_types_func.go``); data wins when both are set. A worker with
   neither gets no workload preset.

The pipeline-parallel presets are named by the controller but shipped by no release, so a service that
needs one fails with ``ConfigNotFound``: :class:`Preset` ``shipped`` is False and :func:`cmp.llmisvc.compose`
reports it as a problem. Later presets win over earlier ones, the service over all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import catalog

PREFIX = "kserve-"
"""``LLM_INFERENCE_SERVICE_CONFIG_PREFIX``'s default (config_merge.go); presets are looked up in the
service's namespace first, then ``kserve``, so a namespace can shadow one (not modelled: runtime only)."""


@dataclass(frozen=True)
class Preset:
    """One well-known preset the controller merges, in merge order."""

    name: str            # kserve-config-llm-template
    reason: str          # "no worker and no prefill: single-node workload"
    release: str         # v0.20.0
    file: str | None     # upstream file of the shipped preset (config/llmisvcconfig/...), None when not shipped
    shipped: bool        # False: the controller asks for it but the release has none (ConfigNotFound)
    config: bool = False  # True: the app's LLMInferenceServiceConfig of this name is used instead (compose's configs)

    @property
    def source(self) -> str:
        """The origin label of the leaves this preset sets: ``preset:<name>@<release>``, or ``config:<name>`` when
        the app's own config of that name replaces it."""
        return f"config:{self.name}" if self.config else f"preset:{self.name}@{self.release}"

    def spec(self) -> dict[str, Any]:
        """The preset's spec as shipped (shared: do not mutate); {} when not shipped."""
        found = catalog.llmisvc_presets(self.release).get(self.name)
        return found["spec"] if found else {}


def _positive(parallelism: Any, *keys: str) -> bool:
    if not isinstance(parallelism, dict):
        return False
    for key in keys:
        value = parallelism.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return True
    return False


def _latency_producer(scheduler: dict) -> bool:
    inline = (scheduler.get("config") or {}).get("inline") if isinstance(scheduler.get("config"), dict) else None
    text = inline if isinstance(inline, str) else json.dumps(inline) if inline is not None else ""
    return "predicted-latency-producer" in text


def _workload(kind: str, workload: dict, prefix: str) -> tuple[str, str] | None:
    """(suffix, reason) of the workload preset for one workload (the main one or prefill)."""
    where = f"{prefix}worker" if prefix else "worker"
    if not isinstance(workload.get("worker"), dict):
        return f"config-llm-{kind}template", f"no {where}: single-node {kind.rstrip('-') or 'main'} workload"
    parallelism = workload.get("parallelism")
    field = f"{prefix}parallelism" if prefix else "parallelism"
    if _positive(parallelism, "data", "dataLocal"):
        return (f"config-llm-{kind}worker-data-parallel",
                f"{where} set and {field}.data or .dataLocal > 0: multi-node data-parallel workload")
    if _positive(parallelism, "pipeline"):
        return (f"config-llm-{kind}worker-pipeline-parallel",
                f"{where} set and {field}.pipeline > 0: multi-node pipeline-parallel workload")
    return None


def select_presets(spec: dict, release: str) -> list[Preset]:
    """The presets the controller of ``release`` merges under a service with this ``spec``, in merge order,
    each with the reason it applies. A preset the release does not ship is listed with ``shipped=False``."""
    tag = catalog.resolve(release).tag
    key = catalog.version_key(tag)
    shipped = catalog.llmisvc_presets(tag)
    chosen: list[tuple[str, str]] = []
    router = spec.get("router") if isinstance(spec.get("router"), dict) else {}
    scheduler = router.get("scheduler")
    if isinstance(scheduler, dict):
        pool = scheduler.get("pool") if isinstance(scheduler.get("pool"), dict) else {}
        ref = pool.get("ref") if isinstance(pool.get("ref"), dict) else {}
        if not ref.get("name"):
            chosen.append(("config-llm-scheduler", "router.scheduler set without pool.ref: managed scheduler "
                                                   "and InferencePool"))
        if key >= (0, 20, 0) and _latency_producer(scheduler):
            chosen.append(("config-llm-scheduler-latency-predictor",
                           "router.scheduler.config.inline uses the predicted-latency-producer plugin"))
    route = router.get("route")
    if isinstance(route, dict):
        http = route.get("http") if isinstance(route.get("http"), dict) else {}
        if not http.get("refs"):
            chosen.append(("config-llm-router-route", "router.route set without http.refs: managed HTTPRoute"))
    if key >= (0, 20, 0) and isinstance(spec.get("tracing"), dict):
        chosen.append(("config-llm-tracing", "tracing set"))
    prefill = spec.get("prefill")
    if isinstance(prefill, dict):
        for found in (_workload("prefill-", prefill, "prefill."), _workload("decode-", spec, "")):
            if found is not None:
                chosen.append((found[0], found[1] + (" (prefill/decode disaggregation)" if "decode" in found[0]
                                                     or "prefill" in found[0] else "")))
    else:
        found = _workload("", spec, "")
        if found is not None:
            chosen.append(found)
    out = []
    for suffix, reason in chosen:
        name = PREFIX + suffix
        entry = shipped.get(name)
        out.append(Preset(name, reason, tag, entry["file"] if entry else None, entry is not None))
    return out
