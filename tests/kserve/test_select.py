"""Runtime auto-selection, explicit runtime checks and protocol defaulting."""

from __future__ import annotations

import pytest

from cmp.catalog import catalog_names, load_catalog
from cmp.kserve.select import check_explicit_runtime, default_protocol, format_labels, select_runtime


def runtime(name: str, formats: list[dict], *, created: str | None = None, **spec) -> dict:
    """A ServingRuntime with the given formats and extra spec fields."""
    metadata = {"name": name}
    if created:
        metadata["creationTimestamp"] = created
    return {"metadata": metadata, "spec": {"supportedModelFormats": formats, **spec}}


def fmt(name: str, version: str | None = "1", *, auto: bool = True, priority: int | None = None) -> dict:
    """One supportedModelFormats entry."""
    entry = {"name": name, "autoSelect": auto}
    if version is not None:
        entry["version"] = version
    if priority is not None:
        entry["priority"] = priority
    return entry


def isvc(name: str, version: str | None = None, *, protocol: str | None = None, worker: bool = False) -> dict:
    """An InferenceService asking for model format ``name[:version]``."""
    model_format = {"name": name, **({"version": version} if version else {})}
    model = {"modelFormat": model_format, **({"protocolVersion": protocol} if protocol else {})}
    predictor = {"model": model, **({"workerSpec": {}} if worker else {})}
    return {"metadata": {"name": "m"}, "spec": {"predictor": predictor}}


def picked(isvc_obj: dict, namespaced: list[dict], cluster: list[dict] | None = None) -> str | None:
    """Name of the selected runtime."""
    chosen = select_runtime(isvc_obj, namespaced, cluster or [])
    return chosen["metadata"]["name"] if chosen else None


def test_labels_only_from_auto_select_formats():
    spec = {"supportedModelFormats": [fmt("sklearn"), fmt("pytorch", auto=False), fmt("onnx", None)]}
    assert format_labels(spec, auto_select_only=True) == {"mt:sklearn", "mt:sklearn:1", "mt:onnx"}
    assert "mt:pytorch:1" in format_labels(spec, auto_select_only=False)


def test_version_is_an_exact_string_match():
    runtimes = [runtime("hf", [fmt("huggingface", "1")])]
    assert picked(isvc("huggingface", "1"), runtimes) == "hf"
    assert picked(isvc("huggingface", "1.0"), runtimes) is None
    assert picked(isvc("huggingface"), runtimes) == "hf"
    assert picked(isvc("HuggingFace"), runtimes) is None


def test_disabled_multi_model_and_non_auto_select_are_skipped():
    runtimes = [
        runtime("off", [fmt("sklearn")], disabled=True),
        runtime("mms", [fmt("sklearn")], multiModel=True),
        runtime("manual", [fmt("sklearn", auto=False)]),
    ]
    assert picked(isvc("sklearn"), runtimes) is None
    assert picked(isvc("sklearn"), [*runtimes, runtime("ok", [fmt("sklearn")])]) == "ok"


def test_protocol_defaults_to_v1_and_runtime_without_versions_matches_all():
    v2_only = runtime("v2only", [fmt("sklearn")], protocolVersions=["v2"])
    any_protocol = runtime("any", [fmt("sklearn")])
    assert picked(isvc("sklearn"), [v2_only]) is None
    assert picked(isvc("sklearn", protocol="v2"), [v2_only]) == "v2only"
    assert picked(isvc("sklearn", protocol="grpc-v2"), [any_protocol]) == "any"


def test_webhook_defaults_v2_for_triton_and_vllm_only():
    assert default_protocol(isvc("vLLM")) == "v2"
    assert default_protocol(isvc("triton")) == "v2"
    assert default_protocol(isvc("vllm")) is None
    assert default_protocol(isvc("vLLM", protocol="v1")) == "v1"
    triton = runtime("triton", [fmt("triton", "2")], protocolVersions=["v2", "grpc-v2"])
    assert picked(isvc("triton"), [triton]) == "triton"


def test_namespaced_runtimes_come_before_cluster_runtimes():
    namespaced = [runtime("ns-low", [fmt("sklearn", priority=1)])]
    cluster = [runtime("cluster-high", [fmt("sklearn", priority=9)])]
    assert picked(isvc("sklearn"), namespaced, cluster) == "ns-low"
    assert picked(isvc("sklearn"), [], cluster) == "cluster-high"
    assert picked(isvc("sklearn"), [runtime("ns-off", [fmt("sklearn")], disabled=True)], cluster) == "cluster-high"


def test_priority_higher_first_and_unset_last():
    runtimes = [
        runtime("a-unset", [fmt("sklearn")]),
        runtime("b-low", [fmt("sklearn", priority=1)]),
        runtime("c-high", [fmt("sklearn", priority=2)]),
    ]
    assert picked(isvc("sklearn"), runtimes) == "c-high"
    assert picked(isvc("sklearn"), runtimes[:2]) == "b-low"


def test_priority_is_looked_up_for_the_requested_format():
    runtimes = [
        runtime("a", [fmt("sklearn", priority=1), fmt("xgboost", priority=5)]),
        runtime("b", [fmt("sklearn", priority=2), fmt("xgboost", priority=1)]),
    ]
    assert picked(isvc("sklearn"), runtimes) == "b"
    assert picked(isvc("xgboost"), runtimes) == "a"


