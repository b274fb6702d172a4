"""Budgets hold per render: nodes, input bytes and output bytes, however the input is split up.

Each case runs the CLI as a subprocess killed after 5 s and expects a clean error with nothing
on stdout (``conftest.Outcome.assert_clean_error``).
"""

from __future__ import annotations

import pytest

from cmp.source import yamlio
from helpers import have_kustomize

#: One document of 340 bytes expanding to 642,002 nodes: over half the per-render budget.
HALF_BOMB = "".join(f"  a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 8) if i else 'lol'}]\n" for i in range(7))
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{n}}}\ndata:\n"
needs_kustomize = pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")


def _bomb_document(n: int) -> str:
    return CONFIGMAP.format(n=n) + HALF_BOMB


def test_one_half_bomb_alone_is_under_the_budget() -> None:
    """The control: a single such document loads (it is the sum that must fail)."""
    docs = yamlio.load_stream(_bomb_document(0))
    assert len(docs) == 1


def test_five_small_alias_bombs_in_one_file(scratch) -> None:
    text = "---\n".join(_bomb_document(n) for n in range(5))
    assert len(text) < 1750
    scratch.write("repo/app/bombs.yaml", text)
    scratch.render("app").assert_clean_error("app/bombs.yaml:", f"more than {yamlio.MAX_NODES} nodes in one render")


def test_alias_bombs_spread_over_files(scratch) -> None:
    for n in range(5):
        scratch.write(f"repo/app/bomb{n}.yaml", _bomb_document(n))
    scratch.render("app").assert_clean_error("app/bomb1.yaml:", f"more than {yamlio.MAX_NODES} nodes in one render")


def test_a_long_string_repeated_by_aliases(scratch) -> None:
    """Few nodes, many bytes: 100 KB of text repeated 100 times through aliases."""
    text = (CONFIGMAP.format(n=0) + f"  big: &big {'x' * 100_000}\n"
            + "".join(f"  copy{i}: *big\n" for i in range(100)))
    scratch.write("repo/app/cm.yaml", text)
    scratch.render("app", "--max-file-size", "1000000").assert_clean_error(
        "app/cm.yaml:", "exceeds 4000000 bytes (4 x setting max-file-size)")


def test_many_files_each_under_the_file_limit(scratch) -> None:
    for n in range(6):
        scratch.write(f"repo/app/cm{n}.yaml", CONFIGMAP.format(n=n) + f"  v: {'x' * 18_000}\n")
    scratch.render("app", "--max-file-size", "20000").assert_clean_error(
        "app/cm4.yaml", "exceeds 80000 bytes (4 x setting max-file-size)")


def test_output_over_the_budget(scratch) -> None:
    """Short ModelDeployments expand to long manifests: the output has its own budget."""
    for f in range(3):
        models = "---\n".join(scratch.model.replace("name: iris", f"name: iris{f}-{n}") for n in range(80))
        assert len(models) < 19_000
        scratch.write(f"repo/app/models{f}.yaml", models)
    scratch.render("app", "--max-file-size", "20000").assert_clean_error(
        "the rendered output exceeds 80000 bytes (4 x setting max-file-size)")


def test_output_within_the_budget_renders(scratch) -> None:
    scratch.write("repo/app/models.yaml", scratch.model)
    outcome = scratch.render("app", "--max-file-size", "20000")
    assert outcome.code == 0, outcome.stderr
    assert "kind: InferenceService" in outcome.stdout


BOMB = "".join(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10) if i else 'lol'}]\n" for i in range(10))
INLINE_BOMB = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: iris}\nspec:\n"
               "  bomb:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines()))


FLOW_BOMB = ("{apiVersion: kserve-cmp.io/v1alpha1, kind: ModelDeployment, metadata: {name: iris}, spec: {"
             + ", ".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10) if i else 'lol'}]" for i in range(10))
             + "}}")


@needs_kustomize
def test_alias_bomb_in_a_one_line_inline_patch(scratch) -> None:
    """A patchesStrategicMerge entry that names no file is inline YAML to kustomize, newline or not."""
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", f"resources: [model.yaml]\npatchesStrategicMerge:\n- '{FLOW_BOMB}'\n")
    scratch.render("app").assert_clean_error("app/kustomization.yaml:3:", "inline patch:", "alias bomb")


def _indented(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


@needs_kustomize
@pytest.mark.parametrize("kustomization", [
    "resources: [model.yaml]\npatches:\n- patch: |\n{patch}",
    "resources: [model.yaml]\npatchesStrategicMerge:\n- |\n{patch}",
    "resources: [model.yaml]\npatchesJson6902:\n- target: {{kind: ModelDeployment, name: iris}}\n  patch: |\n{patch}",
], ids=["patches", "patchesStrategicMerge", "patchesJson6902"])
def test_alias_bomb_in_an_inline_patch(scratch, kustomization: str) -> None:
    """kustomize would expand it itself (gigabytes within seconds): refused before kustomize runs."""
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", kustomization.format(patch=_indented(INLINE_BOMB, 4)))
    scratch.render("app").assert_clean_error("app/kustomization.yaml:", "inline patch:", "alias bomb")


@needs_kustomize
def test_language_tag_in_an_inline_patch(scratch) -> None:
    patch = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata: {name: iris}\n"
             "spec:\n  run: !!python/object/apply:os.system [touch pwned]\n")
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\npatches:\n- patch: |\n"
                  + _indented(patch, 4))
    scratch.render("app").assert_clean_error("app/kustomization.yaml:3:", "inline patch:", "is not allowed")


@needs_kustomize
def test_a_benign_inline_patch_still_applies(scratch) -> None:
    patch = ("apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata:\n  name: iris\n"
             "  namespace: models\n  labels: {team: &t a}\n  annotations: {owner: *t}\n")
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\npatches:\n- patch: |\n"
                  + _indented(patch, 4))
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "team: a" in outcome.stdout
