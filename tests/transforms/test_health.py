"""The health transform: transformer containers, the bare predictor health-check flag, whole probes."""

from __future__ import annotations

import pytest

from cmp.pipeline import render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from cmp.transforms import health
from cmp.validate import validate_object

FLAG = "--enable_predictor_health_check"

HEAD = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: bert, namespace: nlp}
spec:
  runtime: kserve-sklearnserver
  model: {storageUri: 's3://m/b'}
"""


def render(text: str, file: str = "model.yaml") -> list[dict]:
    return render_docs(load_stream(text, file), Settings()).objects


def errors(text: str, file: str = "model.yaml") -> list[str]:
    with pytest.raises(CmpError) as err:
        render_docs(load_stream(text, file), Settings())
    return [p.format() for p in err.value.problems]


def by_kind(objects: list[dict], kind: str) -> dict:
    return next(o for o in objects if o["kind"] == kind)


@pytest.mark.parametrize("tokens, rest, position, requested", [
    ([], [], None, None),
    (["--a=1"], ["--a=1"], None, None),
    ([FLAG], [], 0, True),
    (["--a=1", f"{FLAG}=true", "--b"], ["--a=1", "--b"], 1, True),
    ([f"{FLAG}=True", FLAG, "--enable-predictor-health-check"], [], 0, True),
    ([f"{FLAG}=false"], [], 0, False),
    (["--no-enable_predictor_health_check"], [], 0, False),
    ([FLAG, "true"], [], 0, True),
    ([FLAG, "/mnt/models"], ["/mnt/models"], 0, True),
    (["--enable_predictor_health_checks"], ["--enable_predictor_health_checks"], None, None),
])
def test_scan_finds_every_spelling(tokens, rest, position, requested) -> None:
    scan = health.scan_flag(tokens)
    assert (scan.tokens, scan.position, scan.requested, scan.errors) == (rest, position, requested, [])


def test_scan_rejects_values_and_contradictions() -> None:
    assert health.scan_flag([f"{FLAG}=yes"]).errors == [
        (0, f"{FLAG}=yes: {FLAG} takes no value (only true or false are understood here; KServe's server exits "
            f"on any value)")]
    assert health.scan_flag([FLAG, "--x", f"{FLAG}=false"]).errors == [(0, f"{FLAG} is both switched on and off")]


def test_with_flag_puts_it_back_once_where_it_stood() -> None:
    scan = health.scan_flag(["--a", f"{FLAG}=true", "--b", FLAG])
    assert health.with_flag(scan, True) == ["--a", FLAG, "--b"]
    assert health.with_flag(scan, False) == ["--a", "--b"]
    assert health.with_flag(health.scan_flag(["--a"]), True) == ["--a", FLAG]


def test_transformer_with_health_check() -> None:
    isvc = by_kind(render(HEAD + """\
  transformer:
    image: myorg/transformer:1.0.0
    args: [--model_name=bert, '--enable_predictor_health_check=True', --workers=2]
    env: {LOG_LEVEL: debug}
    resources: {limits: {cpu: '1', memory: 1Gi}}
    predictorHealthCheck: true
    readinessProbe: {httpGet: {path: /v1/models/bert, port: 8080}}
