"""The multinode transform: spec.multiNode, KServe's multi-node rules, launch scripts, GPU facts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cmp.kserve import script as S
from cmp.kserve.merge import resolve_strings
from cmp.pipeline import RenderResult, render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from helpers import run_with_fake_programs

MULTINODE = "kserve-huggingfaceserver-multinode"
HARD_ARGS = ['--chat-template={"a": 1}', '--tokenizer="a b"', "--allowed-local-media-path", "*"]


def model(multinode: str = "  multiNode: {tensorParallelSize: 2, pipelineParallelSize: 2}\n",
          args: str = "", storage: str = "pvc://models/llama", extra: str = "") -> str:
    """A ModelDeployment on the official multi-node runtime (auto-selected), with extra spec lines."""
    return ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata:\n  name: llama\n"
            "  namespace: llm\nspec:\n  model:\n    format: huggingface\n"
            f"    storageUri: {storage}\n{args}{multinode}{extra}")


def render(*texts: str) -> RenderResult:
    docs = [d for i, t in enumerate(texts) for d in load_stream(t, f"in{i}.yaml")]
    return render_docs(docs, Settings())


def problems(*texts: str) -> list[str]:
    with pytest.raises(CmpError) as failure:
        render(*texts)
    return [p.format() for p in failure.value.problems]


def kind(result: RenderResult, wanted: str) -> dict:
    return next(o for o in result.objects if o["kind"] == wanted)


def kserve_container(runtime: dict) -> dict:
    return next(c for c in runtime["spec"]["containers"] if c["name"] == "kserve-container")


# --- ModelDeployment ------------------------------------------------------------------------------

def test_multinode_renders_worker_spec_mode_class_and_a_normalised_runtime() -> None:
    result = render(model(args="    args: [--max-model-len=8192]\n"))
    isvc = kind(result, "InferenceService")
    runtime = kind(result, "ServingRuntime")
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "none"
    assert isvc["spec"]["predictor"]["workerSpec"] == {"tensorParallelSize": 2, "pipelineParallelSize": 2}
    assert isvc["spec"]["predictor"]["model"]["runtime"] == runtime["metadata"]["name"]
    assert runtime["metadata"]["labels"]["kserve-cmp.io/base-runtime"] == MULTINODE
    container = kserve_container(runtime)
    assert container["command"][-1] == S.LAUNCH_NAME
    assert container["command"][2].rstrip().endswith('"$@"')
    assert container["args"] == ["--model_name={{.Name}}", "--max-model-len=8192"]
    assert "args" not in isvc["spec"]["predictor"]["model"]


def test_without_args_the_shipped_script_is_still_normalised() -> None:
    runtime = kind(render(model()), "ServingRuntime")
    assert kserve_container(runtime)["command"][-1] == S.LAUNCH_NAME
    assert kserve_container(runtime)["args"] == ["--model_name={{.Name}}"]


def test_worker_resources_and_env_become_the_worker_container() -> None:
    section = ("  multiNode:\n    tensorParallelSize: 2\n    resources: {requests: {nvidia.com/gpu: '1'}, "
               "limits: {nvidia.com/gpu: '1'}}\n    env: {NCCL_DEBUG: INFO}\n")
    worker = kind(render(model(section)), "InferenceService")["spec"]["predictor"]["workerSpec"]
    assert worker["containers"] == [{"name": "worker-container", "env": [{"name": "NCCL_DEBUG", "value": "INFO"}],
                                     "resources": {"requests": {"nvidia.com/gpu": "1"},
                                                   "limits": {"nvidia.com/gpu": "1"}}}]
    assert worker["pipelineParallelSize"] == 1


def test_gpu_facts_follow_kserve_arithmetic() -> None:
    section = ("  multiNode:\n    tensorParallelSize: 2\n    pipelineParallelSize: 2\n"
               "    resources: {requests: {nvidia.com/gpu: '2'}, limits: {nvidia.com/gpu: '2'}}\n")
    facts = render(model(section)).units[0].facts["multinode"]
    assert {k: facts[k] for k in ("totalGpus", "nodes", "workers", "headGpus", "workerGpus", "gpuResource")} == \
        {"totalGpus": 4, "nodes": 2, "workers": 1, "headGpus": 2, "workerGpus": 2, "gpuResource": "nvidia.com/gpu"}
    assert facts["sources"]["tensorParallelSize"] == "in0.yaml:11"


def test_gpus_that_cannot_fit_are_an_error() -> None:
    section = ("  multiNode:\n    tensorParallelSize: 4\n    pipelineParallelSize: 2\n"
               "    resources: {requests: {nvidia.com/gpu: '2'}}\n")
    head = "    resources: {requests: {nvidia.com/gpu: '1'}}\n"
    assert any("8 GPUs needed" in p for p in problems(model(section, args=head)))


def test_gpu_only_in_limits_is_a_warning() -> None:
    section = "  multiNode:\n    tensorParallelSize: 2\n    resources: {limits: {nvidia.com/gpu: '2'}}\n"
    result = render(model(section))
    assert any("limits only" in w.message for w in result.warnings)
    assert result.units[0].facts["multinode"]["nodes"] == 2


def test_tensor_parallel_flag_moves_to_the_worker_spec() -> None:
    result = render(model("  multiNode: {pipelineParallelSize: 2}\n",
                          args="    args: [--tensor-parallel-size=4, --max-model-len=8192]\n"))
    assert kind(result, "InferenceService")["spec"]["predictor"]["workerSpec"] == \
        {"tensorParallelSize": 4, "pipelineParallelSize": 2}
    assert kserve_container(kind(result, "ServingRuntime"))["args"] == ["--model_name={{.Name}}",
                                                                        "--max-model-len=8192"]
    assert result.units[0].facts["multinode"]["sources"]["tensorParallelSize"] == "in0.yaml:10"


def test_parallel_flag_in_a_mapping_with_underscores_moves_too() -> None:
    result = render(model("  multiNode: {}\n", args="    args: {pipeline_parallel_size: 3}\n"))
    worker = kind(result, "InferenceService")["spec"]["predictor"]["workerSpec"]
    assert worker == {"tensorParallelSize": 1, "pipelineParallelSize": 3}


def test_contradicting_parallel_flag_is_an_error() -> None:
    found = problems(model(args="    args: [--tensor-parallel-size=4]\n"))
    assert found == ["in0.yaml:10: spec.model.args[0]: --tensor-parallel-size=4 contradicts "
                     "spec.multiNode.tensorParallelSize: 2 (in0.yaml:11); set it in one place"]


def test_model_dir_the_script_sets_is_an_error() -> None:
    found = problems(model(args="    args: [--max-model-len=1, --model_dir=/x]\n"))
    assert found == [f"in0.yaml:10: spec.model.args[1]: the launch script of runtime {MULTINODE} already passes "
                     "--model_dir; it comes from the storage URI, remove it"]


@pytest.mark.parametrize("change, phrase", [
    ({"storage": "s3://bucket/llama"},
     "in0.yaml:9: spec.model.storageUri: multi-node models load from pvc:// or oci:// storage only"),
    ({"extra": "  deploymentMode: Knative\n"},
     "in0.yaml:11: spec.deploymentMode: multi-node models run only in Standard mode"),
])
def test_deployment_rules(change: dict, phrase: str) -> None:
    assert any(p.startswith(phrase) for p in problems(model(**change)))


def test_autoscaler_class_other_than_none_is_an_error() -> None:
    text = model().replace("  namespace: llm\n", "  namespace: llm\n  annotations: "
                                                  "{serving.kserve.io/autoscalerClass: hpa}\n")
    assert any("autoscalerClass: none" in p for p in problems(text))


def test_parallel_size_env_is_an_error() -> None:
    found = problems(model(args="    env: {TENSOR_PARALLEL_SIZE: '4'}\n"))
    assert found == ["in0.yaml:10: spec.model.env.TENSOR_PARALLEL_SIZE: TENSOR_PARALLEL_SIZE is set by KServe "
                     "from the parallel sizes; use spec.multiNode"]


def test_a_patch_setting_the_predictor_command_is_an_error() -> None:
    extra = "  patches:\n    - {op: add, path: /spec/predictor/model/command, value: [python]}\n"
    assert any("replace the runtime's launch script" in p for p in problems(model(extra=extra)))


@pytest.mark.parametrize("op, phrase", [
    ("{op: add, path: /spec/predictor/model/env, value: [{name: TENSOR_PARALLEL_SIZE, value: '8'}]}",
     "TENSOR_PARALLEL_SIZE is set by KServe"),
    ("{op: replace, path: /spec/predictor/model/storageUri, value: 's3://b/m'}", "pvc:// or oci:// storage only"),
    ("{op: add, path: /metadata/annotations/serving.kserve.io~1autoscalerClass, value: hpa}",
     "serving.kserve.io/autoscalerClass: none"),
    ("{op: replace, path: /metadata/annotations/serving.kserve.io~1deploymentMode, value: Knative}",
     "run only in Standard mode"),
    ("{op: remove, path: /metadata/annotations/serving.kserve.io~1deploymentMode}", "run only in Standard mode"),
    ("{op: replace, path: /spec/predictor/workerSpec/tensorParallelSize, value: 0}",
     "workerSpec.tensorParallelSize must be a whole number >= 1"),
    ("{op: add, path: /spec/predictor/model, value: {runtime: x, command: [python]}}",
     "replaces the runtime's launch script"),
])
def test_patches_are_held_to_the_multinode_rules(op: str, phrase: str) -> None:
    extra = f"  patches:\n    - {{op: add, path: /metadata/labels, value: {{team: a}}}}\n    - {op}\n"
    found = [p for p in problems(model(extra=extra)) if phrase in p]
    assert len(found) == 1 and found[0].startswith("in0.yaml:13: spec.patches[1]: after this patch: "), found


def test_worker_env_with_placeholders_or_sizes_is_an_error() -> None:
    section = "  multiNode:\n    env: {NAME: '{{.Name}}', PIPELINE_PARALLEL_SIZE: '2'}\n"
    found = problems(model(section))
    assert any("placeholders in worker containers" in p for p in found)
    assert any("PIPELINE_PARALLEL_SIZE is set by KServe" in p for p in found)


def test_multinode_on_a_single_node_runtime_is_an_error() -> None:
    found = problems(model(extra="  runtime: kserve-huggingfaceserver\n"))
    assert any("has no workerSpec" in p for p in found)


def test_multinode_runtime_without_the_section_is_an_error() -> None:
    found = problems(model("", extra=f"  runtime: {MULTINODE}\n"))
    assert any("add spec.multiNode" in p for p in found)


# --- single-node launch scripts -------------------------------------------------------------------

SCRIPT_RUNTIME = """apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: scripted, namespace: llm}
spec:
  supportedModelFormats: [{name: custom, autoSelect: true}]
  containers:
  - name: kserve-container
    image: example.invalid/server:1.0
    command: [bash, -c]
    args:
    - |
      cd /srv
      exec python -m server --port=8080
    - --model_name={{.Name}}
