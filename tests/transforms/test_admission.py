"""Tests for cmp.transforms.admission: each webhook rule against every shipped release.

The table runs every rule's offending InferenceService against every release: the rule fires on the
releases whose KServe has it and nowhere else (blocked env vars from v0.18.1, canary from v0.20.0).
"""

from __future__ import annotations

import copy

import pytest

from cmp import catalog
from cmp.transforms import admission
from cmp.transforms.admission import Context, derived_names, domain_name, findings

ALL = set(catalog.shipped())


def isvc(name: str = "iris", mode: str | None = "Knative", **predictor) -> dict:
    model = {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://b/m"}
    obj = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
           "metadata": {"name": name, "namespace": "models"},
           "spec": {"predictor": {"model": model, **predictor}}}
    if mode:
        obj["metadata"]["annotations"] = {admission.MODE_ANNOTATION: mode}
    return obj


def with_env(name: str) -> dict:
    obj = isvc()
    obj["spec"]["predictor"]["model"]["env"] = [{"name": "A", "value": "1"}, {"name": name, "value": "/x"}]
    return obj


def multinode(resource: str, annotation: str | None = None) -> dict:
    obj = isvc(mode="Standard", workerSpec={"tensorParallelSize": 2})
    obj["spec"]["predictor"]["model"]["resources"] = {"limits": {"nvidia.com/gpu": "1", resource: "1"}}
    if annotation:
        obj["metadata"]["annotations"]["serving.kserve.io/gpu-resource-types"] = annotation
    return obj


def canary(mode: str) -> dict:
    obj = isvc(mode=mode)
    obj["spec"]["canary"] = [{"predictor": {"name": "v2", "model": {"modelFormat": {"name": "sklearn"}}},
                              "trafficPercent": 10}]
    return obj


def storage_uris() -> dict:
    obj = isvc()
    obj["spec"]["predictor"]["storageUris"] = [{"uri": "s3://b/m2", "mountPath": "/mnt/models/b"}]
    return obj


#: rule -> (offending InferenceService, path, message start, releases that have the rule)
TABLE = {
    "name-length": (isvc(name="m" * 54), ("metadata", "name"), f"the name '{'m' * 54}' (54 characters) is too long "
                    "for Knative mode", ALL),
    "blocked-env": (with_env("PYTHONPATH"), ("spec", "predictor", "model", "env", 1),
                    'the InferenceService "iris" is invalid: setting PYTHONPATH in container "" is not allowed for '
                    "security reasons", {"v0.18.1", "v0.19.0", "v0.20.0"}),
    "multinode-gpu-types": (multinode("rdma/ib"), ("spec", "predictor", "model", "resources", "limits", "rdma/ib"),
                            'the InferenceService "iris" is invalid: a multi-node predictor may request only', ALL),
    "implementation-name": (isvc(), ("spec", "predictor", "model", "name"),
                            "the 'name' field is not allowed in standard predictor", ALL),
    "storage-uris": (storage_uris(), ("spec", "predictor", "storageUris"),
                     "Setting both StorageURI and StorageURIs is not supported.", ALL),
    "canary": (canary("Knative"), ("spec", "canary"), "canary is only supported in Standard deployment mode",
               {"v0.20.0"}),
}
TABLE["implementation-name"][0]["spec"]["predictor"]["model"]["name"] = "main"


def run(obj: dict, tag: str) -> list[tuple[str, tuple, str]]:
    release = catalog.release(tag)
    context = Context(mode=admission.mode_of(obj, _NoProfile()), namespace="models")
    return [(rule.name, path, message) for rule, path, message in findings(obj, release, context)]


class _NoProfile:
    profile = None


def test_the_table_covers_every_rule() -> None:
    assert sorted(TABLE) == sorted(rule.name for rule in admission.RULES)


