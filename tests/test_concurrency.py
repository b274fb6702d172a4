"""Re-entrancy and sandboxing: parallel renders equal serial ones and write nothing outside TMPDIR.

Argo CD runs many ``generate`` commands at once in one sidecar, each on its own checkout, with
a read-only root filesystem and ``/tmp`` the only writable place. Here 16 different apps (plain
directories and kustomizations) are rendered one by one and then all at once, as separate
processes whose HOME is a regular file (nothing can be created below it, not even by root),
whose working directory and apps are read-only, and whose TMPDIR is private: outputs must be
byte-identical, TMPDIR empty again afterwards, and the apps and working directory unchanged.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import have_kustomize

from cmp.pipeline import render
from cmp.settings import Settings

APPS = 16
TIMEOUT = 120
RUNTIMES = [("kserve-sklearnserver", "sklearn", None), ("kserve-xgbserver", "xgboost", ["--nthread=2"]),
            ("kserve-huggingfaceserver", "huggingface", {"--max-model-len": 4096}),
            ("kserve-vllmserver", "vLLM", {"--dtype": "half", "--port": 8000})]


def _model(app: int, index: int) -> str:
    runtime, fmt, args = RUNTIMES[(app + index) % len(RUNTIMES)]
    lines = ["apiVersion: kserve-cmp.io/v1alpha1", "kind: ModelDeployment",
             f"metadata: {{name: m{app}-{index}, namespace: team-{app}}}", "spec:", f"  runtime: {runtime}",
             "  model:", f"    format: {fmt}", f"    storageUri: gs://bucket/{app}/{index}"]
    if isinstance(args, list):
        lines.append(f"    args: [{', '.join(args)}]")
    elif args:
        lines.append("    args: {" + ", ".join(f"{k}: {v}" for k, v in args.items()) + "}")
    if fmt == "vLLM":  # without an NVIDIA GPU KServe would run vLLM's CPU build (a warning)
        lines.append('    resources: {limits: {nvidia.com/gpu: "1"}}')
    lines.append(f"  scaling: {{minReplicas: {index % 2}, maxReplicas: {2 + app % 3}}}")
    return "\n".join(lines) + "\n"


def _write_apps(root: Path, kustomize: bool) -> list[Path]:
    apps = []
    for app in range(APPS):
        directory = root / f"app-{app:02d}"
        directory.mkdir(parents=True)
        names = []
        for index in range(3):
            names.append(f"model-{index}.yaml")
            (directory / names[-1]).write_text(_model(app, index))
        if kustomize and app % 2:
            (directory / "kustomization.yaml").write_text(
                f"resources: [{', '.join(names)}]\ncommonLabels: {{app-index: '{app}'}}\n")
        apps.append(directory)
    return apps


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        if writable:
            path.chmod(mode | stat.S_IWUSR)
        else:
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mode, p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else b"")
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def sandbox(tmp_path: Path):
    """Read-only apps and working dir, HOME a regular file, a private TMPDIR; writable again at teardown."""
    apps_root = tmp_path / "checkout"
    apps = _write_apps(apps_root, kustomize=have_kustomize())
    home = tmp_path / "home"
    home.write_text("")
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    _set_writable(apps_root, False)
    try:
        yield apps_root, apps, home, private_tmp
    finally:
        _set_writable(apps_root, True)


def _env(home: Path, private_tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KSERVE_CMP_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(private_tmp), PYTHONDONTWRITEBYTECODE="1")
    return env


def _start(app: Path, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cmp", "render", app.name], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen) -> tuple[int, bytes, bytes]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, out, err


def test_parallel_processes_match_serial_ones_and_write_nothing(sandbox) -> None:
    apps_root, apps, home, private_tmp = sandbox
    env = _env(home, private_tmp)
    before = _snapshot(apps_root)
    serial = [_finish(_start(app, apps_root, env)) for app in apps]
    parallel = [_finish(p) for p in [_start(app, apps_root, env) for app in apps]]
    for app, (code, out, err) in zip(apps, serial):
        assert code == 0, (app.name, err.decode())
        assert err == b"" and out.startswith(b"apiVersion: ")
        assert f"namespace: team-{int(app.name[-2:])}".encode() in out
    assert parallel == serial
    assert len(set(out for _, out, _ in serial)) == APPS
    assert list(private_tmp.iterdir()) == []
    assert home.read_text() == ""
    assert _snapshot(apps_root) == before


def test_threads_in_one_process_match_serial_renders(tmp_path: Path) -> None:
    apps = _write_apps(tmp_path, kustomize=False)
    serial = [render(str(app), Settings()).text for app in apps]
    with ThreadPoolExecutor(max_workers=APPS) as pool:
        threaded = list(pool.map(lambda app: render(str(app), Settings()).text, apps))
    assert threaded == serial
