"""Tests for cmp.catalog: the built-in, pinned KServe runtimes."""

from __future__ import annotations

import pytest

from cmp.catalog import catalog_names, get_runtime, load_catalog
from cmp.validate import validate_object

EXPECTED_NAMES = [
    "kserve-autogluonserver",
    "kserve-huggingfaceserver",
    "kserve-huggingfaceserver-multinode",
    "kserve-lgbserver",
    "kserve-mlserver",
    "kserve-paddleserver",
    "kserve-pmmlserver",
    "kserve-predictiveserver",
    "kserve-sklearnserver",
    "kserve-tensorflow-serving",
    "kserve-torchserve",
    "kserve-tritonserver",
    "kserve-vllmserver",
    "kserve-xgbserver",
]


def images(runtime: dict) -> list[str]:
    """Every container image of a runtime, worker containers included."""
    spec = runtime["spec"]
    containers = spec.get("containers", []) + spec.get("workerSpec", {}).get("containers", [])
    return [c["image"] for c in containers]


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none."""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def test_catalog_holds_the_release_runtimes_sorted() -> None:
    assert catalog_names() == EXPECTED_NAMES


def test_catalog_is_keyed_by_runtime_name() -> None:
    for name, runtime in load_catalog().items():
        assert runtime["metadata"]["name"] == name
        assert runtime["apiVersion"] == "serving.kserve.io/v1alpha1"
        assert runtime["kind"] == "ClusterServingRuntime"


def test_openvino_is_left_out() -> None:
    assert get_runtime("kserve-openvino") is None


def test_load_catalog_reads_once() -> None:
    assert load_catalog() is load_catalog()


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_every_image_is_pinned(name: str) -> None:
    found = images(load_catalog()[name])
    assert found
    for image in found:
        tag = image_tag(image)
        assert tag is not None, image
        assert tag not in ("latest", "replace") and not tag.startswith("latest"), image


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_every_runtime_validates_against_its_schema(name: str) -> None:
    assert validate_object(load_catalog()[name]) == []


def test_kserve_images_carry_the_release_tag() -> None:
    assert images(load_catalog()["kserve-sklearnserver"]) == ["kserve/sklearnserver:v0.20.0"]
    assert images(load_catalog()["kserve-huggingfaceserver-multinode"]) == [
        "kserve/huggingfaceserver:v0.20.0-gpu",
        "kserve/huggingfaceserver:v0.20.0-gpu",
    ]
    assert images(load_catalog()["kserve-vllmserver"]) == ["vllm/vllm-openai:v0.20.0"]
    assert images(load_catalog()["kserve-mlserver"]) == ["docker.io/seldonio/mlserver:1.7.1"]


def test_upstream_content_is_kept() -> None:
    vllm = get_runtime("kserve-vllmserver")
    container = vllm["spec"]["containers"][0]
    assert container["args"] == ["--port=8080", "--served-model-name={{.Name}}", "--model=/mnt/models"]
    assert vllm["spec"]["supportedModelFormats"] == [
        {"name": "vLLM", "version": "1", "autoSelect": True, "priority": 1}
    ]
    assert vllm["metadata"]["annotations"] == {"serving.kserve.io/server-type": "vllmserver"}
    triton = get_runtime("kserve-tritonserver")
    assert {"name": "pytorch", "version": "1"} in triton["spec"]["supportedModelFormats"]
    assert get_runtime("kserve-huggingfaceserver-multinode")["spec"]["workerSpec"]["tensorParallelSize"] == 1


def test_no_description_keys_remain() -> None:
    def keys(node) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for v in node.values() for k in keys(v)}
        if isinstance(node, list):
            return {k for v in node for k in keys(v)}
        return set()

    assert "description" not in keys(load_catalog())


def test_get_runtime_returns_a_private_copy() -> None:
    first = get_runtime("kserve-sklearnserver")
    first["spec"]["containers"][0]["args"].append("--mutated")
    first["metadata"]["name"] = "changed"
    second = get_runtime("kserve-sklearnserver")
    assert "--mutated" not in second["spec"]["containers"][0]["args"]
    assert second["metadata"]["name"] == "kserve-sklearnserver"
    assert load_catalog()["kserve-sklearnserver"]["metadata"]["name"] == "kserve-sklearnserver"


def test_get_runtime_unknown_name() -> None:
    assert get_runtime("no-such-runtime") is None
