"""App discovery: directories with a ModelDeployment, kustomize bases folded into their overlays."""

from __future__ import annotations

from pathlib import Path

from cmp.diff.apps import find_apps, is_app

MODEL = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: m}
spec: {model: {format: sklearn, storageUri: "gs://b/m"}}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_overlays_are_apps_and_their_base_is_not(tmp_path: Path) -> None:
    _write(tmp_path, {
        "llama/base/model.yaml": MODEL,
        "llama/base/kustomization.yaml": "resources: [model.yaml]\n",
        "llama/overlays/dev/kustomization.yaml": "resources: [../../base]\n",
        "llama/overlays/prod/kustomization.yaml": "resources: [../../base]\nnamespace: prod\n",
        "plain/model.yaml": MODEL,
        "files/shared/model.yaml": MODEL,
        "files/app/kustomization.yaml": "resources: [../shared/model.yaml]\n",
        "other/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        ".hidden/model.yaml": MODEL,
    })
    assert find_apps(str(tmp_path), ["."]) == ["files/app", "llama/overlays/dev", "llama/overlays/prod", "plain"]
    assert find_apps(str(tmp_path), ["llama/base"]) == ["llama/base"]
    assert find_apps(str(tmp_path), ["missing"]) == []


def test_a_kustomization_without_a_model_is_not_an_app(tmp_path: Path) -> None:
    _write(tmp_path, {"kustomization.yaml": "resources: [cm.yaml, https://example.invalid/x]\n",
                      "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"})
    assert not is_app(str(tmp_path))


def test_a_broken_file_that_names_the_kind_is_an_app_so_the_render_reports_it(tmp_path: Path) -> None:
    _write(tmp_path, {"model.yaml": "kind: ModelDeployment\nspec: [unclosed\n"})
    assert is_app(str(tmp_path))


def test_discovery_reads_nothing_outside_the_repository(tmp_path: Path) -> None:
    """A reference out of the repository (or a symlink out of it) is not followed: the outside
    ModelDeployment makes nothing an app. Field names match as kustomize matches them."""
    import os

    _write(tmp_path, {"outside/model.yaml": MODEL, "outside/kustomization.yaml": "resources: [model.yaml]\n",
                      "repo/.git/HEAD": "", "repo/up/kustomization.yaml": "resources: [../../outside]\n",
                      "repo/upper/kustomization.yaml": "Resources: [../inside]\n", "repo/inside/model.yaml": MODEL,
                      "repo/inside/kustomization.yaml": "resources: [model.yaml]\n"})
    (tmp_path / "repo" / "linked").mkdir()
    os.symlink(tmp_path / "outside" / "model.yaml", tmp_path / "repo" / "linked" / "model.yaml")
    assert find_apps(str(tmp_path / "repo"), ["."]) == ["upper"]
