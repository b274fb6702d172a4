"""Input mistakes: resource names, storage URIs, multi-node replicas, GPU builds without a GPU."""

from __future__ import annotations

import pytest

from cmp.pipeline import RenderResult, render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream

VLLM = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: chat, namespace: llm}
spec:
  runtime: kserve-vllmserver
  model:
    format: vLLM
    storageUri: hf://Qwen/Qwen2.5-0.5B-Instruct
    resources:
      limits: LIMITS
"""

MULTINODE = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: llama, namespace: llm}
spec:
  model:
    format: huggingface
    storageUri: pvc://models/llama
    resources:
      limits: {nvidia.com/gpu: "1"}
  scaling: SCALING
  multiNode: {tensorParallelSize: 1, pipelineParallelSize: 2}
"""


def render(*texts: str) -> RenderResult:
    docs = [d for i, t in enumerate(texts) for d in load_stream(t, f"in{i}.yaml")]
    return render_docs(docs, Settings())


def errors_of(*texts: str) -> list[str]:
    with pytest.raises(CmpError) as caught:
        render(*texts)
    return [p.format() for p in caught.value.problems]


def warnings_of(*texts: str) -> list[str]:
    return [p.format() for p in render(*texts).warnings]


@pytest.mark.parametrize("limits", ['{nvidia.com/gpu: "1"}', '{nvidia.com/mig-1g.5gb: "1"}'])
def test_vllm_with_an_nvidia_gpu_is_quiet(limits: str) -> None:
    assert warnings_of(VLLM.replace("LIMITS", limits)) == []


def test_vllm_without_gpu_names_the_cpu_image() -> None:
    (warning,) = warnings_of(VLLM.replace("LIMITS", '{cpu: "4"}'))
    assert "in0.yaml:9: spec.model.resources: warning: the server will run the CPU build " \
           "vllm/vllm-openai-cpu:v0.24.0 instead of vllm/vllm-openai:v0.24.0" in warning


def test_vllm_with_runtime_version_keeps_its_repository() -> None:
    text = VLLM.replace("LIMITS", '{cpu: "4"}').replace("    format: vLLM\n",
                                                       "    format: vLLM\n    runtimeVersion: v0.11.0\n")
    assert warnings_of(text) == []


def test_a_digest_pinned_image_is_never_rewritten() -> None:
    runtime = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: my-vllm
  namespace: llm
  annotations: {serving.kserve.io/server-type: vllmserver}
spec:
  supportedModelFormats: [{name: vLLM, autoSelect: false}]
  containers:
  - name: kserve-container
    image: vllm/vllm-openai@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
"""
    assert warnings_of(runtime, VLLM.replace("kserve-vllmserver", "my-vllm").replace("LIMITS", "{cpu: '4'}")) == []


def test_typo_in_a_raw_inferenceservice_and_an_input_runtime() -> None:
    isvc = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: chat, namespace: llm}
spec:
  predictor:
    model:
      modelFormat: {name: vLLM}
      runtime: my-vllm
      storageUri: hf://Qwen/Qwen2.5-0.5B-Instruct
      resources:
        limits: {nvidia.com/gpu: "1", amd.com/gpus: "1"}
"""
    runtime = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata: {name: my-vllm, namespace: llm}
spec:
  supportedModelFormats: [{name: vLLM}]
  containers:
  - name: kserve-container
    image: vllm/vllm-openai:v0.11.0
    resources:
      limits: {nvidia.com/gpus: "1", rdma/ib: "1"}
"""
    found = errors_of(isvc, runtime)
    assert any(e.startswith("in0.yaml:11: ") and "'amd.com/gpus': did you mean 'amd.com/gpu'?" in e for e in found)
    assert any(e.startswith("in1.yaml:10: ") and "'nvidia.com/gpus': did you mean 'nvidia.com/gpu'?" in e
               for e in found)
    assert not any("rdma/ib" in e for e in found)   # a runtime has no annotation to declare it: not reported


def test_annotation_declares_a_name_even_a_near_miss() -> None:
    text = VLLM.replace("LIMITS", '{nvidia.com/gpu: "1", nvidia.com/gpus: "1"}').replace(
        "metadata: {name: chat, namespace: llm}",
        "metadata:\n  name: chat\n  namespace: llm\n  annotations:\n"
        "    serving.kserve.io/gpu-resource-types: '[\"nvidia.com/gpus\"]'")
    assert warnings_of(text) == []


def test_malformed_annotation_is_kserves_error() -> None:
    text = VLLM.replace("LIMITS", '{nvidia.com/gpu: "1"}').replace(
        "metadata: {name: chat, namespace: llm}",
        "metadata:\n  name: chat\n  namespace: llm\n  annotations:\n"
        "    serving.kserve.io/gpu-resource-types: example.com/fpga")
    (error,) = errors_of(text)
    assert error.startswith("in0.yaml:7: metadata.annotations.serving.kserve.io/gpu-resource-types: invalid GPU "
                            "format(example.com/fpga)")


@pytest.mark.parametrize("scaling, message", [
    ("{minReplicas: 2}", "in0.yaml:10: spec.scaling.minReplicas: minReplicas 2 on a multi-node model"),
    ("{maxReplicas: 3}", "in0.yaml:10: spec.scaling.maxReplicas: maxReplicas 3 can never apply"),
    ("{minReplicas: 0, maxReplicas: 2}", "maxReplicas 2 can never apply"),
])
def test_multinode_replica_ranges_that_never_apply(scaling: str, message: str) -> None:
    found = errors_of(MULTINODE.replace("SCALING", scaling))
    assert any(message in e for e in found), found


@pytest.mark.parametrize("scaling", ["{minReplicas: 1}", "{minReplicas: 1, maxReplicas: 1}", "{minReplicas: 0}",
                                     "{maxReplicas: 1}"])
def test_multinode_one_replica_is_fine(scaling: str) -> None:
    render(MULTINODE.replace("SCALING", scaling))


def test_worker_resource_typo() -> None:
    text = MULTINODE.replace("SCALING", "{}").replace(
        "multiNode: {tensorParallelSize: 1, pipelineParallelSize: 2}",
        "multiNode:\n    tensorParallelSize: 1\n    pipelineParallelSize: 2\n"
        "    resources: {limits: {nvidia.com/gpu: '1', nvidia.com/gpus: '1'}}")
    found = errors_of(text)
    assert any(e.startswith("in0.yaml:14: spec.multiNode.resources.limits.nvidia.com/gpus: unknown resource")
               for e in found), found


def test_transformer_env_and_resources() -> None:
    text = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: bert, namespace: nlp}
spec:
  runtime: kserve-huggingfaceserver
  model:
    storageUri: hf://google-bert/bert-base-uncased
  transformer:
    image: example/tokenizer:1
    env: {name: LOG_LEVEL, value: info}
    resources: {limits: {nvidia.com/gpus: "1"}}
"""
    found = errors_of(text)
    assert any(e.startswith("in0.yaml:10: spec.transformer.env: this is one EnvVar") for e in found), found
    assert any(e.startswith("in0.yaml:11: spec.transformer.resources.limits.nvidia.com/gpus: unknown resource")
               for e in found), found
