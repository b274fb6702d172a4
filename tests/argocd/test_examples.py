"""Every example app through the imitated argocd-cmp-server, and byte-identical to ``cmp render``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from argocd.cmpserver import Cluster, request_env
from argocd.examples import app_dirs, application_for, relative, repo_copy, server
from cmp.argocd.sources import resolve

APPS = app_dirs()


def test_the_examples_are_found() -> None:
    assert APPS, "overlays/ has no example app"
    assert all(not p.name == "base" for p in APPS)


@pytest.mark.parametrize("app_dir", APPS, ids=relative)
def test_example_renders_through_the_sidecar(app_dir: Path, tmp_path: Path) -> None:
    app = application_for(app_dir)
    outcome = server(tmp_path).generate(repo_copy(tmp_path), app, revision="a" * 40, cluster=Cluster())
    assert outcome.ok, outcome.error
    assert outcome.objects
    kinds = {o["kind"] for o in outcome.objects}
    assert "InferenceService" in kinds
    assert outcome.duration < 20, "generate must stay well inside Argo CD's 60 s deadline"
    assert outcome.stderr.startswith("kserve-cmp "), outcome.stderr
    assert not list((tmp_path / "_cmp_server").iterdir()), "the work dir must be removed"


@pytest.mark.parametrize("app_dir", APPS, ids=relative)
def test_sidecar_output_is_byte_identical_to_cmp_render(app_dir: Path, tmp_path: Path) -> None:
    app = application_for(app_dir)
    repo = repo_copy(tmp_path)
    outcome = server(tmp_path).generate(repo, app, cluster=Cluster())
    assert outcome.ok, outcome.error
    cmp = shutil.which("cmp", path=str(Path(sys.executable).parent))
    settings = resolve(dict(request_env(app, "0" * 40, Cluster()))).render_args()
    args = [cmp, "render", app.path, *settings]
    local = subprocess.run(args, cwd=repo, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert local.returncode == 0, local.stderr.decode()
    assert outcome.stdout.encode() == local.stdout
    assert outcome.objects == [d for d in yaml.safe_load_all(local.stdout) if d is not None]


def test_older_argo_cd_without_empty_values_still_renders(tmp_path: Path) -> None:
    app = application_for(APPS[0])
    app = type(app)(**{**app.__dict__, "dest_namespace": ""})
    outcome = server(tmp_path, keep_empty=False).generate(repo_copy(tmp_path), app)
    assert outcome.ok, outcome.error
