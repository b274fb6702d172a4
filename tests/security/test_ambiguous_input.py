"""Plain scalars YAML 1.1, YAML 1.2 and Kubernetes' decoder read differently are errors where
kserve-cmp reads them (ModelDeployments, ClusterProfiles, KServe objects), at their line.

PyYAML (YAML 1.1) turned an args value ``0755`` into ``--umask=493``, ``12:30`` into ``750``,
``3.10`` into ``3.1`` and an env key ``ON`` into ``true``. Each case runs the CLI as a
subprocess killed after 5 s.
"""

from __future__ import annotations

import pytest

from cmp.source.yamlio import plain_ambiguity
from helpers import have_kustomize
from kube_decode import kube_decode, same

MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: iris
  namespace: models
  annotations: {{kserve-cmp.io/unchecked-flags: "--umask,--at,--version,--threshold,--mode,--pad,--ratio,--count,--flag,--n,--x"}}
spec:
  runtime: kserve-sklearnserver
  scaling: {{minReplicas: 1, maxReplicas: 2}}
  model:
    format: sklearn
    storageUri: "gs://bucket/iris"
    {field}
"""


@pytest.mark.parametrize(("field", "text"), [
    ("args: {--umask: 0755}", "0755"),
    ("args: {--at: 12:30}", "12:30"),
    ("args: {--version: 3.10}", "3.10"),
    ("args: {--threshold: 1e3}", "1e3"),
    ("args: {--mode: 0o17}", "0o17"),
    ("args: {--pad: 08}", "08"),
    ("args: {--ratio: -.5}", "-.5"),
    ("args: {--count: 1_000}", "1_000"),
    ("args: {--flag: yes}", "yes"),
    ("args: {--flag: Off}", "Off"),
    ("env: {ON: x}", "ON"),
    ("env: {FLAG: y}", "y"),
    ("env: {FLAG: N}", "N"),
    ("args: [--x, 0755]", "0755"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 8 else None)
def test_ambiguous_plain_scalar_is_an_error_at_its_line(scratch, field: str, text: str) -> None:
    scratch.write("repo/app/model.yaml", MODEL.format(field=field))
    scratch.render("app").assert_clean_error(f"app/model.yaml:13: spec.model.", f"ambiguous YAML scalar `{text}`: "
                                                                              f"quote it")


def test_ambiguous_label_is_an_error(scratch) -> None:
    scratch.write("repo/app/model.yaml", MODEL.format(field="").replace("  namespace: models\n",
                                                                         "  namespace: models\n  labels: {canary: n}\n"))
    scratch.render("app").assert_clean_error("app/model.yaml:6: metadata.labels.canary: ambiguous YAML scalar `n`")


def test_quoted_values_keep_their_text(scratch) -> None:
    field = ('args: {--umask: "0755", --at: "12:30", --version: "3.10", --threshold: "1e3"}\n'
             '    env: {"ON": "y"}')
    scratch.write("repo/app/model.yaml", MODEL.format(field=field))
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    for token in ("--umask=0755", "--at=12:30", "--version=3.10", "--threshold=1e3"):
        assert f"- {token}\n" in outcome.stdout
    assert "- name: 'ON'\n        value: 'y'\n" in outcome.stdout


def test_numbers_and_booleans_where_they_are_meant(scratch) -> None:
    """minReplicas: 1, a store_true flag: true, numbers that print as written: no error."""
    scratch.write("repo/app/model.yaml", MODEL.format(field="args: {--n: 8192, --ratio: 0.9, --flag: true}"))
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "- --n=8192\n" in outcome.stdout and "- --ratio=0.9\n" in outcome.stdout
    assert "- --flag\n" in outcome.stdout


def test_ambiguous_scalar_in_a_raw_inferenceservice(scratch) -> None:
    scratch.write("repo/app/isvc.yaml", """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: iris, namespace: models, labels: {canary: Y}}
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://bucket/iris
""")
    scratch.render("app").assert_clean_error("app/isvc.yaml:3: metadata.labels.canary: ambiguous YAML scalar `Y`")


def test_pass_through_objects_are_left_alone(scratch) -> None:
    """An object kserve-cmp never reads keeps what the loader made of it; the output stays type-stable."""
    scratch.write("repo/app/model.yaml", MODEL.format(field=""))
    scratch.write("repo/app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: models}\n"
                                      "data: {mode: '0755', at: '12:30'}\n")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "mode: '0755'" in outcome.stdout and "at: '12:30'" in outcome.stdout


WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: models}
spec: {a: 1e3, b: 0o17, c: 12:30, d: 08, e: -.5, f: 0755, g: y, h: Off, i: 1_000, j: 3.10, k: .5, l: 0x1F, m: 2001-12-14,
       n: ~, o: "0755", p: +12, q: 0b101, r: 1e400, s: x}
"""


def test_pass_through_objects_decode_as_kubernetes_decodes_the_file(scratch) -> None:
    """A plain directory's object kserve-cmp never reads reaches the cluster as if applied directly."""
    scratch.write("repo/app/model.yaml", MODEL.format(field=""))
    scratch.write("repo/app/widget.yaml", WIDGET)
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    ours = next(o for o in kube_decode(outcome.stdout) if o["kind"] == "Widget")
    direct = kube_decode(WIDGET)[0]
    assert same(direct, ours) == []
    assert ours["spec"]["g"] is True and ours["spec"]["f"] == 493 and ours["spec"]["c"] == "12:30"


needs_kustomize = pytest.mark.skipif(not have_kustomize(), reason="needs kustomize or kubectl")


@needs_kustomize
def test_ambiguous_scalar_through_kustomize_is_located_in_its_file(scratch) -> None:
    """kustomize prints 0755 as 493: the check reads the source file as the user wrote it."""
    scratch.write("repo/app/model.yaml", MODEL.format(field="args: {--umask: 0755}"))
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\n")
    scratch.render("app").assert_clean_error("app/model.yaml:13: spec.model.args.--umask: ambiguous YAML scalar "
                                             "`0755`: quote it")


@needs_kustomize
def test_a_patch_that_quotes_the_value_fixes_it(scratch) -> None:
    scratch.write("repo/app/model.yaml", MODEL.format(field="args: {--umask: 0755}"))
    scratch.write("repo/app/kustomization.yaml", """\
resources: [model.yaml]
patches:
- target: {kind: ModelDeployment, name: iris}
  patch: |
    - op: replace
      path: /spec/model/args/--umask
      value: "0755"
""")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "- --umask=0755\n" in outcome.stdout


@pytest.mark.parametrize("text", ["0755", "08", "0o17", "0b101", "12:30", "1e3", "-1E+3", "1_000", "-.5", "+.5",
                                  "y", "N", "yes", "No", "ON", "off", "oFf"])
def test_the_rule_names_every_disagreement(text: str) -> None:
    assert plain_ambiguity(text, None) == (text, "ambiguous")


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("0", 0), ("-3", -3), ("0.9", 0.9), ("8192", 8192),
                                             ("true", True), ("false", False), ("abc", "abc"), ("0x1F", 31)])
def test_what_every_resolver_reads_alike_passes(text: str, value: object) -> None:
    flag = plain_ambiguity(text, value)
    assert flag is None or flag[1] == "number"  # 0x1F: the same number everywhere, printed as 31
