"""Container and pod-spec merge semantics of the KServe controller, and the image rules."""

from __future__ import annotations

import copy

import pytest

from cmp.catalog import catalog_names, load_catalog
from cmp.kserve.flags import find_duplicates, flag_rules_for
from cmp.kserve.image import gpu_enabled, kserve_server_type, update_image_tag
from cmp.kserve.merge import (
    AssemblyError,
    assemble_predictor_container,
    merge_pod_spec,
    merge_runtime_container,
)
from cmp.kserve.placeholders import PlaceholderError
from cmp.kserve.smp import MergeError, omit_empty

VLLM_CONTAINER = {
    "name": "kserve-container",
    "image": "vllm/vllm-openai:v0.9.0",
    "command": ["python", "-m", "vllm.entrypoints.openai.api_server"],
    "args": ["--port=8080", "--served-model-name={{.Name}}", "--model=/mnt/models"],
    "env": [{"name": "HF_HOME", "value": "/tmp"}],
    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
    "readinessProbe": {"httpGet": {"path": "/v1/models", "port": 8080}, "periodSeconds": 10},
    "volumeMounts": [{"name": "devshm", "mountPath": "/dev/shm"}],
}
VLLM_RUNTIME = {
    "kind": "ClusterServingRuntime",
    "metadata": {"name": "kserve-vllmserver", "annotations": {"serving.kserve.io/server-type": "vllmserver"}},
    "spec": {
        "supportedModelFormats": [{"name": "vLLM", "version": "1", "autoSelect": True}],
        "containers": [VLLM_CONTAINER],
        "volumes": [{"name": "devshm", "emptyDir": {"medium": "Memory"}}],
        "hostIPC": False,
    },
}


def isvc(model: dict, name: str = "llama") -> dict:
    """An InferenceService with ``spec.predictor.model`` set to ``model``."""
    return {"metadata": {"name": name, "namespace": "ml"}, "spec": {"predictor": {"model": model}}}


# --- merge_runtime_container --------------------------------------------------------------


def test_basic_merge_env_order_and_values():
    runtime = {"env": [{"name": "PORT", "value": "8080"}, {"name": "PORT2", "value": "8081"}]}
    model = {"env": [{"name": "PORT2", "value": "8082"}, {"name": "Some", "value": "Value"}]}
    merged = merge_runtime_container(runtime, model)
    assert merged["env"] == [
        {"name": "PORT", "value": "8080"},
        {"name": "PORT2", "value": "8082"},
        {"name": "Some", "value": "Value"},
    ]


