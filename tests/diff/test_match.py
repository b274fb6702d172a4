"""Pairing objects across renders: identity, then hash-suffix, kind and content renames."""

from __future__ import annotations

from cmp.diff.match import ObjectId, match, object_id, similarity, strip_hash


def _obj(kind: str, name: str, ns: str | None = "ml", api: str = "v1", **spec) -> dict:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": dict(spec)}


def _names(pairs) -> list[tuple]:
    return [(o and o["metadata"]["name"], n and n["metadata"]["name"]) for o, n in pairs]


def test_identity_ignores_the_api_version() -> None:
    old = _obj("InferenceService", "m", api="serving.kserve.io/v1alpha1")
    new = _obj("InferenceService", "m", api="serving.kserve.io/v1beta1")
    assert object_id(old) == object_id(new) == ObjectId("serving.kserve.io", "InferenceService", "ml", "m")
    assert _names(match([old], [new])) == [("m", "m")]


def test_kustomize_hash_suffixes_pair_up() -> None:
    assert strip_hash("cfg-7c2m9tbk6f") == "cfg"
    assert strip_hash("my-model") is None
    pairs = match([_obj("ConfigMap", "cfg-7c2m9tbk6f", a=1)], [_obj("ConfigMap", "cfg-b8h2g4d9mk", a=2)])
    assert _names(pairs) == [("cfg-7c2m9tbk6f", "cfg-b8h2g4d9mk")]


def test_same_name_across_kinds_pairs_up() -> None:
    old = _obj("ServingRuntime", "rt", api="serving.kserve.io/v1alpha1", x=1)
    new = _obj("ClusterServingRuntime", "rt", ns=None, api="serving.kserve.io/v1alpha1", y=2)
    assert _names(match([old], [new])) == [("rt", "rt")]


def test_similar_content_pairs_up_and_dissimilar_does_not() -> None:
    spec = {f"k{i}": i for i in range(10)}
    old = [_obj("ConfigMap", "a", **spec), _obj("Service", "s", port=1)]
    new = [_obj("ConfigMap", "b", **{**spec, "k0": 99}), _obj("Service", "t", other=2)]
    assert _names(match(old, new)) == [("a", "b"), ("s", None), (None, "t")]
    assert similarity(old[0], new[0]) > 0.5


def test_unpaired_objects_are_added_or_removed_in_a_stable_order() -> None:
    pairs = match([_obj("Secret", "z"), _obj("Secret", "y")], [_obj("Service", "x")])
    assert _names(pairs) == [("y", None), ("z", None), (None, "x")]
