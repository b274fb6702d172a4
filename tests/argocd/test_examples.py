"""Every example app through the imitated argocd-cmp-server, in both of Argo CD's modes.

Each run must succeed, print byte for byte what ``kserve-cmp render`` prints for the same app and
settings, and Argo CD must read the objects we meant: the output as Kubernetes' decoder reads it
(kubectl, through the harness) equals, value and type, the output as we read it ourselves.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from argocd.cmpserver import Cluster, request_env
from argocd.examples import MODES, app_dirs, application_for, relative, repo_copy, server
from cmp.argocd.sources import resolve
from kube_decode import same

APPS = app_dirs()


def test_the_examples_are_found() -> None:
    assert APPS, "overlays/ has no example app"
    assert all(not p.name == "base" for p in APPS)


def local_render(repo: Path, path: str, environ: dict[str, str]) -> bytes:
    """``kserve-cmp render`` of ``path`` in ``repo`` with the settings ``generate`` resolves from ``environ``."""
    cmp = shutil.which("cmp", path=str(Path(sys.executable).parent))
    args = [cmp, "render", path, *resolve(environ).render_args()]
    local = subprocess.run(args, cwd=repo, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert local.returncode == 0, local.stderr.decode()
    return local.stdout


def assert_argo_cd_reads_what_we_meant(outcome) -> None:
    ours = [d for d in yaml.safe_load_all(outcome.stdout) if d is not None]
    diffs = [d for a, b in zip(ours, outcome.objects) for d in same(a, b)]
    assert len(ours) == len(outcome.objects) and not diffs, diffs[:10]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("app_dir", APPS, ids=relative)
def test_example_renders_through_the_sidecar(app_dir: Path, mode: str, tmp_path: Path) -> None:
    app = application_for(app_dir)
    repo = repo_copy(tmp_path)
    outcome = server(tmp_path, use_generate_paths=MODES[mode]).generate(repo, app, revision="a" * 40,
                                                                         cluster=Cluster())
    assert outcome.ok, outcome.error
    if MODES[mode]:
        assert outcome.root != str(repo) and not (Path(outcome.root) / ".git").exists(), outcome.root
    else:
        assert outcome.root == str(repo)
    assert {o["kind"] for o in outcome.objects} & {"InferenceService", "LLMInferenceService"}
    assert outcome.duration < 20, "generate must stay well inside Argo CD's 60 s deadline"
    assert outcome.stderr.startswith("kserve-cmp "), outcome.stderr
    assert not list((tmp_path / "_cmp_server").iterdir()), "the work dir must be removed"
    environ = dict(request_env(app, "a" * 40, Cluster()))
    assert outcome.stdout.encode() == local_render(repo, app.path, environ)
    assert_argo_cd_reads_what_we_meant(outcome)


def test_older_argo_cd_without_empty_values_still_renders(tmp_path: Path) -> None:
    app = application_for(APPS[0])
    app = type(app)(**{**app.__dict__, "dest_namespace": ""})
    outcome = server(tmp_path, keep_empty=False).generate(repo_copy(tmp_path), app)
    assert outcome.ok, outcome.error