def test_resources_merge_per_key():
    model = {"resources": {"limits": {"cpu": "2", "memory": "4Gi"}}}
    merged = merge_runtime_container(VLLM_CONTAINER, model)
    assert merged["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}


def test_request_only_overlay_can_exceed_runtime_limit():
    merged = merge_runtime_container(VLLM_CONTAINER, {"resources": {"requests": {"memory": "16Gi"}}})
    assert merged["resources"] == {"requests": {"cpu": "1", "memory": "16Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}


def test_args_are_concatenated_without_deduplication():
    merged = merge_runtime_container(VLLM_CONTAINER, {"args": ["--port=9000"]})
    assert merged["args"] == ["--port=8080", "--served-model-name={{.Name}}", "--model=/mnt/models", "--port=9000"]


def test_command_is_atomic():
    merged = merge_runtime_container(VLLM_CONTAINER, {"command": ["vllm", "serve"]})
    assert merged["command"] == ["vllm", "serve"]
    assert merge_runtime_container(VLLM_CONTAINER, {"command": []})["command"] == VLLM_CONTAINER["command"]


def test_scalars_win_only_when_set():
    merged = merge_runtime_container(VLLM_CONTAINER, {"image": "mine:1", "name": "", "workingDir": ""})
    assert merged["image"] == "mine:1"
    assert merged["name"] == "kserve-container"
    assert "workingDir" not in merged
    assert merge_runtime_container(VLLM_CONTAINER, {"name": "custom"})["name"] == "custom"


def test_env_value_kind_conflicts_keep_isvc_kind():
    secret_s = {"secretKeyRef": {"name": "s", "key": "k"}}
    secret_t = {"secretKeyRef": {"name": "t", "key": "k"}}
    runtime = {"env": [{"name": "TOKEN", "value": "x"}, {"name": "KEY", "valueFrom": secret_s}]}
    model = {"env": [{"name": "TOKEN", "valueFrom": secret_t}, {"name": "KEY", "value": "plain"}]}
    merged = merge_runtime_container(runtime, model)
    assert merged["env"] == [
        {"name": "TOKEN", "valueFrom": secret_t},
        {"name": "KEY", "value": "plain"},
    ]


def test_empty_env_value_does_not_clear_runtime_value():
    merged = merge_runtime_container({"env": [{"name": "A", "value": "1"}]}, {"env": [{"name": "A", "value": ""}]})
    assert merged["env"] == [{"name": "A", "value": "1"}]


def test_ports_and_volume_mounts_merge_by_key():
    mount_b = {"name": "b", "mountPath": "/a", "readOnly": True}
    mount_c = {"name": "c", "mountPath": "/c"}
    runtime = {
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "volumeMounts": [{"name": "a", "mountPath": "/a"}],
    }
    model = {
        "ports": [{"containerPort": 8080, "name": "http1"}, {"containerPort": 9000}],
        "volumeMounts": [mount_b, mount_c],
    }
    merged = merge_runtime_container(runtime, model)
    assert merged["ports"] == [
        {"containerPort": 8080, "protocol": "TCP", "name": "http1"},
        {"containerPort": 9000},
    ]
    assert merged["volumeMounts"] == [mount_b, mount_c]


def test_probes_merge_recursively_into_two_handlers():
    model = {"readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 0, "timeoutSeconds": 3}}
    probe = merge_runtime_container(VLLM_CONTAINER, model)["readinessProbe"]
    assert probe == {
        "httpGet": {"path": "/v1/models", "port": 8080},
        "exec": {"command": ["true"]},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
    }


def test_env_from_is_atomic_and_security_context_recursive():
    runtime = {
        "envFrom": [{"configMapRef": {"name": "a"}}],
        "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
    }
    model = {
        "envFrom": [{"secretRef": {"name": "b"}}],
        "securityContext": {"runAsUser": 0, "capabilities": {"add": ["SYS_PTRACE"]}},
    }
    merged = merge_runtime_container(runtime, model)
    assert merged["envFrom"] == [{"secretRef": {"name": "b"}}]
    assert merged["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 0,
        "capabilities": {"drop": ["ALL"], "add": ["SYS_PTRACE"]},
    }


def test_model_only_fields_are_not_container_fields():
    model = {
        "modelFormat": {"name": "vLLM"},
        "runtime": "x",
        "storageUri": "s3://b/m",
        "protocolVersion": "v2",
        "runtimeVersion": "1",
    }
    assert merge_runtime_container(VLLM_CONTAINER, model) == VLLM_CONTAINER


def test_inputs_are_not_modified():
    runtime, model = copy.deepcopy(VLLM_CONTAINER), {"env": [{"name": "HF_HOME", "value": "/data"}]}
    merge_runtime_container(runtime, model)
    assert runtime == VLLM_CONTAINER
    assert model == {"env": [{"name": "HF_HOME", "value": "/data"}]}


def test_keyed_item_without_key_is_an_error():
    with pytest.raises(MergeError):
        merge_runtime_container({"env": [{"name": "A"}]}, {"env": [{"value": "x"}]})


def test_omit_empty_drops_zero_values_of_non_pointer_fields_only():
    value = {
        "stdin": False,
        "tty": True,
        "securityContext": {"privileged": False, "runAsUser": 0},
        "x": None,
        "args": [],
        "workingDir": "",
        "volumes": [{"name": "v", "emptyDir": {}}],
    }
    assert omit_empty(value) == {
        "tty": True,
        "securityContext": {"privileged": False, "runAsUser": 0},
        "volumes": [{"name": "v", "emptyDir": {}}],
    }


# --- assemble_predictor_container ---------------------------------------------------------


def test_assemble_vllm_without_gpu():
    container = assemble_predictor_container(VLLM_RUNTIME, isvc({"modelFormat": {"name": "vLLM"}}))
    assert container["args"][1] == "--served-model-name=llama"
    assert container["image"] == "vllm/vllm-openai-cpu:v0.9.0"
    assert container["env"][-1] == {"name": "INFERENCE_SERVICE_NAME", "value": "llama"}


def test_assemble_vllm_with_gpu_limit_keeps_image():
    model = {"resources": {"limits": {"nvidia.com/gpu": "1"}}}
    assert assemble_predictor_container(VLLM_RUNTIME, isvc(model))["image"] == "vllm/vllm-openai:v0.9.0"


def test_assemble_runtime_version_and_placeholders_in_all_fields():
    model = {
        "runtimeVersion": "v0.10.0",
        "env": [{"name": "SERVED", "value": "{{.Namespace}}-{{.Name}}"}],
        "args": ["--chat-template={{`{{`}} m }}"],
    }
    container = assemble_predictor_container(VLLM_RUNTIME, isvc(model, name="opt"))
    assert container["image"] == "vllm/vllm-openai:v0.10.0"
    assert {"name": "SERVED", "value": "ml-opt"} in container["env"]
    assert container["args"][-1] == "--chat-template={{ m }}"


def test_assemble_huggingface_gpu_suffix():
    runtime = copy.deepcopy(VLLM_RUNTIME)
    runtime["metadata"] = {"name": "kserve-huggingfaceserver"}
    runtime["spec"]["containers"][0]["image"] = "kserve/huggingfaceserver:v0.20.0"
    model = {"resources": {"limits": {"nvidia.com/gpu": "1"}}}
    assert assemble_predictor_container(runtime, isvc(model))["image"] == "kserve/huggingfaceserver:v0.20.0-gpu"


def test_assemble_rejects_unrenderable_template():
    with pytest.raises(PlaceholderError):
        assemble_predictor_container(VLLM_RUNTIME, isvc({"args": ["--chat-template={{ m.content }}"]}))


def test_assemble_requires_kserve_container():
    runtime = copy.deepcopy(VLLM_RUNTIME)
    runtime["spec"]["containers"][0]["name"] = "main"
    with pytest.raises(AssemblyError):
        assemble_predictor_container(runtime, isvc({}))


# --- merge_pod_spec -----------------------------------------------------------------------


def test_pod_spec_copies_only_listed_runtime_fields():
    runtime_spec = {
        "volumes": [{"name": "devshm", "emptyDir": {"medium": "Memory"}}],
        "tolerations": [{"key": "gpu", "operator": "Exists"}],
        "nodeSelector": {"pool": "gpu"},
        "hostIPC": True,
        "containers": [VLLM_CONTAINER],
    }
    predictor = {
        "model": {"modelFormat": {"name": "vLLM"}},
        "minReplicas": 1,
        "containers": [{"name": "side"}],
        "volumes": [{"name": "cache", "emptyDir": {}}],
        "tolerations": [{"key": "spot", "operator": "Exists"}],
        "nodeSelector": {"zone": "a"},
        "serviceAccountName": "sa",
    }
    assert merge_pod_spec(runtime_spec, predictor) == {
        "volumes": [{"name": "devshm", "emptyDir": {"medium": "Memory"}}, {"name": "cache", "emptyDir": {}}],
        "tolerations": [{"key": "spot", "operator": "Exists"}],
        "nodeSelector": {"pool": "gpu", "zone": "a"},
        "serviceAccountName": "sa",
    }


def test_pod_spec_same_volume_name_unions_sources():
    runtime_spec = {"volumes": [{"name": "models", "emptyDir": {"medium": "Memory"}}]}
    predictor = {"volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "c"}}], "hostIPC": True}
    assert merge_pod_spec(runtime_spec, predictor) == {
        "volumes": [{"name": "models", "emptyDir": {"medium": "Memory"}, "persistentVolumeClaim": {"claimName": "c"}}],
        "hostIPC": True,
    }


# --- image rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"nvidia.com/gpu": "1"}, True),
        ({"nvidia.com/mig-1g.5gb": "1"}, True),
        ({"amd.com/gpu": "1"}, False),
        ({}, False),
    ],
)
def test_gpu_detection_uses_nvidia_limits(limits, expected):
    assert gpu_enabled({"limits": limits}) is expected


def test_gpu_in_requests_only_is_not_detected():
    assert not gpu_enabled({"requests": {"nvidia.com/gpu": "1"}})
    assert update_image_tag("vllm/vllm-openai:v1", runtime_version=None, server_type="vllmserver",
                            resources={"requests": {"nvidia.com/gpu": "1"}}) == "vllm/vllm-openai-cpu:v1"


@pytest.mark.parametrize(
    ("image", "version", "server", "gpu", "expected"),
    [
        ("kserve/sklearnserver:v1", "v2", "sklearnserver", False, "kserve/sklearnserver:v2"),
        ("kserve/sklearnserver", "v2", "sklearnserver", False, "kserve/sklearnserver:v2"),
        ("host:5000/img", "v2", "sklearnserver", False, "host:5000/img:v2"),
        ("vllm/vllm-openai@sha256:abc", None, "vllmserver", False, "vllm/vllm-openai@sha256:abc"),
        ("vllm/vllm-openai:v1", "v2", "vllmserver", False, "vllm/vllm-openai:v2"),
        ("vllm/vllm-openai-cpu:v1", None, "vllmserver", False, "vllm/vllm-openai-cpu:v1"),
        ("pytorch/torchserve-kfs:0.9.0", None, "torchserve", True, "pytorch/torchserve-kfs:0.9.0-gpu"),
        ("kserve/hfserver:latest-gpu", None, "huggingfaceserver", True, "kserve/hfserver:latest-gpu"),
        ("kserve/huggingfaceserver", None, "huggingfaceserver", True, "kserve/huggingfaceserver"),
        ("kserve/sklearnserver:v1", None, "sklearnserver", True, "kserve/sklearnserver:v1"),
    ],
)
def test_update_image_tag(image, version, server, gpu, expected):
    resources = {"limits": {"nvidia.com/gpu": "1"}} if gpu else {}
    assert update_image_tag(image, runtime_version=version, server_type=server, resources=resources) == expected


def test_server_type_is_the_annotation_else_an_official_name():
    # GetServerTypeFromRuntimeName (pkg/constants/constants.go, v0.20.0) knows official names only
    assert kserve_server_type({"metadata": {"name": "kserve-huggingfaceserver"}}) == "huggingfaceserver"
    assert kserve_server_type({"metadata": {"name": "kserve-huggingfaceserver-multinode"}}) == ""
    assert kserve_server_type({"metadata": {"name": "my-hf", "annotations": {
        "serving.kserve.io/server-type": "huggingfaceserver"}}}) == "huggingfaceserver"


def test_vllm_image_without_a_tag_is_left_alone():
    assert update_image_tag("vllm/vllm-openai", runtime_version=None, server_type="vllmserver",
                            resources={}) == "vllm/vllm-openai"


@pytest.mark.parametrize(("release", "name", "expected"), [
    ("v0.20.0", "llama-kserve-huggingfaceserver", "kserve/huggingfaceserver:v0.20.0-gpu"),   # by annotation
    ("v0.19.0", "llama-kserve-huggingfaceserver", "kserve/huggingfaceserver:v0.20.0"),       # by name only
    ("v0.19.0", "kserve-huggingfaceserver", "kserve/huggingfaceserver:v0.20.0-gpu"),
])
def test_gpu_tag_before_v0_20_keys_on_the_runtime_name(release, name, expected):
    assert update_image_tag("kserve/huggingfaceserver:v0.20.0", runtime_version=None, server_type="huggingfaceserver",
                            resources={"limits": {"nvidia.com/gpu": "1"}}, runtime_name=name,
                            release=release) == expected


def test_no_cpu_repository_before_v0_20():
    assert update_image_tag("vllm/vllm-openai:v1", runtime_version=None, server_type="vllmserver", resources={},
                            runtime_name="kserve-vllmserver", release="v0.18.1") == "vllm/vllm-openai:v1"


@pytest.mark.parametrize("name", catalog_names())
def test_every_official_runtime_assembles_without_template_leftovers(name):
    runtime = load_catalog()[name]
    container = assemble_predictor_container(runtime, isvc({}, name="m"))
    rules = flag_rules_for(runtime)
    args = container.get("args") or []
    assert not any("{{" in arg for arg in args)
    options = {"normalize_underscores": rules.normalize_underscores, "repeatable": rules.repeatable}
    assert find_duplicates(args, **options) == []
    assert container["env"][-1] == {"name": "INFERENCE_SERVICE_NAME", "value": "m"}
