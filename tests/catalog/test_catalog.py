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
    # v0.20.0 builds vLLM 0.24.0 into its huggingfaceserver image (ARG VLLM_VERSION of its Dockerfile)
    assert images(load_catalog()["kserve-vllmserver"]) == ["vllm/vllm-openai:v0.24.0"]
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


# ---------------------------------------------------------------- one catalog per release

from cmp import catalog  # noqa: E402


def test_shipped_releases_and_default() -> None:
    assert catalog.shipped() == ("v0.17.1", "v0.18.1", "v0.19.0", "v0.20.0")
    assert catalog.default_tag() == "v0.20.0"
    assert catalog.resolve(None).tag == "v0.20.0"


@pytest.mark.parametrize("version, tag", [
    ("v0.20.0", "v0.20.0"), ("0.20", "v0.20.0"), ("v0.18.0", "v0.18.1"), ("v0.17.0-rc1", "v0.17.1"),
    ("v0.19.0", "v0.19.0"),
])
def test_a_version_selects_the_shipped_release_of_its_minor(version: str, tag: str) -> None:
    assert catalog.resolve(version).tag == tag


@pytest.mark.parametrize("version", ["v0.21.0", "v0.16.0", "v1.0.0", "latest"])
def test_an_unknown_version_lists_the_shipped_ones(version: str) -> None:
    with pytest.raises(catalog.UnknownRelease) as exc:
        catalog.resolve(version)
    assert str(exc.value) == (f"KServe {version} is not a shipped release: kserve-cmp knows v0.17.1, v0.18.1, "
                              f"v0.19.0, v0.20.0 (default v0.20.0)")


def test_runtimes_and_images_differ_by_release() -> None:
    old, new = catalog.release("v0.17.1"), catalog.release("v0.20.0")
    assert "kserve-vllmserver" not in old.runtimes and "kserve-autogluonserver" not in old.runtimes
    assert images(old.runtimes["kserve-sklearnserver"]) == ["kserve/sklearnserver:v0.17.1"]
    assert images(old.runtimes["kserve-mlserver"]) == ["docker.io/seldonio/mlserver:1.5.0"]
    assert images(catalog.release("v0.18.1").runtimes["kserve-mlserver"]) == ["docker.io/seldonio/mlserver:1.7.1"]
    assert images(new.runtimes["kserve-huggingfaceserver"]) == ["kserve/huggingfaceserver:v0.20.0"]


@pytest.mark.parametrize("tag", ["v0.17.1", "v0.18.1", "v0.19.0", "v0.20.0"])
def test_every_release_runtime_validates_against_that_release(tag: str) -> None:
    release = catalog.release(tag)
    for name, runtime in release.runtimes.items():
        assert validate_object(runtime, release) == [], name
        assert all(not image_tag(i).startswith(("latest", "replace")) for i in images(runtime)), name


def test_release_facts() -> None:
    old, new = catalog.release("v0.17.1"), catalog.release("v0.20.0")
    assert old.blocked_env_vars == () and catalog.release("v0.18.1").blocked_env_vars == ("PYTHONPATH",)
    assert "oci+native://" not in old.uri_prefixes and "oci+native://" in new.uri_prefixes
    for release in catalog.all_releases():   # modelscope:// and oci+fetch:// are master-only (KServe #5330, #5739)
        assert "modelscope://" not in release.uri_prefixes
        assert "oci+fetch://" not in release.uri_prefixes
        assert {"prefix": "modelscope://"} not in release.default_uri_formats
        assert release.storage_initializer_image == f"kserve/storage-initializer:{release.tag}"
        assert release.gpu_resource_types == ("nvidia.com/gpu", "amd.com/gpu", "intel.com/gpu", "habana.ai/gaudi")
    assert catalog.since_text(lambda r: "oci+native://" in r.uri_prefixes) == "first in KServe v0.20.0"
    assert catalog.since_text(lambda r: "oci+fetch://" in r.uri_prefixes) == (
        "not in any shipped KServe release (v0.17.1, v0.18.1, v0.19.0, v0.20.0)")


def test_identical_schemas_are_stored_once() -> None:
    files = {r.tag: {k: e["file"] for k, e in r.schemas.items()} for r in catalog.all_releases()}
    assert files["v0.17.1"]["InferenceService"] == files["v0.19.0"]["InferenceService"]
    assert files["v0.20.0"]["InferenceService"] != files["v0.19.0"]["InferenceService"]
    assert len({f for per in files.values() for f in per.values()}) == 14  # the LLMISVC CRDs change every release


def test_fields_only_in_kserve_master_are_named() -> None:
    assert catalog.unreleased_fields("ServingRuntime") == ("spec.resourceClaims", "spec.workerSpec.resourceClaims")
    assert catalog.unreleased_fields("InferenceService") == ()
    runtime = catalog.release("v0.20.0").runtime("kserve-sklearnserver")
    runtime["spec"]["resourceClaims"] = [{"name": "gpu"}]
    [error] = validate_object(runtime, catalog.release("v0.20.0"))
    assert error.path == "spec.resourceClaims"
    assert "only in KServe's development branch, not in any shipped release" in error.message
