"""The tree Argo CD sent: the whole repository, or with manifest-generate-paths only a subtree."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from cmp.source import confine, workdir
from helpers import REPO, generate_in, have_kustomize

UUID = "0b5c3f6e-6a0e-4a57-9d0f-5a7c2d1e9b11"


@pytest.mark.parametrize("path, root", [
    (f"/tmp/_cmp_server/{UUID}/overlays/llama/prod", f"/tmp/_cmp_server/{UUID}"),
    (f"/tmp/_cmp_server/{UUID}", f"/tmp/_cmp_server/{UUID}"),
    (f"/var/cmp/_cmp_server/{UUID}/prod", f"/var/cmp/_cmp_server/{UUID}"),
    # a repository holding its own _cmp_server/<uuid> directories: the outermost one is the request
    (f"/tmp/_cmp_server/{UUID}/_cmp_server/{UUID}/app", f"/tmp/_cmp_server/{UUID}"),
    ("/home/me/repo/overlays/llama/prod", None),
    ("/tmp/_cmp_server/not-a-uuid/prod", None),
    (f"/tmp/_cmp_server/{UUID.upper()}/prod", None),
])
def test_sent_root(path: str, root: str | None) -> None:
    assert workdir.sent_root(path) == root


@pytest.mark.parametrize("source_path, expected", [
    ("overlays/llama/prod", False),      # the whole repository was sent
    ("overlays/llama/prod/", False),
    ("llama/prod", True),                # only a subtree: the app is elsewhere relative to it
    ("", True),
])
def test_generate_paths_mode(source_path: str, expected: bool) -> None:
    root = f"/tmp/_cmp_server/{UUID}"
    app = f"{root}/overlays/llama/prod" if not expected else f"{root}/prod"
    assert workdir.generate_paths_mode(app, root, {"ARGOCD_APP_SOURCE_PATH": source_path}) is expected


def _send(tmp: Path, subtree: str) -> Path:
    """Unpack ``subtree`` of this repository's overlays/ into a fresh request dir, as the cmp-server does."""
    work = tmp / "_cmp_server" / str(uuid.uuid4())
    shutil.copytree(REPO / subtree, work, symlinks=True)
    return work


def _generate(app_dir: Path, source_path: str) -> subprocess.CompletedProcess:
    return generate_in(app_dir, source_path, namespace="llm", app_name="llama-prod")


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize")
def test_a_subtree_renders_like_the_whole_repository(tmp_path: Path) -> None:
    """manifest-generate-paths sends only overlays/llama (the common root of prod and ../base), no .git."""
    whole = _generate(_send(tmp_path, ".") / "overlays/llama/prod", "overlays/llama/prod")
    sent = _send(tmp_path, "overlays/llama")
    assert not (sent / ".git").exists()
    subtree = _generate(sent / "prod", "overlays/llama/prod")
    assert whole.returncode == 0, whole.stderr
    assert subtree.returncode == 0, subtree.stderr
    assert subtree.stdout == whole.stdout


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize")
def test_a_base_left_out_of_the_annotation_is_named_with_the_fix(tmp_path: Path) -> None:
    """Only prod was annotated: ../base is outside what Argo CD sent, and the message says what to annotate."""
    sent = _send(tmp_path, "overlays/llama/prod")
    (sent.parent / "base").mkdir()     # a sibling request dir's content must not count as the repository
    done = _generate(sent, "overlays/llama/prod")
    assert done.returncode == 1 and done.stdout == ""
    assert "'../base' points outside the repository" in done.stderr
    assert "argocd.argoproj.io/manifest-generate-paths" in done.stderr


def test_confine_root_is_the_request_dir_without_git(tmp_path: Path) -> None:
    sent = _send(tmp_path, "overlays/llama")
    assert confine.find_repo_root(str(sent / "prod"), {"ARGOCD_APP_SOURCE_PATH": "overlays/llama/prod"}) == \
        os.path.realpath(sent)


def test_a_cluster_profile_outside_the_subtree_names_the_annotation(tmp_path: Path) -> None:
    from cmp.argocd import policy
    sent = tmp_path / "_cmp_server" / str(uuid.uuid4()) / "prod"
    sent.mkdir(parents=True)
    environ = {"ARGOCD_APP_SOURCE_PATH": "overlays/llama/prod"}
    [problem] = policy.path_problems({"cluster-profile": "../../profiles/gpu.yaml"}, str(sent), environ)
    assert "must be a path inside the repository" in problem.message
    assert "manifest-generate-paths" in problem.message
    whole = tmp_path / "_cmp_server" / str(uuid.uuid4()) / "overlays/llama/prod"
    whole.mkdir(parents=True)
    [problem] = policy.path_problems({"cluster-profile": "../../../../x.yaml"}, str(whole), environ)
    assert "manifest-generate-paths" not in problem.message
