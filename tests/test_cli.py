"""The command line: one --format per command, render's paths, stdin and JSON, validate's JUnit XML."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from helpers import REPO, SKLEARN_MODEL, run_cli
from kube_decode import json_objects
from test_emit import _kubectl_json, _labelled

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n"


def _app(root: Path, text: str = SKLEARN_MODEL, name: str = "app.yaml") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)
    return root


# explain: --format, with --output kept as a hidden alias

def test_explain_format_and_its_hidden_alias_output_print_the_same() -> None:
    app = str(REPO / "overlays" / "sklearn-iris")
    new, old = run_cli(["explain", app, "--format", "json"]), run_cli(["explain", app, "--output", "json"])
    assert new.exit_code == old.exit_code == 0
    assert new.stdout == old.stdout and json.loads(new.stdout)["models"]
    assert run_cli(["explain", app]).stdout == run_cli(["explain", app, "--format", "text"]).stdout


def test_explain_help_shows_only_format() -> None:
    shown = run_cli(["explain", "--help"]).stdout
    assert "--format" in shown and "--output" not in shown


def test_explain_format_and_output_that_disagree_are_usage_errors() -> None:
    done = run_cli(["explain", str(REPO / "overlays" / "sklearn-iris"), "--format", "json", "--output", "text"])
    assert (done.exit_code, done.stdout) == (2, "")
    assert "--output is the former name of --format" in done.stderr


def test_every_command_with_an_output_choice_calls_it_format() -> None:
    for command in ("render", "validate", "explain", "diff", "runtimes"):
        shown = run_cli([command, "--help"]).stdout
        assert "--format" in shown and "--output" not in shown, command


# render: several paths, stdin, JSON

def test_render_several_paths_concatenates_in_the_order_given(tmp_path: Path) -> None:
    a = _app(tmp_path / "a")
    b = _app(tmp_path / "b", CONFIG_MAP)
    one, two = run_cli(["render", str(a)]).stdout, run_cli(["render", str(b)]).stdout
    both = run_cli(["render", str(b), str(a)])
    assert both.exit_code == 0, both.stderr
    assert both.stdout == two + "---\n" + one
    assert [d["kind"] for d in yaml.safe_load_all(both.stdout)] == ["ConfigMap", "InferenceService"]


def test_render_same_object_from_two_paths_is_an_error_and_prints_nothing(tmp_path: Path) -> None:
    a, b = _app(tmp_path / "a", CONFIG_MAP), _app(tmp_path / "b", CONFIG_MAP)
    done = run_cli(["render", str(a), str(b)])
    assert (done.exit_code, done.stdout) == (1, "")
    assert f"{b}: ConfigMap/cfg is rendered by two apps: {a} and {b}" in done.stderr


def test_render_namespaceless_objects_clash_in_the_namespace_they_land_in(tmp_path: Path) -> None:
    a = _app(tmp_path / "a", CONFIG_MAP)
    b = _app(tmp_path / "b", CONFIG_MAP.replace("{name: cfg}", "{name: cfg, namespace: ml}"))
    assert run_cli(["render", str(a), str(b)]).exit_code == 0
    done = run_cli(["render", str(a), str(b), "--namespace", "ml"])
    assert (done.exit_code, done.stdout) == (1, "")
    assert "ConfigMap/ml/cfg is rendered by two apps" in done.stderr


def test_render_reports_every_broken_path_and_prints_nothing(tmp_path: Path) -> None:
    good = _app(tmp_path / "good")
    bad1 = _app(tmp_path / "bad1", SKLEARN_MODEL.replace("sklearn\n", "sklearn\n    bogus: 1\n"))
    bad2 = _app(tmp_path / "bad2", "{}\n")
    done = run_cli(["render", str(good), str(bad1), str(bad2)])
    assert (done.exit_code, done.stdout) == (1, "")
    assert f"{bad1}/app.yaml:9: spec.model.bogus" in done.stderr and f"{bad2}/app.yaml:1" in done.stderr


def test_render_stdin_is_a_directory_holding_one_file(tmp_path: Path) -> None:
    app = _app(tmp_path / "app", SKLEARN_MODEL + "---\n" + CONFIG_MAP)
    piped = run_cli(["render", "-"], stdin=(app / "app.yaml").read_bytes())
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == run_cli(["render", str(app)]).stdout


def test_render_stdin_with_other_paths(tmp_path: Path) -> None:
    app = _app(tmp_path / "app")
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


def test_render_json_of_one_object_is_the_object(tmp_path: Path) -> None:
    done = run_cli(["render", str(_app(tmp_path / "a", CONFIG_MAP)), "--format", "json"])
    assert done.exit_code == 0
    assert json.loads(done.stdout) == yaml.safe_load(CONFIG_MAP)


def test_render_json_of_several_objects_is_what_kubectl_prints(tmp_path: Path) -> None:
    """A multi-object render: the same objects as the YAML output, in the same order, and each
    item's text is kubectl's ``-o json`` text of that object."""
    app = str(REPO / "overlays" / "llama" / "prod")
    as_yaml = list(yaml.safe_load_all(run_cli(["render", app]).stdout))
    done = run_cli(["render", app, str(REPO / "overlays" / "sklearn-iris"), "--format", "json"])
    assert done.exit_code == 0, done.stderr
    listed = json.loads(done.stdout)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List") and len(listed["items"]) > len(as_yaml)
    assert listed["items"][:len(as_yaml)] == as_yaml
    theirs = _kubectl_json(listed["items"], tmp_path)
    assert json_objects(theirs) == [_labelled(o) for o in listed["items"]]
    assert theirs == "".join(run_cli(["render", "-", "--format", "json"],
                                     stdin=json.dumps(_labelled(o)).encode()).stdout for o in listed["items"])


# --namespace on raw objects

RAW = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: gpu}
value: 1000
---
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata: {name: store}
spec:
  container: {name: storage-initializer, image: kserve/storage-initializer:v0.20.0}
  supportedUriFormats: [{prefix: "s3://"}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: custom}
"""
CLUSTER_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Gadget, plural: gadgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: global}
"""


def _namespaces(text: str) -> dict[str, str | None]:
    return {f"{d['kind']}/{d['metadata']['name']}": d["metadata"].get("namespace") for d in yaml.safe_load_all(text)}


def test_namespace_applies_to_raw_namespaced_objects_as_kustomize_does(tmp_path: Path) -> None:
    """Objects without a namespace get the namespaces kustomize's ``namespace:`` field gives them (real
    kustomize). Two differences on purpose: a namespace the input names is kept (kustomize overwrites it;
    the setting is for objects whose input has none), and KServe's ClusterStorageContainer, which
    kustomize does not know to be cluster-scoped, gets none."""
    plain = _app(tmp_path / "plain", RAW + "---\n" + SKLEARN_MODEL)
    ours = run_cli(["render", str(plain), "--namespace", "ml"])
    assert ours.exit_code == 0, ours.stderr
    assert _namespaces(ours.stdout) == {
        "ConfigMap/cfg": "ml", "ConfigMap/kept": "other", "ClusterRole/reader": None, "PriorityClass/gpu": None,
        "ClusterStorageContainer/store": None, "Widget/custom": "ml", "InferenceService/iris": "ml"}
    kustomized = _app(tmp_path / "kustomized", RAW)
    (kustomized / "kustomization.yaml").write_text("namespace: ml\nresources: [app.yaml]\n")
    theirs = _namespaces(run_cli(["render", str(kustomized)]).stdout)
    assert (theirs.pop("ConfigMap/kept"), theirs.pop("ClusterStorageContainer/store")) == ("ml", "ml")
    assert theirs == {k: v for k, v in _namespaces(ours.stdout).items()
                      if k not in ("InferenceService/iris", "ConfigMap/kept", "ClusterStorageContainer/store")}
    assert _namespaces(run_cli(["render", str(plain)]).stdout)["ConfigMap/cfg"] is None


def test_namespace_leaves_kinds_an_input_crd_declares_cluster_scoped(tmp_path: Path) -> None:
    done = run_cli(["render", str(_app(tmp_path / "a", CLUSTER_CRD + "---\n" + CONFIG_MAP)), "--namespace", "ml"])
    assert done.exit_code == 0, done.stderr
    assert _namespaces(done.stdout) == {"CustomResourceDefinition/gadgets.example.com": None,
                                        "Gadget/global": None, "ConfigMap/cfg": "ml"}


# validate --format junit

def test_validate_junit_is_one_suite_with_a_testcase_per_app(tmp_path: Path) -> None:
    good = _app(tmp_path / "good")
    bad = _app(tmp_path / "bad", SKLEARN_MODEL.replace("sklearn\n", "sklearn\n    bogus: 1\n"))
    done = run_cli(["validate", "--format", "junit", str(good), str(bad)])
    assert done.exit_code == 1
    root = ET.fromstring(done.stdout.encode())
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (suite,) = list(root)
    assert suite.tag == "testsuite" and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {os.path.normpath(c.get("name")): c for c in suite}
    assert set(cases) == {str(good), str(bad)} and all(c.tag == "testcase" for c in suite)
    assert list(cases[str(good)]) == [] and cases[str(bad)].get("file") == cases[str(bad)].get("name")
    (failure,) = list(cases[str(bad)])
    assert failure.tag == "failure" and failure.get("type") == "error"
    assert failure.get("message").startswith(f"{bad}/app.yaml:9: spec.model.bogus:")
    assert failure.text.startswith(f"{bad}/app.yaml:9: spec.model.bogus:")


def test_validate_junit_escapes_hostile_text(tmp_path: Path) -> None:
    """Markup, controls (ESC), line breaks and XML's forbidden characters in a problem stay text."""
    name = "x<y>&\"'\x1b[31m\u202e\ufffe\n</failure>"
    app = _app(tmp_path / "bad", SKLEARN_MODEL.replace("sklearn\n", f"sklearn\n    {json.dumps(name)}: 1\n"))
    done = run_cli(["validate", "--format", "junit", str(app)])
    assert done.exit_code == 1
    failure = ET.fromstring(done.stdout.encode()).find("testsuite/testcase/failure")
    assert failure is not None and len(list(failure)) == 0
    for text in (failure.text, failure.get("message")):
        assert 'x<y>&"' in text and "\\x1b[31m" in text and "\\u202e" in text and "\\ufffe" in text
        assert "\\n</failure>" in text and "\x1b" not in text and "\n" not in text.strip()