@pytest.mark.parametrize("tag", catalog.shipped())
@pytest.mark.parametrize("rule", sorted(TABLE))
def test_each_rule_on_every_release(rule: str, tag: str) -> None:
    obj, path, message, releases = TABLE[rule]
    found = [(p, m) for name, p, m in run(copy.deepcopy(obj), tag) if name == rule]
    exists = {r.tag for r in catalog.all_releases() if next(x for x in admission.RULES if x.name == rule).exists(r)}
    assert exists == releases
    if tag in releases:
        assert len(found) == 1 and found[0][0] == path and found[0][1].startswith(message), found
    else:
        assert found == []


@pytest.mark.parametrize("tag", catalog.shipped())
def test_a_clean_inference_service_passes_every_release(tag: str) -> None:
    assert run(isvc(), tag) == []
    assert run(multinode("amd.com/gpu"), tag) == []


def test_the_gpu_annotation_admits_a_resource() -> None:
    assert run(multinode("rdma/ib", '["rdma/ib"]'), "v0.20.0") == []
    [(_, _, message)] = run(multinode("rdma/ib", "rdma/ib"), "v0.20.0")
    assert message.startswith("invalid GPU format(rdma/ib) for serving.kserve.io/gpu-resource-types annotation")


def test_mig_and_hugepages_are_unknown_to_the_multinode_rule() -> None:
    # HasUnknownGpuResourceType exempts only cpu, memory, storage and ephemeral-storage.
    assert [n for n, _, _ in run(multinode("nvidia.com/mig-1g.5gb"), "v0.20.0")] == ["multinode-gpu-types"]
    assert [n for n, _, _ in run(multinode("hugepages-2Mi"), "v0.20.0")] == ["multinode-gpu-types"]


def test_blocked_env_in_a_worker_or_transformer_container() -> None:
    obj = isvc(workerSpec={"containers": [{"name": "worker-container", "env": [{"name": "PYTHONPATH"}]}]})
    [(_, path, message)] = run(obj, "v0.19.0")
    assert path == ("spec", "predictor", "workerSpec", "containers", 0, "env", 0)
    assert 'container "worker-container"' in message
    obj = isvc()
    obj["spec"]["transformer"] = {"containers": [{"name": "t", "image": "x", "env": [{"name": "PYTHONPATH"}]}]}
    assert [p for _, p, _ in run(obj, "v0.18.1")] == [("spec", "transformer", "containers", 0, "env", 0)]


def test_canary_rules_in_standard_mode() -> None:
    assert run(canary("Standard"), "v0.20.0") == []
    obj = canary("Standard")
    obj["spec"]["canary"].append(copy.deepcopy(obj["spec"]["canary"][0]))
    [(_, _, message)] = run(obj, "v0.20.0")
    assert message == 'canary predictor.name "v2" is duplicated'
    obj = canary("Standard")
    obj["spec"]["canary"][0]["trafficPercent"] = 101
    assert run(obj, "v0.20.0")[0][2] == 'canary "v2" trafficPercent must be between 0 and 100, got 101'


# ---------------------------------------------------------------- name lengths


def limits(obj: dict, mode: str, namespace: str | None = "models") -> dict[str, tuple[str, int]]:
    context = Context(mode=mode, namespace=namespace)
    return {d.what: (d.value, d.limit) for d in derived_names(obj, catalog.release("v0.20.0"), context)}


def test_knative_mode_names() -> None:
    found = limits(isvc(name="iris"), "Knative")
    assert found == {
        "the predictor's Knative Service (and the Kubernetes Service its Route creates)": ("iris-predictor", 63),
        "the first label of the model's host 'iris-models.example.com'": ("iris-models", 63),
    }


def test_standard_mode_names_with_a_transformer_and_workers() -> None:
    obj = isvc(name="iris", mode="Standard", workerSpec={})
    obj["spec"]["transformer"] = {"containers": [{"name": "t", "image": "x"}]}
    values = sorted(v for v, _ in limits(obj, "Standard").values())
    assert values == ["iris-models", "iris-predictor", "iris-predictor-models", "iris-transformer",
                      "iris-transformer-models", "isvc.iris-predictor", "isvc.iris-predictor-worker",
                      "isvc.iris-transformer"]