"""


def test_single_node_script_in_args_is_normalised() -> None:
    text = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: m, namespace: llm}\n"
            "spec:\n  runtime: scripted\n  model: {format: custom, storageUri: 's3://b/m', args: ['--x=a b']}\n")
    result = render(text, SCRIPT_RUNTIME)
    derived = next(o for o in result.objects if o["kind"] == "ServingRuntime" and o["metadata"]["name"] != "scripted")
    container = kserve_container(derived)
    assert container["command"] == ["bash", "-c", 'cd /srv\nexec python -m server --port=8080 "$@"\n',
                                    S.LAUNCH_NAME]
    assert container["args"] == ["--model_name={{.Name}}", "--x=a b"]
    assert any("never passed '--model_name={{.Name}}'" in w.message for w in result.warnings)


def test_single_node_flag_owned_by_the_script_is_an_error() -> None:
    text = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: m, namespace: llm}\n"
            "spec:\n  runtime: scripted\n  model: {format: custom, storageUri: 's3://b/m', args: ['--port=9000']}\n")
    assert any("already passes --port; remove it" in p for p in problems(text, SCRIPT_RUNTIME))


def test_script_with_nothing_to_forward_is_left_alone() -> None:
    runtime = SCRIPT_RUNTIME.replace("    - --model_name={{.Name}}\n", "").replace(
        "      exec python -m server --port=8080\n", "      if true; then exec python -m server; fi\n")
    text = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: m, namespace: llm}\n"
            "spec:\n  runtime: scripted\n  model: {format: custom, storageUri: 's3://b/m'}\n")
    assert [o["kind"] for o in render(text, runtime).objects] == ["ServingRuntime", "InferenceService"]


def test_script_that_cannot_be_rewritten_is_an_error_when_args_need_it() -> None:
    runtime = SCRIPT_RUNTIME.replace("      exec python -m server --port=8080\n",
                                     "      if true; then exec python -m server; fi\n")
    text = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: m, namespace: llm}\n"
            "spec:\n  runtime: scripted\n  model: {format: custom, storageUri: 's3://b/m'}\n")
    assert any("runtime scripted: cannot tell which command starts the server" in p
               for p in problems(text, runtime))


# --- raw InferenceServices ------------------------------------------------------------------------

RAW_RUNTIME = """apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: ray-llm, namespace: llm}
spec:
  supportedModelFormats: [{name: huggingface, version: "1", autoSelect: true}]
  protocolVersions: [v2]
  containers:
  - name: kserve-container
    image: example.invalid/llm:1.0
    command: [bash, -c]
    args:
    - |
      ray start --head
      python -m huggingfaceserver --model_dir=${MODEL_DIR} --tensor-parallel-size=${TENSOR_PARALLEL_SIZE}
  workerSpec:
    tensorParallelSize: 2
    containers:
    - name: worker-container
      image: example.invalid/llm:1.0
      command: [bash, -c, "ray start --block"]
