"""Reading app directories: sorted files, kustomize with origins, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cmp.problems import CmpError, ToolError
from cmp.settings import Settings
from cmp.source import confine, kustomize
from cmp.source.read import read_app

MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: {name}
spec:
  model:
    storageUri: gs://b/{name}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_plain_directory_sorted_and_filtered(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", MODEL.format(name="b"))
    write(tmp_path / "a.yml", MODEL.format(name="a"))
    write(tmp_path / "c.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}')
    write(tmp_path / "notes.txt", "ignored")
    write(tmp_path / ".hidden.yaml", "ignored: true")
    docs = read_app(str(tmp_path), Settings())
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "b", "c"]
    assert docs[0].file.endswith("a.yml")


def test_list_documents_are_flattened(tmp_path: Path) -> None:
    write(tmp_path / "list.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
                                  "  metadata: {name: x}\n")
    docs = read_app(str(tmp_path), Settings())
    assert [d.obj["kind"] for d in docs] == ["ConfigMap"]
    assert docs[0].line == 4


def test_objects_need_api_version_and_kind(tmp_path: Path) -> None:
    write(tmp_path / "x.yaml", "metadata: {name: x}\n---\n- 1\n")
    with pytest.raises(CmpError) as err:
        read_app(str(tmp_path), Settings())
    assert [p.message for p in err.value.problems] == [
        "object has no apiVersion or kind", "expected a Kubernetes object (a mapping), got list"]


def test_symlink_out_of_the_app_is_refused(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.yaml", MODEL.format(name="s"))
    app = tmp_path / "app"
    app.mkdir()
    os.symlink(outside, app / "model.yaml")
    with pytest.raises(CmpError, match="symbolic link points outside the app directory"):
        read_app(str(app), Settings())


def test_file_size_limit(tmp_path: Path) -> None:
    write(tmp_path / "big.yaml", MODEL.format(name="big") + "#" * 200)
    with pytest.raises(CmpError, match="over the limit of 100"):
        read_app(str(tmp_path), Settings(max_file_size=100))


def test_missing_directory() -> None:
    with pytest.raises(CmpError, match="no such directory"):
        read_app("does/not/exist", Settings())


def test_kustomize_origin_gives_source_lines(tmp_path: Path) -> None:
    write(tmp_path / "base" / "model.yaml", MODEL.format(name="m"))
    write(tmp_path / "base" / "kustomization.yaml", "resources: [model.yaml]\n")
    write(tmp_path / "dev" / "kustomization.yaml", "resources: [../base]\nnamespace: dev\n"
                                                   "commonAnnotations: {team: a}\n")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        docs = read_app("dev", Settings())
    finally:
        os.chdir(old)
    (doc,) = docs
    assert doc.file == os.path.join("base", "model.yaml")
    assert doc.line_of(("spec", "model", "storageUri")) == 7
    assert doc.obj["metadata"] == {"name": "m", "namespace": "dev", "annotations": {"team": "a"}}


def test_remote_bases_found_through_local_bases(tmp_path: Path) -> None:
    write(tmp_path / "base" / "kustomization.yaml", "resources:\n- github.com/org/repo//x?ref=v1\n")
    write(tmp_path / "app" / "kustomization.yaml", "resources: [../base]\n")
    app = os.path.realpath(tmp_path / "app")
    problems = confine.check_tree(app, os.path.realpath(tmp_path), "app", 1 << 20)
    assert [(p.file, p.line, p.rule) for p in problems] == [(os.path.join("base", "kustomization.yaml"), 2,
                                                             "remote-base")]
    assert confine.check_tree(app, os.path.realpath(tmp_path), "app", 1 << 20, allow_remote=True) == []


def test_kustomize_not_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(kustomize.sys, "executable", str(tmp_path / "python"))
    with pytest.raises(ToolError, match="kustomize not found"):
        kustomize.kustomize_argv()


def test_kustomize_timeout(tmp_path: Path) -> None:
    slow = write(tmp_path / "kustomize", "#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    write(tmp_path / "app" / "kustomization.yaml", "resources: []\n")
    with pytest.raises(ToolError, match=r"timed out after 1s"):
        read_app(str(tmp_path / "app"), Settings(kustomize=str(slow), kustomize_timeout=1))


@pytest.mark.parametrize("meta,message", [
    ("[x]", "4: metadata: expected a mapping, got a list"),
    ("{name: 5}", "4: metadata.name: expected a string, got an integer"),
    ("{name: x, namespace: [a]}", "4: metadata.namespace: expected a string, got a list"),
])
def test_metadata_must_be_a_mapping_with_string_names(tmp_path: Path, meta: str, message: str) -> None:
    write(tmp_path / "cm.yaml", f"apiVersion: v1\nkind: ConfigMap\ndata: {{a: b}}\nmetadata: {meta}\n")
    with pytest.raises(CmpError) as info:
        read_app(str(tmp_path), Settings())
    assert [p.format() for p in info.value.problems] == [f"{tmp_path / 'cm.yaml'}:{message}"]
