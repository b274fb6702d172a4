"""Tests for cmp.validate: CRD schema validation of KServe objects."""

from __future__ import annotations

import copy
import json
import marshal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cmp.catalog import load_catalog
from cmp import validate
from cmp.validate import SchemaError, Validator, compile_node, schema_for, validate_object

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "kserve" / "corpus"
CORPUS_KINDS = {"InferenceService", "ServingRuntime", "ClusterServingRuntime", "InferenceGraph"}

KNOWN_INVALID: dict[str, list[str]] = {
    # v1alpha2 is long gone; the CRD serves only v1beta1.
    "samples/explanation__aif__germancredit__bias-v1alpha1.yaml": [
        "apiVersion: InferenceService is not served as serving.kserve.io/v1alpha2; use serving.kserve.io/v1beta1",
    ],
    # `transformer.custom.container` is the v1alpha2 layout; v1beta1 takes `containers` directly.
    "samples/rollout-strategy__rollout-strategy-example.yaml": ['spec.transformer.custom: unknown field "custom"'],
    "website/ctive-inference-rollout-strategies-rollout-strategy-standard--b7a3a10766.yaml": [
        'spec.transformer.custom: unknown field "custom"',
    ],
    # nodeName belongs under spec.predictor; at spec level it is pruned.
    "samples/v1beta1__torchserve__v1__bloom__bloom-560m.yaml": ['spec.nodeName: unknown field "nodeName"'],
    # The CRD nests these as authenticationRef.authModes and authenticationRef.authenticationRef.name.
    "website/del-serving-predictive-inference-autoscaling-keda-autoscaler--23fa827cc5.yaml": [
        'spec.predictor.autoScaling.metrics[0].external.metric.authModes: unknown field "authModes"',
        'spec.predictor.autoScaling.metrics[0].external.authenticationRef.name: unknown field "name"',
        "spec.predictor.autoScaling.metrics[0].external.authenticationRef.authenticationRef: "
        'missing required field "authenticationRef"',
    ],
    # Excerpts that end in `...` before the (required) containers.
    "website/docs-concepts-resources-servingruntime--1eb381015f.yaml": [
        'spec.containers: missing required field "containers"',
    ],
    "website/docs-concepts-resources-servingruntime--6d251c72ac.yaml": [
        'spec.containers: missing required field "containers"',
    ],
    "website/docs-concepts-resources-servingruntime--e0eecbd66d.yaml": [
        'spec.containers: missing required field "containers"',
    ],
    # Illustrations with placeholders (`steps: [...]`, `routerType: A|B`, `weight: integer`).
    "website/docs-model-serving-inferencegraph-overview--11ba2c8163.yaml": [
        "spec.nodes.choose.steps[0]: expected object, got string",
        "spec.nodes.parallel.steps[0]: expected object, got string",
    ],
    "website/docs-model-serving-inferencegraph-overview--a5d10fbf3e.yaml": [
        'spec.nodes[<node-name>].routerType: unsupported value "Sequence|Switch|Ensemble|Splitter": '
        'supported values: "Sequence", "Splitter", "Ensemble", "Switch"',
        "spec.nodes[<node-name>].steps[0].weight: expected integer, got string",
    ],
    # `predictor:` is not indented under `spec:`, so it is a top-level field.
    "website/el-serving-predictive-inference-logger-request-header-logger--b575ead9d3.yaml": [
        'predictor: unknown field "predictor"',
    ],
    "website/odel-serving-predictive-inference-logger-blob-storage-logger--efcb6d7698.yaml": [
        'predictor: unknown field "predictor"',
    ],
}
"""Published manifests that really are invalid, with the exact errors (each checked by hand)."""


def corpus_files() -> list[str]:
    """Corpus files (relative paths) holding at least one KServe object of interest."""
    if not CORPUS.is_dir():
        return []
    return sorted(
        str(path.relative_to(CORPUS))
        for path in CORPUS.rglob("*.yaml")
        if any(doc.get("kind") in CORPUS_KINDS for doc in load_docs(path))
    )


