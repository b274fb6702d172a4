"""Serving facts of a model: storage, GPUs, flags as KServe will see them."""

from __future__ import annotations

from cmp.diff.summary import ModelFacts, compare_models, flag_values, gpus, storage_initializer


def test_storage_initializer_follows_the_uri_scheme() -> None:
    assert storage_initializer(None, {}, []) == "none (no storageUri)"
    assert storage_initializer("pvc://models/llama", {}, []).startswith("none (PVC")
    assert storage_initializer("oci://registry/model:1", {}, []) == "modelcar sidecar"
    assert storage_initializer("s3://b/m", {}, []) == "storage-initializer (cluster default)"
    csc = {"kind": "ClusterStorageContainer", "metadata": {"name": "big"},
           "spec": {"container": {"resources": {"limits": {"memory": "8Gi"}}}}}
    assert storage_initializer("s3://b/m", {"storageContainerName": "big"}, [csc]) == \
        "ClusterStorageContainer big (limits: memory 8Gi)"


def test_gpus_prefer_limits() -> None:
    assert gpus({"limits": {"nvidia.com/gpu": "2", "cpu": "4"}, "requests": {"nvidia.com/gpu": "1"}}) == \
        "2 nvidia.com/gpu"
    assert gpus({}) == "0"


def test_flags_use_the_runtime_rules() -> None:
    vllm = {"metadata": {"name": "kserve-huggingfaceserver"}}
    tokens = ["--model_name=m", "--max_model_len", "4096", "--enable-prefix-caching", "--no-x"]
    assert flag_values(tokens, vllm, {"metadata": {"name": "m"}}) == {
        "--model-name": "m", "--max-model-len": "4096", "--enable-prefix-caching": "(on)", "--x": "(off)"}


def _facts(key: str, **values: str) -> ModelFacts:
    return ModelFacts(key, values.get("runtime", "rt"), values.get("image", "img"), {"runtime": "rt", **values})


def test_models_are_paired_through_renames() -> None:
    diffs = compare_models([_facts("ns/a", x="1"), _facts("ns/gone")],
                           [_facts("ns/b", x="2"), _facts("ns/new", x="1")], {"ns/a": "ns/b"})
    summary = [(m.action, m.name, m.old_name, [(r.label, r.old, r.new) for r in m.rows]) for m in diffs]
    assert summary == [("renamed", "ns/b", "ns/a", [("x", "1", "2")]),
                       ("removed", "ns/gone", "", []),
                       ("added", "ns/new", "", [("x", "", "1")])]
