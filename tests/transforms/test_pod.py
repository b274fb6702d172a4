"""The pod transform: spec.pod on the predictor (and a multi-node predictor's workers), spec.transformer.pod
on the transformer, each field with where it came from; Knative's feature flags; patches after it."""

from __future__ import annotations

import pytest

from cmp.pipeline import render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from cmp.transforms import pod as pod_transform
from cmp.validate import validate_object

HEAD = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: bert, namespace: nlp}
spec:
  runtime: kserve-sklearnserver
  deploymentMode: MODE
  model: {storageUri: 's3://m/b'}
  scaling: {minReplicas: 1, maxReplicas: 2}
"""

FEATURES = """\
---
apiVersion: kserve-cmp.io/v1alpha1
kind: ClusterProfile
metadata: {name: c}
spec:
  knative:
    configFeatures:
"""


def render(text: str, mode: str = "Standard"):
    return render_docs(load_stream(HEAD.replace("MODE", mode) + text, "model.yaml"), Settings())


def isvc(text: str, mode: str = "Standard") -> dict:
    return next(o for o in render(text, mode).objects if o["kind"] == "InferenceService")


def errors(text: str, mode: str = "Standard") -> list[str]:
    with pytest.raises(CmpError) as err:
        render(text, mode)
    return [p.format() for p in err.value.problems if p.level == "error"]


POD = """\
  pod:
    serviceAccountName: s3-reader
    nodeSelector: {pool: gpu}
    tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
    affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}}}
    priorityClassName: high
    imagePullSecrets: [{name: registry}]
    labels: {team: nlp}
    annotations: {note: x}
"""


def test_fields_land_where_kserve_reads_them_with_their_source() -> None:
    result = render(POD)
    obj = next(o for o in result.objects if o["kind"] == "InferenceService")
    predictor = obj["spec"]["predictor"]
    assert predictor["serviceAccountName"] == "s3-reader"
    assert predictor["nodeSelector"] == {"pool": "gpu"}
    assert predictor["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert predictor["priorityClassName"] == "high"
    assert predictor["imagePullSecrets"] == [{"name": "registry"}]
    assert (predictor["labels"], predictor["annotations"]) == ({"team": "nlp"}, {"note": "x"})
    assert "affinity" in predictor and "workerSpec" not in predictor
    assert validate_object(obj) == []
    records = {r.path: r for r in result.provenance.for_object("InferenceService/nlp/bert")}
    for line, field in enumerate(("serviceAccountName", "nodeSelector", "tolerations", "affinity",
                                  "priorityClassName", "imagePullSecrets", "labels", "annotations"), start=10):
        assert records[f"spec.predictor.{field}"].source == f"model.yaml:{line}"
        assert records[f"spec.predictor.{field}"].rule == "pod"


MULTINODE = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: bert, namespace: nlp}
spec:
  model:
    format: huggingface
    storageUri: pvc://m/b
    resources: {requests: {nvidia.com/gpu: "1"}, limits: {nvidia.com/gpu: "1"}}
  multiNode: {tensorParallelSize: 1, pipelineParallelSize: 2}
"""


def test_multinode_workers_get_the_podspec_fields_not_the_metadata() -> None:
    result = render_docs(load_stream(MULTINODE + POD, "model.yaml"), Settings())
    obj = next(o for o in result.objects if o["kind"] == "InferenceService")
    worker = obj["spec"]["predictor"]["workerSpec"]
    for field in ("serviceAccountName", "nodeSelector", "tolerations", "affinity", "priorityClassName",
                  "imagePullSecrets"):
        assert worker[field] == obj["spec"]["predictor"][field], field
    assert "labels" not in worker and "annotations" not in worker
    record = result.provenance.latest("InferenceService/nlp/bert", "spec.predictor.workerSpec.tolerations")
    assert record.source == "model.yaml:13" and "copied to the workers" in record.rule


def test_pull_secrets_join_the_storage_initializers_once() -> None:
    obj = isvc("""\
  storageInitializer: {imagePullSecrets: [mirror, shared]}
  pod:
    imagePullSecrets: [{name: shared}, {name: team}]
""")
    assert obj["spec"]["predictor"]["imagePullSecrets"] == [{"name": "mirror"}, {"name": "shared"}, {"name": "team"}]


