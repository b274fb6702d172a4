"""App discovery: kustomizations and directories with kserve-cmp or KServe documents, bases folded
into their overlays, nested and excluded directories left out."""

from __future__ import annotations

import os
from pathlib import Path

from cmp.source.ignore import IGNORE_FILE, load
from cmp.spec.apps import find_apps, is_app

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
        "components/gpu/kustomization.yaml": "kind: Component\n",
        ".hidden/model.yaml": MODEL,
    })
    assert find_apps(str(tmp_path), ["."]) == ["files/app", "llama/overlays/dev", "llama/overlays/prod", "plain"]
    assert find_apps(str(tmp_path), ["llama/base"]) == ["llama/base"]
    assert find_apps(str(tmp_path), ["missing"]) == []


def test_any_kustomization_is_an_app_but_a_component_is_not(tmp_path: Path) -> None:
    """Argo CD can point an Application at any kustomization; a Component cannot be built alone."""
    _write(tmp_path, {"k/kustomization.yaml": "resources: [cm.yaml, https://example.invalid/x]\n",
                      "k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
                      "c/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"})
    assert is_app(str(tmp_path / "k"))
    assert not is_app(str(tmp_path / "c"))


def test_raw_kserve_objects_and_cluster_profiles_make_an_app(tmp_path: Path) -> None:
    """An InferenceService moved into Git as it is, or a profile alone, is an app to diff and validate."""
    _write(tmp_path, {
        "raw/isvc.yaml": "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: x}\n",
        "profile/profile.yaml": "apiVersion: kserve-cmp.io/v1alpha1\nkind: ClusterProfile\nmetadata: {name: p}\n"
                                "spec:\n  storageInitializerDefaults: {image: 'kserve/storage-initializer:v0.20.0'}\n",
        "clusters/prod.yaml": "apiVersion: kserve-cmp.io/v1alpha1\nkind: ClusterProfile\nmetadata: {name: p}\n"
                              "spec: {knative: {configAutoscaler: {max-scale: '5'}}}\n",
        "cm/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "other/app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: serving.kserve.io}\n",
    })
    assert find_apps(str(tmp_path), ["."]) == ["profile", "raw"]


def test_directories_below_an_app_belong_to_it(tmp_path: Path) -> None:
    _write(tmp_path, {"app/model.yaml": MODEL, "app/extra/model.yaml": MODEL, "other/deep/model.yaml": MODEL})
    assert find_apps(str(tmp_path), ["."]) == ["app", "other/deep"]
    assert find_apps(str(tmp_path), ["app/extra"]) == ["app/extra"]


def test_ignore_file_and_excludes(tmp_path: Path) -> None:
    _write(tmp_path, {
        IGNORE_FILE: "# fixtures\ntests/\n**/scratch\n!keep/scratch\n",
        "tests/cases/a/input/model.yaml": MODEL,
        "apps/a/model.yaml": MODEL,
        "apps/b/scratch/model.yaml": MODEL,
        "keep/scratch/model.yaml": MODEL,
        "legacy/x/model.yaml": MODEL,
    })
    root = str(tmp_path)
    assert find_apps(root, ["."], load(root)) == ["apps/a", "keep/scratch", "legacy/x"]
    assert find_apps(root, ["."], load(root, ("legacy",))) == ["apps/a", "keep/scratch"]
    # a path named explicitly is rendered whatever the exclusions say
    assert find_apps(root, ["tests/cases/a/input"], load(root)) == ["tests/cases/a/input"]


def test_a_broken_file_that_names_the_kind_is_an_app_so_the_render_reports_it(tmp_path: Path) -> None:
    _write(tmp_path, {"model.yaml": "kind: ModelDeployment\nspec: [unclosed\n"})
    assert is_app(str(tmp_path))


def test_this_repository_holds_exactly_the_examples() -> None:
    """At the root of this repository, discovery finds the examples in overlays/ and nothing else:
    the fixtures are excluded by .kserve-cmp-ignore, deploy/sidecar is a kustomize Component."""
    from cmp.spec.apps import discover
    from helpers import REPO, run_cli
    expected = sorted(str(p.relative_to(REPO)) for p in (REPO / "overlays").rglob("*")
                      if p.is_dir() and p.name != "base" and (any(p.glob("*.yaml"))))
    assert discover([str(REPO)]) and [os.path.relpath(a, REPO) for a in discover([str(REPO)])] == expected
    result = run_cli(["validate"], cwd=REPO)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{len(expected)} of {len(expected)} apps rendered cleanly" in result.stderr


def test_discovery_reads_nothing_outside_the_repository(tmp_path: Path) -> None:
    """A reference out of the repository (or a symlink out of it) is not followed: the outside
    ModelDeployment makes nothing an app and nothing outside is pulled in. Field names match
    whatever their case (every string of a kustomization counts)."""
    _write(tmp_path, {"outside/model.yaml": MODEL, "outside/kustomization.yaml": "resources: [model.yaml]\n",
                      "repo/.git/HEAD": "", "repo/up/kustomization.yaml": "resources: [../../outside]\n",
                      "repo/upper/kustomization.yaml": "Resources: [../inside]\n", "repo/inside/model.yaml": MODEL,
                      "repo/inside/kustomization.yaml": "resources: [model.yaml]\n"})
    (tmp_path / "repo" / "linked").mkdir()
    os.symlink(tmp_path / "outside" / "model.yaml", tmp_path / "repo" / "linked" / "model.yaml")
    # up is a kustomization (an app whose render refuses ../../outside); inside is upper's base
    assert find_apps(str(tmp_path / "repo"), ["."]) == ["up", "upper"]
