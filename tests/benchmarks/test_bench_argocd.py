"""``benchmarks/argocd.py`` runs plugin.yaml's command the way argocd-cmp-server does and reports
every target; never a timed test (the figures go to docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, have_kustomize
from benchmarks.test_bench_generate import _load

bench = _load("argocd")


def test_the_command_is_plugin_yaml_s() -> None:
    assert bench.plugin_command()[0] == "kserve-cmp"
    text = (REPO / "plugin.yaml").read_text()
    assert all(part in text for part in bench.plugin_command())


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")
def test_overlay_apps_build_with_kustomize(tmp_path: Path) -> None:
    apps = bench.write_overlays(str(tmp_path), 2)
    assert apps == ["apps/model-00000", "apps/model-00001"]
    built = subprocess.run([*bench.kustomize(), str(tmp_path / apps[1])], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    assert "namespace: team-1" in built.stdout and "maxReplicas: 2" in built.stdout


def test_a_request_ends_with_sigterm_to_its_group(tmp_path: Path) -> None:
    marker = tmp_path / "got-term"
    script = f"(trap 'echo x > {marker}; exit 0' TERM; while :; do sleep 0.05; done) >/dev/null 2>&1 & echo out"
    assert bench.run_request(["sh", "-c", script], str(tmp_path), {"PATH": "/usr/bin:/bin"}) > 0
    for _ in range(100):
        if marker.exists():
            break
        subprocess.run(["sleep", "0.05"])
    assert marker.exists(), "the background process of a finished request got SIGTERM"


def test_report_states_every_target() -> None:
    pair, seq = bench.Pair, bench.Sequence
    results = bench.Results(["kserve-cmp", "generate"], pair(0.02, 0.05, 0.4), pair(0.08, 0.05, 1.6),
                            pair(0.06, 0.05, 1.3), seq(13.0, 10.0), seq(10.0, 8.0), 200)
    text = bench.report(results, ["kustomize", "build"], "test machine")
    assert "0.40x (target <= 0.5x: ok)" in text
    assert "1.60x (target <= 1.8x: ok)" in text
    assert "1.30x (target <= 1.25x: MISSED)" in text
    assert "200 overlay apps in a row" in text and "1.30x wall (target <= 1.3x: ok), 1.25x CPU" in text
    assert "note:" not in text
    results = bench.Results(["kserve-cmp", "generate"], pair(0.02, 0.05, 0.4), pair(0.08, 0.05, 1.6),
                            pair(0.06, 0.05, 1.3), seq(13.0, 10.0, 1), seq(10.0, 8.0), 200)
    assert "note: 1 process(es) outlived the requests" in bench.report(results, ["kustomize", "build"], "m")


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")
def test_the_script_runs() -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "argocd.py"), "--repeat", "1", "--apps", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("target <=") == 4
    assert "2 overlay apps in a row" in done.stdout
