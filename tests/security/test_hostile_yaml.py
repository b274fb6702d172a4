"""Hostile YAML: alias bombs, deep nesting and language-specific tags end in a clean, fast error."""

from __future__ import annotations

import pytest

from cmp.source import yamlio

BILLION_LAUGHS = "a0: &a0 [lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10))


def test_alias_bomb(scratch) -> None:
    scratch.write("repo/app/bomb.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n"
                  + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines()))
    scratch.render("app").assert_clean_error("app/bomb.yaml:", "alias bomb")


def test_alias_bomb_inside_a_model_deployment(scratch) -> None:
    body = "".join("    " + line + "\n" for line in BILLION_LAUGHS.splitlines())
    scratch.write("repo/app/model.yaml", "apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\n"
                  "metadata: {name: iris}\nspec:\n  model:\n    storageUri: gs://b/m\n    args:\n" + body)
    scratch.render("app").assert_clean_error("app/model.yaml:", f"more than {yamlio.MAX_NODES} nodes")


@pytest.mark.parametrize("text", [
    "[" * 50_000 + "]" * 50_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "".join("  " * i + "k:\n" for i in range(1_000)) + "  " * 1_000 + "v\n",
], ids=["flow-sequences", "json-objects", "block-mappings"])
def test_deep_nesting(scratch, text: str) -> None:
    scratch.write("repo/app/deep.yaml", text)
    scratch.render("app").assert_clean_error("app/deep.yaml:", f"deeper than {yamlio.MAX_DEPTH} levels")


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system [touch pwned]",
    "!!python/object/new:subprocess.Popen [[touch, pwned]]",
    "!!python/name:os.system",
    "!!python/tuple [a, b]",
    "!<tag:yaml.org,2002:python/object/apply:os.system> [touch pwned]",
    "!!binary aGVsbG8=",
    "!custom value",
])
def test_language_specific_tags(scratch, tag: str) -> None:
    scratch.write("repo/app/model.yaml", f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n"
                                         f"  run: {tag}\n")
    scratch.render("app").assert_clean_error("app/model.yaml:5:", "is not allowed")
    assert not (scratch.repo / "pwned").exists()


def test_tag_on_a_whole_document(scratch) -> None:
    scratch.write("repo/app/model.yaml", "--- !!python/object:collections.OrderedDict\napiVersion: v1\n")
    scratch.render("app").assert_clean_error("app/model.yaml:1:", "is not allowed")


def test_invalid_bytes(scratch) -> None:
    (scratch.repo / "app").mkdir()
    (scratch.repo / "app" / "model.yaml").write_bytes(b"apiVersion: v1\nkind: \xff\xfe\n")
    scratch.render("app").assert_clean_error("app/model.yaml", "not UTF-8")