"""), "InferenceService")
    assert isvc["spec"]["transformer"]["containers"] == [{
        "name": "kserve-container", "image": "myorg/transformer:1.0.0",
        "args": ["--model_name=bert", FLAG, "--workers=2"],
        "env": [{"name": "LOG_LEVEL", "value": "debug"}],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "readinessProbe": {"httpGet": {"path": "/v1/models/bert", "port": 8080}}}]
    assert validate_object(isvc) == []


@pytest.mark.parametrize("block, args", [
    ("{image: 't:1', predictorHealthCheck: false, args: [--a]}", ["--a"]),
    ("{image: 't:1', args: [--enable_predictor_health_check=false, --a]}", ["--a"]),
    ("{image: 't:1', args: {enable_predictor_health_check: true, workers: 2}}", [FLAG, "--workers=2"]),
    ("{image: 't:1', predictorHealthCheck: true}", [FLAG]),
    ("{image: 't:1'}", None),
])
def test_flag_outcomes(block: str, args) -> None:
    isvc = by_kind(render(HEAD + f"  transformer: {block}\n"), "InferenceService")
    assert isvc["spec"]["transformer"]["containers"][0].get("args") == args


@pytest.mark.parametrize("block, expected", [
    ("{predictorHealthCheck: true}", "model.yaml:7: spec.transformer: predictorHealthCheck needs a transformer: "
     "set spec.transformer.image"),
    ("{args: [--a]}", "model.yaml:7: spec.transformer: missing required field 'image'"),
    ("{image: 't:1', predictorHealthCheck: false, args: [--enable_predictor_health_check]}",
     "spec.transformer.args: the arguments switch --enable_predictor_health_check on but predictorHealthCheck "
     "is false"),
    ("{image: 't:1', args: [--x, --enable_predictor_health_check=on]}",
     "model.yaml:7: spec.transformer.args[1]: --enable_predictor_health_check=on: --enable_predictor_health_check "
     "takes no value"),
    ("{image: 't:1', readinessProbe: {exec: {command: [x]}, tcpSocket: {port: 1}}}",
     "spec.transformer.readinessProbe: a probe needs exactly one handler (exec, grpc, httpGet, tcpSocket); "
     "found exec, tcpSocket"),
    ("{image: 't:1', healthCheck: true}", "unknown field 'healthCheck'"),
])
def test_transformer_errors(block: str, expected: str) -> None:
    found = errors(HEAD + f"  transformer: {block}\n")
    assert any(expected in m for m in found), found


def test_flag_on_the_predictor_is_an_error() -> None:
    found = errors(HEAD.replace("{storageUri: 's3://m/b'}", "{storageUri: 's3://m/b', args: [--x, "
                                                            "--enable_predictor_health_check]}"))
    assert any(m.startswith("model.yaml:6: spec.model.args[1]: --enable_predictor_health_check belongs on a "
                            "transformer") for m in found), found


VLLM = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: llama, namespace: llm}
spec:
  runtime: kserve-vllmserver
  model:
    storageUri: hf://org/llama
"""


def test_predictor_probe_replaces_the_runtimes_probe_whole() -> None:
    objects = render(VLLM + "    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 5}\n")
    runtime = by_kind(objects, "ServingRuntime")
    isvc = by_kind(objects, "InferenceService")
    container = next(c for c in runtime["spec"]["containers"] if c["name"] == "kserve-container")
    assert container["readinessProbe"] == {"tcpSocket": {"port": 8080}, "periodSeconds": 5}
    assert "startupProbe" in container
    assert "readinessProbe" not in isvc["spec"]["predictor"]["model"]
    assert isvc["spec"]["predictor"]["model"]["runtime"] == runtime["metadata"]["name"]


def test_predictor_probe_without_a_runtime_probe_goes_on_the_model() -> None:
    objects = render(HEAD.replace("{storageUri: 's3://m/b'}", "{storageUri: 's3://m/b', livenessProbe: "
                                                            "{httpGet: {path: /v1/models/bert, port: 8080}}}"))
    assert [o["kind"] for o in objects] == ["InferenceService"]
    assert objects[0]["spec"]["predictor"]["model"]["livenessProbe"] == {"httpGet": {"path": "/v1/models/bert",
                                                                                     "port": 8080}}


RAW = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: raw, namespace: ns}
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      runtime: kserve-vllmserver
      storageUri: hf://org/m
      readinessProbe: {exec: {command: [ready]}}
  transformer:
    containers:
    - name: kserve-container
      image: myorg/t:1
      args: [--a, --enable_predictor_health_check=true, --enable_predictor_health_check]
