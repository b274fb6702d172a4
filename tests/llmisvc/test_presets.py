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


def llm(**spec: object) -> dict:
    return {"metadata": {"name": "m", "namespace": "n"}, "spec": {"model": {"uri": "hf://o/m"}, **spec}}


def test_an_apps_config_named_like_a_preset_replaces_it() -> None:
    # getConfig (config_merge.go) looks in the service's namespace before kserve: the app can supply the
    # pipeline-parallel preset no release ships
    pp = {"worker": {"containers": [{"name": "main", "image": "vllm:mine", "args": ["--pp", "{{ .Spec.Parallelism.Pipeline }}"]}]}}
    composition = compose(llm(worker={}, parallelism={"pipeline": 2}), "v0.20.0",
                          configs={"kserve-config-llm-worker-pipeline-parallel": pp})
    [preset] = composition.presets
    assert preset.config and preset.source == "config:kserve-config-llm-worker-pipeline-parallel"
    assert composition.problems == []
    assert composition.spec["worker"]["containers"][0]["args"] == ["--pp", "2"]


def test_base_refs_merge_between_the_presets_and_the_service() -> None:
    # combineBaseRefsConfig: presets, then baseRefs in order, then the service; a baseRef's model.name wins
    team = {"model": {"name": "team-name"}, "template": {"containers": [{"name": "main", "image": "team:1"}]},
            "worker": {}, "parallelism": {"data": 2}}
    composition = compose(llm(baseRefs=[{"name": "team"}, {"name": "absent"}], model={"uri": "hf://o/m", "name": "own"},
                              template={"containers": [{"name": "main", "args": ["--x"]}]}),
                          "v0.20.0", configs={"team": team})
    assert [p.name for p in composition.presets] == ["kserve-config-llm-worker-data-parallel"]   # decided with team
    main = composition.spec["template"]["containers"][0]
    assert (main["image"], main["args"]) == ("team:1", ["--x"])
    assert composition.origins[("template", "containers", 0, "image")] == "config:team"
    assert composition.spec["model"]["name"] == "team-name"
    # The presets are templated against the service as written: parallelism from a baseRef is not there, and
    # the data-parallel script reads .Spec.Parallelism.Expert through a nil pointer (kserve/kserve#4945)
    assert [(p.path, p.rule) for p in composition.problems] == [
        ("spec.baseRefs[1]", "llmisvc-baserefs"), ("spec.template.containers[0].command[2]", "llmisvc-template"),
        ("spec.worker.containers[0].command[2]", "llmisvc-template")]
    assert "nil pointer evaluating *Parallelism.Expert" in composition.problems[1].message
