"""Tests for cmp.transforms.llm and cmp.transforms.llm_checks: the LLMInferenceService a ModelDeployment
renders on every shipped release, and the refusals that differ between releases."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cmp import catalog
from cmp.kserve.placeholders import escape_all_braces, resolve
from cmp.pipeline import render
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.transforms import llm as llm_transform
from helpers import REPO, SHARED

RELEASES = catalog.shipped()


def model(**spec) -> dict:
    body = {"kind": "LLMInferenceService",
            "model": {"storageUri": "hf://Qwen/Qwen2.5-7B-Instruct", "resources": {"limits": {"nvidia.com/gpu": "1"}}}}
    body.update(spec)
    return {"apiVersion": "kserve-cmp.io/v1alpha1", "kind": "ModelDeployment",
            "metadata": {"name": "qwen", "namespace": "llm"}, "spec": body}


def run(tmp: Path, doc: dict, release: str | None = None):
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "model.yaml").write_text(yaml.safe_dump(doc))
    if release:
        (tmp / "profile.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kserve-cmp.io/v1alpha1", "kind": "ClusterProfile", "metadata": {"name": "c"},
            "spec": {"kserve": {"version": release}}}))
    return render(str(tmp), Settings())


def messages(tmp: Path, doc: dict, release: str | None = None) -> str:
    with pytest.raises(CmpError) as caught:
        run(tmp, doc, release)
    return "\n".join(p.message for p in caught.value.problems)


@pytest.mark.parametrize("release", RELEASES)
def test_single_node_tensor_flag_is_passed_where_the_preset_does_not(tmp_path: Path, release: str) -> None:
    doc = model(multiNode={"tensorParallelSize": 2})
    doc["spec"]["model"]["resources"]["limits"]["nvidia.com/gpu"] = "2"
    (obj,) = run(tmp_path, doc, release).objects
    args = obj["spec"]["template"]["containers"][0].get("args", [])
    assert obj["spec"]["parallelism"] == {"tensor": 2}
    assert ("--tensor-parallel-size=2" in args) == (catalog.release(release).key < (0, 20, 0))


@pytest.mark.parametrize("release", RELEASES)
def test_storage_initializer_only_where_the_release_merges_it(tmp_path: Path, release: str) -> None:
    doc = model(storageInitializer={"image": "kserve/storage-initializer:v0.20.0"})
    if catalog.release(release).key < (0, 20, 0):
        assert "cannot take a per-model storage initializer" in messages(tmp_path, doc, release)
        return
    (obj,) = run(tmp_path, doc, release).objects
    assert obj["spec"]["template"]["initContainers"] == [{"name": "storage-initializer",
                                                          "image": "kserve/storage-initializer:v0.20.0"}]
    assert all(o["kind"] != "ClusterStorageContainer" for o in run(tmp_path, doc, release).objects)


@pytest.mark.parametrize("release", RELEASES)
def test_oci_native_uri_from_v0_20(tmp_path: Path, release: str) -> None:
    doc = model()
    doc["spec"]["model"]["storageUri"] = "oci+native://registry.example/qwen:1"
    if catalog.release(release).key < (0, 20, 0):
        assert "first in KServe v0.20.0" in messages(tmp_path, doc, release)
    else:
        assert run(tmp_path, doc, release).objects[0]["spec"]["model"]["uri"].startswith("oci+native://")


def test_every_pod_spec_gets_the_model_args_env_and_resources(tmp_path: Path) -> None:
    doc = model(multiNode={"data": 4, "dataLocal": 1},
                prefill={"replicas": 2, "args": ["--max-num-seqs=8"], "env": {"B": "2"},
                         "multiNode": {"data": 2, "dataLocal": 1}})
    doc["spec"]["model"].update({"args": {"--max-model-len": 4096}, "env": {"A": "1"}})
    (obj,) = run(tmp_path, doc).objects
    spec = obj["spec"]
    pods = [spec["template"], spec["worker"], spec["prefill"]["template"], spec["prefill"]["worker"]]
    for pod in pods:
        (main,) = pod["containers"]
        assert main["name"] == "main"
        assert main["args"][0] == "--max-model-len=4096"
        assert {"name": "A", "value": "1"} in main["env"]
        assert main["resources"] == {"limits": {"nvidia.com/gpu": "1"}}
    assert pods[2]["containers"][0]["args"] == ["--max-model-len=4096", "--max-num-seqs=8"]
    assert "baseRefs" not in spec


def test_fixed_replicas_and_wva_range(tmp_path: Path) -> None:
    (obj,) = run(tmp_path / "fixed", model(scaling={"minReplicas": 3, "maxReplicas": 3})).objects
    assert obj["spec"]["replicas"] == 3 and "scaling" not in obj["spec"]
    doc = model(scaling={"minReplicas": 1, "maxReplicas": 4})
    assert "Workload Variant Autoscaler" in messages(tmp_path / "range", doc)


def test_escaped_braces_render_back_to_the_text_written() -> None:
    """The escape is a Go raw-string action: KServe's template pass prints what the user wrote."""
    text = "{% for m in messages %}{{ m.content }}{{{x}}}{% endfor %}"
    escaped = escape_all_braces(text)
    assert escaped != text and resolve(escaped, {}) == text


