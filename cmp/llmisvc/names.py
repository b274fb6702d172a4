"""Names of the objects the LLMInferenceService controller creates, computed as it computes them.

Every child object is named ``kmeta.ChildName(service name, suffix)`` (knative.dev/pkg ``kmeta/names.go``):
the plain concatenation while it fits Kubernetes' 63 characters; past that, the parent is cut to
``31 - len(suffix)`` characters and followed by the 32 hex digits of its MD5; a suffix of 31 characters
or more hashes ``parent + suffix`` instead, keeps at most 31 characters of the parent, pads with the
start of the suffix up to 63 and drops trailing characters that are not alphanumeric.
"""

from __future__ import annotations

import hashlib
from typing import Any

LONGEST = 63
HEAD = LONGEST - 32


def child_name(parent: str, suffix: str) -> str:
    """``kmeta.ChildName(parent, suffix)`` (knative.dev/pkg ``kmeta/names.go``)."""
    if len(parent) <= LONGEST - len(suffix):
        return parent + suffix
    if HEAD - len(suffix) <= 0:
        digest = hashlib.md5((parent + suffix).encode(), usedforsecurity=False).hexdigest()
        out = parent[:HEAD] + digest
        if LONGEST - len(out) > 0:
            out += suffix[: LONGEST - len(out)]
        while out and not (out[-1].isascii() and out[-1].isalnum()):
            out = out[:-1]
        return out
    return parent[: HEAD - len(suffix)] + hashlib.md5(parent.encode(), usedforsecurity=False).hexdigest() + suffix


def _has(node: Any, *keys: str) -> bool:
    for key in keys:
        if not isinstance(node, dict) or node.get(key) is None:
            return False
        node = node[key]
    return True


def child_names(service: dict, composition: Any) -> dict[str, str]:
    """``"<Kind>/<role>" -> name`` of every object the controller creates for ``service`` composed as
    ``composition`` (a :class:`cmp.llmisvc.Composition`), e.g. ``"Deployment/main": "qwen-kserve"``.

    Suffixes per object are those of ``pkg/controller/v1alpha2/llmisvc/`` (``workload_single_node.go``,
    ``workload_multi_node.go``, ``workload.go``, ``router.go``, ``scheduler.go``, ``scaling.go``) of the
    shipped releases; which objects exist follows the composed spec: a ``worker`` makes a
    LeaderWorkerSet instead of a Deployment, ``prefill`` a second workload and the P/D sidecar's RBAC,
    a scheduler without ``pool.ref`` an InferencePool and the endpoint picker, a ``route`` without
    ``http.refs`` a managed HTTPRoute, ``scaling`` a VariantAutoscaling plus an HPA or a KEDA ScaledObject.
    """
    meta = service.get("metadata") if isinstance(service, dict) and isinstance(service.get("metadata"), dict) else {}
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "")
    spec = composition.spec
    out: dict[str, str] = {}
    prefill = spec.get("prefill") if isinstance(spec.get("prefill"), dict) else None
    if _has(spec, "worker"):
        out["LeaderWorkerSet/main"] = child_name(name, "-kserve-mn")
        out["ServiceAccount/main"] = child_name(name, "-kserve-mn")
        out["Role/main"] = child_name(name, "-kserve-mn-role")
        out["RoleBinding/main"] = child_name(name, "-kserve-mn-rb")
    else:
        out["Deployment/main"] = child_name(name, "-kserve")
    if prefill is not None:
        if _has(prefill, "worker"):
            out["LeaderWorkerSet/prefill"] = child_name(name, "-kserve-mn-prefill")
            out["ServiceAccount/prefill"] = child_name(name, "-kserve-mn-prefill")
        else:
            out["Deployment/prefill"] = child_name(name, "-kserve-prefill")
        if not _has(spec, "worker"):   # the decode pod's routing sidecar reads the InferencePool
            out["ServiceAccount/main"] = child_name(name, "-kserve")
            out["Role/main"] = child_name(name, "-kserve-role")
            out["RoleBinding/main"] = child_name(name, "-kserve-rb")
    out["Service/workload"] = child_name(name, "-kserve-workload-svc")
    out["Secret/tls"] = child_name(name, "-kserve-self-signed-certs")
    router = spec.get("router") if isinstance(spec.get("router"), dict) else {}
    if isinstance(router.get("route"), dict) and not _has(router, "route", "http", "refs"):
        out["HTTPRoute/main"] = child_name(name, "-kserve-route")
    scheduler = router.get("scheduler")
    if isinstance(scheduler, dict) and not (_has(scheduler, "pool", "ref", "name") and scheduler["pool"]["ref"]["name"]):
        out["InferencePool/main"] = child_name(name, "-inference-pool")
        out["Deployment/scheduler"] = child_name(name, "-kserve-router-scheduler")
        out["Service/scheduler"] = child_name(name, "-epp-service")
        out["ServiceAccount/scheduler"] = child_name(name, "-epp-sa")
        out["Role/scheduler"] = child_name(name, "-epp-role")
        out["RoleBinding/scheduler"] = child_name(name, "-epp-rb")
        out["ClusterRoleBinding/scheduler"] = child_name(namespace, f"-{name}-epp-auth-rb")
    for role, infix, workload in (("main", "", spec), ("prefill", "-prefill", prefill or {})):
        scaling = workload.get("scaling")   # scaling.go: each workload scales on its own spec
        if not _has(scaling, "wva"):
            continue
        out[f"VariantAutoscaling/{role}"] = child_name(name, f"-kserve{infix}-va")
        if _has(scaling, "wva", "hpa"):
            out[f"HorizontalPodAutoscaler/{role}"] = child_name(name, f"-kserve{infix}-hpa")
        if _has(scaling, "wva", "keda"):
            out[f"ScaledObject/{role}"] = child_name(name, f"-kserve{infix}-keda")
    return dict(sorted(out.items()))
