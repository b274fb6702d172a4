"""cmp.llmisvc.names: knative's kmeta.ChildName and the child objects of a composed service."""

from __future__ import annotations

import hashlib

import pytest

from cmp.llmisvc import child_name, child_names, compose


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize("parent", ["qwen", "a" * 50, "my-model-with-a-rather-long-name-of-fifty-two-chars"])
def test_names_that_fit_are_concatenated(parent: str) -> None:
    assert child_name(parent, "-kserve") == parent + "-kserve"


def test_a_name_past_63_is_cut_and_hashed() -> None:
    parent = "llama-3-1-70b-instruct-with-a-long-team-prefix-and-suffix-xyz"   # 61 characters
    suffix = "-kserve-workload-svc"                                            # 20 characters
    expected = parent[: 31 - len(suffix)] + md5(parent) + suffix
    assert child_name(parent, suffix) == expected and len(expected) == 63


def test_exactly_63_is_not_hashed() -> None:
    parent = "p" * (63 - len("-kserve-mn"))
    assert child_name(parent, "-kserve-mn") == parent + "-kserve-mn"
    assert child_name(parent + "q", "-kserve-mn") == ("p" * 21) + md5(parent + "q") + "-kserve-mn"


def test_a_suffix_of_31_or_more_hashes_parent_and_suffix() -> None:
    # The EPP auth ClusterRoleBinding: ChildName(namespace, "-<name>-epp-auth-rb"), scheduler.go
    namespace, suffix = "team-llm-production", "-" + "x" * 40 + "-epp-auth-rb"
    expected = namespace + md5(namespace + suffix)
    expected += suffix[: 63 - len(expected)]
    assert child_name(namespace, suffix) == expected.rstrip("-")
    assert child_name("n" * 40, "-" + "y" * 30 + "-epp-auth-rb") == "n" * 31 + md5("n" * 40 + "-" + "y" * 30 + "-epp-auth-rb")


def test_a_hashed_long_suffix_never_ends_in_a_dash() -> None:
    namespace = "ns"
    suffix = "-" + "z" * 27 + "-" + "w" * 21 + "-epp-auth-rb"   # 62: "ns" + 32 hex + 29 characters of it end in "-"
    name = child_name(namespace, suffix)
    assert name == "ns" + md5(namespace + suffix) + "-" + "z" * 27
    assert len(name) == 62 and name[-1].isalnum()


def svc(name: str, **spec: object) -> dict:
    return {"apiVersion": "serving.kserve.io/v1alpha2", "kind": "LLMInferenceService",
            "metadata": {"name": name, "namespace": "llm"}, "spec": {"model": {"uri": "hf://org/m"}, **spec}}


def test_child_names_follow_the_composed_shape() -> None:
    single = svc("qwen", router={"route": {}, "gateway": {}, "scheduler": {}})
    names = child_names(single, compose(single, "v0.20.0"))
    assert names["Deployment/main"] == "qwen-kserve" and "LeaderWorkerSet/main" not in names
    assert names["HTTPRoute/main"] == "qwen-kserve-route" and names["InferencePool/main"] == "qwen-inference-pool"
    assert names["ClusterRoleBinding/scheduler"] == "llm-qwen-epp-auth-rb"
    multi = svc("big", parallelism={"data": 4, "dataLocal": 2}, worker={"containers": []},
                prefill={"template": {"containers": []}},
                scaling={"minReplicas": 1, "maxReplicas": 2, "wva": {"hpa": {}}})
    names = child_names(multi, compose(multi, "v0.20.0"))
    assert names["LeaderWorkerSet/main"] == "big-kserve-mn" and names["Deployment/prefill"] == "big-kserve-prefill"
    assert names["HorizontalPodAutoscaler/main"] == "big-kserve-hpa" and "HTTPRoute/main" not in names
    assert "HorizontalPodAutoscaler/prefill" not in names   # prefill scales on spec.prefill.scaling (scaling.go)