def test_transformer_pod_is_its_own() -> None:
    obj = isvc("""\
  pod: {serviceAccountName: predictor-sa}
  transformer:
    image: t:1
    pod:
      serviceAccountName: transformer-sa
      tolerations: [{key: arch, operator: Equal, value: arm64, effect: NoSchedule}]
      labels: {role: tokenizer}
""")
    predictor, transformer = obj["spec"]["predictor"], obj["spec"]["transformer"]
    assert predictor["serviceAccountName"] == "predictor-sa" and "tolerations" not in predictor
    assert transformer["serviceAccountName"] == "transformer-sa"
    assert transformer["tolerations"][0]["value"] == "arm64"
    assert transformer["labels"] == {"role": "tokenizer"}
    assert transformer["containers"][0]["image"] == "t:1"


def test_patches_run_after_and_win() -> None:
    obj = isvc("""\
  pod: {serviceAccountName: a, nodeSelector: {pool: gpu}}
  patches:
    - {op: replace, path: /spec/predictor/serviceAccountName, value: b}
    - {op: remove, path: /spec/predictor/nodeSelector}
""")
    assert obj["spec"]["predictor"]["serviceAccountName"] == "b" and "nodeSelector" not in obj["spec"]["predictor"]


@pytest.mark.parametrize("field, key", sorted(pod_transform.KNATIVE_FEATURES.items()))
def test_knative_needs_the_feature_flag(field: str, key: str) -> None:
    body = POD.replace("    serviceAccountName: s3-reader\n", "")
    found = [e for e in errors(body, "Knative") if f"spec.pod.{field}:" in e]
    assert len(found) == 1 and f"unless its config-features enables {key} (Knative default {key}: Disabled (no " \
                               "cluster profile))" in found[0]
    enabled = FEATURES + "".join(f"      {k}: {v}\n" for k, v in zip(sorted(pod_transform.KNATIVE_FEATURES.values()),
                                                                     ("Enabled", "allowed", "ENABLED", "enabled")))
    assert isvc(body + enabled, "Knative")["spec"]["predictor"][field]
    disabled = FEATURES + f"      {key}: disabled\n"
    message = next(e for e in errors(body + disabled, "Knative") if f"spec.pod.{field}:" in e)
    assert f"({key}: disabled at model.yaml:" in message


def test_knative_always_admits_service_account_and_pull_secrets() -> None:
    spec = isvc("  pod: {serviceAccountName: a, imagePullSecrets: [{name: b}], labels: {c: d}}\n", "Knative")["spec"]
    assert spec["predictor"]["serviceAccountName"] == "a"


def test_replica_annotations_in_pod_annotations_are_folded_and_located() -> None:
    obj = isvc("  pod: {annotations: {autoscaling.knative.dev/max-scale: '2', autoscaling.knative.dev/target: '5'}}\n",
               "Knative")
    assert obj["spec"]["predictor"]["maxReplicas"] == 2
    assert obj["spec"]["predictor"]["annotations"] == {"autoscaling.knative.dev/target": "5"}
    assert errors("  pod: {annotations: {autoscaling.knative.dev/max-scale: '3'}}\n", "Knative") == [
        "model.yaml:9: spec.pod.annotations.autoscaling.knative.dev/max-scale: autoscaling.knative.dev/max-scale 3 "
        "conflicts with maxReplicas 2 (model.yaml:8)"]
    assert errors("  pod: {annotations: {autoscaling.knative.dev/target: '5'}}\n") == [
        "model.yaml:9: spec.pod.annotations.autoscaling.knative.dev/target: autoscaling.knative.dev/target has no "
        "effect in Standard mode; remove it"]


def test_affinity_is_checked_against_the_target_releases_crd() -> None:
    assert errors("  pod: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {}}}}\n") == [
        "model.yaml:9: spec.pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
        "missing required field \"nodeSelectorTerms\""]


@pytest.mark.parametrize("text, parts", [("", ()), (".a", ("a",)), (".a[0].b", ("a", 0, "b")),
                                         ("[x.y/z].c", ("x.y/z", "c"))])
def test_path_parts(text: str, parts: tuple) -> None:
    assert pod_transform.path_parts(text) == parts
