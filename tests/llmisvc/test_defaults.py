"""cmp.llmisvc.defaults: the CRD schema defaults the API server writes into stored objects, which the
controller then composes (structural defaulting of k8s.io/apiextensions-apiserver)."""

from __future__ import annotations

from cmp.llmisvc import compose
from cmp.llmisvc.defaults import with_defaults


def test_defaults_are_set_where_the_parent_exists() -> None:
    service = {"apiVersion": "serving.kserve.io/v1alpha2", "kind": "LLMInferenceService",
               "metadata": {"name": "m"},
               "spec": {"model": {"uri": "hf://o/m"}, "kvCacheOffloading": {"cpu": "1Gi"},
                        "template": {"containers": [{"name": "main", "ports": [{"containerPort": 8080}]}]}}}
    stored, added = with_defaults(service, "v0.20.0")
    assert stored["spec"]["kvCacheOffloading"]["evictionPolicy"] == "lru"
    assert stored["spec"]["template"]["containers"][0]["ports"][0]["protocol"] == "TCP"
    assert ("spec", "scaling") not in added and "scaling" not in stored["spec"]   # no parent, no default
    assert service["spec"]["kvCacheOffloading"] == {"cpu": "1Gi"}   # the input is not changed


def test_a_stored_default_reaches_the_templates_and_is_labelled() -> None:
    service = {"metadata": {"name": "m", "namespace": "n"},
               "spec": {"model": {"uri": "hf://o/m"}, "kvCacheOffloading": {"cpu": "1Gi"}}}
    composition = compose(service, "v0.20.0")
    assert composition.origins[("kvCacheOffloading", "evictionPolicy")] == "crd-default"
    script = composition.spec["template"]["containers"][0]["command"][2]
    assert '\\"eviction_policy\\":\\"lru\\"' in script
