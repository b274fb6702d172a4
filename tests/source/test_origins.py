"""Fields written by an overlay's patch are located at that patch, not at the base file."""

from __future__ import annotations

import os
from pathlib import Path

from cmp.settings import Settings
from cmp.source.read import read_app

BASE = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: m
spec:
  model:
    storageUri: gs://b/m
    args:
      - --a=1
      - --b=2
  scaling:
    minReplicas: 1
"""


BASE_FILES = {"base/model.yaml": BASE, "base/kustomization.yaml": "resources: [model.yaml]\n"}


def build(tmp_path: Path, files: dict[str, str], app: str) -> object:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        (doc,) = read_app(app, Settings())
    finally:
        os.chdir(old)
    return doc


def test_json6902_inline_ops_and_appends(tmp_path: Path) -> None:
    doc = build(tmp_path, {
        **BASE_FILES,
        "dev/kustomization.yaml": """\
resources: [../base]
patches:
  - target: {kind: ModelDeployment, name: m}
    patch: |-
      - op: replace
        path: /spec/model/args/1
        value: --b=3
      - op: add
        path: /spec/model/args/-
        value: --c
      - op: add
        path: /spec/model/args/-
        value: --d
""",
    }, "dev")
    assert doc.obj["spec"]["model"]["args"] == ["--a=1", "--b=3", "--c", "--d"]
    assert doc.where(("spec", "model", "args", 0)) == "base/model.yaml:9"
    assert doc.where(("spec", "model", "args", 1)) == "dev/kustomization.yaml:5"
    assert doc.where(("spec", "model", "args", 2)) == "dev/kustomization.yaml:8"
    assert doc.where(("spec", "model", "args", 3)) == "dev/kustomization.yaml:11"
    assert doc.where(("spec", "scaling", "minReplicas")) == "base/model.yaml:12"
    assert "annotations" not in doc.obj["metadata"]


def test_strategic_merge_file_replaces_lists_and_merges_maps(tmp_path: Path) -> None:
    doc = build(tmp_path, {
        **BASE_FILES,
        "prod/kustomization.yaml": "resources: [../base]\npatches:\n  - path: more.yaml\n",
        "prod/more.yaml": """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: m
spec:
  model:
    args: [--z]
  scaling:
    maxReplicas: 4
""",
    }, "prod")
    assert doc.obj["spec"]["model"]["args"] == ["--z"]
    assert doc.where(("spec", "model", "args", 0)) == "prod/more.yaml:7"
    assert doc.where(("spec", "scaling", "maxReplicas")) == "prod/more.yaml:9"
    assert doc.where(("spec", "scaling", "minReplicas")) == "base/model.yaml:12"
    assert doc.where(("spec", "model", "storageUri")) == "base/model.yaml:7"


def test_patch_for_another_object_is_ignored(tmp_path: Path) -> None:
    doc = build(tmp_path, {
        **BASE_FILES,
        "dev/kustomization.yaml": """\
resources: [../base]
patches:
  - target: {kind: ConfigMap, name: m}
    patch: |-
      - op: add
        path: /data
        value: {}
""",
    }, "dev")
    assert doc.where(("spec", "model", "args", 1)) == "base/model.yaml:10"
