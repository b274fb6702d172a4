"""``cmp diff`` renders only the apps a change can affect: changed files mapped to input closures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cmp.diff.changes import directory_changes, git_changes
from cmp.spec.apps import closure
from helpers import run_cli

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def model(name: str, uri: str = "gs://b/m", ns: str = "ml") -> str:
    return (f"apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec:\n  model: {{format: sklearn, storageUri: \"{uri}\"}}\n")


TREE = {
    "apps/a/model.yaml": model("a"),
    "apps/b/model.yaml": model("b"),
    "llama/base/kustomization.yaml": "resources: [model.yaml]\n",
    "llama/base/model.yaml": model("llama"),
    "llama/dev/kustomization.yaml": "resources: [../base]\npatches:\n  - path: ../../shared/patch.yaml\n",
    "llama/prod/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n  - name: cfg\n"
                                     "    files: [settings=../../shared/settings.txt]\n",
    "shared/patch.yaml": "apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: llama}\n"
                         "spec: {scaling: {minReplicas: 2, maxReplicas: 2}}\n",
    "shared/settings.txt": "x=1\n",
    "shared/unrelated.txt": "nobody reads this\n",
    "clusters/prod.yaml": "apiVersion: kserve-cmp.io/v1alpha1\nkind: ClusterProfile\nmetadata: {name: p}\n"
                          "spec: {knative: {configAutoscaler: {max-scale: '5'}}}\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_closure_follows_bases_patches_and_generator_files(tmp_path: Path) -> None:
    write(tmp_path, TREE)
    dev = closure(str(tmp_path), "llama/dev")
    assert dev.directories == {"llama/dev", "llama/base"}
    assert dev.files == {"shared/patch.yaml", "llama/base/model.yaml"}
    prod = closure(str(tmp_path), "llama/prod", cluster_profile="../../clusters/prod.yaml")
    assert prod.files == {"shared/settings.txt", "clusters/prod.yaml", "llama/base/model.yaml"}
    assert prod.touches({"llama/base/model.yaml"}) and not prod.touches({"shared/patch.yaml"})
    assert not closure(str(tmp_path), "apps/a").touches({"apps/b/model.yaml", "shared/unrelated.txt"})


def test_an_unreadable_kustomization_makes_its_app_affected(tmp_path: Path) -> None:
    write(tmp_path, {"app/kustomization.yaml": "resources: [unclosed\n"})
    assert closure(str(tmp_path), "app").touches({"anything/at/all"})


def test_directory_changes(tmp_path: Path) -> None:
    write(tmp_path / "a", {"x/1.yaml": "a", "x/2.yaml": "same", "gone.yaml": "g"})
    write(tmp_path / "b", {"x/1.yaml": "b", "x/2.yaml": "same", "new.yaml": "n"})
    assert directory_changes(str(tmp_path / "a"), str(tmp_path / "b")) == {"x/1.yaml", "gone.yaml", "new.yaml"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                          text=True, timeout=30).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    write(tmp_path, TREE)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def _diffed(repo: Path, *extra: str) -> dict:
    result = run_cli(["diff", "--base", "main", "--format", "json", *extra], cwd=repo)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("edit, rendered", [
    ("apps/a/model.yaml", ["apps/a"]),
    ("llama/base/model.yaml", ["llama/dev", "llama/prod"]),
    ("shared/patch.yaml", ["llama/dev"]),
    ("shared/settings.txt", ["llama/prod"]),
    ("shared/unrelated.txt", []),
])
def test_only_apps_whose_inputs_changed_are_rendered(repo: Path, edit: str, rendered: list[str]) -> None:
    with open(repo / edit, "a") as handle:
        handle.write("# edited\n")
    report = _diffed(repo)
    assert [a["path"] for a in report["apps"]] == rendered
    assert report["skipped"] == 4 - len(rendered)
    every = _diffed(repo, "--all")
    assert (len(every["apps"]), every["skipped"]) == (4, 0)


def test_untracked_deleted_and_committed_changes_count(repo: Path) -> None:
    write(repo, {"apps/c/model.yaml": model("c")})          # untracked in the working tree
    (repo / "apps/b/model.yaml").unlink()                    # deleted
    report = _diffed(repo)
    assert [(a["path"], a["changed"]) for a in report["apps"]] == [("apps/b", True), ("apps/c", True)]
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "second")
    assert git_changes(str(repo), _git(repo, "rev-parse", "main~1").strip(), _git(repo, "rev-parse", "main").strip()) \
        == {"apps/b/model.yaml", "apps/c/model.yaml"}


def test_a_relative_cluster_profile_change_renders_the_apps_that_name_it(repo: Path) -> None:
    (repo / "clusters/prod.yaml").write_text((repo / "clusters/prod.yaml").read_text().replace("'5'", "'7'"))
    report = _diffed(repo, "--param", "cluster-profile=../../clusters/prod.yaml")
    assert [a["path"] for a in report["apps"]] == ["apps/a", "apps/b", "llama/dev", "llama/prod"]


def test_exit_2_only_for_an_app_the_change_broke(repo: Path) -> None:
    (repo / "apps/a/model.yaml").write_text(model("a").replace("storageUri", "storageURI"))
    broke = run_cli(["diff", "--base", "main", "--format", "json"], cwd=repo)
    assert broke.exit_code == 2
    _git(repo, "commit", "-q", "-am", "break a")
    (repo / "apps/a/model.yaml").write_text(model("a").replace("storageUri", "storageURI") + "# still\n")
    (repo / "apps/b/model.yaml").write_text(model("b", uri="gs://b/other"))
    still = run_cli(["diff", "--base", "main", "--format", "json"], cwd=repo)
    assert still.exit_code == 1, still.stdout
    report = json.loads(still.stdout)
    assert report["stillBroken"] == ["apps/a"] and not report["failed"]
