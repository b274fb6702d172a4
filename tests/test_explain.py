"""``cmp explain``: the container KServe assembles, and where each argument came from."""

from __future__ import annotations

import json
from pathlib import Path

from cmp.explain import ISVC, OVERLAY, RUNTIME, admitted, explain, find_runtime, to_json, to_text
from cmp.pipeline import render_docs
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from helpers import run_cli

MD = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: llama, namespace: llm}
spec:
  runtime: kserve-vllmserver
  model:
    format: vLLM
    storageUri: hf://a/b
    args:
      - --port=9000
      - --chat-template={{ m }}
"""


def views_of(text: str):
    result = render_docs(load_stream(text, "app.yaml"), Settings())
    return explain(result.units, result.objects)


def test_container_is_assembled_with_placeholders_filled_and_origins():
    (view,) = views_of(MD)
    assert view.runtime == "llama-kserve-vllmserver" and view.runtime_from == "rendered"
    assert view.container["args"] == ["--served-model-name=llama", "--model=/mnt/models", "--port=9000",
                                      "--chat-template={{ m }}"]
    assert [(a.kind, a.source) for a in view.args] == [
        (RUNTIME, "runtime kserve-vllmserver"), (RUNTIME, "runtime kserve-vllmserver"),
        (OVERLAY, "app.yaml:10"), (OVERLAY, "app.yaml:11")]
    assert [(r.arg, r.by) for r in view.replaced] == [("--port=8080", "app.yaml:10")]
    assert view.container["readinessProbe"]["httpGet"]["port"] == 9000
    assert {"name": "INFERENCE_SERVICE_NAME", "value": "llama"} in view.container["env"]
    assert view.container["image"] == "vllm/vllm-openai-cpu:v0.24.0"  # no GPU limit: KServe's -cpu image


def test_runtime_patched_after_the_merge_falls_back_to_the_runtime_as_source():
    text = MD + """  runtimePatches:
    - {op: add, path: /spec/containers/0/args/-, value: --seed=1}
"""
    (view,) = views_of(text)
    assert view.args[-1].arg == "--seed=1"
    assert {a.source for a in view.args} == {"runtime llama-kserve-vllmserver"}


def test_raw_isvc_args_are_attributed_to_their_lines():
    text = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris}
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      args: [--workers=2]
"""
    (view,) = views_of(text)
    assert view.runtime == "kserve-sklearnserver" and view.runtime_from == "auto-selected"
    assert (view.args[-1].arg, view.args[-1].kind, view.args[-1].source) == ("--workers=2", ISVC, "app.yaml:8")


def test_unknown_runtime_gives_a_note_and_no_container():
    text = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: x}
spec:
  predictor:
    model: {runtime: on-cluster, modelFormat: {name: custom}}