def test_priority_is_the_first_entry_of_the_format_even_unset():
    # KServe's GetPriority returns the first entry with the format's name (its priority may be unset);
    # a later entry of the same name (another version) is never read.
    runtimes = [
        runtime("a-first-unset", [fmt("sklearn", "1"), fmt("sklearn", "2", priority=9)]),
        runtime("b-low", [fmt("sklearn", "2", priority=1)]),
    ]
    assert picked(isvc("sklearn", "2"), runtimes) == "b-low"
    runtimes[0]["spec"]["supportedModelFormats"].reverse()    # now the first entry has priority 9
    assert picked(isvc("sklearn", "2"), runtimes) == "a-first-unset"


def test_tie_break_protocol_then_newest_then_name():
    v2 = runtime("a-v2", [fmt("sklearn")], protocolVersions=["v2", "v1"], created="2024-01-01T00:00:00Z")
    grpc = runtime("b-grpc", [fmt("sklearn")], protocolVersions=["grpc-v2", "v1"], created="2025-01-01T00:00:00Z")
    old = runtime("c-old", [fmt("sklearn")], created="2023-01-01T00:00:00Z")
    new = runtime("d-new", [fmt("sklearn")], created="2024-06-01T00:00:00Z")
    assert picked(isvc("sklearn"), [v2, grpc]) == "b-grpc"
    assert picked(isvc("sklearn"), [old, new]) == "d-new"
    same = [runtime(n, [fmt("sklearn")], created="2024-01-01T00:00:00Z") for n in ("z", "m")]
    assert picked(isvc("sklearn"), same) == "m"



def test_lowest_protocol_wins_over_newer_runtimes():
    v1_v2 = runtime("v1-v2", [fmt("sklearn")], protocolVersions=["v2", "v1"], created="2020-01-01T00:00:00Z")
    v2 = runtime("v2", [fmt("sklearn")], protocolVersions=["v2"], created="2022-01-01T00:00:00Z")
    unset = runtime("unset", [fmt("sklearn")], created="2024-01-01T00:00:00Z")
    assert picked(isvc("sklearn", protocol="v2"), [unset, v2, v1_v2]) == "v1-v2"
    assert picked(isvc("sklearn", protocol="v2"), [unset, v2]) == "v2"


def test_priority_sort_is_stable_over_the_tie_break_order():
    early = runtime("early", [fmt("sklearn", priority=1)], created="2020-01-01T00:00:00Z")
    late = runtime("late", [fmt("sklearn", priority=1)], created="2021-01-01T00:00:00Z")
    assert picked(isvc("sklearn"), [early, late]) == "late"


def test_multinode_only_with_worker_spec():
    single = runtime("hf", [fmt("huggingface", priority=1)])
    multi = runtime("hf-multi", [fmt("huggingface", priority=2)], workerSpec={"pipelineParallelSize": 1})
    assert picked(isvc("huggingface"), [single, multi]) == "hf"
    assert picked(isvc("huggingface", worker=True), [single, multi]) == "hf-multi"
    assert picked(isvc("huggingface", worker=True), [single]) is None


def test_explicit_runtime_checks():
    rt = runtime("hf", [fmt("huggingface", "1", auto=False)], protocolVersions=["v2", "v1"])
    assert check_explicit_runtime(isvc("huggingface"), rt) is None
    assert check_explicit_runtime(isvc("huggingface", "1"), rt) is None
    assert check_explicit_runtime(isvc("huggingface", "1.0"), rt) == (
        "runtime hf does not support model format huggingface:1.0"
    )
    assert check_explicit_runtime(isvc("huggingface", protocol="grpc-v1"), rt) == (
        "runtime hf does not support protocol version grpc-v1"
    )
    disabled = runtime("off", [fmt("huggingface")], disabled=True)
    assert check_explicit_runtime(isvc("huggingface"), disabled) == "runtime off is disabled"


def test_explicit_runtime_uses_webhook_protocol_default():
    v1_only = runtime("v1only", [fmt("vLLM")], protocolVersions=["v1"])
    assert check_explicit_runtime(isvc("vLLM"), v1_only) == "runtime v1only does not support protocol version v2"
    v2_only = runtime("sk", [fmt("sklearn")], protocolVersions=["v2"])
    assert check_explicit_runtime(isvc("sklearn"), v2_only) is None


@pytest.mark.parametrize(
    ("model_format", "version", "protocol", "expected"),
    [
        ("vLLM", None, None, "kserve-vllmserver"),
        ("huggingface", "1", None, "kserve-huggingfaceserver"),
        ("huggingface", "1.0", None, None),
        ("sklearn", None, None, "kserve-sklearnserver"),
        ("onnx", None, None, None),
        ("onnx", None, "v2", "kserve-tritonserver"),
        ("xgboost", "1", None, None),
    ],
)
def test_selection_over_the_official_runtimes(model_format, version, protocol, expected):
    cluster = [load_catalog()[name] for name in catalog_names()]
    assert picked(isvc(model_format, version, protocol=protocol), [], cluster) == expected


def test_official_multinode_runtime_needs_worker_spec():
    cluster = [load_catalog()[name] for name in catalog_names()]
    assert picked(isvc("huggingface", worker=True), [], cluster) == "kserve-huggingfaceserver-multinode"