def load_docs(path: Path) -> list[dict]:
    """The mapping documents of a YAML file."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.load_all(handle, Loader=yaml.CSafeLoader) if isinstance(doc, dict)]


def isvc(predictor: dict, **extra) -> dict:
    """A minimal v1beta1 InferenceService around ``predictor``."""
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "demo", "namespace": "ml"},
        "spec": {"predictor": predictor, **extra},
    }


def sklearn_predictor(**model_fields) -> dict:
    """A predictor using the model spec, with extra model fields."""
    return {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://b/m", **model_fields}}


def messages(obj: dict) -> list[str]:
    """The validation errors of ``obj`` as ``path: message`` strings."""
    return [str(e) for e in validate_object(obj)]


# --- corpus and catalog ------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="reference corpus ../shared/kserve/corpus is not present")
@pytest.mark.parametrize("rel_path", corpus_files())
def test_corpus_file_validates_or_is_known_invalid(rel_path: str) -> None:
    docs = [d for d in load_docs(CORPUS / rel_path) if d.get("kind") in CORPUS_KINDS]
    found = [str(e) for doc in docs for e in validate_object(doc)]
    assert found == KNOWN_INVALID.get(rel_path, [])


@pytest.mark.skipif(not CORPUS.is_dir(), reason="reference corpus ../shared/kserve/corpus is not present")
def test_known_invalid_table_names_existing_files() -> None:
    assert set(KNOWN_INVALID) <= set(corpus_files())


@pytest.mark.parametrize("name", sorted(load_catalog()))
def test_catalog_runtime_validates(name: str) -> None:
    assert validate_object(load_catalog()[name]) == []


# --- lookup ----------------------------------------------------------------------------------


def test_schema_for_known_kinds_is_compiled_once() -> None:
    first = schema_for("serving.kserve.io/v1beta1", "InferenceService")
    assert isinstance(first, Validator)
    assert schema_for("serving.kserve.io/v1beta1", "InferenceService") is first
    for kind in ("ServingRuntime", "ClusterServingRuntime", "InferenceGraph", "ClusterStorageContainer"):
        assert schema_for("serving.kserve.io/v1alpha1", kind) is not None


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [("apps/v1", "Deployment"), ("serving.kserve.io/v1alpha1", "InferenceService"), ("v1", "ConfigMap")],
)
def test_schema_for_unknown_pairs_is_none(api_version: str, kind: str) -> None:
    assert schema_for(api_version, kind) is None


def test_unknown_kinds_and_non_objects_are_not_validated() -> None:
    assert validate_object({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"bogus": 1}}) == []
    assert validate_object({"kind": "InferenceService"}) == []
    assert validate_object(["not", "an", "object"]) == []


def test_unserved_version_of_known_kind_is_reported() -> None:
    obj = isvc(sklearn_predictor())
    obj["apiVersion"] = "serving.kserve.io/v1alpha1"
    assert validate_object(obj) == [
        SchemaError(
            "apiVersion",
            "InferenceService is not served as serving.kserve.io/v1alpha1; use serving.kserve.io/v1beta1",
        )
    ]


# --- negative cases ----------------------------------------------------------------------------


def test_minimal_inference_service_is_valid() -> None:
    assert validate_object(isvc(sklearn_predictor())) == []


def test_wrong_type_is_reported_with_path() -> None:
    obj = isvc({**sklearn_predictor(), "minReplicas": "2"})
    assert messages(obj) == ["spec.predictor.minReplicas: expected integer, got string"]


def test_yaml_boolean_is_not_a_string() -> None:
    obj = isvc(sklearn_predictor(env=[{"name": "DEBUG", "value": True}]))
    assert messages(obj) == ["spec.predictor.model.env[0].value: expected string, got boolean"]


def test_unknown_field_is_reported_at_its_path() -> None:
    obj = isvc(sklearn_predictor(storageUrl="s3://typo"))
    assert validate_object(obj) == [SchemaError("spec.predictor.model.storageUrl",
                                                'unknown field "storageUrl" (did you mean "storageUri"?)')]


def test_unknown_top_level_and_metadata_fields() -> None:
    obj = isvc(sklearn_predictor())
    obj["metadata"]["lables"] = {"a": "b"}
    obj["extra"] = 1
    assert messages(obj) == ['metadata.lables: unknown field "lables" (did you mean "labels"?)',
                             'extra: unknown field "extra"']


def test_enum_violation() -> None:
    obj = isvc({**sklearn_predictor(), "scaleMetric": "gpu"})
    assert messages(obj) == [
        'spec.predictor.scaleMetric: unsupported value "gpu": supported values: "cpu", "memory", "concurrency", "rps"'
    ]


def test_missing_required_field_in_list_item() -> None:
    obj = isvc({"containers": [{"image": "example/model:1.0"}]})
    assert validate_object(obj) == [SchemaError("spec.predictor.containers[0].name", 'missing required field "name"')]


def test_required_field_set_to_null_is_missing() -> None:
    obj = isvc({"containers": [{"name": None, "image": "example/model:1.0"}]})
    assert messages(obj) == ['spec.predictor.containers[0].name: missing required field "name"']


def test_null_optional_field_is_pruned_not_an_error() -> None:
    assert validate_object(isvc(sklearn_predictor(resources=None, args=None))) == []


@pytest.mark.parametrize("quantity", ["1", 2, "500m", "2Gi", "1.5", 4.0])
def test_int_or_string_quantities_are_accepted(quantity) -> None:
    obj = isvc(sklearn_predictor(resources={"limits": {"cpu": quantity, "memory": "2Gi"}}))
    assert validate_object(obj) == []


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (True, "expected integer or string, got boolean"),
        (0.5, "expected integer or string, got number"),
        ("2GB", '"2GB" does not match pattern'),
        ("1\n", '"1\\n" does not match pattern'),
    ],
)
def test_bad_quantities_are_rejected(quantity, message: str) -> None:
    obj = isvc(sklearn_predictor(resources={"limits": {"cpu": quantity}}))
    errors = validate_object(obj)
    assert len(errors) == 1
    assert errors[0].path == "spec.predictor.model.resources.limits.cpu"
    assert errors[0].message.startswith(message)


def test_map_keys_that_are_not_plain_words_are_bracketed() -> None:
    obj = isvc(sklearn_predictor(resources={"limits": {"nvidia.com/gpu": "one"}}))
    assert [e.path for e in validate_object(obj)] == ["spec.predictor.model.resources.limits[nvidia.com/gpu]"]


def test_preserve_unknown_fields_accepts_anything_unknown() -> None:
    obj = {**isvc(sklearn_predictor()), "status": {"url": "http://x", "anything": {"goes": [1, 2]}}}
    assert validate_object(obj) == []


def test_preserve_unknown_fields_still_checks_known_fields() -> None:
    obj = {**isvc(sklearn_predictor()), "status": {"url": 5}}
    assert messages(obj) == ["status.url: expected string, got integer"]


def test_int32_range_and_minimum_maximum() -> None:
    canary = [{"predictor": {"model": {"name": "m", "modelFormat": {"name": "sklearn"}}}, "trafficPercent": 101}]
    obj = isvc(sklearn_predictor(ports=[{"containerPort": 2**40}]), canary=canary)
    assert messages(obj) == [
        "spec.predictor.model.ports[0].containerPort: 1099511627776 is out of range for int32",
        "spec.canary[0].trafficPercent: must be at most 100",
    ]


def test_integral_float_counts_as_integer() -> None:
    assert validate_object(isvc({**sklearn_predictor(), "minReplicas": 2.0})) == []


def test_duplicate_env_names_are_rejected() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    assert messages(isvc(sklearn_predictor(env=env))) == [
        'spec.predictor.model.env[1]: duplicate entry with name="A"'
    ]


def test_list_map_key_defaults_take_part_in_uniqueness() -> None:
    ports = [{"containerPort": 8080}, {"containerPort": 8080, "protocol": "TCP"}]
    assert messages(isvc(sklearn_predictor(ports=ports))) == [
        'spec.predictor.model.ports[1]: duplicate entry with containerPort=8080, protocol="TCP"'
    ]


def test_labels_and_annotations_must_be_strings() -> None:
    obj = isvc(sklearn_predictor())
    obj["metadata"]["annotations"] = {"serving.kserve.io/enable-prometheus-scraping": True}
    obj["metadata"]["labels"] = {"team": "ml"}
    assert messages(obj) == [
        "metadata.annotations[serving.kserve.io/enable-prometheus-scraping]: expected string, got boolean"
    ]


def test_runtime_with_errors_in_several_places() -> None:
    runtime = copy.deepcopy(load_catalog()["kserve-sklearnserver"])
    runtime["spec"]["supportedModelFormats"][0]["priority"] = "high"
    runtime["spec"]["containers"][0]["args"] = "--model_name=x"
    runtime["spec"]["multiModel"] = "false"
    assert sorted(messages(runtime)) == [
        "spec.containers[0].args: expected array, got string",
        "spec.multiModel: expected boolean, got string",
        "spec.supportedModelFormats[0].priority: expected integer, got string",
    ]


# --- combinators, compiled directly ------------------------------------------------------------


def run(schema: dict, value) -> list[str]:
    """Compile ``schema`` and return the messages for ``value``."""
    errors: list[SchemaError] = []
    compile_node(schema)(value, "v", errors)
    return [e.message for e in errors]


def test_any_of_passes_when_one_branch_holds() -> None:
    schema = {"type": "string", "anyOf": [{"pattern": "^a"}, {"pattern": "^b"}]}
    assert run(schema, "bee") == []
    assert run(schema, "cat")[0].startswith("must match any of the allowed schemas")


def test_one_of_requires_exactly_one_branch() -> None:
    schema = {"type": "integer", "oneOf": [{"minimum": 0}, {"maximum": 10}]}
    assert run(schema, 20) == []
    assert run(schema, 5)[0].startswith("must match exactly one of the allowed schemas")


def test_all_of_and_not() -> None:
    schema = {"type": "string", "allOf": [{"minLength": 2}], "not": {"enum": ["no"]}}
    assert run(schema, "x") == ["must be at least 2 characters long"]
    assert run(schema, "no") == ["must not match the excluded schema"]


def test_additional_properties_false_and_schema() -> None:
    closed = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert run(closed, {"a": "x", "b": 1}) == ['unknown field "b"']
    typed_map = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert run(typed_map, {"x": 1, "y": "2"}) == ["expected integer, got string"]


def test_nullable_field_accepts_null_and_array_size_limits() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "string", "nullable": True}}, "required": ["n"]}
    assert run(schema, {"n": None}) == []
    assert run({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "integer"}}, []) == [
        "must have at least 1 items"
    ]


def test_embedded_resource_needs_api_version_and_kind() -> None:
    schema = {"type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True}
    assert run(schema, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}) == []
    assert run(schema, {"metadata": {"name": 1}}) == [
        "expected string, got integer",
        'missing required field "apiVersion"',
        'missing required field "kind"',
    ]


def test_list_type_set_rejects_duplicates() -> None:
    schema = {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
    assert run(schema, ["a", "b", "a"]) == ['duplicate value "a"']


# --- robustness ---------------------------------------------------------------------------------

FIELD_NAMES = ["model", "containers", "name", "image", "resources", "limits", "cpu", "env", "value",
               "ports", "containerPort", "protocol", "args", "minReplicas", "modelFormat", "nvidia.com/gpu"]
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(predictor=YAML_VALUES)
def test_any_yaml_value_gives_errors_located_under_it(predictor) -> None:
    errors = validate_object(isvc(predictor))
    assert all(isinstance(e, SchemaError) for e in errors)
    assert all(e.path == "spec.predictor" or e.path.startswith(("spec.predictor.", "spec.predictor[")) for e in errors)


def test_properties_compiled_on_first_use_give_the_same_result_afterwards() -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 0}}}},
    }
    validator = Validator("example.io/v1", "Thing", schema)
    bad = {"spec": {"replicas": -1, "extra": True}}
    first = validator.validate(bad)
    assert first == validator.validate(bad) == [
        SchemaError("spec.replicas", "must be at least 0"),
        SchemaError("spec.extra", 'unknown field "extra"'),
    ]
    assert validator.validate({"spec": {"replicas": 3}}) == []


SCHEMA_DIR = Path(validate.__file__).parent / "schema"


@pytest.mark.parametrize("json_file", sorted(p.name for p in SCHEMA_DIR.glob("*.json")))
def test_marshal_copy_holds_the_json_schema(json_file: str) -> None:
    """Each schema's pre-built copy (what load_schema reads) is the JSON file's schema, types included
    (``json.dumps`` tells 1 from 1.0 and true, which ``==`` does not)."""
    from_json = json.loads((SCHEMA_DIR / json_file).read_text(encoding="utf-8"))
    copied = marshal.loads((SCHEMA_DIR / json_file.replace(".json", ".marshal")).read_bytes())
    assert json.dumps(copied, sort_keys=True) == json.dumps(from_json, sort_keys=True)
    loaded = validate.load_schema(json_file)
    assert json.dumps(loaded, sort_keys=True) == json.dumps(from_json, sort_keys=True)


def test_load_schema_falls_back_to_json_when_the_copy_is_unreadable(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    name = "inferencegraph.v0.17.1.json"
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / name).write_bytes((SCHEMA_DIR / name).read_bytes())
    (tmp_path / "schema" / name.replace(".json", ".marshal")).write_bytes(b"\xffnot marshal data")
    monkeypatch.setattr(validate, "__file__", str(tmp_path / "validate.py"))
    assert validate.load_schema(name) == json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    (tmp_path / "schema" / name.replace(".json", ".marshal")).unlink()
    assert validate.load_schema(name) == json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
