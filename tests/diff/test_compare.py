"""Pairing the apps of two trees: an app directory that holds no inputs on one side is absent there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmp.diff.compare import Tree, diff_trees
from cmp.problems import UsageError
from cmp.settings import Settings
from helpers import run_cli

MODEL = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: iris, namespace: ml}
spec:
  model: {format: sklearn, storageUri: "gs://b/iris"}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_app_split_into_base_and_overlay_is_removed_and_added_not_a_failure(tmp_path: Path) -> None:
    """``apps/iris`` becomes ``apps/iris/base`` + ``apps/iris/prod``: the old directory still exists
    on the head side, but only as the parent of the new ones, so the old app is gone there."""
    _write(tmp_path / "base", {"apps/iris/model.yaml": MODEL})
    _write(tmp_path / "head", {"apps/iris/base/model.yaml": MODEL,
                               "apps/iris/base/kustomization.yaml": "resources: [model.yaml]\n",
                               "apps/iris/prod/kustomization.yaml": "resources: [../base]\n"})
    result = run_cli(["diff", "base", "head", "--format", "json"], cwd=tmp_path)
    assert result.exit_code == 1, result.stdout + result.stderr
    apps = {a["path"]: a for a in json.loads(result.stdout)["apps"]}
    assert sorted(apps) == ["apps/iris", "apps/iris/prod"]
    assert apps["apps/iris"]["errors"] == []
    assert [o["action"] for o in apps["apps/iris"]["objects"]] == ["removed"]
    assert [o["action"] for o in apps["apps/iris/prod"]["objects"]] == ["added"]


def test_an_app_left_without_manifests_is_still_a_render_failure(tmp_path: Path) -> None:
    """A kustomization that lost its ModelDeployment is an input that no longer renders: exit 2."""
    _write(tmp_path / "base", {"apps/iris/model.yaml": MODEL,
                               "apps/iris/kustomization.yaml": "resources: [model.yaml]\n"})
    _write(tmp_path / "head", {"apps/iris/kustomization.yaml": "resources: [modle.yaml]\n"})
    result = run_cli(["diff", "base", "head", "--format", "json"], cwd=tmp_path)
    assert result.exit_code == 2
    [app] = json.loads(result.stdout)["apps"]
    assert [e["side"] for e in app["errors"]] == ["head"]


def test_a_path_on_neither_side_is_a_usage_error(tmp_path: Path) -> None:
    """A mistyped PATH must not read as "no changes" (a CI gate would pass without looking)."""
    _write(tmp_path / "base", {"apps/iris/model.yaml": MODEL})
    _write(tmp_path / "head", {"apps/iris/model.yaml": MODEL})
    with pytest.raises(UsageError, match="'aps/iris' is not a directory on either side"):
        diff_trees(Tree(str(tmp_path / "base"), "base"), Tree(str(tmp_path / "head"), "head"),
                   ["aps/iris"], Settings())
    only_head = diff_trees(Tree(str(tmp_path / "base"), "base"), Tree(str(tmp_path / "head"), "head"),
                           ["apps"], Settings())
    assert [a.path for a in only_head.apps] == ["apps/iris"]


def test_a_path_on_one_side_only_is_compared_with_nothing(tmp_path: Path) -> None:
    _write(tmp_path / "base", {"keep.txt": "x\n"})
    _write(tmp_path / "head", {"apps/iris/model.yaml": MODEL})
    report = diff_trees(Tree(str(tmp_path / "base"), "base"), Tree(str(tmp_path / "head"), "head"),
                        ["apps/iris"], Settings())
    [app] = report.apps
    assert [o.action for o in app.objects] == ["added"]


PROFILE = """apiVersion: kserve-cmp.io/v1alpha1
kind: ClusterProfile
metadata: {name: p}
spec:
  deploymentMode: Knative
  kserve: {version: v0.20.0}
  knative:
    configAutoscaler: {max-scale: "MAX"}
"""


def _profiled(root: Path, max_scale: int) -> None:
    _write(root, {"apps/iris/model.yaml": MODEL, "clusters/prod.yaml": PROFILE.replace("MAX", str(max_scale))})


def test_a_cluster_profile_parameter_is_read_from_each_side_relative_to_the_app(tmp_path: Path) -> None:
    """As in the sidecar, an Application's ``cluster-profile`` is a repository path relative to the
    app directory; each side reads its own copy, so a change to the profile shows."""
    _profiled(tmp_path / "base", 5)
    _profiled(tmp_path / "head", 7)
    result = run_cli(["diff", "base", "head", "--format", "json",
                      "--param", "cluster-profile=../../clusters/prod.yaml"], cwd=tmp_path)
    assert result.exit_code == 1, result.stdout + result.stderr
    [app] = json.loads(result.stdout)["apps"]
    [model] = app["models"]
    assert {c["field"]: (c["old"], c["new"]) for c in model["changes"]}["max replicas"] == ("5", "7")


def test_a_cluster_profile_parameter_leaving_the_tree_fails_that_side_as_in_the_sidecar(tmp_path: Path) -> None:
    _profiled(tmp_path / "base", 1)
    _profiled(tmp_path / "head", 1)
    (tmp_path / "outside.yaml").write_text(PROFILE.replace("MAX", "1"))
    result = run_cli(["diff", "base", "head", "--all", "--format", "json", "--env",
                      "KSERVE_CMP_CLUSTER_PROFILE=../../../outside.yaml"], cwd=tmp_path)
    # broken on both sides: listed, but not the change's fault, so not fatal
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    [app] = report["apps"]
    assert report["stillBroken"] == ["apps/iris"] and app["stillBroken"] and not app["broken"]
    assert [e["side"] for e in app["errors"]] == ["base", "head"]
    assert "must be a path inside the repository" in app["errors"][1]["messages"][0]
    # without --all nothing changed, so nothing is rendered
    quiet = json.loads(run_cli(["diff", "base", "head", "--format", "json", "--env",
                                "KSERVE_CMP_CLUSTER_PROFILE=../../../outside.yaml"], cwd=tmp_path).stdout)
    assert (quiet["apps"], quiet["skipped"]) == ([], 1)


def test_a_cluster_profile_option_is_one_file_for_both_sides(tmp_path: Path) -> None:
    """``--cluster-profile`` (like the sidecar's own env) names a file where ``cmp diff`` runs."""
    _profiled(tmp_path / "base", 5)
    _profiled(tmp_path / "head", 7)
    result = run_cli(["diff", "base", "head", "--cluster-profile", "head/clusters/prod.yaml"], cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
