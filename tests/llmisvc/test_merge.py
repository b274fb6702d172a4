"""cmp.llmisvc.merge: one test per strategic-merge rule the controller applies between layers.

The controller's merge is ``mergeSpecs`` (pkg/controller/v1alpha2/llmisvc/config_merge.go, every shipped
release): ``CreateTwoWayMergePatch(zero, layer)`` then ``StrategicMergePatch`` with the
LLMInferenceServiceSpec Go types as schema (k8s.io/apimachinery pkg/util/strategicpatch/patch.go). Merge keys
are the ``patchMergeKey`` tags of k8s.io/api core/v1 types.go; every other list is atomic.
"""

from __future__ import annotations

import pytest

from cmp.llmisvc.merge import MergeError, leaves, merge_layer

PRESET = "preset:p@v0.20.0"


def merge(base: dict, layer: dict, release: str = "v0.20.0") -> tuple[dict, dict]:
    spec, origin = merge_layer({}, {}, base, PRESET, release)
    spec, origin = merge_layer(spec, origin, layer, "service", release)
    return spec, leaves(origin)


def pod(**container: object) -> dict:
    return {"template": {"containers": [{"name": "main", **container}]}}


def main(spec: dict) -> dict:
    return spec["template"]["containers"][0]


def test_containers_merge_by_name() -> None:
    # core/v1 PodSpec.Containers: patchStrategy:"merge" patchMergeKey:"name"
    spec, origin = merge(pod(image="llm-d:v1"), {"template": {"containers": [{"name": "main", "args": ["--x"]},
                                                                             {"name": "sidecar", "image": "s"}]}})
    assert [c["name"] for c in spec["template"]["containers"]] == ["main", "sidecar"]
    assert main(spec) == {"name": "main", "image": "llm-d:v1", "args": ["--x"]}
    assert origin[("template", "containers", 0, "image")] == PRESET
    assert origin[("template", "containers", 0, "args", 0)] == "service"


def test_a_container_named_otherwise_is_added_not_merged() -> None:
    spec, _ = merge(pod(image="llm-d:v1"), {"template": {"containers": [{"name": "vllm", "image": "mine"}]}})
    assert [(c["name"], c["image"]) for c in spec["template"]["containers"]] == [("vllm", "mine"), ("main", "llm-d:v1")]


def test_init_containers_merge_by_name() -> None:
    # core/v1 PodSpec.InitContainers: patchMergeKey:"name"
    base = {"template": {"containers": [], "initContainers": [{"name": "storage-initializer", "image": "a"}]}}
    spec, _ = merge(base, {"template": {"initContainers": [{"name": "storage-initializer",
                                                            "resources": {"limits": {"memory": "2Gi"}}}]}})
    assert spec["template"]["initContainers"] == [{"name": "storage-initializer", "image": "a",
                                                   "resources": {"limits": {"memory": "2Gi"}}}]


def test_env_merges_by_name_new_entries_first() -> None:
    # core/v1 Container.Env: patchMergeKey:"name"; order: normalizeElementOrder/mergeSortedSlice
    spec, origin = merge(pod(env=[{"name": "HOME", "value": "/home"}, {"name": "LOG", "value": "INFO"}]),
                         pod(env=[{"name": "NEW", "value": "1"}, {"name": "LOG", "value": "DEBUG"}]))
    assert main(spec)["env"] == [{"name": "NEW", "value": "1"}, {"name": "HOME", "value": "/home"},
                                 {"name": "LOG", "value": "DEBUG"}]
    assert origin[("template", "containers", 0, "env", 1, "value")] == PRESET
    assert origin[("template", "containers", 0, "env", 2, "value")] == "service"


