"""cmp.llmisvc.presets: KServe's preset selection (combineBaseRefsConfig, pkg/controller/v1alpha2/llmisvc/config_merge.go)."""

from __future__ import annotations

from cmp.llmisvc import compose, select_presets


def names(spec: dict, release: str = "v0.20.0") -> list[str]:
    return [p.name.removeprefix("kserve-config-llm-") for p in select_presets(spec, release)]


def test_single_node_and_routing() -> None:
    assert names({}) == ["template"]
    assert names({"router": {"scheduler": {}, "route": {}}}) == ["scheduler", "router-route", "template"]
    assert names({"router": {"scheduler": {"pool": {"ref": {"name": "mine"}}}, "route": {"http": {"refs": [{"name": "r"}]}}}}) \
        == ["template"]


def test_data_parallel_wins_over_pipeline() -> None:
    # IsDataParallel is checked first (data or dataLocal > 0), then IsPipelineParallel (pipeline > 0)
    assert names({"worker": {}, "parallelism": {"data": 2, "pipeline": 2}}) == ["worker-data-parallel"]
    assert names({"worker": {}, "parallelism": {"dataLocal": 1}}) == ["worker-data-parallel"]
    [preset] = select_presets({"worker": {}, "parallelism": {"pipeline": 2}}, "v0.20.0")
    assert preset.name == "kserve-config-llm-worker-pipeline-parallel" and not preset.shipped and preset.file is None


def test_prefill_selects_a_prefill_and_a_decode_preset() -> None:
    assert names({"prefill": {}}) == ["prefill-template", "decode-template"]
    assert names({"prefill": {"worker": {}, "parallelism": {"data": 2}}, "worker": {}, "parallelism": {"data": 4}}) \
        == ["prefill-worker-data-parallel", "decode-worker-data-parallel"]


def test_tracing_and_latency_predictor_exist_from_v0_20() -> None:
    spec = {"tracing": {}, "router": {"scheduler": {"config": {"inline": {"plugins": [{"type": "predicted-latency-producer"}]}}}}}
    assert names(spec) == ["scheduler", "scheduler-latency-predictor", "tracing", "template"]
    assert names(spec, "v0.19.0") == ["scheduler", "template"]


def test_a_worker_without_data_or_pipeline_parallelism_gets_no_workload_preset() -> None:
    service = {"metadata": {"name": "m", "namespace": "n"}, "spec": {"worker": {}, "parallelism": {"tensor": 8}}}
    composition = compose(service, "v0.20.0")
    assert composition.presets == []
    assert [p.rule for p in composition.problems] == ["llmisvc-no-workload-preset"]


def test_a_release_version_resolves_to_its_shipped_tag() -> None:
    assert {p.release for p in select_presets({}, "0.19")} == {"v0.19.0"}
