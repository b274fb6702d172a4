"""The args transform: override merge into a derived runtime, raw InferenceServices, consequences."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmp.catalog import get_runtime as catalog_runtime
from cmp.derive import runtime_container
from cmp.kserve.flags import parse_args
from cmp.kserve.merge import assemble_predictor_container
from cmp.pipeline import render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import dump_stream, load_stream
from cmp.transforms.args import overlay_tokens, rules_for

MD_HEAD = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: m
  namespace: ns
spec:
"""


def render(text: str, **settings) -> object:
    return render_docs(load_stream(text, "app.yaml"), Settings(**settings))


def by_kind(result, kind: str, name: str | None = None) -> dict:
    return next(o for o in result.objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name))


def model(result) -> dict:
    return by_kind(result, "InferenceService")["spec"]["predictor"]["model"]


def test_no_args_no_derived_runtime():
    result = render(MD_HEAD + "  runtime: kserve-sklearnserver\n  model: {storageUri: gs://b/m}\n")
    assert [o["kind"] for o in result.objects] == ["InferenceService"]
    assert model(result)["runtime"] == "kserve-sklearnserver"


def test_args_equal_to_the_runtime_need_no_derived_runtime():
    result = render(MD_HEAD + "  runtime: kserve-sklearnserver\n"
                              "  model: {storageUri: gs://b/m, args: [--http_port=8080]}\n")
    assert [o["kind"] for o in result.objects] == ["InferenceService"]
    assert "args" not in model(result)


def test_override_goes_to_the_derived_runtime_and_never_on_the_isvc():
    result = render(MD_HEAD + "  runtime: kserve-sklearnserver\n"
                              "  model: {storageUri: gs://b/m, args: ['--model_name=iris', --workers=2]}\n")
    runtime = by_kind(result, "ServingRuntime")
    assert runtime_container(runtime)["args"] == ["--model_dir=/mnt/models", "--http_port=8080",
                                                  "--model_name=iris", "--workers=2"]
    assert model(result)["runtime"] == runtime["metadata"]["name"] == "m-kserve-sklearnserver"
    assert "args" not in model(result)
    assert all(f["autoSelect"] is False for f in runtime["spec"]["supportedModelFormats"])


def test_append_annotation_keeps_kserve_behaviour_for_a_deployment():
    text = MD_HEAD.replace("  namespace: ns\n", "  namespace: ns\n  annotations: {kserve-cmp.io/args-merge: append}\n")
    result = render(text + "  runtime: kserve-sklearnserver\n  model: {storageUri: gs://b/m, args: ['--log_config_file={{ y }}']}\n")
    assert [o["kind"] for o in result.objects] == ["InferenceService"]
    assert model(result)["args"] == ["--log_config_file={{`{{`}} y }}"]


def test_runtime_without_command_or_args_warns():
    result = render(MD_HEAD + "  runtime: kserve-mlserver\n"
                              "  model: {format: sklearn, storageUri: gs://b/m, args: [--debug]}\n")
    (warning,) = [w for w in result.warnings if w.rule == "args"]
    assert "replace the image's default command" in warning.message
    assert warning.path == "spec.model.args"


def test_http_port_default_of_python_servers_declares_the_new_port():
    result = render(MD_HEAD + "  runtime: kserve-huggingfaceserver\n"
                              "  model: {format: huggingface, storageUri: hf://a/b, args: [--http_port=9000]}\n")
    container = runtime_container(by_kind(result, "ServingRuntime"))
    assert container["ports"] == [{"containerPort": 9000, "name": "http1", "protocol": "TCP"}]


def test_runtime_flag_twice_in_the_runtime_is_an_error():
    runtime = """apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: rt, namespace: ns}
spec:
  supportedModelFormats: [{name: x, autoSelect: true}]
  containers:
  - {name: kserve-container, image: img:1, args: [--a=1, --a=2]}
---
"""
    with pytest.raises(CmpError) as err:
        render(runtime + MD_HEAD + "  runtime: rt\n  model: {storageUri: gs://b/m, args: [--b=1]}\n")
    assert "runtime rt sets --a twice (--a=1 and --a=2)" in str(err.value)


RAW = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris, namespace: ns}
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      args: [--http_port=9000]
      readinessProbe:
        httpGet: {path: /v1/models/iris, port: 8080}
