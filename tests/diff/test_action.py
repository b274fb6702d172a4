"""The Action's script (``scripts/pr_comment.py``) against a local git remote and a fake ``gh``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

SCRIPT = REPO / "scripts" / "pr_comment.py"
MODEL = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: iris, namespace: ml}
spec:
  model: {format: sklearn, storageUri: "gs://b/iris"}
  scaling: {minReplicas: MIN, maxReplicas: 3}
"""
FAKE_GH = """#!{python}
import json, os, sys
args = sys.argv[1:]
entry = {{"args": args}}
for a in args:
    if a.startswith("body=@"):
        entry["body"] = open(a[len("body=@"):], encoding="utf-8").read()
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(entry) + "\\n")
if "--jq" in args:
    print(os.environ.get("FAKE_GH_IDS", ""))
"""
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                   timeout=30)


def _write_model(clone: Path, text: str) -> None:
    (clone / "apps" / "iris").mkdir(parents=True, exist_ok=True)
    (clone / "apps" / "iris" / "model.yaml").write_text(text)


@pytest.fixture
def pr(tmp_path: Path) -> Path:
    """A clone of a local bare ``origin`` whose ``main`` has one model, checked out on a PR branch."""
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    _git(tmp_path, "init", "-q", "-b", "main", str(clone))
    _write_model(clone, MODEL.replace("MIN", "1"))
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "base")
    _git(clone, "remote", "add", "origin", str(origin))
    _git(clone, "push", "-q", "origin", "main")
    _git(clone, "checkout", "-q", "-b", "pr")
    return clone


def _run(clone: Path, tmp_path: Path, **extra: str) -> tuple[int, list[dict], dict[str, str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable))
    gh.chmod(0o755)
    log, outputs = tmp_path / "gh.log", tmp_path / "outputs"
    for path in (log, outputs):
        path.write_text("")
    env = {**os.environ, **GIT_ENV, "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]]),
           "GITHUB_REPOSITORY": "acme/models", "PR_NUMBER": "7", "BASE_REF": "main", "FAKE_GH_LOG": str(log),
           "GITHUB_OUTPUT": str(outputs), "CI": "true", **extra}
    proc = subprocess.run([sys.executable, str(SCRIPT)], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=120)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return proc.returncode, calls, values


def test_a_change_creates_the_comment(pr: Path, tmp_path: Path) -> None:
    _write_model(pr, MODEL.replace("MIN", "2"))
    code, calls, outputs = _run(pr, tmp_path)
    assert code == 0
    assert [c["args"][:4] for c in calls] == [
        ["api", "--paginate", "repos/acme/models/issues/7/comments", "--jq"],
        ["api", "--method", "POST", "repos/acme/models/issues/7/comments"]]
    body = calls[1]["body"]
    assert body.startswith("<!-- kserve-cmp-diff -->\n") and "`min replicas`: `1` → `2`" in body
    assert outputs == {"exit-code": "1", "changed": "true"}


def test_an_existing_comment_is_edited_and_parts_no_longer_needed_deleted(pr: Path, tmp_path: Path) -> None:
    _write_model(pr, MODEL.replace("MIN", "2"))
    earlier = ("42 <!-- kserve-cmp-diff:prod -->\n43 <!-- kserve-cmp-diff:prod part 2 -->\n"
               "44 <!-- kserve-cmp-diff:production -->\n45 <!-- kserve-cmp-diff:prod part 02 -->")
    code, calls, _ = _run(pr, tmp_path, FAKE_GH_IDS=earlier, COMMENT_KEY="prod")
    assert code == 0
    assert '"<!-- kserve-cmp-diff:prod "' in calls[0]["args"][-1]
    assert calls[1]["args"][:4] == ["api", "--method", "PATCH", "repos/acme/models/issues/comments/42"]
    assert calls[1]["body"].startswith("<!-- kserve-cmp-diff:prod -->\n")
    assert [c["args"][:4] for c in calls[2:]] == [["api", "--method", "DELETE", "repos/acme/models/issues/comments/43"]]


def test_a_diff_over_the_limit_is_posted_in_parts(pr: Path, tmp_path: Path) -> None:
    """Each part is one comment under the size limit; existing parts are edited, missing ones created."""
    for i in range(6):
        (pr / "apps" / f"m{i}").mkdir(parents=True, exist_ok=True)
        (pr / "apps" / f"m{i}" / "model.yaml").write_text(
            MODEL.replace("iris", f"m{i}").replace("MIN", "2").replace("gs://b/iris", f"gs://b/m{i}"))
    code, calls, _ = _run(pr, tmp_path, DIFF_ARGS="--max-size 2500", FAKE_GH_IDS="42 <!-- kserve-cmp-diff -->")
    assert code == 0
    posts = [c for c in calls if "--method" in c["args"]]
    assert posts[0]["args"][:4] == ["api", "--method", "PATCH", "repos/acme/models/issues/comments/42"]
    assert len(posts) >= 2 and all(c["args"][2] == "POST" for c in posts[1:])
    for number, call in enumerate(posts, 1):
        first = call["body"].splitlines()[0]
        assert first == ("<!-- kserve-cmp-diff -->" if number == 1 else f"<!-- kserve-cmp-diff part {number} -->")
        assert f"part {number} of {len(posts)}" in call["body"]
        assert len(call["body"].encode("utf-16-le")) // 2 <= 2500


def test_no_change_posts_nothing_new(pr: Path, tmp_path: Path) -> None:
    code, calls, outputs = _run(pr, tmp_path)
    assert code == 0 and len(calls) == 1
    assert outputs == {"exit-code": "0", "changed": "false"}


def test_a_head_that_does_not_render_comments_then_fails(pr: Path, tmp_path: Path) -> None:
    _write_model(pr, MODEL.replace("MIN", "2").replace("maxReplicas", "maxReplcas"))
    code, calls, outputs = _run(pr, tmp_path)
    assert code == 1 and outputs["exit-code"] == "2"
    assert "head does not render" in calls[-1]["body"]
    assert _run(pr, tmp_path, FAIL_ON_ERROR="false")[0] == 0


def test_a_diff_that_cannot_run_posts_nothing(pr: Path, tmp_path: Path) -> None:
    code, calls, _ = _run(pr, tmp_path, BASE_REF="no-such-branch", FETCH_BASE="false")
    assert code == 2 and calls == []


def test_the_action_passes_every_variable_the_script_reads() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    [step] = [s for s in action["runs"]["steps"] if s.get("id") == "diff"]
    assert "scripts/pr_comment.py" in step["run"]
    script = SCRIPT.read_text()
    read = {name for name in step["env"] if f'"{name}"' in script}
    assert read == set(step["env"]) - {"GH_TOKEN"}
    assert set(action["inputs"]) >= {"base", "paths", "args", "comment-key", "fail-on-error", "github-token"}
