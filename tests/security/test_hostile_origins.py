"""Nothing reads a path that content chose: origin annotations written by users are only looked up.

kustomize keeps a resource's own ``alpha.config.kubernetes.io/transformations`` annotation and
appends to it; the origin tracker used to open every ``configuredIn`` path it named (``/dev/zero``:
gigabytes of memory). Now it opens only files the pre-build check read, inside the repository.
"""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import pytest

from helpers import have_kustomize

from cmp.settings import Settings
from cmp.source import kustomize
from cmp.source.read import read_app

pytestmark = pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")

HOSTILE = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: iris
  namespace: models
  annotations:
    config.kubernetes.io/origin: "path: {target}\\n"
    alpha.config.kubernetes.io/transformations: |
      - configuredIn: {target}
        configuredBy: {{apiVersion: builtin, kind: PatchTransformer}}
      - configuredIn: {outside}
        configuredBy: {{apiVersion: builtin, kind: PatchStrategicMergeTransformer}}
spec:
  runtime: kserve-sklearnserver
  model: {{format: sklearn, storageUri: "gs://bucket/iris"}}
"""


@pytest.mark.parametrize("target", ["/dev/zero", "../../../../../../../../dev/zero", "/proc/self/environ"])
def test_annotation_written_by_the_repository_is_not_followed(scratch, target: str) -> None:
    outside = scratch.outside / "kustomization.yaml"
    scratch.write("repo/app/model.yaml", HOSTILE.format(target=target, outside=outside))
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\nnamePrefix: p-\n")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "configuredIn" not in outcome.stdout and "config.kubernetes.io/origin" not in outcome.stdout
    assert "name: p-iris" in outcome.stdout


def test_every_file_opened_is_inside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: every open() of ours during a render with hostile annotations stays in the repo
    (the wrapper kustomization in our private temp dir aside)."""
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / ".git").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "kustomization.yaml").write_text("patches: [{path: p.yaml}]\n")
    (repo / "app" / "model.yaml").write_text(HOSTILE.format(target="/dev/zero",
                                                            outside=tmp_path / "outside" / "kustomization.yaml"))
    (repo / "app" / "kustomization.yaml").write_text(
        "resources: [model.yaml]\npatches:\n- target: {kind: ModelDeployment}\n  patch: |\n"
        "    - {op: add, path: /metadata/labels, value: {a: b}}\n")
    opened: list[str] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            opened.append(os.path.realpath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.chdir(repo)
    (doc,) = read_app("app", Settings())
    monkeypatch.setattr(builtins, "open", real_open)
    ours = [p for p in opened if not os.path.basename(os.path.dirname(p)).startswith(kustomize.WRAPPER_PREFIX)
            and not p.startswith(os.path.dirname(os.path.realpath(kustomize.__file__)).rsplit(os.sep, 2)[0])]
    assert ours and all(p.startswith(os.path.realpath(repo) + os.sep) for p in ours), ours
    assert doc.obj["metadata"]["labels"] == {"a": "b"}
    assert doc.where(("metadata", "labels")) == "app/kustomization.yaml:5"
    assert "annotations" not in doc.obj["metadata"]


def test_reader_opens_only_checked_files(tmp_path: Path) -> None:
    checked = tmp_path / "k.yaml"
    checked.write_text("a: 1\n")
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 200 + "\n")
    read = kustomize._vetted_reader(frozenset({str(checked), str(big)}), max_size=100)
    assert [d.obj for d in read(str(checked), "k.yaml")] == [{"a": 1}]
    assert read("/dev/zero", "zero") == [] and read(str(tmp_path / "other.yaml"), "x") == []
    assert read(str(big), "big.yaml") == []


def test_origin_annotation_written_by_a_patch_is_parsed_in_linear_time(scratch) -> None:
    """A patch can set the origin annotation kustomize's output carries; blank lines after
    ``configuredBy:`` made a backtracking regex take exponential time (a render stopped at 30 s)."""
    origin = "configuredIn: k.yaml\\nconfiguredBy:\\n" + " \\n" * 40 + "  apiVersion: v1\\n"
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\npatches:\n- patch: |\n"
                  "    apiVersion: kserve-cmp.io/v1alpha1\n    kind: ModelDeployment\n"
                  "    metadata:\n      name: iris\n      namespace: models\n      annotations:\n"
                  f"        config.kubernetes.io/origin: \"{origin}\"\n")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "config.kubernetes.io/origin" not in outcome.stdout and "kind: InferenceService" in outcome.stdout
