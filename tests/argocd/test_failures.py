"""Failures through the imitated argocd-cmp-server: each ends non-zero, with no manifest at all.

Argo CD keeps the last synced state when generation fails (nothing is pruned), but syncs
whatever a successful run prints, so a plugin that exits 0 with partial or empty output makes
Argo CD delete resources. Every case here must fail closed and say why.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from argocd.cmpserver import Application, Cluster, Outcome
from argocd.examples import plugin, server, sidecar_env
from cmp import __version__
from cmp.argocd import wire
from helpers import SKLEARN_MODEL

MODEL = SKLEARN_MODEL
GENERATE = "`kserve-cmp generate --server` failed"  # plugin.yaml's command, as Argo CD names it


def make_repo(tmp: Path, files: dict[str, str]) -> Path:
    root = tmp / "checkout"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def app(path: str = "apps/iris", **fields) -> Application:
    return Application(name="iris", path=path, plugin=plugin().reachable_as, dest_namespace="models", **fields)


def assert_failed_closed(outcome: Outcome, prefix: str) -> None:
    assert not outcome.ok
    assert outcome.error.startswith(prefix), outcome.error
    assert outcome.objects == []
    assert outcome.stdout == ""


def fake_kustomize(tmp: Path, seconds: int) -> tuple[Path, Path]:
    """A kustomize that records its pid and sleeps; the caller kills it afterwards."""
    pid_file = tmp / "kustomize.pid"
    script = tmp / "bin" / "slow-kustomize"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho $$ > "{pid_file}"\nexec sleep {seconds}\n')
    script.chmod(0o755)
    return script, pid_file


def kill_recorded(pid_file: Path) -> None:
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


KUSTOMIZED = {"apps/iris/kustomization.yaml": "resources: [model.yaml]\n", "apps/iris/model.yaml": MODEL}


def test_bad_overlay(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/model.yaml": MODEL.replace("storageUri", "storageURI")})
    outcome = server(tmp_path).generate(repo, app())
    assert_failed_closed(outcome, f"{GENERATE} exit status 1: model.yaml:")
    assert "storageURI" in outcome.error
    assert outcome.error.endswith(f"note: kserve-cmp {__version__} generate, app path apps/iris; same render "
                                  "locally: kserve-cmp render apps/iris --namespace models")


def test_kustomize_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/kustomization.yaml": "resources: [missing.yaml]\n"})
    outcome = server(tmp_path).generate(repo, app())
    assert_failed_closed(outcome, f"{GENERATE} exit status 1: ")
    assert "missing.yaml" in outcome.error


def test_missing_kustomize(tmp_path: Path) -> None:
    """The sidecar's kustomize is not where the admin said (e.g. an image built without it)."""
    env = sidecar_env(tmp_path) | {"KSERVE_CMP_KUSTOMIZE": str(tmp_path / "no-such-kustomize")}
    outcome = server(tmp_path, sidecar_env=env).generate(make_repo(tmp_path, KUSTOMIZED), app())
    assert_failed_closed(outcome, f"{GENERATE} exit status ")
    assert "no-such-kustomize" in outcome.error


@pytest.mark.parametrize("files", [
    {"apps/iris/README.md": "no manifests here\n"},
    {"apps/iris/kustomization.yaml": "resources: []\n"},
], ids=["no-yaml", "empty-kustomization"])
def test_zero_objects(tmp_path: Path, files: dict[str, str]) -> None:
    outcome = server(tmp_path).generate(make_repo(tmp_path, files), app())
    assert_failed_closed(outcome, f"{GENERATE} exit status 1: ")
    assert "rendered zero objects" in outcome.error


def test_argo_cd_deadline_kills_the_plugin(tmp_path: Path) -> None:
    slow, pid_file = fake_kustomize(tmp_path, 10)
    private_tmp = tmp_path / "tmp"  # the killed plugin cannot remove its wrapper dir: keep it in here
    private_tmp.mkdir()
    env = sidecar_env(tmp_path) | {"KSERVE_CMP_KUSTOMIZE": str(slow), "TMPDIR": str(private_tmp)}
    start = time.monotonic()
    try:
        outcome = server(tmp_path, sidecar_env=env, timeout=2.0, grace=1.0).generate(
            make_repo(tmp_path, KUSTOMIZED), app())
        elapsed = time.monotonic() - start
        orphaned = pid_alive(pid_file)
    finally:
        kill_recorded(pid_file)
        stop_render_server(private_tmp)
    assert elapsed < 6
    assert_failed_closed(outcome, f"{GENERATE} signal: killed")
    assert not orphaned, "kustomize must not outlive the plugin Argo CD killed"


