"""cmp.renders: ``cmp render PATH...``: several apps, stdin, the clash of two apps' objects."""

from __future__ import annotations

from pathlib import Path

import yaml

from helpers import SKLEARN_MODEL, run_cli, write_app

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n"


def test_render_several_paths_concatenates_in_the_order_given(tmp_path: Path) -> None:
    a = write_app(tmp_path / "a")
    b = write_app(tmp_path / "b", CONFIG_MAP)
    one, two = run_cli(["render", str(a)]).stdout, run_cli(["render", str(b)]).stdout
    both = run_cli(["render", str(b), str(a)])
    assert both.exit_code == 0, both.stderr
    assert both.stdout == two + "---\n" + one
    assert [d["kind"] for d in yaml.safe_load_all(both.stdout)] == ["ConfigMap", "InferenceService"]


def test_render_same_object_from_two_paths_is_an_error_and_prints_nothing(tmp_path: Path) -> None:
    a, b = write_app(tmp_path / "a", CONFIG_MAP), write_app(tmp_path / "b", CONFIG_MAP)
    done = run_cli(["render", str(a), str(b)])
    assert (done.exit_code, done.stdout) == (1, "")
    assert f"{b}: ConfigMap/cfg is rendered by two apps: {a} and {b}" in done.stderr


def test_render_namespaceless_objects_clash_in_the_namespace_they_land_in(tmp_path: Path) -> None:
    a = write_app(tmp_path / "a", CONFIG_MAP)
    b = write_app(tmp_path / "b", CONFIG_MAP.replace("{name: cfg}", "{name: cfg, namespace: ml}"))
    assert run_cli(["render", str(a), str(b)]).exit_code == 0
    done = run_cli(["render", str(a), str(b), "--namespace", "ml"])
    assert (done.exit_code, done.stdout) == (1, "")
    assert "ConfigMap/ml/cfg is rendered by two apps" in done.stderr


def test_render_reports_every_broken_path_and_prints_nothing(tmp_path: Path) -> None:
    good = write_app(tmp_path / "good")
    bad1 = write_app(tmp_path / "bad1", SKLEARN_MODEL.replace("sklearn\n", "sklearn\n    bogus: 1\n"))
    bad2 = write_app(tmp_path / "bad2", "{}\n")
    done = run_cli(["render", str(good), str(bad1), str(bad2)])
    assert (done.exit_code, done.stdout) == (1, "")
    assert f"{bad1}/app.yaml:9: spec.model.bogus" in done.stderr and f"{bad2}/app.yaml:1" in done.stderr


def test_render_stdin_is_a_directory_holding_one_file(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app", SKLEARN_MODEL + "---\n" + CONFIG_MAP)
    piped = run_cli(["render", "-"], stdin=(app / "app.yaml").read_bytes())
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == run_cli(["render", str(app)]).stdout


def test_render_stdin_with_other_paths(tmp_path: Path) -> None:
    app = write_app(tmp_path / "app")
    done = run_cli(["render", str(app), "-"], stdin=CONFIG_MAP.encode())
    assert done.exit_code == 0, done.stderr
    assert [d["kind"] for d in yaml.safe_load_all(done.stdout)] == ["InferenceService", "ConfigMap"]


def test_render_stdin_problems_name_stdin() -> None:
    done = run_cli(["render", "-"], stdin=SKLEARN_MODEL.replace("sklearn\n", "sklearn\n    bogus: 1\n").encode())
    assert (done.exit_code, done.stdout) == (1, "")
    assert done.stderr.startswith("<stdin>:9: spec.model.bogus:")
    syntax = run_cli(["render", "-"], stdin=b"a: [\n")
    assert syntax.exit_code == 1 and syntax.stderr.startswith("<stdin>:2:")


def test_render_stdin_has_the_same_limits() -> None:
    big = run_cli(["render", "-", "--max-file-size", "100"], stdin=SKLEARN_MODEL.encode())
    assert (big.exit_code, big.stdout) == (1, "")
    assert "<stdin>: input is over the limit of 100 bytes (setting max-file-size)" in big.stderr
    binary = run_cli(["render", "-"], stdin=b"\xff\xfe")
    assert binary.exit_code == 1 and "<stdin>: not UTF-8 text" in binary.stderr
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdef", "bcdefg"))
    assert "<stdin>" in run_cli(["render", "-"], stdin=bomb.encode()).stderr
    empty = run_cli(["render", "-"], stdin=b"")
    assert empty.exit_code == 1 and "rendered zero objects" in empty.stderr


def test_render_stdin_refuses_a_kustomization() -> None:
    kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"
    done = run_cli(["render", "-"], stdin=kustomization.encode())
    assert (done.exit_code, done.stdout) == (2, "")
    assert done.stderr.startswith("<stdin>:1: a Kustomization cannot be read from stdin")


def test_render_stdin_given_twice_is_a_usage_error() -> None:
    done = run_cli(["render", "-", "-"], stdin=CONFIG_MAP.encode())
    assert (done.exit_code, done.stdout) == (2, "")
    assert "stdin is read once" in done.stderr
