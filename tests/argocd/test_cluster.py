"""KUBE_API_VERSIONS: fail early when the destination cluster has no KServe."""

from __future__ import annotations

import pytest

from cmp.argocd import cluster
from cmp.problems import CmpError

WITH_KSERVE = "apps/v1,apps/v1/Deployment,serving.kserve.io/v1beta1,serving.kserve.io/v1beta1/InferenceService,v1"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_unknown_cluster_is_not_checked(value: str | None) -> None:
    env = {} if value is None else {"KUBE_API_VERSIONS": value}
    assert cluster.served(env) is None
    cluster.check_kserve_installed(env)


def test_cluster_with_kserve_passes() -> None:
    cluster.check_kserve_installed({"KUBE_API_VERSIONS": WITH_KSERVE})
    assert "serving.kserve.io/v1beta1/InferenceService" in cluster.served({"KUBE_API_VERSIONS": WITH_KSERVE})


def test_cluster_without_kserve_is_an_error() -> None:
    with pytest.raises(CmpError) as info:
        cluster.check_kserve_installed({"KUBE_API_VERSIONS": "apps/v1,apps/v1/Deployment,v1,v1/Pod"})
    assert "KServe is not installed on the destination cluster" in str(info.value)
    assert info.value.problems[0].rule == "cluster"


def test_partial_kserve_is_named() -> None:
    env = {"KUBE_API_VERSIONS": "serving.kserve.io/v1alpha1,serving.kserve.io/v1alpha1/ServingRuntime,v1"}
    with pytest.raises(CmpError, match=r"it serves only serving.kserve.io/v1alpha1, "
                                       r"serving.kserve.io/v1alpha1/ServingRuntime"):
        cluster.check_kserve_installed(env)
