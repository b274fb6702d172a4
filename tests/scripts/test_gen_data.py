"""Tests for scripts/gen_data.py, the generator of the catalog and schema files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from cmp import catalog

REPO = Path(__file__).resolve().parents[2]
KSERVE_DIR = REPO.parent / "shared" / "kserve"
needs_reference = pytest.mark.skipif(
    not KSERVE_DIR.is_dir(), reason="reference material ../shared/kserve is not present"
)


def load_script() -> ModuleType:
    """Import scripts/gen_data.py as a module."""
    spec = importlib.util.spec_from_file_location("gen_data", REPO / "scripts" / "gen_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_data = load_script()


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """One rendering of every generated file, shared by the tests of this module."""
    return gen_data.render_outputs(KSERVE_DIR)


@needs_reference
def test_regenerating_reproduces_the_committed_files(tmp_path: Path, rendered: dict[str, str]) -> None:
    assert gen_data.main(["--kserve-dir", str(KSERVE_DIR), "--out", str(tmp_path)]) == 0
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert [str(p) for p in generated] == sorted(rendered)
    for rel_path in generated:
        assert (tmp_path / rel_path).read_bytes() == (REPO / rel_path).read_bytes(), rel_path


@needs_reference
def test_output_is_deterministic(rendered: dict[str, str]) -> None:
    assert gen_data.render_outputs(KSERVE_DIR) == rendered


@needs_reference
def test_generated_text_has_no_machine_paths(rendered: dict[str, str | bytes]) -> None:
    for rel_path, text in rendered.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        assert str(KSERVE_DIR).encode() not in data, rel_path
        assert str(REPO).encode() not in data, rel_path


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("kserve-sklearnserver:replace", ("kserve-sklearnserver", "replace")),
        ("registry.local:5000/team/model:1.2", ("registry.local:5000/team/model", "1.2")),
        ("registry.local:5000/team/model", ("registry.local:5000/team/model", None)),
        ("repo/model@sha256:abc", ("repo/model@sha256:abc", None)),
    ],
)
def test_split_image(image: str, expected: tuple) -> None:
    assert gen_data.split_image(image) == expected


def test_pinned_tag_rules() -> None:
    assert gen_data.pinned_tag("kserve/sklearnserver", "latest", "v0.20.0")[0] == "v0.20.0"
    assert gen_data.pinned_tag("kserve/huggingfaceserver", "latest-gpu", "v0.18.1")[0] == "v0.18.1-gpu"
    assert gen_data.pinned_tag("tensorflow/serving", "2.6.2", "v0.20.0")[0] == "2.6.2"
    pins = {"vllm/vllm-openai": ("v0.24.0", "why")}
    assert gen_data.pinned_tag("vllm/vllm-openai", "latest", "v0.20.0", pins)[0] == "v0.24.0"
    with pytest.raises(ValueError, match="no pinned tag"):
        gen_data.pinned_tag("someone/else", "latest", "v0.20.0")


def test_pin_images_reaches_worker_containers() -> None:
    table = {"srv": ("kserve/srv", "v0.20.0", "why")}
    doc = {"spec": {"containers": [{"image": "srv:replace"}], "workerSpec": {"containers": [{"image": "srv:replace"}]}}}
    pinned = gen_data.pin_images(doc, table)
    assert gen_data.container_images(pinned) == ["kserve/srv:v0.20.0", "kserve/srv:v0.20.0"]
    assert doc["spec"]["containers"][0]["image"] == "srv:replace"


def test_unmapped_image_is_an_error() -> None:
    with pytest.raises(ValueError, match="not mapped"):
        gen_data.resolve_image("unknown:replace", {})


@pytest.mark.parametrize("image", ["a/b:latest", "a/b:replace", "a/b", "a/b:latest-gpu"])
def test_check_image_rejects_floating_tags(image: str) -> None:
    with pytest.raises(ValueError, match="not pinned"):
        gen_data.check_image(image)


def test_strip_schema_descriptions_keeps_a_property_named_description() -> None:
    schema = {
        "description": "root",
        "type": "object",
        "properties": {
            "description": {"type": "string", "description": "a field called description"},
            "list": {"type": "array", "items": {"description": "x", "type": "integer"}},
            "either": {"anyOf": [{"type": "integer", "description": "i"}, {"type": "string"}]},
            "map": {"type": "object", "additionalProperties": {"type": "string", "description": "v"}},
        },
        "default": {"description": "kept, it is a value"},
    }
    assert gen_data.strip_schema_descriptions(schema) == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "list": {"type": "array", "items": {"type": "integer"}},
            "either": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "default": {"description": "kept, it is a value"},
    }


@needs_reference
def test_schemas_are_the_served_versions_the_validator_expects() -> None:
    releases, files, rows = gen_data.build_releases(KSERVE_DIR)
    assert [r["tag"] for r in rows] == list(catalog.shipped())
    for tag, data in releases.items():
        assert {kind: e["apiVersion"] for kind, e in data["schemas"].items()} == {
            "InferenceService": "serving.kserve.io/v1beta1",
            "ServingRuntime": "serving.kserve.io/v1alpha1",
            "ClusterServingRuntime": "serving.kserve.io/v1alpha1",
            "InferenceGraph": "serving.kserve.io/v1alpha1",
            "ClusterStorageContainer": "serving.kserve.io/v1alpha1",
            "LLMInferenceService": "serving.kserve.io/v1alpha2",
            "LLMInferenceServiceConfig": "serving.kserve.io/v1alpha2",
        }
        assert data["olderServedVersions"] == {"LLMInferenceService": ["serving.kserve.io/v1alpha1"],
                                               "LLMInferenceServiceConfig": ["serving.kserve.io/v1alpha1"]}
        assert data["schemas"] == catalog.release(tag).schemas
    assert sorted(files) == sorted({e["file"] for d in releases.values() for e in d["schemas"].values()})


@needs_reference
def test_release_facts_are_read_from_each_release() -> None:
    releases, _, rows = gen_data.build_releases(KSERVE_DIR)
    assert {r["tag"]: r["vllm"] for r in rows} == {"v0.17.1": "0.15.1", "v0.18.1": "0.19.0", "v0.19.0": "0.20.0",
                                                   "v0.20.0": "0.24.0"}
    assert releases["v0.17.1"]["blockedEnvVars"] == [] and releases["v0.18.1"]["blockedEnvVars"] == ["PYTHONPATH"]
    assert "oci+native://" in releases["v0.20.0"]["storageUriPrefixes"]
    assert "oci+native://" not in releases["v0.19.0"]["storageUriPrefixes"]
    assert releases["v0.20.0"]["images"]["vllmserver"] == "vllm/vllm-openai:v0.24.0"


def test_go_string_lists_are_read_as_values() -> None:
    text = 'var (\n\tList = []string{"a://", "b://"}\n)\nconst (\n\tX = "x"\n\tY = "y"\n)\nvar L2 = []string{\n\tX,\n\tY,\n}\n'
    assert gen_data.go_string_list(text, "List") == ["a://", "b://"]
    assert gen_data.go_identifier_list(text, "L2") == ["x", "y"]
    with pytest.raises(ValueError, match="not found"):
        gen_data.go_string_list(text, "Missing")


def test_property_paths_skip_array_items() -> None:
    schema = {"properties": {"spec": {"properties": {"containers": {"items": {"properties": {"name": {}}}}}}}}
    assert gen_data.property_paths(schema) == {"spec", "spec.containers", "spec.containers.name"}


@needs_reference
def test_llmisvc_presets_are_shipped_per_release_with_their_source_file() -> None:
    presets = {row["tag"]: gen_data.gen_llmisvc.build_presets(KSERVE_DIR / "releases" / row["tag"],
                                                              gen_data.load_documents, gen_data.strip_key)
               for row in gen_data.release_table(KSERVE_DIR)}
    assert sorted(presets["v0.20.0"]) == [
        "kserve-config-llm-decode-template", "kserve-config-llm-decode-worker-data-parallel",
        "kserve-config-llm-prefill-template", "kserve-config-llm-prefill-worker-data-parallel",
        "kserve-config-llm-router-route", "kserve-config-llm-scheduler",
        "kserve-config-llm-scheduler-latency-predictor", "kserve-config-llm-template", "kserve-config-llm-tracing",
        "kserve-config-llm-worker-data-parallel"]
    assert "kserve-config-llm-tracing" not in presets["v0.19.0"] and len(presets["v0.17.1"]) == 8
    for per_release in presets.values():
        assert not any("pipeline-parallel" in name for name in per_release)  # named by the controller, never shipped
        for name, entry in per_release.items():
            assert entry["file"] == f"config/llmisvcconfig/{name.removeprefix('kserve-')}.yaml"
            assert entry == catalog.llmisvc_presets(next(t for t, p in presets.items() if p is per_release))[name]
