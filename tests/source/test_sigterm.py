"""Argo CD's deadline: SIGTERM to the plugin's process group also ends the kustomize it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import REPO, alive, wait_for


def _sleeping_kustomize(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A fake kustomize that writes its pid and sleeps, and an app that builds with it."""
    pidfile = tmp_path / "kustomize.pid"
    fake = tmp_path / "kustomize"
    fake.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 30\n")
    fake.chmod(0o755)
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: []\n")
    return fake, pidfile, app


def test_sigterm_to_plugin_group_ends_kustomize(tmp_path: Path) -> None:
    fake, pidfile, app = _sleeping_kustomize(tmp_path)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir))
    proc = subprocess.Popen([sys.executable, "-m", "cmp", "render", str(app), "--kustomize", str(fake)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the fake kustomize to start")
        kustomize_pid = int(pidfile.read_text())
        os.killpg(proc.pid, signal.SIGTERM)  # what argocd-cmp-server does at the deadline
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 128 + signal.SIGTERM
        assert out == b""
        assert b"terminated" in err
        wait_for(lambda: not alive(kustomize_pid), "the fake kustomize to end", 5)
        assert list(tmpdir.iterdir()) == []  # the build's wrapper directory is gone too
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


def test_wrapper_dirs_of_killed_renders_are_removed_by_the_next_build(tmp_path: Path) -> None:
    from cmp.settings import Settings
    from cmp.source import kustomize
    from cmp.source.read import read_app

    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmpdir / f"{kustomize.WRAPPER_PREFIX}{dead.pid}-abc"
    orphan.mkdir()
    (orphan / "kustomization.yaml").write_text("resources: []\n")
    alive = tmpdir / f"{kustomize.WRAPPER_PREFIX}{os.getpid()}-def"
    alive.mkdir()
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").write_text("resources: []\n")
    old = kustomize.tempfile.tempdir
    kustomize.tempfile.tempdir = str(tmpdir)
    try:
        read_app(str(app), Settings())
    finally:
        kustomize.tempfile.tempdir = old
    assert sorted(p.name for p in tmpdir.iterdir()) == [alive.name]


def test_sigkill_of_the_plugin_ends_kustomize(tmp_path: Path) -> None:
    """Argo CD SIGKILLs the plugin's group after its grace period: no handler runs, and kustomize,
    in a session of its own, is not in that group; the kernel ends it (PR_SET_PDEATHSIG)."""
    fake, pidfile, app = _sleeping_kustomize(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "cmp", "generate"], cwd=app,
                            env=dict(os.environ, KSERVE_CMP_KUSTOMIZE=str(fake), TMPDIR=str(tmp_path)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the fake kustomize to start")
        kustomize_pid = int(pidfile.read_text())
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_for(lambda: not alive(kustomize_pid), "the fake kustomize to end", 5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
