"""``spec.pod`` parsing: each field checked as Kubernetes checks it, every problem located."""

from __future__ import annotations

import pytest

from cmp.source.yamlio import load_stream
from cmp.spec import pod
from cmp.spec.reader import Reader


def read(body: str, **kwargs) -> tuple[pod.PodFields, list[str]]:
    doc = load_stream("pod:\n" + body, "m.yaml")[0]
    r = Reader(doc)
    fields = pod.read_pod(r, ("pod",), doc.obj["pod"], **kwargs)
    return fields, [p.format() for p in r.problems]


def test_every_field_is_kept_in_kserves_spelling() -> None:
    fields, problems = read("""\
  serviceAccountName: s3-reader
  priorityClassName: system.high
  nodeSelector: {nvidia.com/gpu.product: NVIDIA-L4, pool: ""}
  tolerations:
    - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
    - {key: dedicated, value: inference, effect: NoExecute, tolerationSeconds: 30}
    - {operator: Exists}
  affinity: {nodeAffinity: {}}
  imagePullSecrets: [{name: a}, {name: b}]
  labels: {team: nlp, example.com/tier: gold}
  annotations: {prometheus.io/scrape: "true", Example.COM/Note: "any text at all"}
""")
    assert problems == []
    assert fields.spec["serviceAccountName"] == "s3-reader"
    assert fields.spec["priorityClassName"] == "system.high"
    assert fields.spec["tolerations"][1] == {"key": "dedicated", "value": "inference", "effect": "NoExecute",
                                             "tolerationSeconds": 30}
    assert fields.spec["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]
    assert fields.spec["affinity"] == {"nodeAffinity": {}}
    assert fields.labels == {"team": "nlp", "example.com/tier": "gold"}
    assert fields.annotations["Example.COM/Note"] == "any text at all"
    assert list(fields.spec) == ["serviceAccountName", "nodeSelector", "tolerations", "affinity",
                                 "priorityClassName", "imagePullSecrets"]


def test_nothing_asked_is_empty() -> None:
    fields, problems = read("  labels: {}\n")
    assert problems == [] and not fields


@pytest.mark.parametrize("body, message", [
    ("  serviceAcountName: x\n", "m.yaml:2: pod.serviceAcountName: unknown field 'serviceAcountName' "
                                 "(did you mean 'serviceAccountName'?)"),
    ("  serviceAccountName: S3\n", "m.yaml:2: pod.serviceAccountName: 'S3' is not a valid name (RFC 1123 subdomain: "
                                   "at most 253 lower-case letters, digits, '-' and '.', starting and ending with a "
                                   "letter or digit)"),
    ("  priorityClassName: -high\n", "m.yaml:2: pod.priorityClassName: '-high' is not a valid name"),
    ("  priorityClassName: 1\n", "m.yaml:2: pod.priorityClassName: expected a string, got an integer"),
    ("  tolerations: {key: a}\n", "m.yaml:2: pod.tolerations: expected a list of tolerations, got a mapping"),
    ("  tolerations: [{key: a, operator: equal}]\n",
     "m.yaml:2: pod.tolerations[0].operator: unknown toleration operator 'equal' (did you mean 'Equal'?); "
     "Kubernetes accepts Equal, Exists"),
    ("  tolerations: [{key: a, operator: Gt}]\n", "unknown toleration operator 'Gt'; Kubernetes accepts Equal, Exists"),
    ("  tolerations: [{key: a, effect: noexecute}]\n", "(did you mean 'NoExecute'?)"),
    ("  tolerations: [{key: a, efect: NoSchedule}]\n", "unknown field 'efect' (did you mean 'effect'?)"),
    ("  tolerations: [{value: x}]\n", "m.yaml:2: pod.tolerations[0]: a toleration without a key must have operator "
                                      "Exists"),
    ("  tolerations: [{key: a, operator: Exists, value: x}]\n", "operator Exists must not have a value"),
    ("  tolerations: [{key: a, value: 'a b'}]\n", "'a b' is not a valid toleration value"),
    ("  tolerations: [{key: 'a b', operator: Exists}]\n", "'a b' is not a valid taint key"),
    ("  tolerations: [{key: a, operator: Exists, tolerationSeconds: 5}]\n", "tolerationSeconds needs effect NoExecute"),
    ("  nodeSelector: {a: 1}\n", "m.yaml:2: pod.nodeSelector.a: expected a string, got an integer (quote it)"),
    ("  nodeSelector: {/a: b}\n", "'/a' is not a valid label key: the prefix '' must be a DNS subdomain"),
    ("  nodeSelector: {Example.com/a: b}\n", "the prefix 'Example.com' must be a DNS subdomain"),
    ("  nodeSelector: {a: " + "x" * 64 + "}\n", "is not a valid label value"),
    ("  labels: {component: x}\n", "KServe sets the pod label 'component' itself"),
    ("  labels: {serving.kserve.io/inferenceservice: x}\n", "KServe sets the pod label"),
    ("  annotations: {'-bad': x}\n", "'-bad' is not a valid annotation key"),
    ("  annotations: {modelFormat: x}\n", "KServe removes 'modelFormat' from the pod's annotations"),
    ("  annotations: {serving.kserve.io/deploymentMode: Standard}\n", "set spec.deploymentMode"),
    ("  imagePullSecrets: a\n", "expected a list of {name: SECRET}, got a string"),
    ("  imagePullSecrets: [a]\n", "expected {name: a}"),
    ("  imagePullSecrets: [{name: a}, {name: a}]\n", "m.yaml:2: pod.imagePullSecrets[1].name: 'a' is listed twice"),
    ("  imagePullSecrets: [{secret: a}]\n", "unknown field 'secret'"),
    ("  affinity: [a]\n", "m.yaml:2: pod.affinity: expected an Affinity mapping, got a list"),
])
def test_each_mistake_is_located(body: str, message: str) -> None:
    _, problems = read(body)
    assert any(message in p for p in problems), problems


def test_app_label_is_kserves_in_standard_mode_only() -> None:
    assert read("  labels: {app: x}\n", mode="Knative")[1] == []
    assert "KServe sets the pod label 'app'" in read("  labels: {app: x}\n", mode="Standard")[1][0]


def test_annotations_have_a_total_size() -> None:
    _, problems = read(f"  annotations: {{a: {'x' * (256 * 1024)}}}\n")
    assert problems == [f"m.yaml:2: pod.annotations: the annotations take {256 * 1024 + 1} bytes; Kubernetes allows "
                        f"{256 * 1024}"]


def test_affinity_problems_come_from_the_check_and_are_located_below_it() -> None:
    seen = []

    def check(value: dict) -> list[tuple[tuple, str]]:
        seen.append(value)
        return [(("nodeAfinity",), "unknown field")]

    fields, problems = read("  affinity:\n    nodeAfinity: {}\n", check_affinity=check)
    assert seen == [{"nodeAfinity": {}}]
    assert problems == ["m.yaml:3: pod.affinity.nodeAfinity: unknown field"]
    assert "affinity" not in fields.spec


@pytest.mark.parametrize("key, ok", [("a", True), ("a.b/c-d_e", True), ("a/b/c", False), ("-a", False),
                                     ("x" * 63, True), ("x" * 64, False), ("a." * 120 + "a/b", True), ("a/", False)])
def test_qualified_names(key: str, ok: bool) -> None:
    assert (pod.qualified_name_problem(key) is None) == ok
