"""References left on a generator's name: found by shape (also inside JSON patches), an error naming both names."""

from __future__ import annotations

from cmp.source.generated import references, unrewritten
from cmp.source.yamlio import Doc, load_stream

MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: m}
spec:
  model:
    storageUri: hf://a/b
    env:
    - name: HF_TOKEN
      valueFrom: {secretKeyRef: {name: REF, key: token}}
"""


def secret(name: str, generated: bool = True, namespace: str | None = None) -> Doc:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    doc = Doc({"apiVersion": "v1", "kind": "Secret", "metadata": meta}, "kustomization.yaml")
    doc.generated_by = "SecretGenerator" if generated else None
    return doc


def model(ref: str) -> Doc:
    return load_stream(MODEL.replace("REF", ref), "model.yaml")[0]


def test_reference_to_the_generators_name_is_an_error_naming_both() -> None:
    (problem,) = unrewritten([secret("hf-token-dbdgd77ct8"), model("hf-token")])
    text = problem.format()
    assert text.startswith("model.yaml:9: spec.model.env[0].valueFrom.secretKeyRef.name: Secret 'hf-token' is not "
                           "in the app, which generates 'hf-token-dbdgd77ct8' (kustomization.yaml); nothing references "
                           "it: kustomize did not rewrite this field. Reference it from a field kustomize rewrites")


def test_rewritten_reference_is_fine() -> None:
    assert unrewritten([secret("hf-token-dbdgd77ct8"), model("hf-token-dbdgd77ct8")]) == []


def test_an_object_of_that_name_in_the_app_is_what_it_means() -> None:
    assert unrewritten([secret("hf-token-dbdgd77ct8"), secret("hf-token", generated=False), model("hf-token")]) == []


def test_without_a_hash_suffix_nothing_is_generated() -> None:
    assert unrewritten([secret("hf-token"), model("hf-token")]) == []


def test_other_references_do_not_excuse_this_one() -> None:
    patched = load_stream(MODEL.replace("REF", "hf-token-dbdgd77ct8") + """\
  patches:
  - op: add
    path: /spec/predictor/imagePullSecrets
    value: [{name: hf-token}]
""", "model.yaml")[0]
    (problem,) = unrewritten([secret("hf-token-dbdgd77ct8"), patched])
    assert problem.format().startswith("model.yaml:13: spec.patches[0].value[0].name: Secret 'hf-token'")
    assert "other fields reference it" in problem.message


def test_shapes() -> None:
    obj = {
        "spec": {
            "containers": [{"env": [{"valueFrom": {"configMapKeyRef": {"name": "c1"}}}],
                            "envFrom": [{"secretRef": {"name": "s1"}}, {"configMapRef": {"name": "c2"}}]}],
            "volumes": [{"secret": {"secretName": "s2"}}, {"configMap": {"name": "c3"}},
                        {"projected": {"sources": [{"secret": {"name": "s3"}}]}}],
            "imagePullSecrets": [{"name": "s4"}],
            "storageInitializer": {"imagePullSecrets": ["s5"]},
            "patches": [{"op": "add", "path": "/spec/predictor/volumes/-", "value": {"secret": {"secretName": "s6"}}},
                        {"op": "add", "path": "/spec/predictor/imagePullSecrets/0/name", "value": "s7"},
                        {"op": "add", "path": "/spec/predictor/serviceAccountName", "value": "sa"}],
            "name": "not-a-reference",
        }
    }
    found = sorted((kind, name) for kind, name, _ in references(obj))
    assert found == [("ConfigMap", "c1"), ("ConfigMap", "c2"), ("ConfigMap", "c3"),
                     ("Secret", "s1"), ("Secret", "s2"), ("Secret", "s3"), ("Secret", "s4"), ("Secret", "s5"),
                     ("Secret", "s6"), ("Secret", "s7")]


def test_a_name_prefix_is_seen_through_when_nothing_references_the_generated_name() -> None:
    (problem,) = unrewritten([secret("dev-hf-token-dbdgd77ct8"), model("hf-token")])
    assert "generates 'dev-hf-token-dbdgd77ct8'" in problem.message
    # ... but a generated name that something references is not a tell-tale for a name inside it
    other = load_stream(MODEL.replace("REF", "dev-hf-token-dbdgd77ct8").replace("name: m}", "name: n}"), "n.yaml")
    assert unrewritten([secret("dev-hf-token-dbdgd77ct8"), model("hf-token"), *other]) == []


def test_different_namespaces_are_named_as_the_cause() -> None:
    text = MODEL.replace("REF", "hf-token").replace("metadata: {name: m}", "metadata: {name: m, namespace: llm}")
    (problem,) = unrewritten([secret("hf-token-dbdgd77ct8"), load_stream(text, "model.yaml")[0]])
    assert "kustomize rewrites a reference only within one namespace, and this object is in llm while the " \
           "generated object is in no namespace: set namespace: in the kustomization" in problem.message
