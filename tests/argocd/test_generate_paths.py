"""manifest-generate-paths: every example Application annotates what it reads, and renders the
same whether Argo CD sends the whole repository or only the annotated subtree.

With the repo-server option ``reposerver.plugin.use.manifest.generate.paths`` (argo-cd v2.13+,
#19209) the sidecar receives only the common root of the Application's path and the paths of
its ``argocd.argoproj.io/manifest-generate-paths`` annotation (``reposerver/repository/utils.go:
getApplicationRootPath``, v3.5.1), without ``.git``, unpacked at ``_cmp_server/<uuid>``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path, PurePosixPath

import pytest
import yaml

from argocd.examples import DEPLOY, app_dirs, applications, relative
from cmp.source import confine
from helpers import REPO, generate_in, have_kustomize

ANNOTATION = "argocd.argoproj.io/manifest-generate-paths"


def annotated_paths(app_path: str, annotation: str) -> list[str]:
    """The annotation's paths relative to the repository (``getPaths``: ``;``-separated, an absolute
    path is from the repository root, a relative one from the app's path; empty entries skipped)."""
    paths = []
    for item in annotation.split(";"):
        item = item.strip()
        if not item:
            continue
        joined = item.lstrip("/") if item.startswith("/") else os.path.normpath(f"{app_path}/{item}")
        paths.append(PurePosixPath(joined).as_posix())
    return paths


def common_root(app_path: str, paths: list[str]) -> str:
    """The directory Argo CD sends: the common leading parts of the app's path and every path."""
    common = app_path.split("/")
    for path in paths:
        parts = path.split("/")
        n = 0
        while n < min(len(common), len(parts)) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    return "/".join(common)


def _annotations() -> dict[str, str]:
    found = {}
    for path in sorted(DEPLOY.glob("applications/*.yaml")):
        obj = yaml.safe_load(path.read_text())
        found[obj["spec"]["source"]["path"]] = obj["metadata"].get("annotations", {}).get(ANNOTATION)
    return found


def test_common_root_follows_argo_cd() -> None:
    assert common_root("overlays/llama/prod", annotated_paths("overlays/llama/prod", ".;../base")) == "overlays/llama"
    assert common_root("overlays/a", annotated_paths("overlays/a", ".")) == "overlays/a"
    assert common_root("overlays/a", annotated_paths("overlays/a", "/profiles;.")) == ""
    assert annotated_paths("overlays/a", ";; ./x ;") == ["overlays/a/x"]


def test_every_example_application_annotates_what_it_reads() -> None:
    """Everything the app's kustomization tree reads lies under the subtree Argo CD would send."""
    annotations = _annotations()
    for app_dir in app_dirs():
        path = relative(app_dir)
        annotation = annotations.get(path)
        assert annotation, f"{path}: its Application has no {ANNOTATION} annotation"
        root = REPO / common_root(path, annotated_paths(path, annotation))
        problems = confine.check_tree(os.path.realpath(app_dir), os.path.realpath(root), path, 1 << 22)
        assert not problems, [p.format() for p in problems]


def _generate(app_dir: Path, source_path: str) -> subprocess.CompletedProcess:
    return generate_in(app_dir, source_path, namespace="models", app_name="x")


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize")
@pytest.mark.parametrize("path", sorted(applications()))
def test_both_modes_render_the_same(tmp_path: Path, path: str) -> None:
    annotation = _annotations()[path]
    sent_root = common_root(path, annotated_paths(path, annotation))
    whole = tmp_path / "_cmp_server" / str(uuid.uuid4())
    shutil.copytree(REPO / "overlays", whole / "overlays")
    subtree = tmp_path / "_cmp_server" / str(uuid.uuid4())
    shutil.copytree(REPO / sent_root, subtree)
    full = _generate(whole / path, path)
    part = _generate(subtree / PurePosixPath(path).relative_to(sent_root), path)
    assert full.returncode == 0, full.stderr
    assert (part.returncode, part.stderr, part.stdout) == (0, full.stderr, full.stdout)
