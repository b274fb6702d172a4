"""cmp.scope: which kinds never carry a namespace."""

from __future__ import annotations

from cmp.scope import declared_cluster_kinds, group_of, is_cluster_scoped

CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "gadgets.example.com"},
       "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Gadget"}}}


def test_built_in_and_kserve_cluster_kinds_by_group() -> None:
    assert is_cluster_scoped({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"})
    assert is_cluster_scoped({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime"})
    assert is_cluster_scoped({"apiVersion": "v1", "kind": "Namespace"})
    assert not is_cluster_scoped({"apiVersion": "v1", "kind": "ConfigMap"})
    assert not is_cluster_scoped({"apiVersion": "example.com/v1", "kind": "Namespace"})   # another group's


def test_a_crd_among_the_inputs_declares_its_kind_cluster_scoped() -> None:
    namespaced = dict(CRD, spec=dict(CRD["spec"], scope="Namespaced", names={"kind": "Widget"}))
    declared = declared_cluster_kinds([CRD, namespaced, {"kind": "CustomResourceDefinition", "spec": None}])
    assert declared == {("example.com", "Gadget")}
    assert is_cluster_scoped({"apiVersion": "example.com/v1", "kind": "Gadget"}, declared)
    assert not is_cluster_scoped({"apiVersion": "example.com/v1", "kind": "Widget"}, declared)


def test_group_of() -> None:
    assert (group_of("apps/v1"), group_of("v1"), group_of(None)) == ("apps", "", "")