"""


def raw_isvc(extra_model: str = "", annotations: str = "", runtime: str = "") -> str:
    return ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: llama\n"
            f"  namespace: llm\n{annotations}spec:\n  predictor:\n    workerSpec: {{pipelineParallelSize: 2}}\n"
            "    model:\n      modelFormat: {name: huggingface}\n      protocolVersion: v2\n"
            f"      storageUri: pvc://models/llama\n{runtime}{extra_model}")


def test_raw_isvc_on_an_input_runtime_gets_a_normalised_derived_runtime() -> None:
    result = render(raw_isvc("      args: ['--x=a b']\n"), RAW_RUNTIME)
    isvc = kind(result, "InferenceService")
    derived = next(o for o in result.objects if o["kind"] == "ServingRuntime" and o["metadata"]["name"] != "ray-llm")
    assert isvc["spec"]["predictor"]["model"]["runtime"] == derived["metadata"]["name"]
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/autoscalerClass": "none",
                                               "serving.kserve.io/deploymentMode": "Standard"}
    assert kserve_container(derived)["command"][-1] == S.LAUNCH_NAME
    assert kserve_container(derived)["command"][2].endswith('${TENSOR_PARALLEL_SIZE} "$@"\n')
    original = next(o for o in result.objects if o["metadata"]["name"] == "ray-llm")
    assert kserve_container(original)["command"] == ["bash", "-c"]       # the input passes through untouched
    facts = result.units[0].facts["multinode"]
    assert (facts["tensorParallelSize"], facts["pipelineParallelSize"], facts["nodes"]) == (2, 2, 4)
    assert facts["sources"]["tensorParallelSize"] == "runtime ray-llm workerSpec"


def test_raw_isvc_command_is_an_error() -> None:
    found = problems(raw_isvc("      command: [python, -m, server]\n"), RAW_RUNTIME)
    assert any(p.startswith("in0.yaml:13: ") and "replaces the runtime's launch script" in p for p in found)


def test_raw_isvc_parallel_flag_is_an_error_pointing_at_the_workerspec() -> None:
    found = problems(raw_isvc("      args: [--tensor-parallel-size=4]\n", runtime=f"      runtime: {MULTINODE}\n"))
    assert any("already passes --tensor-parallel-size; set spec.predictor.workerSpec.tensorParallelSize "
               "instead" in p for p in found)


def test_raw_isvc_wrong_class_and_storage_are_errors() -> None:
    text = raw_isvc(annotations="  annotations: {serving.kserve.io/autoscalerClass: hpa}\n").replace(
        "pvc://models/llama", "gs://bucket/llama")
    found = problems(text, RAW_RUNTIME)
    assert any("autoscalerClass: none" in p for p in found)
    assert any("pvc:// or oci://" in p for p in found)


def test_raw_isvc_parallel_size_below_one_is_an_error() -> None:
    found = problems(raw_isvc().replace("{pipelineParallelSize: 2}", "{pipelineParallelSize: 0}"), RAW_RUNTIME)
    assert found == ["in0.yaml:8: spec.predictor.workerSpec.pipelineParallelSize: workerSpec.pipelineParallelSize "
                     "must be a whole number >= 1 (KServe's webhook refuses 0)"]


def test_raw_isvc_on_an_installed_runtime_warns_about_split_args() -> None:
    result = render(raw_isvc("      args: ['--x=a b', --plain]\n", runtime=f"      runtime: {MULTINODE}\n"))
    assert [w.message for w in result.warnings if "split" in w.message] == [
        f"runtime {MULTINODE} forwards args unquoted: '--x=a b' reaches the server split or globbed; add the "
        "runtime to the inputs so kserve-cmp can fix its script"]


# --- the rendered container, run with a real bash ---------------------------------------------------

@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_rendered_command_and_args_reach_the_server_intact(tmp_path: Path) -> None:
    args = "    args:\n" + "".join(f"      - {json.dumps(a)}\n" for a in HARD_ARGS)   # JSON is YAML
    result = render(model(args=args))
    container = kserve_container(kind(result, "ServingRuntime"))
    meta = {"name": "llama", "namespace": "llm"}
    argv = resolve_strings(container["command"], meta) + resolve_strings(container["args"], meta)
    env = {"MODEL_DIR": "/mnt/models", "TENSOR_PARALLEL_SIZE": "2", "PIPELINE_PARALLEL_SIZE": "2",
           "POD_IP": "127.0.0.1", "RAY_PORT": "6379"}
    calls = run_with_fake_programs(argv, ("ray", "python"), tmp_path, env)
    server = next(c for c in calls if c[1:3] == ["-m", "huggingfaceserver"])
    assert server[3:] == ["--model_dir=/mnt/models", "--tensor-parallel-size=2", "--pipeline-parallel-size=2",
                          "--model_name=llama", *HARD_ARGS]
