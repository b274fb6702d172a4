"""kserve-cmp's kustomize name-reference rules: current, kustomize's own shapes, and applied by the real kustomize."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO, have_kustomize

from cmp.source import kustomize

SHIPPED = REPO / "cmp" / "source" / "namereference.yaml"
GENERATOR = REPO / "scripts" / "gen_namereference.py"
needs_kustomize = pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")


def _build(directory: Path) -> list[dict]:
    argv = kustomize.kustomize_argv()
    result = subprocess.run([*argv, str(directory)], capture_output=True, timeout=120, check=True)
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _set(obj: dict, path: str, value: str) -> None:
    """``a/b/c`` = value, with mappings all the way (kustomize walks mappings and lists alike)."""
    *parents, last = path.split("/")
    for part in parents:
        obj = obj.setdefault(part, {})
    obj[last] = value


def _get(obj: dict, path: str) -> object:
    for part in path.split("/"):
        obj = obj[part]
    return obj


def test_shipped_file_is_current() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, timeout=60)
    assert result.returncode == 0, "cmp/source/namereference.yaml is stale: run scripts/gen_namereference.py"


def test_covers_the_fields_of_every_kind() -> None:
    specs = yaml.safe_load(SHIPPED.read_text())["nameReference"]
    paths = {(s["kind"], f["kind"], f["path"]) for s in specs for f in s["fieldSpecs"]}
    for wanted in [
        ("Secret", "ModelDeployment", "spec/model/env/valueFrom/secretKeyRef/name"),
        ("ConfigMap", "ModelDeployment", "spec/transformer/env/valueFrom/configMapKeyRef/name"),
        ("Secret", "ModelDeployment", "spec/multiNode/env/valueFrom/secretKeyRef/name"),
        ("Secret", "ModelDeployment", "spec/storageInitializer/imagePullSecrets"),
        ("Secret", "ModelDeployment", "spec/patches/value/secret/secretName"),
        ("ConfigMap", "ModelDeployment", "spec/runtimePatches/value/configMapRef/name"),
        ("Secret", "InferenceService", "spec/predictor/model/env/valueFrom/secretKeyRef/name"),
        ("Secret", "InferenceService", "spec/predictor/imagePullSecrets/name"),
        ("ServiceAccount", "InferenceService", "spec/predictor/serviceAccountName"),
        ("ServiceAccount", "InferenceService", "spec/transformer/serviceAccountName"),
        ("ConfigMap", "InferenceService", "spec/transformer/volumes/configMap/name"),
        ("PersistentVolumeClaim", "InferenceService", "spec/predictor/volumes/persistentVolumeClaim/claimName"),
        ("Secret", "InferenceService", "spec/predictor/workerSpec/containers/envFrom/secretRef/name"),
        ("Secret", "ServingRuntime", "spec/containers/env/valueFrom/secretKeyRef/name"),
        ("Secret", "ClusterServingRuntime", "spec/imagePullSecrets/name"),
        ("ConfigMap", "ServingRuntime", "spec/volumes/configMap/name"),
    ]:
        assert wanted in paths


@needs_kustomize
def test_pod_shapes_are_kustomizes_own(tmp_path: Path) -> None:
    """Every path ending we look for is one kustomize itself rewrites in a Pod."""
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        import gen_namereference as gen
    finally:
        sys.path.pop(0)
    pod: dict = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}
    expected = {}
    resources = []
    for i, ((kind, _), endings) in enumerate(gen.POD_REFERENCES.items()):
        for j, ending in enumerate(endings):
            name = f"r{i}-{j}"
            path = "/".join(("containers",) + ending if ending[0] in ("env", "envFrom") else ending)
            _set(pod["spec"], path, name)
            expected[path] = f"x-{name}"
            resources.append({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}})
    docs = [pod] + resources
    (tmp_path / "all.yaml").write_text(yaml.safe_dump_all(docs))
    (tmp_path / "kustomization.yaml").write_text("namePrefix: x-\nresources: [all.yaml]\n")
    built = next(d for d in _build(tmp_path) if d["kind"] == "Pod")
    assert {path: _get(built["spec"], path) for path in expected} == expected


@needs_kustomize
def test_real_kustomize_rewrites_every_shipped_field(tmp_path: Path) -> None:
    """One object per shipped field spec, each naming its own generated object: all are rewritten."""
    specs = yaml.safe_load(SHIPPED.read_text())["nameReference"]
    objects, others, expected = [], [], []
    generators: dict[str, list[str]] = {"Secret": [], "ConfigMap": []}
    for s, spec in enumerate(specs):
        for f, field in enumerate(spec["fieldSpecs"]):
            name = f"ref-{s}-{f}"
            obj = {"apiVersion": f"{field['group']}/v1", "kind": field["kind"],
                   "metadata": {"name": f"o-{s}-{f}"}}
            _set(obj, field["path"], name)
            objects.append(obj)
            expected.append((obj["metadata"]["name"], field["path"], spec["kind"], name))
            if spec["kind"] in generators:
                generators[spec["kind"]].append(name)
            else:
                others.append({"apiVersion": "v1", "kind": spec["kind"], "metadata": {"name": name}})
    app = tmp_path / "app"
    app.mkdir()
    (app / "all.yaml").write_text(yaml.safe_dump_all(objects + others))
    lines = ["namePrefix: x-", "resources: [all.yaml]", "secretGenerator:"]
    lines += [f"- {{name: {n}, literals: [k=v]}}" for n in generators["Secret"]]
    lines += ["configMapGenerator:"] + [f"- {{name: {n}, literals: [k=v]}}" for n in generators["ConfigMap"]]
    (app / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    wrapper = tmp_path / "wrapper"
    wrapper.mkdir()
    (wrapper / "namereference.yaml").write_text(SHIPPED.read_text())
    (wrapper / "kustomization.yaml").write_text("resources: [../app]\nconfigurations: [namereference.yaml]\n")
    built = {d["metadata"]["name"]: d for d in _build(wrapper)}
    stale = []
    for name, path, kind, ref in expected:
        value = _get(built[f"x-{name}"], path)
        target = built.get(value)
        if value == ref or target is None or target["kind"] != kind:
            stale.append((name, path, value))
    assert stale == []