@pytest.mark.parametrize("mode, namespace, longest", [
    ("Knative", "models", 53),        # iris-predictor <= 63
    ("Knative", "n" * 20, 42),        # <name>-<namespace> host label <= 63
    ("Standard", "models", 46),       # <name>-predictor-<namespace> host label <= 63
    ("Standard", None, 48),           # isvc.<name>-predictor label value <= 63
])
def test_the_longest_name_that_fits(mode: str, namespace: str | None, longest: int) -> None:
    def ok(length: int) -> bool:
        context = Context(mode=mode, namespace=namespace)
        return admission.check_name_lengths(isvc(name="m" * length, mode=mode), catalog.release("v0.20.0"),
                                            context) == []

    assert ok(longest) and not ok(longest + 1)


def test_a_57_character_name_is_refused_in_knative_mode() -> None:
    [(path, message)] = admission.check_name_lengths(isvc(name="m" * 57), catalog.release("v0.17.1"),
                                                     Context("Knative", "models"))
    assert path == ("metadata", "name")
    assert "would be '" + "m" * 57 + "-predictor' (67 characters, at most 63" in message
    assert "here the name may have at most 53 characters" in message


def test_domain_template() -> None:
    ingress = {"domainTemplate": "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}", "ingressDomain": "example.com"}
    assert domain_name(ingress, "a", "b") == "a-b.example.com"
    assert domain_name({"domainTemplate": "{{ .Name }}.{{ .Annotations.x }}"}, "a", "b") is None


# ---------------------------------------------------------------- the ServingRuntime webhook


class _Doc:
    def __init__(self, where: str) -> None:
        self._where = where

    def where(self, path: tuple) -> str:
        return self._where


def runtime(name: str, formats: list[dict], kind: str = "ClusterServingRuntime", protocols=("v1",), **meta) -> dict:
    return {"apiVersion": "serving.kserve.io/v1alpha1", "kind": kind, "metadata": {"name": name, **meta},
            "spec": {"supportedModelFormats": formats, "protocolVersions": list(protocols),
                     "containers": [{"name": "kserve-container", "image": "x"}]}}


SK1 = {"name": "sklearn", "version": "1", "autoSelect": True, "priority": 3}


def test_two_runtimes_of_one_scope_may_not_auto_select_alike() -> None:
    a, b = runtime("a", [SK1]), runtime("b", [SK1], protocols=("v2", "v1"))
    [(doc, path, message)] = admission.runtime_findings([(_Doc("a.yaml:1"), a), (_Doc("b.yaml:1"), b)])
    assert doc.where(()) == "b.yaml:1" and path == ("spec", "supportedModelFormats", 0)
    assert message.startswith("ClusterServingRuntime 'b' auto-selects sklearn:1 with priority 3 for protocol v1, "
                              "as 'a' does")
    assert message.endswith("(a: a.yaml:1)")


@pytest.mark.parametrize("other", [
    runtime("b", [dict(SK1, priority=4)]),                      # another priority
    runtime("b", [dict(SK1, autoSelect=False)]),                # not auto-selected
    runtime("b", [SK1], protocols=("v2",)),                     # no shared protocol
    runtime("b", [SK1], kind="ServingRuntime", namespace="m"),  # another scope
    runtime("a", [SK1]),                                        # the same runtime (a replacement)
])
def test_runtimes_that_do_not_clash(other: dict) -> None:
    assert admission.runtime_findings([(_Doc("a"), runtime("a", [SK1])), (_Doc("b"), other)]) == []


def test_one_format_one_priority_within_a_runtime() -> None:
    r = runtime("a", [SK1, dict(SK1, version="2", priority=5)])
    [(_, path, message)] = admission.runtime_findings([(_Doc("a"), r)])
    assert path == ("spec", "supportedModelFormats", 1, "priority")
    assert "gives model format 'sklearn' two priorities (3 and 5)" in message