def stop_render_server(tmpdir: Path, wait: float = 5.0) -> None:
    """SIGTERM the render server plugin.yaml's command started, detached, under ``tmpdir`` (its
    pid is in the server's lock file once it runs); nothing else would ever stop it."""
    lock = tmpdir / f"{wire.DIR_PREFIX}{os.getuid()}" / wire.LOCK_NAME
    end = time.monotonic() + wait
    while time.monotonic() < end:
        text = lock.read_text().strip() if lock.exists() else ""
        if text.isdigit():
            try:
                os.kill(int(text), signal.SIGTERM)
            except ProcessLookupError:
                pass
            return
        time.sleep(0.05)


def pid_alive(pid_file: Path, wait: float = 2.0) -> bool:
    """Whether the process recorded in ``pid_file`` still runs ``wait`` seconds from now at the latest
    (a zombie that no init has reaped yet counts as ended)."""
    pid = int(pid_file.read_text())
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        time.sleep(0.05)
    return True


def test_own_timeout_is_a_clear_error_before_the_deadline(tmp_path: Path) -> None:
    slow, pid_file = fake_kustomize(tmp_path, 10)
    env = sidecar_env(tmp_path) | {"KSERVE_CMP_KUSTOMIZE": str(slow)}
    parameters = ({"name": "kustomize-timeout", "string": "1"},)
    try:
        outcome = server(tmp_path, sidecar_env=env, timeout=8.0).generate(
            make_repo(tmp_path, KUSTOMIZED), app(parameters=parameters))
    finally:
        kill_recorded(pid_file)
    assert_failed_closed(outcome, f"{GENERATE} exit status 1: ")
    assert "timed out after 1s (setting kustomize-timeout)" in outcome.error


def test_kserve_missing_on_the_destination(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/model.yaml": MODEL})
    outcome = server(tmp_path).generate(repo, app(), cluster=Cluster(api_versions=("apps/v1", "v1", "v1/Pod")))
    assert_failed_closed(outcome, f"{GENERATE} exit status 1: KServe is not installed on the destination cluster")


def test_unknown_parameter(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/model.yaml": MODEL})
    outcome = server(tmp_path).generate(repo, app(parameters=({"name": "namespce", "string": "x"},)))
    assert_failed_closed(outcome, f"{GENERATE} exit status 2: unknown parameter 'namespce' "
                                  "(did you mean 'namespace'?)")


def test_application_cannot_make_the_sidecar_run_a_program(tmp_path: Path) -> None:
    proof = tmp_path / "ran"
    files = dict(KUSTOMIZED, **{"apps/iris/build": f"touch '{proof}'\n"})
    outcome = server(tmp_path).generate(make_repo(tmp_path, files), app(parameters=({"name": "kustomize",
                                                                                     "string": "sh"},)))
    assert_failed_closed(outcome, f"{GENERATE} exit status 2: parameter kustomize: kustomize can only be set by "
                                  "the Argo CD admin")
    assert not proof.exists()


def test_doubled_env_prefix(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/model.yaml": MODEL})
    outcome = server(tmp_path).generate(repo, app(env=(("ARGOCD_ENV_KSERVE_CMP_NAMESPACE", "x"),)))
    assert_failed_closed(outcome, f"{GENERATE} exit status 2: ARGOCD_ENV_ARGOCD_ENV_KSERVE_CMP_NAMESPACE: ")


def test_plugin_named_without_its_version(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/model.yaml": MODEL})
    outcome = server(tmp_path).generate(repo, Application(name="iris", path="apps/iris", plugin="kserve-cmp"))
    assert_failed_closed(outcome, 'could not find cmp-server plugin with name "kserve-cmp"')


def test_plugin_not_installed_in_the_sidecar(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"apps/iris/model.yaml": MODEL})
    env = sidecar_env(tmp_path, bin_dir=str(tmp_path))
    outcome = server(tmp_path, sidecar_env=env).generate(repo, app())
    assert_failed_closed(outcome, 'exec: "kserve-cmp": executable file not found in $PATH')
