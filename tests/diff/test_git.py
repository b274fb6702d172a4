"""``cmp diff --base REF`` on a git repository the test builds (the working tree stays untouched)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import run_cli

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

MODEL = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: iris, namespace: ml}
spec:
  model: {format: sklearn, storageUri: "gs://b/iris"}
  scaling: {minReplicas: MIN, maxReplicas: 3}
"""
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True,
                          timeout=30).stdout


def _commit(repo: Path, min_replicas: int, message: str) -> None:
    (repo / "apps" / "iris").mkdir(parents=True, exist_ok=True)
    (repo / "apps" / "iris" / "model.yaml").write_text(MODEL.replace("MIN", str(min_replicas)))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    _commit(tmp_path, 1, "first")
    _commit(tmp_path, 2, "second")
    return tmp_path


def _state(repo: Path) -> tuple[str, str, str]:
    return _git(repo, "status", "--porcelain"), _git(repo, "rev-parse", "HEAD"), _git(repo, "worktree", "list")


def test_base_head_tilde_one_against_the_working_tree(repo: Path) -> None:
    before = _state(repo)
    result = run_cli(["diff", "--base", "HEAD~1", "--format", "json"], cwd=repo)
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["base"].startswith("HEAD~1 (") and report["head"] == "working tree"
    [app] = report["apps"]
    assert app["path"] == "apps/iris"
    [model] = app["models"]
    rows = {c["field"]: (c["old"], c["new"]) for c in model["changes"]}
    assert rows["min replicas"] == ("1", "2")
    assert _state(repo) == before


def test_uncommitted_edits_count_and_head_ref_ignores_them(repo: Path) -> None:
    (repo / "apps" / "iris" / "model.yaml").write_text(MODEL.replace("MIN", "3"))
    text = run_cli(["diff", "--base", "HEAD", "--color", "never", "apps"], cwd=repo)
    assert text.exit_code == 1
    assert "min replicas: 2 → 3" in text.stdout
    same = run_cli(["diff", "--base", "HEAD", "--head", "HEAD"], cwd=repo)
    assert (same.exit_code, same.stdout.splitlines()[1]) == (0, "no changes in 1 app (1 not rendered: the change touches none of their inputs)")


def test_merge_base_and_bad_revisions(repo: Path) -> None:
    result = run_cli(["diff", "--base", "HEAD~1", "--head", "HEAD", "--merge-base", "--format", "json"], cwd=repo)
    assert result.exit_code == 1
    bad = run_cli(["diff", "--base", "no-such-ref"], cwd=repo)
    assert bad.exit_code == 2 and "unknown git revision 'no-such-ref'" in bad.stderr and bad.stdout == ""


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["diff", "--base", "HEAD"], cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert result.exit_code == 2 and "not inside a git working tree" in result.stderr


def test_usage_errors(tmp_path: Path) -> None:
    assert run_cli(["diff", str(tmp_path)]).exit_code == 2
    assert run_cli(["diff", "--head", "x", str(tmp_path), str(tmp_path)]).exit_code == 2
    assert run_cli(["diff", str(tmp_path), str(tmp_path / "nope")]).exit_code == 2
    bad_param = run_cli(["diff", "--param", "namespace", str(tmp_path), str(tmp_path)])
    assert bad_param.exit_code == 2 and "expected NAME=VALUE" in bad_param.stderr
    refused = run_cli(["diff", "--show-secrets", str(tmp_path), str(tmp_path)], env={"CI": "true"})
    assert refused.exit_code == 2 and "--show-secrets" in refused.stderr