"""


def test_raw_isvc_port_flag_moves_its_own_probe_too():
    result = render(RAW)
    runtime = by_kind(result, "ServingRuntime")
    assert runtime_container(runtime)["args"][-1] == "--http_port=9000"
    assert model(result)["readinessProbe"]["httpGet"]["port"] == 9000
    assert model(result)["runtime"] == "iris-kserve-sklearnserver"
    assert "args" not in model(result)


def test_raw_isvc_with_unknown_runtime_passes_through_with_a_warning():
    text = RAW.replace("      modelFormat: {name: sklearn}\n", "      runtime: on-cluster\n")
    result = render(text)
    assert [o["kind"] for o in result.objects] == ["InferenceService"]
    assert model(result)["runtime"] == "on-cluster"
    assert model(result)["args"] == ["--http_port=9000"]
    (warning,) = [w for w in result.warnings if w.rule == "args"]
    assert warning.level == "warning" and "'on-cluster' is not in the inputs or the catalog" in warning.message


def test_raw_isvc_in_append_mode_is_left_alone():
    text = RAW.replace("metadata: {name: iris, namespace: ns}",
                       "metadata: {name: iris, namespace: ns, annotations: {kserve-cmp.io/args-merge: append}}")
    result = render(text)
    assert [o["kind"] for o in result.objects] == ["InferenceService"]
    assert model(result)["args"] == ["--http_port=9000"]


RAW_CHAT = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: chat, namespace: ns}
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      storageUri: hf://a/b
      args: ['--chat-template=TEMPLATE', --model_name=chat2]
"""


def test_raw_isvc_args_move_to_the_derived_runtime_as_kserve_text():
    """A raw InferenceService is written for KServe: its escapes must reach the server as KServe renders them."""
    result = render(RAW_CHAT.replace("TEMPLATE", "{{`{{`}} m.content }} {{.Name}}"))
    isvc = by_kind(result, "InferenceService")
    container = assemble_predictor_container(by_kind(result, "ServingRuntime", model(result)["runtime"]), isvc)
    assert container["args"] == ["--chat-template={{ m.content }} chat", "--model_name=chat2"]


def test_raw_isvc_arg_kserve_cannot_template_is_a_warning():
    result = render(RAW_CHAT.replace("TEMPLATE", "{{ m.content }}"))
    (warning,) = [w for w in result.warnings if w.rule == "args"]
    assert warning.path == "spec.predictor.model.args[0]" and warning.level == "warning"
    assert "KServe's template pass fails on it" in warning.message and "{{`{{`}}" in warning.message


VLLM_GPU = MD_HEAD + """  runtime: kserve-vllmserver
  model:
    format: vLLM
    storageUri: hf://a/b
    resources: RESOURCES
"""


