"""Decoding the Application's plugin parameters: ARGOCD_APP_PARAMETERS first, PARAM_* otherwise."""

from __future__ import annotations

import json

import pytest

from cmp.argocd import params
from cmp.problems import UsageError


@pytest.mark.parametrize("name,escaped", [
    ("namespace", "NAMESPACE"),
    ("kustomize-timeout", "KUSTOMIZE_TIMEOUT"),
    ("app.kubernetes.io/part-of", "APP_KUBERNETES_IO_PART_OF"),
    ("a b", "A_B"),
])
def test_escape_name_matches_argo_cd(name: str, escaped: str) -> None:
    assert params.escape_name(name) == escaped
    assert params.param_env(name) == "PARAM_" + escaped


def test_json_is_the_source_when_present() -> None:
    env = {"ARGOCD_APP_PARAMETERS": json.dumps([{"name": "namespace", "string": "from-json"}]),
           "PARAM_NAMESPACE": "from-env", "PARAM_KUSTOMIZE_TIMEOUT": "7"}
    assert params.decode(env) == {"namespace": "from-json"}


def test_param_variables_serve_when_there_is_no_json() -> None:
    env = {"PARAM_NAMESPACE": "ns", "PARAM_ALLOW_EMPTY": "true", "PARAM_UNRELATED": "x"}
    assert params.decode(env) == {"allow-empty": "true", "namespace": "ns"}


@pytest.mark.parametrize("text", ["null", "", "[]"])
def test_no_parameters(text: str) -> None:
    assert params.decode({"ARGOCD_APP_PARAMETERS": text}) == {}


def test_unknown_parameter_is_an_error_with_a_suggestion() -> None:
    env = {"ARGOCD_APP_PARAMETERS": '[{"name":"namepsace","string":"x"}]'}
    with pytest.raises(UsageError) as info:
        params.decode(env)
    assert "unknown parameter 'namepsace' (did you mean 'namespace'?)" in str(info.value)


@pytest.mark.parametrize("entry", [
    {"name": "namespace", "array": ["a"]},
    {"name": "namespace", "map": {"a": "b"}},
    {"name": "namespace", "string": "a", "map": {}},
    {"name": "namespace"},
])
def test_only_string_values_are_accepted(entry: dict) -> None:
    with pytest.raises(UsageError, match="takes a string"):
        params.decode({"ARGOCD_APP_PARAMETERS": json.dumps([entry])})


@pytest.mark.parametrize("text,message", [
    ("{not json", "not valid JSON"),
    ('{"name": "namespace"}', "must be a JSON list"),
    ('[{"string": "x"}]', "every entry needs a name"),
])
def test_malformed_json(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        params.decode({"ARGOCD_APP_PARAMETERS": text})


def test_every_bad_entry_is_reported() -> None:
    env = {"ARGOCD_APP_PARAMETERS": '[{"name":"x","string":"1"},{"name":"y","string":"2"}]'}
    with pytest.raises(UsageError) as info:
        params.decode(env)
    assert len(info.value.problems) == 2