"""
    (view,) = views_of(text)
    assert view.container is None and "installed on the cluster" in view.note
    assert "note: runtime not in the inputs" in to_text([view])


def test_admitted_adds_the_model_format_annotation_for_placeholders():
    isvc = {"metadata": {"name": "a"}, "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}}}
    assert admitted(isvc)["metadata"]["annotations"] == {"modelFormat": "sklearn"}
    runtime, found = find_runtime({**isvc, "spec": {"predictor": {"model": {
        "runtime": "kserve-predictiveserver", "modelFormat": {"name": "sklearn"}}}}}, [])
    assert found == "catalog" and runtime["metadata"]["name"] == "kserve-predictiveserver"


def test_json_output_round_trips():
    views = views_of(MD)
    data = json.loads(to_json(views))
    assert data["models"][0]["container"]["args"] == views[0].container["args"]


def test_cli_model_filter_and_unknown_model(tmp_path: Path):
    (tmp_path / "model.yaml").write_text(MD)
    ok = run_cli(["explain", str(tmp_path), "--model", "llama", "--format", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["models"][0]["name"] == "llama"
    missing = run_cli(["explain", str(tmp_path), "--model", "nope"])
    assert missing.exit_code == 2 and missing.stdout == ""
    assert "no model 'nope'; models: llama" in missing.stderr


ROOT = Path(__file__).parent.parent


def _overlay_apps() -> set[str]:
    """Every app under overlays/: each directory holding YAML (a kustomization or the model files)."""
    return {str(p.relative_to(ROOT)) for p in (ROOT / "overlays").rglob("*") if p.is_dir() and any(p.glob("*.yaml"))}


def _explain_goldens() -> set[tuple[str, str]]:
    """(app relative to the repository, output format) of every golden case running ``explain``."""
    found = set()
    for cmd in (ROOT / "tests" / "cases").glob("*/cmd"):
        words = [w for w in cmd.read_text().splitlines() if w.strip()]
        if words[:1] == ["explain"] and len(words) > 1:
            app = (cmd.parent / words[1]).resolve().relative_to(ROOT.resolve())
            flag = "--format" if "--format" in words else "--output"
            output = words[words.index(flag) + 1] if flag in words else "text"
            found.add((str(app), output))
    return found


def test_every_example_in_overlays_has_explain_goldens_in_both_formats():
    apps = _overlay_apps()
    assert {"overlays/bert-transformer", "overlays/llama/prod", "overlays/llama-multinode"} <= apps
    missing = {(app, fmt) for app in apps for fmt in ("text", "json")} - _explain_goldens()
    assert missing == set()


def _parsers_by_label() -> dict:
    from cmp.kserve import parsers

    found = {}
    for release in parsers.releases():
        for server in ("huggingfaceserver", "sklearnserver", "xgbserver", "lgbserver", "pmmlserver",
                       "paddleserver", "predictiveserver", "autogluonserver"):
            parser = parsers.kserve_parser(server, release)
            if parser is not None:
                found[parser.label] = parser
    for version in ("0.15.1", "0.19.0", "0.20.0", "0.24.0"):
        parser = parsers.vllm_parser(version)
        if parser is not None:
            found[parser.label] = parser
    return found


def test_every_example_in_overlays_passes_only_flags_its_server_declares():
    """``cmp explain`` of each example: every flag of a checked server is one its parser declares, in full."""
    labels = _parsers_by_label()
    checked = 0
    for app in sorted(_overlay_apps()):
        result = run_cli(["explain", str(ROOT / app), "--format", "json"])
        assert result.exit_code == 0, (app, result.stderr)
        assert "declares no such flag" not in result.stderr and "abbreviation" not in result.stderr
        for model in json.loads(result.stdout)["models"]:
            text = model.get("flags") or ""
            if not text.startswith("checked against "):
                continue
            parser = labels[text.removeprefix("checked against ").split(": ")[0]]
            for token in (model.get("container") or {}).get("args") or []:
                if token.startswith("--"):
                    how = parser.resolve(token.partition("=")[0]).how
                    assert how in ("exact", "normalized"), (app, model["name"], token, how)
            checked += 1
    assert checked >= 5


TRANSFORMED = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: bert, namespace: nlp}
spec:
  runtime: kserve-sklearnserver
  deploymentMode: Standard
  model: {storageUri: 's3://m/b'}
  pod: {serviceAccountName: s3-reader, imagePullSecrets: [{name: a}]}
  transformer:
    image: t:1
    args: [--predictor_protocol=v2, --enable_predictor_health_check=true]
    env: {A: b}
    predictorHealthCheck: true
    pod: {nodeSelector: {pool: cpu}}
  patches:
    - {op: replace, path: /spec/predictor/serviceAccountName, value: other}
"""


def test_transformer_container_and_pod_fields_have_sources():
    result = render_docs(load_stream(TRANSFORMED, "app.yaml"), Settings())
    (view,) = explain(result.units, result.objects, result.provenance)
    assert view.pod == {"serviceAccountName": {"value": "other", "source": "app.yaml:16"},
                        "imagePullSecrets": {"value": [{"name": "a"}], "source": "app.yaml:8"}}
    t = view.transformer
    assert [(a["arg"], a["source"]) for a in t["args"][:2]] == [
        ("--predictor_protocol=v2", "app.yaml:11"), ("--enable_predictor_health_check", "app.yaml:13")]
    assert [a["arg"] for a in t["args"][2:]] == ["--model_name", "bert", "--predictor_host", "bert-predictor.nlp",
                                                 "--http_port", "8080"]
    assert t["sources"] == {"image": "app.yaml:10"}
    assert t["container"]["env"] == [{"name": "A", "value": "b"}, {"name": "INFERENCE_SERVICE_NAME", "value": "bert"}]
    assert t["pod"] == {"nodeSelector": {"value": {"pool": "cpu"}, "source": "app.yaml:14"}}
    text = to_text([view])
    assert "  pod:\n    serviceAccountName: other  <- app.yaml:16\n" in text
    assert "    pod:\n      nodeSelector: {\"pool\": \"cpu\"}  <- app.yaml:14\n" in text
    assert json.loads(to_json([view]))["models"][0]["transformer"]["sources"] == {"image": "app.yaml:10"}


def test_raw_transformer_arguments_come_from_their_lines():
    raw = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: bert, namespace: nlp}
spec:
  predictor:
    model: {modelFormat: {name: sklearn}, storageUri: 's3://m/b'}
  transformer:
    containers:
      - name: kserve-container
        image: t:1
        args:
          - --model_name=bert
          - --x
"""
    result = render_docs(load_stream(raw, "app.yaml"), Settings())
    (view,) = explain(result.units, result.objects, result.provenance)
    assert [(a["arg"], a["source"]) for a in view.transformer["args"][:2]] == [("--model_name=bert", "app.yaml:12"),
                                                                              ("--x", "app.yaml:13")]
    assert view.transformer["args"][2]["arg"] == "--predictor_host"