def test_schemes_grow_with_the_release() -> None:
    assert llm_transform.schemes(catalog.release("v0.17.1")) == ("hf://", "s3://", "pvc://", "oci://")
    assert "oci+native://" in llm_transform.schemes(catalog.release("v0.20.0"))


def _crd_validator(release: str):
    from cmp.validate import Validator

    path = SHARED / "kserve" / "releases" / release / "config" / "crd" / "full" / "llmisvc" / \
        "serving.kserve.io_llminferenceservices.yaml"
    crd = yaml.safe_load(path.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha2"]
    return Validator("serving.kserve.io/v1alpha2", "LLMInferenceService", version["schema"]["openAPIV3Schema"])


def _golden_services() -> list[tuple[str, dict]]:
    out = []
    for expected in sorted((REPO / "tests" / "cases").glob("*/expected.yaml")):
        text = expected.read_text()
        cmd = expected.parent / "cmd"
        if "kind: LLMInferenceService" not in text or (cmd.exists() and not cmd.read_text().startswith("render")):
            continue
        profile = expected.parent / "input" / "profile.yaml"
        version = yaml.safe_load(profile.read_text())["spec"].get("kserve", {}).get("version") \
            if profile.exists() else None
        release = catalog.resolve(version).tag
        out += [(release, d) for d in yaml.safe_load_all(text) if d and d.get("kind") == "LLMInferenceService"]
    return out


@pytest.mark.skipif(not SHARED.is_dir(), reason="KServe's release files (../shared) are not present")
def test_every_golden_llm_service_passes_its_release_crd() -> None:
    services = _golden_services()
    assert len(services) >= 5
    for release, obj in services:
        assert _crd_validator(release).validate(obj) == [], obj["metadata"]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"patches": [{"op": "replace", "path": "/spec/template/containers/0/name", "value": "vllm"}]},
     "template has no container named main"),
    ({"multiNode": {"data": 4}}, "data needs dataLocal"),
    ({"multiNode": {"dataLocal": 2}}, "dataLocal needs data"),
    ({"multiNode": {"data": 4, "dataLocal": 2, "pipelineParallelSize": 2}}, "cannot be combined"),
    ({"storageInitializer": {"image": "kserve/storage-initializer:v0.20.0"},
      "model": {"storageUri": "pvc://models/qwen"}}, "no storage initializer runs for pvc:// models"),
    ({"routing": {"route": False, "gateways": [{"name": "gw", "namespace": "gw"}]}}, "with route: false"),
])
def test_refusals(tmp_path: Path, spec: dict, expected: str) -> None:
    assert expected in messages(tmp_path, model(**spec))


def test_a_null_flag_cannot_remove_a_preset_flag(tmp_path: Path) -> None:
    doc = model()
    doc["spec"]["model"]["args"] = {"--max-model-len": 4096, "--served-model-name": None}
    assert "the presets' launch script cannot lose a flag" in messages(tmp_path, doc)
