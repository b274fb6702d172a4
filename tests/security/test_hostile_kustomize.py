"""Hostile kustomizations: nothing outside the repository, no plugins, no Helm, no remote bases."""

from __future__ import annotations

import os

import pytest

from helpers import have_kustomize

pytestmark = pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")

EXEC_PLUGIN = """\
apiVersion: someteam.example.com/v1
kind: ChartInflator
metadata:
  name: run-me
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./pwn.sh
"""
GO_PLUGIN = "apiVersion: someteam.example.com/v1\nkind: SedTransformer\nmetadata: {name: sed}\n"
BUILTIN = ("apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: team}\nlabels: {team: a}\n"
           "fieldSpecs: [{path: metadata/labels, create: true}]\n")


def _app(scratch, kustomization: str) -> None:
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", kustomization)
    scratch.write("repo/app/pwn.sh", "#!/bin/sh\ntouch pwned\n").chmod(0o755)


def _not_run(scratch) -> None:
    assert not (scratch.repo / "pwned").exists() and not (scratch.repo / "app" / "pwned").exists()


def test_resource_directory_outside_the_repository(scratch) -> None:
    _app(scratch, "resources: [model.yaml, ../../outside]\n")
    scratch.render("app").assert_clean_error("app/kustomization.yaml:1: resources[1]: '../../outside' points "
                                             "outside the repository")


def test_symlinked_directory_outside_the_repository(scratch) -> None:
    _app(scratch, "resources:\n- model.yaml\n- vendored\n")
    os.symlink(scratch.outside, scratch.repo / "app" / "vendored")
    scratch.render("app").assert_clean_error("app/kustomization.yaml:3: resources[1]: 'vendored' points outside")


def test_base_outside_the_repository_reached_through_a_base(scratch) -> None:
    scratch.write("repo/base/kustomization.yaml", "resources: [../../outside]\n")
    _app(scratch, "resources: [model.yaml, ../base]\n")
    scratch.render("app").assert_clean_error("base/kustomization.yaml:1: resources[0]: '../../outside' points")


def test_symlinked_file_outside_the_repository(scratch) -> None:
    _app(scratch, "resources: [model.yaml, secret.yaml]\n")
    os.symlink(scratch.outside / "secret.yaml", scratch.repo / "app" / "secret.yaml")
    scratch.render("app").assert_clean_error("resources[1]: 'secret.yaml' points outside the repository")


def test_bases_inside_the_repository_still_work(scratch) -> None:
    scratch.write("repo/base/model.yaml", scratch.model)
    scratch.write("repo/base/kustomization.yaml", "resources: [model.yaml]\n")
    scratch.write("repo/app/kustomization.yaml", "resources: [../base]\nnamespace: prod\n")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "namespace: prod" in outcome.stdout


def test_argo_cd_checkout_without_git_directory(scratch) -> None:
    (scratch.repo / ".git").rmdir()
    scratch.write("repo/base/model.yaml", scratch.model)
    scratch.write("repo/base/kustomization.yaml", "resources: [model.yaml, ../../outside]\n")
    scratch.write("repo/envs/prod/kustomization.yaml", "resources: [../../base]\n")
    outcome = scratch.render("envs/prod", env={"ARGOCD_APP_SOURCE_PATH": "envs/prod"})
    outcome.assert_clean_error("base/kustomization.yaml:1: resources[1]: '../../outside' points outside")


@pytest.mark.parametrize("field", ["transformers", "generators", "validators"])
def test_exec_krm_function(scratch, field: str) -> None:
    scratch.write("repo/app/plugin.yaml", EXEC_PLUGIN)
    _app(scratch, f"resources: [model.yaml]\n{field}: [plugin.yaml]\n")
    scratch.render("app").assert_clean_error(f"app/kustomization.yaml:2: {field}[0]: KRM function ChartInflator "
                                             "(someteam.example.com/v1) is not allowed")
    _not_run(scratch)


def test_inline_krm_function(scratch) -> None:
    inline = "".join("    " + line + "\n" for line in EXEC_PLUGIN.splitlines())
    _app(scratch, f"resources: [model.yaml]\ntransformers:\n- |\n{inline}")
    scratch.render("app").assert_clean_error("transformers[0]: KRM function ChartInflator")
    _not_run(scratch)


def test_go_or_exec_plugin_without_function_annotation(scratch) -> None:
    scratch.write("repo/app/sed.yaml", GO_PLUGIN)
    _app(scratch, "resources: [model.yaml]\ntransformers: [sed.yaml]\n")
    scratch.render("app").assert_clean_error("transformers[0]: plugin SedTransformer (someteam.example.com/v1) "
                                             "is not allowed")


