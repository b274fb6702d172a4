"""Hostile-input fixtures: a scratch repository and the CLI run as a real, time-bounded subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

LIMIT_SECONDS = 5.0
MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: iris, namespace: models}
spec:
  runtime: kserve-sklearnserver
  model: {format: sklearn, storageUri: "gs://bucket/iris"}
"""


@dataclass
class Outcome:
    """What one run printed and how it ended."""

    code: int
    stdout: str
    stderr: str

    def assert_clean_error(self, *fragments: str) -> None:
        """Exit 1 or 2, nothing on stdout, messages naming the problem, no traceback, no leaked secret."""
        assert self.code in (1, 2), (self.code, self.stderr)
        assert self.stdout == ""
        assert "Traceback" not in self.stderr and "internal error" not in self.stderr
        for fragment in fragments:
            assert fragment in self.stderr, self.stderr
        assert "s3cr3t-outside" not in self.stderr


@dataclass
class Scratch:
    """A temp directory holding ``repo/`` (a git checkout, by its ``.git``) and ``outside/``."""

    base: Path
    model: str = MODEL

    @property
    def repo(self) -> Path:
        return self.base / "repo"

    @property
    def outside(self) -> Path:
        return self.base / "outside"

    def write(self, relative: str, text: str) -> Path:
        path = self.base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def render(self, app: str, *extra: str, env: dict[str, str] | None = None) -> Outcome:
        """``kserve-cmp render app`` in ``repo/``, killed if it outlives the limit."""
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("KSERVE_CMP_", "ARGOCD_"))}
        child_env.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "cmp", "render", app, *extra], cwd=self.repo,
                              env=child_env, capture_output=True, timeout=LIMIT_SECONDS, stdin=subprocess.DEVNULL)
        return Outcome(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                       proc.stderr.decode("utf-8", "replace"))


@pytest.fixture
def scratch(tmp_path: Path) -> Scratch:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\nstringData: {token: s3cr3t-outside}\n")
    (tmp_path / "outside" / "kustomization.yaml").write_text("resources: [secret.yaml]\n")
    return Scratch(tmp_path)

