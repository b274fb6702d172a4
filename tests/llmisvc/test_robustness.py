"""cmp.llmisvc never raises for a service's content: what the schema check refuses still composes to problems."""

from __future__ import annotations

import itertools

import pytest

from cmp.llmisvc import child_names, compose, preset_owned_flags, vllm_argv

ODD = [None, "x", 1, [], {}, [1], {"a": None}, True]
FIELDS = ["model", "template", "worker", "prefill", "router", "parallelism", "baseRefs", "kvCacheOffloading", "tracing",
          "scaling", "labels", "annotations"]
PODS = [{"containers": "x"}, {"containers": [None]}, {"containers": [{"name": "main", "args": "x"}]},
        {"containers": [{"name": "main", "command": ["bash", "-c", 5]}]}, {"containers": [{"name": "main", "env": "x"}]},
        {"containers": [{"name": "main", "env": [{"name": 1}]}]}, {"terminationGracePeriodSeconds": "x"}]


def services():
    for field, value in itertools.product(FIELDS, ODD):
        for meta in ({"name": "m", "namespace": "n"}, None, "x"):
            yield {"metadata": meta, "spec": {field: value}}
    for pod in PODS:
        yield {"metadata": {"name": "m"}, "spec": {"template": pod}}
    yield from (None, "x", {"spec": "x"}, {"spec": None})


@pytest.mark.parametrize("release", ["v0.17.1", "v0.20.0"])
def test_odd_services_compose_without_raising(release: str) -> None:
    count = 0
    for service in services():
        composition = compose(service, release)
        for pod in ("template", "worker", "prefill.template", "prefill.worker"):
            vllm_argv(composition, pod)
            preset_owned_flags(composition, pod)
        count += isinstance(child_names(service, composition), dict)
    assert count == len(list(services()))
