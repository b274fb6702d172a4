"""The benchmark generator writes valid, deterministic repositories whose layouts agree."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from helpers import REPO, have_kustomize

from cmp.pipeline import render
from cmp.settings import Settings
from cmp.source.yamlio import load_stream


def _load(name: str):
    """A script of ``benchmarks/`` as a module (the directory is not a package)."""
    path = REPO / "benchmarks" / f"{name}.py"
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))


generate = _load("generate")
runner = _load("render")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_count_gives_identical_files(tmp_path: Path) -> None:
    generate.generate(str(tmp_path / "a"), 8, ("plain", "kustomize", "appset"))
    generate.generate(str(tmp_path / "b"), 8, ("plain", "kustomize", "appset"))
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert len(list((tmp_path / "a" / "appset" / "apps").iterdir())) == 8


def test_expanded_holds_exactly_what_the_plain_layout_renders(tmp_path: Path) -> None:
    dirs = generate.generate(str(tmp_path), 8, ("plain", "expanded"))
    rendered = render(dirs["plain"], Settings()).objects
    expanded = [d.obj for f in sorted(Path(dirs["expanded"]).glob("*/objects.yaml"))
                for d in load_stream(f.read_text())]
    key = generate.group_by_model
    assert key(expanded) == key(rendered)
    assert {o["kind"] for o in rendered} >= {"InferenceService"}
    assert len({o["metadata"]["name"] for o in rendered if o["kind"] == "InferenceService"}) == 8


@pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")
def test_kustomize_layout_renders_like_the_plain_one(tmp_path: Path) -> None:
    dirs = generate.generate(str(tmp_path), 4, ("plain", "kustomize"))
    assert render(dirs["kustomize"], Settings()).text == render(dirs["plain"], Settings()).text


def test_child_measurement_reports_time_and_memory(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    sample = runner.run_child([sys.executable, "-c", "b = bytearray(64 << 20); print(len(b))"], str(tmp_path),
                              str(out))
    assert out.read_text().strip() == str(64 << 20)
    assert sample.rss_mb >= 64 and sample.seconds > 0 and sample.code == 0
    assert 0 < sample.cpu < sample.seconds * 2


def test_child_environment_allows_bytecode_caching(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    assert "PYTHONDONTWRITEBYTECODE" not in runner.child_env()
    assert runner.child_env()["PATH"] == os.environ["PATH"]


def test_report_states_every_target() -> None:
    fig = runner.Figure
    rows = [runner.Row(100, 175, fig(0.5, 40, 0.5), fig(0.4, 30, 0.6), fig(0.2, 20, 0.2)),
            runner.Row(1000, 1750, fig(1.2, 70, 1.0), fig(4.0, 90, 5.0), fig(0.8, 60, 0.8))]
    text = runner.report(rows, (fig(0.06, 30, 0.06), fig(0.05, 20, 0.04)))
    assert "kustomize build 0.050s: 1.20x (target <= 1.3x: ok; CPU time 1.50x)" in text
    assert "CPU time: 1.25x the floor, 0.20x kustomize build" in text
    assert "0.30x kustomize build (target <= 0.5x: ok)" in text
    assert "growth time(1,000)/time(100): 2.40" in text
    assert "peak RSS 70 MB (target <= 200 MB: ok)" in text
    assert "1.50x the libyaml floor (target <= 2.0x: ok)" in text


def test_runner_generates_in_a_child_and_finds_kustomize(tmp_path: Path) -> None:
    runner.generate(str(tmp_path), 3, ("plain",))
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == [f"model-0000{i}.yaml" for i in range(3)]
    argv = runner.kustomize_argv("DIR")
    assert argv[-1] == "DIR" and os.path.basename(argv[0]) in ("kustomize", "kubectl")


def test_diff_benchmark_runs_on_a_small_monorepo() -> None:
    """benchmarks/diff.py builds its repository, sees the one change and prints the ratio."""
    import subprocess
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "diff.py"), "--apps", "3", "--repeat", "1"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "diff / render =" in done.stdout