def test_plugin_directory_is_refused(scratch) -> None:
    scratch.write("repo/app/plugins/kustomization.yaml", "resources: [sed.yaml]\n")
    scratch.write("repo/app/plugins/sed.yaml", GO_PLUGIN)
    _app(scratch, "resources: [model.yaml]\ntransformers: [plugins]\n")
    scratch.render("app").assert_clean_error("transformers[0]: 'plugins': only plugin configuration files")


def test_builtin_transformer_is_allowed(scratch) -> None:
    scratch.write("repo/app/labels.yaml", BUILTIN)
    _app(scratch, "resources: [model.yaml]\ntransformers: [labels.yaml]\n")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "team: a" in outcome.stdout


@pytest.mark.parametrize("field", ["helmCharts", "helmGlobals"])
def test_helm_charts(scratch, field: str) -> None:
    value = "[{name: minio, repo: 'https://charts.example.com', version: 1.0.0}]" if field == "helmCharts" \
        else "{chartHome: charts}"
    _app(scratch, f"resources: [model.yaml]\n{field}: {value}\n")
    scratch.render("app").assert_clean_error(f"app/kustomization.yaml:2: {field}: Helm charts are not supported")


@pytest.mark.parametrize("entry", [
    "https://github.com/kserve/kserve//config/runtimes?ref=v0.15.0",
    "github.com/kserve/kserve/config/runtimes?ref=master",
    "git@github.com:kserve/kserve.git",
])
def test_remote_base_is_refused_by_default(scratch, entry: str) -> None:
    _app(scratch, f"resources:\n- model.yaml\n- {entry}\n")
    scratch.render("app").assert_clean_error("app/kustomization.yaml:3: resources[1]: remote base",
                                             "allow-remote-bases")


def test_self_referencing_bases_terminate(scratch) -> None:
    scratch.write("repo/a/kustomization.yaml", "resources: [../b]\n")
    scratch.write("repo/b/kustomization.yaml", "resources: [../a]\n")
    outcome = scratch.render("a")
    outcome.assert_clean_error("kustomize build a failed")


def test_hanging_kustomize_is_killed(scratch, tmp_path) -> None:
    hang = tmp_path / "kustomize"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    _app(scratch, "resources: [model.yaml]\n")
    scratch.render("app", "--kustomize", str(hang), "--kustomize-timeout", "1").assert_clean_error("timed out")


BOMB = "".join(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10) if i else 'lol'}]\n" for i in range(10))


def test_alias_bomb_in_a_kustomize_resource(scratch) -> None:
    """kustomize expands aliases itself (gigabytes within seconds): the file is refused before it runs."""
    scratch.write("repo/app/bomb.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + BOMB)
    _app(scratch, "resources: [model.yaml, bomb.yaml]\n")
    scratch.render("app").assert_clean_error("app/bomb.yaml:", "alias bomb")


def test_alias_bomb_in_a_kustomize_patch(scratch) -> None:
    nested = "".join("  " + line + "\n" for line in BOMB.splitlines())
    scratch.write("repo/app/patch.yaml", "apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\n"
                                         "metadata: {name: iris}\nspec:\n  bomb:\n" + nested)
    _app(scratch, "resources: [model.yaml]\npatches:\n- path: patch.yaml\n")
    scratch.render("app").assert_clean_error("app/patch.yaml:", "alias bomb")


def test_language_tag_in_a_kustomize_resource(scratch) -> None:
    """kustomize would drop the tag and pass the value on; it is refused as in a plain directory."""
    scratch.write("repo/app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
                                      "data:\n  run: !!python/object/apply:os.system [touch pwned]\n")
    _app(scratch, "resources: [model.yaml, cm.yaml]\n")
    scratch.render("app").assert_clean_error("app/cm.yaml:5:", "is not allowed")


@pytest.mark.parametrize("kustomization", ["resources: [model.yaml, big.yaml]\n",
                                           "resources: [model.yaml]\npatchesStrategicMerge: [big.yaml]\n",
                                           "resources: [model.yaml]\npatches:\n- path: big.yaml\n"])
def test_kustomize_input_over_the_size_limit(scratch, kustomization: str) -> None:
    scratch.write("repo/app/big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n"
                  + "".join(f"  k{i}: {'x' * 100}\n" for i in range(200)))
    _app(scratch, kustomization)
    scratch.render("app", "--max-file-size", "10000").assert_clean_error(
        "app/big.yaml: file is 2", "over the limit of 10000 (setting max-file-size)")
