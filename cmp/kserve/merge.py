"""How KServe builds the predictor container and pod spec from a runtime and an ISVC.

This is a simulation of the controller (``MergeRuntimeContainers``, ``MergePodSpec``,
``ReplacePlaceholders``, ``UpdateImageTag``), used to show the pod KServe will build:

* container fields: strategic merge of ``spec.predictor.model`` over the runtime's
  ``kserve-container`` (env by ``name``, ports by ``containerPort``, volumeMounts by
  ``mountPath``, volumeDevices by ``devicePath``, resources per key, probes/securityContext/
  lifecycle recursively, ``command``/``envFrom`` and other lists atomically, scalars replaced
  when the ISVC sets them) — except ``args``, which are concatenated (runtime then ISVC);
* an env var that ends up with both ``value`` and ``valueFrom`` keeps the ISVC side's kind;
* placeholders are resolved in every string of the merged container, then the image is
  rewritten, then ``INFERENCE_SERVICE_NAME`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping

from cmp.kserve.image import kserve_server_type, update_image_tag
from cmp.kserve.placeholders import resolve
from cmp.kserve.smp import Keyed, omit_empty, strategic_merge

KSERVE_CONTAINER = "kserve-container"
ISVC_NAME_ENV = "INFERENCE_SERVICE_NAME"

#: ``spec.predictor.model`` keys that are not ``corev1.Container`` fields.
MODEL_ONLY_FIELDS = frozenset(
    {
        "confidential",
        "modelFormat",
        "protocolVersion",
        "runtime",
        "runtimeVersion",
        "storage",
        "storageUri",
    }
)
#: Pod-level fields KServe takes from the ServingRuntime spec as the merge base.
RUNTIME_POD_FIELDS = (
    "affinity",
    "imagePullSecrets",
    "nodeSelector",
    "resourceClaims",
    "schedulerName",
    "tolerations",
    "volumes",
)
#: ``corev1.PodSpec`` fields an ISVC predictor may set (``containers`` is assembled apart).
POD_SPEC_FIELDS = frozenset(
    {
        "activeDeadlineSeconds",
        "affinity",
        "automountServiceAccountToken",
        "dnsConfig",
        "dnsPolicy",
        "enableServiceLinks",
        "hostAliases",
        "hostIPC",
        "hostNetwork",
        "hostPID",
        "hostUsers",
        "hostname",
        "hostnameOverride",
        "imagePullSecrets",
        "initContainers",
        "nodeName",
        "nodeSelector",
        "os",
        "overhead",
        "preemptionPolicy",
        "priority",
        "priorityClassName",
        "readinessGates",
        "resourceClaims",
        "resources",
        "restartPolicy",
        "runtimeClassName",
        "schedulerName",
        "schedulingGates",
        "securityContext",
        "serviceAccount",
        "serviceAccountName",
        "setHostnameAsFQDN",
        "shareProcessNamespace",
        "subdomain",
        "terminationGracePeriodSeconds",
        "tolerations",
        "topologySpreadConstraints",
        "volumes",
    }
)

CONTAINER_SCHEMA = {
    "env": Keyed("name"),
    "ports": Keyed("containerPort"),
    "volumeDevices": Keyed("devicePath"),
    "volumeMounts": Keyed("mountPath"),
}
POD_SCHEMA = {
    "hostAliases": Keyed("ip"),
    "imagePullSecrets": Keyed("name"),
    "initContainers": Keyed("name", CONTAINER_SCHEMA),
    "resourceClaims": Keyed("name"),
    "schedulingGates": Keyed("name"),
    "topologySpreadConstraints": Keyed("topologyKey"),
    "volumes": Keyed("name"),
}


class AssemblyError(ValueError):
    """The runtime cannot be assembled into a predictor container (KServe would fail too)."""


def merge_runtime_container(runtime_container: Mapping, isvc_model: Mapping) -> dict:
    """The runtime container with the ISVC model's container fields merged over it."""
    patch = omit_empty({k: v for k, v in isvc_model.items() if k not in MODEL_ONLY_FIELDS})
    merged = strategic_merge(runtime_container, _without(patch, "args"), CONTAINER_SCHEMA)
    args = list(runtime_container.get("args") or []) + list(patch.get("args") or [])
    if args:
        merged["args"] = args
    if patch.get("env"):
        merged["env"] = _reconcile_env_kinds(merged["env"], patch["env"])
    return merged


def merge_pod_spec(runtime_spec: Mapping, predictor: Mapping) -> dict:
    """Pod-level fields: the runtime's copied fields with the predictor's PodSpec merged over."""
    base = {k: runtime_spec[k] for k in RUNTIME_POD_FIELDS if runtime_spec.get(k)}
    patch = omit_empty({k: v for k, v in predictor.items() if k in POD_SPEC_FIELDS})
    return strategic_merge(base, patch, POD_SCHEMA)


def assemble_predictor_container(runtime: Mapping, isvc: Mapping, release: str | None = None) -> dict:
    """The ``kserve-container`` KServe will run for ``isvc`` on ``runtime`` (on KServe ``release``, default newest)."""
    model = ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}
    meta = isvc.get("metadata") or {}
    merged = merge_runtime_container(kserve_container(runtime), model)
    container = resolve_strings(merged, meta)
    if container.get("image"):
        container["image"] = update_image_tag(
            container["image"],
            runtime_version=model.get("runtimeVersion"),
            server_type=kserve_server_type(runtime),
            resources=container.get("resources"),
            runtime_name=(runtime.get("metadata") or {}).get("name"),
            release=release,
        )
    container["env"] = _set_env(container.get("env") or [], ISVC_NAME_ENV, meta.get("name", ""))
    return container


def kserve_container(runtime: Mapping) -> dict:
    """The runtime's container named ``kserve-container``."""
    for container in (runtime.get("spec") or {}).get("containers") or []:
        if container.get("name") == KSERVE_CONTAINER:
            return dict(container)
    name = (runtime.get("metadata") or {}).get("name")
    raise AssemblyError(f"runtime {name}: no container named {KSERVE_CONTAINER}")


def resolve_strings(value: object, meta: Mapping) -> object:
    """``value`` with KServe placeholders resolved in every string it contains."""
    if isinstance(value, str):
        return resolve(value, dict(meta))
    if isinstance(value, Mapping):
        return {k: resolve_strings(v, meta) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_strings(v, meta) for v in value]
    return value


def _reconcile_env_kinds(merged_env: list, isvc_env: list) -> list:
    """Drop ``value`` or ``valueFrom`` where both survived, keeping the ISVC side's kind."""
    kinds = {
        e["name"]: "valueFrom" if "valueFrom" in e else "value"
        for e in isvc_env
        if "value" in e or "valueFrom" in e
    }
    result = []
    for item in merged_env:
        kind = kinds.get(item.get("name"))
        if kind and "value" in item and "valueFrom" in item:
            item = _without(item, "valueFrom" if kind == "value" else "value")
        result.append(item)
    return result


def _set_env(env: list, name: str, value: str) -> list:
    """``env`` with ``name`` set to ``value`` (replaced in place, or appended)."""
    entry = {"name": name, "value": value}
    if any(e.get("name") == name for e in env):
        return [entry if e.get("name") == name else e for e in env]
    return [*env, entry]


def _without(mapping: Mapping, key: str) -> dict:
    """A copy of ``mapping`` without ``key``."""
    return {k: v for k, v in mapping.items() if k != key}
