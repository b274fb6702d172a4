"""Benchmark: ``cmp diff`` of a monorepo with one changed app, against rendering that one app.

Generates a git repository of ``--apps`` plain app directories (one sklearn ModelDeployment each),
commits it, edits one app in the working tree and times, each as a fresh child process
(wall time from ``os.wait4``, median of ``--repeat`` runs after one warm-up):

* **diff**: ``kserve-cmp diff --base HEAD`` at the repository root (finds every app, renders the
  changed one on both sides);
* **diff --all**: the same rendering every app on both sides (what ``cmp diff`` did before it
  mapped changed files to apps);
* **render**: ``kserve-cmp render`` of the changed app alone.

Target (issue: review at monorepo scale): diff ≤ 3× render for 100 apps with one changed.
Usage: ``python benchmarks/diff.py [--apps 100] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 3.0
MODEL = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {{name: m{i:04d}, namespace: models}}
spec:
  runtime: kserve-sklearnserver
  model: {{format: sklearn, storageUri: "gs://bucket/models/m{i:04d}"}}
  scaling: {{minReplicas: 1, maxReplicas: {replicas}}}
"""
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def make_repo(root: str, apps: int) -> str:
    """The repository with every app committed and app 0 edited in the working tree; the edited app."""
    for i in range(apps):
        os.makedirs(os.path.join(root, "apps", f"m{i:04d}"))
        with open(os.path.join(root, "apps", f"m{i:04d}", "model.yaml"), "w") as handle:
            handle.write(MODEL.format(i=i, replicas=3))
    env = {**os.environ, **GIT_ENV}
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "apps"]):
        subprocess.run(["git", *argv], cwd=root, env=env, check=True, timeout=120)
    with open(os.path.join(root, "apps", "m0000", "model.yaml"), "w") as handle:
        handle.write(MODEL.format(i=0, replicas=5))
    return "apps/m0000"


def timed(argv: list[str], cwd: str) -> tuple[float, int]:
    """Wall seconds and exit code of one run of ``argv`` in a fresh child."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - start, proc.returncode


def median(argv: list[str], cwd: str, repeat: int) -> float:
    timed(argv, cwd)                      # warm-up: page cache, compiled bytecode
    samples = []
    for _ in range(repeat):
        seconds, _ = timed(argv, cwd)
        samples.append(seconds)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cmp = [sys.executable, "-m", "cmp"]
    with tempfile.TemporaryDirectory(prefix="kserve-cmp-diff-bench-") as root:
        app = make_repo(root, args.apps)
        _, code = timed(cmp + ["diff", "--base", "HEAD"], root)
        assert code == 1, f"the diff should report the change (exit {code})"
        diff = median(cmp + ["diff", "--base", "HEAD"], root, args.repeat)
        every = median(cmp + ["diff", "--base", "HEAD", "--all"], root, max(1, args.repeat // 2))
        render = median(cmp + ["render", app], root, args.repeat)
    ratio = diff / render
    print(f"{args.apps} apps, one changed (median wall time, {args.repeat} runs)")
    print(f"  cmp diff --base HEAD        {diff * 1000:8.0f} ms")
    print(f"  cmp diff --base HEAD --all  {every * 1000:8.0f} ms")
    print(f"  cmp render {app}     {render * 1000:8.0f} ms")
    print(f"  diff / render = {ratio:.2f}x (target <= {TARGET:g}x: {'met' if ratio <= TARGET else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