def test_gpu_request_without_a_limit_gets_the_limit():
    """Kubernetes needs a limit equal to the request for a GPU; KServe picks the vLLM image from limits."""
    result = render(VLLM_GPU.replace("RESOURCES", "{requests: {nvidia.com/gpu: '2'}}"))
    isvc = by_kind(result, "InferenceService")
    assert model(result)["resources"] == {"requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}
    container = assemble_predictor_container(catalog_runtime("kserve-vllmserver"), isvc)
    assert container["image"] == "vllm/vllm-openai:v0.24.0"   # not KServe's -cpu image


def test_gpu_request_or_limit_is_paired_with_the_runtime_side():
    runtime = """apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: rt, namespace: ns}
spec:
  supportedModelFormats: [{name: x, autoSelect: true}]
  containers:
  - name: kserve-container
    image: img:1
    resources: {requests: {nvidia.com/gpu: '4'}, limits: {nvidia.com/gpu: '4'}}
---
"""
    for own, wanted in (("{requests: {nvidia.com/gpu: '1'}}", {"requests": {"nvidia.com/gpu": "1"},
                                                                 "limits": {"nvidia.com/gpu": "1"}}),
                        ("{limits: {nvidia.com/gpu: '8'}}", {"requests": {"nvidia.com/gpu": "8"},
                                                              "limits": {"nvidia.com/gpu": "8"}})):
        result = render(runtime + MD_HEAD + f"  runtime: rt\n  model: {{storageUri: gs://b/m, resources: {own}}}\n")
        assert model(result)["resources"] == wanted


def test_gpu_request_unequal_to_its_own_limit_is_an_error():
    with pytest.raises(CmpError) as err:
        render(VLLM_GPU.replace("RESOURCES", "{requests: {nvidia.com/gpu: '1'}, limits: {nvidia.com/gpu: '2'}}"))
    assert ("app.yaml:11: spec.model.resources.requests.nvidia.com/gpu: request 1 differs from the limit 2; "
            "Kubernetes needs them equal for nvidia.com/gpu") in str(err.value)


def test_rules_for_adds_setting_and_annotation_flags_per_runtime():
    runtime = {"metadata": {"name": "rt", "annotations": {"kserve-cmp.io/repeatable-flags": "--x, --y"}}}
    rules = rules_for(runtime, "--all,rt:--mine,other:--theirs")
    assert {"--x", "--y", "--all", "--mine"} <= rules.repeatable
    assert "--theirs" not in rules.repeatable


def test_overlay_tokens_of_both_forms():
    assert overlay_tokens(["--a", "1"]) == ["--a", "1"]
    assert overlay_tokens({"a": 1, "--b": True, "c": None, "d": "x y"}) == ["--a=1", "--b", "--d=x y"]


# --- property: the pod KServe assembles from the rendered objects ---------------------------------

KEYS = st.sampled_from(["port", "model-name", "max-model-len", "dtype", "seed", "trust-remote-code", "lora-modules"])
RUNTIME_VALUES = st.one_of(st.none(), st.sampled_from(["1", "8080", "x", "{{.Name}}", "a=b"]))
OVERLAY_VALUES = st.one_of(RUNTIME_VALUES, st.just("{{ m.content }}"))
RUNTIME_FLAGS = st.lists(st.tuples(KEYS, RUNTIME_VALUES), max_size=6, unique_by=lambda kv: kv[0])
OVERLAY_FLAGS = st.lists(st.tuples(KEYS, OVERLAY_VALUES), max_size=6, unique_by=lambda kv: kv[0])
REPEATABLE = "lora-modules"


def tokens(pairs: list[tuple[str, str | None]], spelling: str) -> list[str]:
    flags = [f"--{k.replace('-', spelling)}" for k, _ in pairs]
    return [f if v is None else f"{f}={v}" for f, (_, v) in zip(flags, pairs)]


def runtime_obj(args: list[str]) -> dict:
    return {
        "apiVersion": "serving.kserve.io/v1alpha1", "kind": "ServingRuntime",
        "metadata": {"name": "rt", "namespace": "ns", "annotations": {"serving.kserve.io/server-type": "vllmserver"}},
        "spec": {"supportedModelFormats": [{"name": "vLLM", "autoSelect": True}],
                 "containers": [{"name": "kserve-container", "image": "vllm/vllm-openai:v1", "args": args}]},
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runtime_pairs=RUNTIME_FLAGS, overlay_pairs=OVERLAY_FLAGS, spelling=st.sampled_from(["-", "_"]))
def test_kserve_assembly_has_each_flag_once_with_the_overlay_value(runtime_pairs, overlay_pairs, spelling):
    runtime_args, overlay_args = tokens(runtime_pairs, "-"), tokens(overlay_pairs, spelling)
    md = {"apiVersion": "kserve-cmp.io/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": "m", "namespace": "ns"},
          "spec": {"runtime": "rt", "model": {"storageUri": "gs://b/m", "args": overlay_args}}}
    result = render(dump_stream([runtime_obj(runtime_args), md]))
    isvc = by_kind(result, "InferenceService")
    runtime_name = isvc["spec"]["predictor"]["model"]["runtime"]
    container = assemble_predictor_container(by_kind(result, "ServingRuntime", runtime_name), isvc)
    parsed = parse_args(container.get("args") or [], normalize_underscores=True,
                        repeatable=frozenset({f"--{REPEATABLE}"}), meta=isvc["metadata"])
    seen = [a.key for a in parsed if a.key is not None and not a.repeatable]
    assert len(seen) == len(set(seen))
    effective = {a.key: a.value for a in parsed if not a.repeatable}
    meta = {"name": "m", "namespace": "ns", "labels": {}, "annotations": {}}
    for key, value in overlay_pairs:
        if key != REPEATABLE:
            wanted = None if value is None else value.replace("{{.Name}}", meta["name"])
            assert effective[key] == wanted
