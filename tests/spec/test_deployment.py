"""ModelDeployment parsing: every problem located, did-you-mean for misspelt keys."""

from __future__ import annotations

import pytest

from cmp.source.yamlio import load_stream
from cmp.spec import deployment


def parse(text: str, sections: frozenset[str] = frozenset()):
    doc = load_stream(text, "m.yaml")[0]
    return deployment.parse(doc, sections)


HEAD = "apiVersion: kserve-cmp.io/v1alpha1\nkind: ModelDeployment\nmetadata:\n  name: m\n"


def messages(text: str, sections: frozenset[str] = frozenset()) -> list[str]:
    return [p.format() for p in parse(text, sections)[1]]


def test_full_document() -> None:
    md, problems = parse(HEAD + """\
  namespace: ns
  labels: {team: a}
spec:
  runtime: kserve-vllmserver
  deploymentMode: RawDeployment
  model:
    format: {name: vLLM, version: "1"}
    storageUri: hf://x/y
    protocolVersion: v2
    args: {--max-model-len: 8192, --dtype: null}
    env: {A: b}
    resources: {limits: {nvidia.com/gpu: "1"}}
  scaling: {minReplicas: 0, maxReplicas: 2, initialScale: 1, scaleMetric: rps, scaleTarget: 5}
  patches:
    - {op: add, path: /spec/predictor/serviceAccountName, value: sa}
""")
    assert problems == []
    assert (md.name, md.namespace, md.runtime, md.deployment_mode) == ("m", "ns", "kserve-vllmserver", "Standard")
    assert (md.model.format_name, md.model.format_version) == ("vLLM", "1")
    assert md.model.env == [{"name": "A", "value": "b"}]
    assert md.model.args == {"--max-model-len": 8192, "--dtype": None}
    assert (md.scaling.min_replicas, md.scaling.max_replicas, md.scaling.initial_scale) == (0, 2, 1)
    assert md.patches[0]["op"] == "add"


def test_did_you_mean_and_missing() -> None:
    assert messages(HEAD + "spec:\n  modle:\n    storageUri: x\n") == [
        "m.yaml:6: spec.modle: unknown field 'modle' (did you mean 'model'?)",
        "m.yaml:5: spec: missing required field 'model'",
    ]


def test_unknown_field_without_close_match_lists_known() -> None:
    out = messages(HEAD + "spec:\n  model: {storageUri: x}\n  zzz: 1\n")
    assert out == ["m.yaml:7: spec.zzz: unknown field 'zzz'; known fields: deploymentMode, kind, model, "
                   "multiNode, patches, pod, prefill, routing, runtime, runtimePatches, scaling, storageInitializer, "
                   "transformer"]


def test_sections_not_supported_yet_unless_registered() -> None:
    text = HEAD + "spec:\n  model: {storageUri: x}\n  multiNode: {tensorParallelSize: 2}\n"
    assert messages(text) == ["m.yaml:7: spec.multiNode: multi-node deployments (multiNode) are not supported yet"]
    assert messages(text, frozenset({"multiNode"})) == []


def test_patch_ops_checked() -> None:
    out = messages(HEAD + "spec:\n  model: {storageUri: x}\n  patches:\n    - {op: mv, path: /a}\n"
                          "    - {op: copy, path: /a}\n    - {op: add, path: /b}\n")
    assert out == [
        "m.yaml:8: spec.patches[0].op: must be one of add, remove, replace, move, copy, test; got 'mv'",
        "m.yaml:9: spec.patches[1]: op 'copy' needs 'from'",
        "m.yaml:10: spec.patches[2]: op 'add' needs 'value'",
    ]


def test_args_items_must_be_strings() -> None:
    out = messages(HEAD + "spec:\n  model:\n    storageUri: x\n    args: [--a, 8080, {b: c}]\n")
    assert out == ["m.yaml:8: spec.model.args[1]: expected a string, got an integer (quote it)",
                   "m.yaml:8: spec.model.args[2]: expected a string, got a mapping (quote it)"]


def test_env_list_form() -> None:
    md, problems = parse(HEAD + "spec:\n  model:\n    storageUri: x\n    env:\n      - name: A\n"
                                "        valueFrom: {secretKeyRef: {name: s, key: k}}\n")
    assert problems == []
    assert md.model.env == [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]


@pytest.mark.parametrize("env, flagged", [
    ("{name: FOO, value: bar}", True),
    ("{name: FOO}", True),
    ("{name: FOO, valueFrom: {secretKeyRef: {name: s, key: k}}}", True),
    ("{FOO: bar, name: x}", False),            # a real variable called name next to another one
    ("{NAME: FOO, VALUE: bar}", False),        # upper-case names are ordinary variables
    ("[{name: FOO, value: bar}]", False),
])
def test_env_entry_given_as_the_mapping_form(env: str, flagged: bool) -> None:
    found = messages(HEAD + f"spec:\n  model:\n    storageUri: s3://b/m\n    env: {env}\n")
    assert any("this is one EnvVar in the name->value mapping form" in m for m in found) is flagged
    if flagged:
        assert found[0].startswith("m.yaml:8: spec.model.env: ")