"""


def test_raw_inference_service_probe_union_is_an_error() -> None:
    assert errors(RAW, "raw.yaml") == [
        "raw.yaml:10: spec.predictor.model.readinessProbe: KServe merges this readinessProbe into runtime "
        "kserve-vllmserver's field by field: the pod would get handlers exec, httpGet and be rejected; use the same "
        "handler as the runtime, or a ModelDeployment (which replaces the runtime's probe whole)"]


def test_raw_inference_service_transformer_flag_is_normalised() -> None:
    objects = render(RAW.replace("      readinessProbe: {exec: {command: [ready]}}\n", ""), "raw.yaml")
    isvc = by_kind(objects, "InferenceService")
    assert isvc["spec"]["transformer"]["containers"][0]["args"] == ["--a", FLAG]


def test_raw_predictor_flag_is_an_error() -> None:
    text = RAW.replace("      readinessProbe: {exec: {command: [ready]}}\n",
                       "      args: [--enable_predictor_health_check]\n")
    assert any(m.startswith("raw.yaml:10: spec.predictor.model.args[0]: --enable_predictor_health_check belongs")
               for m in errors(text, "raw.yaml"))


COLLOCATED = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: coll, namespace: ns}
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://m/coll
    containers:
    - name: transformer-container
      image: myorg/t:1
      args: [--predictor_host=localhost:8085, --enable_predictor_health_check=True, --enable_predictor_health_check]
"""


def test_collocated_transformer_container_flag_is_normalised() -> None:
    isvc = by_kind(render(COLLOCATED, "raw.yaml"), "InferenceService")
    assert isvc["spec"]["predictor"]["containers"][0]["args"] == ["--predictor_host=localhost:8085", FLAG]
    off = COLLOCATED.replace("=True, --enable_predictor_health_check]", "=false]")
    isvc = by_kind(render(off, "raw.yaml"), "InferenceService")
    assert isvc["spec"]["predictor"]["containers"][0]["args"] == ["--predictor_host=localhost:8085"]


def test_other_predictor_containers_still_refuse_the_flag() -> None:
    text = COLLOCATED.replace("name: transformer-container", "name: sidecar")
    assert errors(text, "raw.yaml") == [
        "raw.yaml:12: spec.predictor.containers[0].args[1]: --enable_predictor_health_check belongs on a "
        "transformer: on a predictor --predictor_host is unset and the check would probe http://None (use "
        "spec.transformer.predictorHealthCheck)",
        "raw.yaml:12: spec.predictor.containers[0].args[2]: --enable_predictor_health_check belongs on a "
        "transformer: on a predictor --predictor_host is unset and the check would probe http://None (use "
        "spec.transformer.predictorHealthCheck)"]


def test_transformer_scaling_is_written_on_the_transformer_and_checked_like_the_predictors() -> None:
    result = render_docs(load_stream(HEAD + """\
  transformer:
    image: t:1
    scaling: {minReplicas: 2, maxReplicas: 5, scaleMetric: concurrency, scaleTarget: 8, containerConcurrency: 16}
""", "model.yaml"), Settings())
    transformer = by_kind(result.objects, "InferenceService")["spec"]["transformer"]
    assert {k: transformer[k] for k in ("minReplicas", "maxReplicas", "scaleMetric", "scaleTarget",
                                        "containerConcurrency")} == {
        "minReplicas": 2, "maxReplicas": 5, "scaleMetric": "concurrency", "scaleTarget": 8,
        "containerConcurrency": 16}
    record = result.provenance.latest("InferenceService/nlp/bert", "spec.transformer.scaleTarget")
    assert (record.source, record.rule) == ("model.yaml:9", "scaling")
    facts = result.units[0].facts["scaling"]["components"]["transformer"]
    assert (facts["min"]["value"], facts["max"]["value"]) == (2, 5)
    assert errors(HEAD + "  transformer: {image: 't:1', scaling: {minReplicas: 3, maxReplicas: 1}}\n") == [
        "model.yaml:7: spec.transformer.scaling.minReplicas: minReplicas 3 is above maxReplicas 1 (model.yaml:7); "
        "only maxReplicas 0 (unlimited) may be below minReplicas"]
    assert errors(HEAD + "  transformer: {image: 't:1', scaling: {minReplicas: 0, scaleMetric: cpu}}\n") == [
        "model.yaml:7: spec.transformer.scaling.minReplicas: minReplicas 0 with Knative's HPA class: an HPA keeps "
        "at least one pod and never scales up from zero; use scaleMetric concurrency or rps (KPA) to scale to zero"]
    assert "unknown field 'minReplica' (did you mean 'minReplicas'?)" in errors(
        HEAD + "  transformer: {image: 't:1', scaling: {minReplica: 3}}\n")[0]