def test_volumes_merge_by_name() -> None:
    # core/v1 PodSpec.Volumes: patchStrategy:"merge,retainKeys" patchMergeKey:"name" (no $retainKeys from a
    # two-way patch against the zero spec, so the volume's other keys stay)
    base = {"template": {"containers": [], "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory"}}]}}
    spec, _ = merge(base, {"template": {"volumes": [{"name": "dshm", "emptyDir": {"sizeLimit": "8Gi"}}]}})
    assert spec["template"]["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}}]


def test_volume_mounts_merge_by_mount_path() -> None:
    # core/v1 Container.VolumeMounts: patchMergeKey:"mountPath"
    spec, _ = merge(pod(volumeMounts=[{"name": "a", "mountPath": "/models"}]),
                    pod(volumeMounts=[{"name": "b", "mountPath": "/models"}, {"name": "c", "mountPath": "/c"}]))
    assert main(spec)["volumeMounts"] == [{"name": "b", "mountPath": "/models"}, {"name": "c", "mountPath": "/c"}]


def test_ports_merge_by_container_port() -> None:
    # core/v1 Container.Ports: patchMergeKey:"containerPort"
    spec, _ = merge(pod(ports=[{"containerPort": 8000, "protocol": "TCP"}]),
                    pod(ports=[{"containerPort": 8000, "name": "http"}, {"containerPort": 9090}]))
    assert main(spec)["ports"] == [{"containerPort": 8000, "protocol": "TCP", "name": "http"}, {"containerPort": 9090}]


@pytest.mark.parametrize("field", ["args", "command", "envFrom"])
def test_container_lists_without_a_merge_key_are_replaced(field: str) -> None:
    # core/v1 Container.Args/Command/EnvFrom carry no patchStrategy: atomic
    spec, origin = merge(pod(**{field: ["a", "b"]}), pod(**{field: ["c"]}))
    assert main(spec)[field] == ["c"]
    assert origin[("template", "containers", 0, field, 0)] == "service"


def test_tolerations_are_replaced() -> None:
    # core/v1 PodSpec.Tolerations: no patchStrategy
    spec, _ = merge({"template": {"containers": [], "tolerations": [{"key": "gpu"}]}},
                    {"template": {"tolerations": [{"key": "spot"}]}})
    assert spec["template"]["tolerations"] == [{"key": "spot"}]


def test_httproute_rules_and_parent_refs_are_replaced() -> None:
    # Gateway API HTTPRouteSpec has no patch tags: a rules entry that only sets a timeout drops the preset's rules
    base = {"router": {"route": {"http": {"spec": {"parentRefs": [{"name": "gw"}],
                                                    "rules": [{"name": "a"}, {"name": "b"}]}}}}}
    spec, _ = merge(base, {"router": {"route": {"http": {"spec": {"rules": [{"timeouts": {"request": "60s"}}]}}}}})
    assert spec["router"]["route"]["http"]["spec"] == {"parentRefs": [{"name": "gw"}],
                                                       "rules": [{"timeouts": {"request": "60s"}}]}


def test_lora_adapters_and_gateway_refs_are_replaced() -> None:
    # llm_inference_service_types.go: LoRASpec.Adapters and GatewaySpec.Refs carry no patch tags
    spec, _ = merge({"model": {"lora": {"adapters": [{"name": "a"}]}}, "router": {"gateway": {"refs": [{"name": "x"}]}}},
                    {"model": {"lora": {"adapters": [{"name": "b"}]}}, "router": {"gateway": {"refs": [{"name": "y"}]}}})
    assert spec["model"]["lora"]["adapters"] == [{"name": "b"}] and spec["router"]["gateway"]["refs"] == [{"name": "y"}]


def test_maps_merge_by_key_and_nothing_is_deleted() -> None:
    # mergeMap: keys merge; a null never reaches the patch (Go drops unset fields), so no layer deletes
    base = {"annotations": {"a": "1", "b": "2"}, "template": {"containers": [], "nodeSelector": {"x": "1"}}}
    spec, _ = merge(base, {"annotations": {"b": "3", "gone": None}, "template": {"nodeSelector": None}})
    assert spec["annotations"] == {"a": "1", "b": "3"} and spec["template"]["nodeSelector"] == {"x": "1"}


def test_resources_merge_by_key() -> None:
    spec, _ = merge(pod(resources={"limits": {"cpu": "4", "memory": "8Gi"}}),
                    pod(resources={"limits": {"nvidia.com/gpu": "1", "memory": "16Gi"}}))
    assert main(spec)["resources"] == {"limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}}


def test_expert_false_cannot_turn_the_preset_off() -> None:
    # llm_inference_service_types.go: Expert bool `json:"expert,omitempty"` is dropped when false
    spec, _ = merge({"parallelism": {"expert": True}}, {"parallelism": {"expert": False, "data": 2}})
    assert spec["parallelism"] == {"expert": True, "data": 2}


def test_a_pod_spec_without_containers_keeps_the_earlier_ones() -> None:
    # llm_inference_service_defaults.go: SetDefaults gives the layer's pod spec an empty container list
    spec, _ = merge(pod(image="a"), {"template": {"nodeSelector": {"gpu": "h100"}}})
    assert main(spec)["image"] == "a"


def test_a_scheduler_template_without_containers_drops_them_before_v0_20() -> None:
    # llm_inference_service_defaults.go: router.scheduler.template gets the empty list from v0.20.0 only; before,
    # Go marshals containers: null and the patch deletes the preset's scheduler containers
    base = {"router": {"scheduler": {"template": {"containers": [{"name": "main", "image": "epp"}]}}}}
    layer = {"router": {"scheduler": {"template": {"nodeSelector": {"pool": "cpu"}}}}}
    assert "containers" not in merge(base, layer, "v0.19.0")[0]["router"]["scheduler"]["template"]
    assert merge(base, layer, "v0.20.0")[0]["router"]["scheduler"]["template"]["containers"][0]["image"] == "epp"


def test_a_value_of_another_type_replaces() -> None:
    # mergeMap: originalType != patchType -> the patch value
    spec, _ = merge({"router": {"scheduler": {"config": {"inline": "text"}}}},
                    {"router": {"scheduler": {"config": {"inline": {"kind": "EndpointPickerConfig"}}}}})
    assert spec["router"]["scheduler"]["config"]["inline"] == {"kind": "EndpointPickerConfig"}


def test_the_same_key_in_a_free_form_value_fails_the_merge() -> None:
    # runtime.RawExtension has no Go field for the key: LookupPatchMetadata fails, reconcile stops
    base = {"router": {"scheduler": {"config": {"inline": {"plugins": [{"type": "a"}]}}}}}
    with pytest.raises(MergeError) as caught:
        merge(base, {"router": {"scheduler": {"config": {"inline": {"plugins": [{"type": "b"}]}}}}})
    assert caught.value.path == ("router", "scheduler", "config", "inline", "plugins")


def test_a_merge_key_missing_gets_gos_zero_value() -> None:
    # Go always serialises Container.Name (no omitempty): a nameless container merges with another nameless one
    spec, _ = merge({"template": {"containers": [{"image": "a"}]}}, {"template": {"containers": [{"args": ["x"]}]}})
    assert spec["template"]["containers"] == [{"name": "", "image": "a", "args": ["x"]}]
