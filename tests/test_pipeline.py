"""Whole renders: determinism, fail-closed behaviour, pass-through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cmp.pipeline import render
from cmp.problems import CmpError
from cmp.settings import Settings
from helpers import REPO, SKLEARN_MODEL, run_cli, write_app

MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: {name}
spec:
  runtime: kserve-sklearnserver
  model:
    storageUri: gs://b/{name}
"""


def make_app(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / f"{name}.yaml").write_text(MODEL.format(name=name))
    (root / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n")
    return root


def test_output_independent_of_file_order(tmp_path: Path) -> None:
    one = render(str(make_app(tmp_path / "one", ["a", "b", "c"])), Settings())
    two = render(str(make_app(tmp_path / "two", ["c", "b", "a"])), Settings())
    assert one.text == two.text
    assert [o["kind"] for o in one.objects] == ["ConfigMap", "InferenceService", "InferenceService",
                                                "InferenceService"]


def test_output_independent_of_hash_seed(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", ["a", "b"])
    outs = set()
    for seed in ("0", "1", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-m", "cmp", "render", str(app)], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        outs.add(result.stdout)
    assert len(outs) == 1


def test_namespace_setting_applies_to_models_without_one(tmp_path: Path) -> None:
    result = render(str(make_app(tmp_path, ["a"])), Settings(namespace="team"))
    isvc = next(o for o in result.objects if o["kind"] == "InferenceService")
    assert isvc["metadata"]["namespace"] == "team"


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MODEL.format(name="a").replace("storageUri", "storageUrl"))
    (tmp_path / "b.yaml").write_text(MODEL.format(name="B"))
    with pytest.raises(CmpError) as err:
        render(str(tmp_path), Settings())
    files = sorted({p.file for p in err.value.problems})
    assert [os.path.basename(f) for f in files] == ["a.yaml", "b.yaml"]


def test_error_means_empty_stdout(tmp_path: Path) -> None:
    make_app(tmp_path, ["good"])
    (tmp_path / "bad.yaml").write_text(MODEL.format(name="bad").replace("kserve-sklearnserver", "nope"))
    result = run_cli(["render", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert "unknown runtime 'nope'" in result.stderr


def test_allow_empty(tmp_path: Path) -> None:
    (tmp_path / "nothing.yaml").write_text("# empty\n")
    assert run_cli(["render", str(tmp_path)]).exit_code == 1
    result = run_cli(["render", "--allow-empty", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (0, "")


def test_validate_reports_every_app(tmp_path: Path) -> None:
    good = make_app(tmp_path / "good", ["a"])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "m.yaml").write_text(MODEL.format(name="x").replace("runtime:", "runtme:"))
    result = run_cli(["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "unknown field 'runtme' (did you mean 'runtime'?)" in result.stdout
    assert "1 of 2 apps rendered cleanly" in result.stderr
    clean = run_cli(["validate", "--format", "json", str(good)])
    assert (clean.exit_code, clean.stdout) == (0, "[]\n")


def test_bad_setting_is_usage_error(tmp_path: Path) -> None:
    result = run_cli(["render", str(make_app(tmp_path, ["a"]))], env={"KSERVE_CMP_ALLOW_EMPTY": "maybe"})
    assert (result.exit_code, result.stdout) == (2, "")
    assert "allow-empty: expected true or false" in result.stderr


def test_literal_braces_in_env_survive_kserve_templating(tmp_path: Path) -> None:
    from cmp.kserve.merge import assemble_predictor_container
    from cmp.catalog import get_runtime

    (tmp_path / "m.yaml").write_text(MODEL.format(name="a") + "    env:\n      TEMPLATE: '{{ x }} for {{.Name}}'\n")
    isvc = next(o for o in render(str(tmp_path), Settings()).objects if o["kind"] == "InferenceService")
    assert isvc["spec"]["predictor"]["model"]["env"] == [
        {"name": "TEMPLATE", "value": "{{`{{`}} x }} for {{.Name}}"}]
    container = assemble_predictor_container(get_runtime("kserve-sklearnserver"), isvc)
    assert {"name": "TEMPLATE", "value": "{{ x }} for a"} in container["env"]


def test_namespace_from_argocd_app_namespace_when_unset(tmp_path: Path) -> None:
    app = make_app(tmp_path, ["a"])
    out = run_cli(["render", str(app)], env={"ARGOCD_APP_NAMESPACE": "dest"}).stdout
    assert "namespace: dest" in out
    explicit = run_cli(["render", str(app), "--namespace", "mine"], env={"ARGOCD_APP_NAMESPACE": "dest"}).stdout
    assert "namespace: mine" in explicit and "namespace: dest" not in explicit


RAW_RUNTIME = ("apiVersion: serving.kserve.io/v1alpha1\nkind: ServingRuntime\nmetadata: {name: rt}\n"
               "spec: {containers: CONTAINERS, supportedModelFormats: [{name: sklearn, autoSelect: true}]}\n---\n")
RAW_ISVC = ("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: x}\n"
            "spec: {predictor: PREDICTOR}\n")
MODEL_ON_RT = "{model: {runtime: rt, modelFormat: {name: sklearn}, storageUri: 'gs://a/b', args: [--port=1]}}"


@pytest.mark.parametrize("text,message", [
    (RAW_ISVC.replace("PREDICTOR", "[]"), "x.yaml:4: spec.predictor: expected object, got array"),
    (RAW_ISVC.replace("PREDICTOR", "{model: 3, containers: 4}"),
     "x.yaml:4: spec.predictor.containers: expected array, got integer"),
    (RAW_ISVC.replace("{name: x}", "{name: x, annotations: [a]}").replace(
        "PREDICTOR", "{model: {modelFormat: {name: sklearn}, storageUri: 'gs://a/b', args: [--a]}}"),
     "x.yaml:3: metadata.annotations: expected object, got array"),
    (RAW_RUNTIME.replace("CONTAINERS", "4") + RAW_ISVC.replace("PREDICTOR", MODEL_ON_RT),
     "x.yaml:4: spec.containers: expected array, got integer"),
    (RAW_RUNTIME.replace("CONTAINERS", "[{name: kserve-container, image: 'a:1', args: [--port=8080, 5]}]")
     + RAW_ISVC.replace("PREDICTOR", MODEL_ON_RT), "x.yaml:4: spec.containers[0].args[1]: expected string"),
])
def test_malformed_kserve_inputs_are_schema_errors_before_any_transform(tmp_path: Path, text: str,
                                                                        message: str) -> None:
    (tmp_path / "x.yaml").write_text(text)
    result = run_cli(["render", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert "internal error" not in result.stderr and message in result.stderr, result.stderr


# The namespace setting on raw objects

RAW = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: gpu}
value: 1000
---
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata: {name: store}
spec:
  container: {name: storage-initializer, image: kserve/storage-initializer:v0.20.0}
  supportedUriFormats: [{prefix: "s3://"}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: custom}
"""
CLUSTER_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Gadget, plural: gadgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: global}
"""


def _namespaces(text: str) -> dict[str, str | None]:
    return {f"{d['kind']}/{d['metadata']['name']}": d["metadata"].get("namespace") for d in yaml.safe_load_all(text)}


def test_namespace_applies_to_raw_namespaced_objects_as_kustomize_does(tmp_path: Path) -> None:
    """Objects without a namespace get the namespaces kustomize's ``namespace:`` field gives them (real
    kustomize). Two differences on purpose: a namespace the input names is kept (kustomize overwrites it;
    the setting is for objects whose input has none), and KServe's ClusterStorageContainer, which
    kustomize does not know to be cluster-scoped, gets none."""
    plain = write_app(tmp_path / "plain", RAW + "---\n" + SKLEARN_MODEL)
    ours = run_cli(["render", str(plain), "--namespace", "ml"])
    assert ours.exit_code == 0, ours.stderr
    assert _namespaces(ours.stdout) == {
        "ConfigMap/cfg": "ml", "ConfigMap/kept": "other", "ClusterRole/reader": None, "PriorityClass/gpu": None,
        "ClusterStorageContainer/store": None, "Widget/custom": "ml", "InferenceService/iris": "ml"}
    kustomized = write_app(tmp_path / "kustomized", RAW)
    (kustomized / "kustomization.yaml").write_text("namespace: ml\nresources: [app.yaml]\n")
    theirs = _namespaces(run_cli(["render", str(kustomized)]).stdout)
    assert (theirs.pop("ConfigMap/kept"), theirs.pop("ClusterStorageContainer/store")) == ("ml", "ml")
    assert theirs == {k: v for k, v in _namespaces(ours.stdout).items()
                      if k not in ("InferenceService/iris", "ConfigMap/kept", "ClusterStorageContainer/store")}
    assert _namespaces(run_cli(["render", str(plain)]).stdout)["ConfigMap/cfg"] is None


def test_namespace_leaves_kinds_an_input_crd_declares_cluster_scoped(tmp_path: Path) -> None:
    app = write_app(tmp_path / "a", CLUSTER_CRD + "---\n" + RAW.split("---\n")[0])
    done = run_cli(["render", str(app), "--namespace", "ml"])
    assert done.exit_code == 0, done.stderr
    assert _namespaces(done.stdout) == {"CustomResourceDefinition/gadgets.example.com": None,
                                        "Gadget/global": None, "ConfigMap/cfg": "ml"}
