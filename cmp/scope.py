"""Which kinds are cluster-scoped: objects that never carry a namespace.

The table holds the built-in Kubernetes kinds whose resources are cluster-scoped (the API
reference of Kubernetes v1.34: ``kubectl api-resources --namespaced=false`` on a plain cluster)
and KServe's two cluster-scoped CRDs (``scope: Cluster`` in
``config/crd/full/serving.kserve.io_clusterservingruntimes.yaml`` and
``.../serving.kserve.io_clusterstoragecontainers.yaml``, v0.20.0). Any other kind is taken as
namespaced, as kustomize's namespace transformer and Argo CD take a kind they do not know,
unless a CustomResourceDefinition among the inputs declares it ``scope: Cluster``.
"""

from __future__ import annotations

from typing import Iterable

CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    [("", k) for k in ("Namespace", "Node", "PersistentVolume", "ComponentStatus")]
    + [("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService")]
    + [("admissionregistration.k8s.io", k) for k in (
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding")]
    + [("rbac.authorization.k8s.io", k) for k in ("ClusterRole", "ClusterRoleBinding")]
    + [("scheduling.k8s.io", "PriorityClass"), ("node.k8s.io", "RuntimeClass")]
    + [("storage.k8s.io", k) for k in ("StorageClass", "CSIDriver", "CSINode", "VolumeAttachment",
                                        "VolumeAttributesClass")]
    + [("networking.k8s.io", k) for k in ("IngressClass", "IPAddress", "ServiceCIDR")]
    + [("certificates.k8s.io", k) for k in ("CertificateSigningRequest", "ClusterTrustBundle")]
    + [("flowcontrol.apiserver.k8s.io", k) for k in ("FlowSchema", "PriorityLevelConfiguration")]
    + [("resource.k8s.io", k) for k in ("DeviceClass", "ResourceSlice")]
    + [("serving.kserve.io", k) for k in ("ClusterServingRuntime", "ClusterStorageContainer")]
)


def group_of(api_version: object) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` -> ``""``."""
    text = str(api_version or "")
    return text.split("/")[0] if "/" in text else ""


def declared_cluster_kinds(objects: Iterable[dict]) -> frozenset[tuple[str, str]]:
    """(group, kind) of every CustomResourceDefinition among ``objects`` with ``scope: Cluster``."""
    found = set()
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition" or group_of(obj.get("apiVersion")) != "apiextensions.k8s.io":
            continue
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("scope") != "Cluster":
            continue
        names = spec.get("names")
        if isinstance(names, dict) and isinstance(names.get("kind"), str) and isinstance(spec.get("group"), str):
            found.add((spec["group"], names["kind"]))
    return frozenset(found)


def is_cluster_scoped(obj: dict, declared: frozenset[tuple[str, str]] = frozenset()) -> bool:
    """True for an object of a known cluster-scoped kind (or one a CRD in ``declared`` makes so)."""
    key = (group_of(obj.get("apiVersion")), obj.get("kind"))
    return key in CLUSTER_SCOPED or key in declared
