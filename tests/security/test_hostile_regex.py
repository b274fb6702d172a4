"""Regular expressions chosen by the repository run in linear time (RE2), or are located errors."""

from __future__ import annotations

import pytest

from helpers import have_kustomize

# 53: the longest model name a Knative-mode predictor allows (<name>-predictor <= 63); (a|aa)+b over it
# still takes a backtracking matcher about fib(53), 5e10, steps.
LONG = "a" * 53
CSC = """\
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata: {{name: custom}}
spec:
  container: {{name: storage-initializer, image: mine/fetcher:1.0}}
  supportedUriFormats:
  - {{regex: '{regex}'}}
"""


def _model(scratch, uri: str, name: str = "iris") -> str:
    return scratch.model.replace("gs://bucket/iris", uri).replace("name: iris", f"name: {name}")


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")
def test_backtracking_patch_target_finishes(scratch) -> None:
    """kustomize matches the target (Go, linear); the origin tracker matches it again, with RE2."""
    scratch.write("repo/app/model.yaml", _model(scratch, "gs://bucket/iris", LONG))
    op = "  patch: |\n    - {{op: add, path: /metadata/labels, value: {{{label}: b}}}}\n"
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\npatches:\n"
                  "- target: {name: '(a|aa)+b'}\n" + op.format(label="miss")
                  + "- target: {name: '(a|aa)+'}\n" + op.format(label="hit"))
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "hit: b" in outcome.stdout and "miss" not in outcome.stdout


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")
@pytest.mark.parametrize("field", ["name", "namespace", "kind", "group", "version"])
def test_patch_target_pattern_re2_refuses(scratch, field: str) -> None:
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\npatches:\n"
                  f"- target:\n    {field}: '(a)\\1'\n  patch: '[]'\n")
    scratch.render("app").assert_clean_error(f"app/kustomization.yaml:4: patches[0].target.{field}: "
                                             "invalid regular expression '(a)\\\\1': invalid escape sequence")


def test_backtracking_storage_container_regex_finishes(scratch) -> None:
    scratch.write("repo/app/csc.yaml", CSC.format(regex="(a|aa)+b"))
    scratch.write("repo/app/model.yaml", _model(scratch, "foo://" + LONG))
    scratch.render("app").assert_clean_error("unsupported storage URI 'foo://aaaa")


def test_storage_container_regex_matches_like_go(scratch) -> None:
    scratch.write("repo/app/csc.yaml", CSC.format(regex="^foo://(a|aa)+$"))
    scratch.write("repo/app/model.yaml", _model(scratch, "foo://" + LONG))
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr


def test_storage_container_regex_re2_refuses(scratch) -> None:
    scratch.write("repo/app/csc.yaml", CSC.format(regex="^foo://(?!x)"))
    scratch.write("repo/app/model.yaml", _model(scratch, "gs://bucket/iris"))
    scratch.render("app").assert_clean_error("app/csc.yaml:7: spec.supportedUriFormats[0].regex: invalid regular "
                                             "expression '^foo://(?!x)'")
