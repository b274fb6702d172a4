"""Settings precedence in the sidecar: parameter > ARGOCD_ENV_ > sidecar env > default."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmp.argocd.policy import application_may_set
from cmp.argocd.sources import resolve
from cmp.problems import UsageError
from cmp.settings import SETTINGS, Settings


def _params(**values: str) -> str:
    return json.dumps([{"name": k.replace("_", "-"), "string": v} for k, v in values.items()])


def test_nothing_set_gives_the_defaults() -> None:
    resolved = resolve({})
    assert resolved.settings == Settings()
    assert resolved.summary() == "all defaults"
    assert resolved.render_args() == []


def test_parameter_beats_application_env_beats_sidecar_env() -> None:
    env = {"KSERVE_CMP_KUSTOMIZE_TIMEOUT": "10", "ARGOCD_ENV_KSERVE_CMP_KUSTOMIZE_TIMEOUT": "20",
           "ARGOCD_APP_PARAMETERS": _params(kustomize_timeout="30")}
    assert resolve(env).settings.kustomize_timeout == 30
    del env["ARGOCD_APP_PARAMETERS"]
    assert resolve(env).settings.kustomize_timeout == 20
    del env["ARGOCD_ENV_KSERVE_CMP_KUSTOMIZE_TIMEOUT"]
    resolved = resolve(env)
    assert resolved.settings.kustomize_timeout == 10
    assert resolved.origins["kustomize-timeout"] == "KSERVE_CMP_KUSTOMIZE_TIMEOUT"


def test_destination_namespace_is_the_namespace_default() -> None:
    resolved = resolve({"ARGOCD_APP_NAMESPACE": "models-prod"})
    assert resolved.settings.namespace == "models-prod"
    assert resolved.origins["namespace"] == "ARGOCD_APP_NAMESPACE"
    assert resolve({"ARGOCD_APP_NAMESPACE": "dest", "PARAM_NAMESPACE": "param"}).settings.namespace == "param"


@pytest.mark.parametrize("env, namespace, origin", [
    # the Application's own settings, then its destination, then the sidecar's default
    ({"PARAM_NAMESPACE": "param", "ARGOCD_ENV_KSERVE_CMP_NAMESPACE": "appenv", "ARGOCD_APP_NAMESPACE": "dest",
      "KSERVE_CMP_NAMESPACE": "side"}, "param", "parameter namespace"),
    ({"ARGOCD_ENV_KSERVE_CMP_NAMESPACE": "appenv", "ARGOCD_APP_NAMESPACE": "dest", "KSERVE_CMP_NAMESPACE": "side"},
     "appenv", "ARGOCD_ENV_KSERVE_CMP_NAMESPACE"),
    # one admin-wide default must not move an Application that names its destination
    ({"ARGOCD_APP_NAMESPACE": "dest", "KSERVE_CMP_NAMESPACE": "side"}, "dest", "ARGOCD_APP_NAMESPACE"),
    ({"ARGOCD_APP_NAMESPACE": "", "KSERVE_CMP_NAMESPACE": "side"}, "side", "KSERVE_CMP_NAMESPACE"),
    ({}, "", "default"),
])
def test_namespace_precedence(env: dict[str, str], namespace: str, origin: str) -> None:
    resolved = resolve(env)
    assert (resolved.settings.namespace, resolved.origins["namespace"]) == (namespace, origin)


def test_empty_values_count_as_not_set() -> None:
    env = {"PARAM_KUSTOMIZE_TIMEOUT": "", "ARGOCD_ENV_KSERVE_CMP_KUSTOMIZE_TIMEOUT": "",
           "KSERVE_CMP_KUSTOMIZE_TIMEOUT": "12", "ARGOCD_APP_NAMESPACE": ""}
    resolved = resolve(env)
    assert resolved.settings.kustomize_timeout == 12
    assert resolved.settings.namespace == ""


def test_bad_values_name_their_source_and_are_all_reported() -> None:
    env = {"ARGOCD_APP_PARAMETERS": _params(kustomize_timeout="soon"),
           "ARGOCD_ENV_KSERVE_CMP_ALLOW_EMPTY": "maybe"}
    with pytest.raises(UsageError) as info:
        resolve(env)
    text = str(info.value)
    assert "expected an integer, got 'soon' (from parameter kustomize-timeout)" in text
    assert "expected true or false, got 'maybe' (from ARGOCD_ENV_KSERVE_CMP_ALLOW_EMPTY)" in text


@pytest.mark.parametrize("key,message", [
    ("ARGOCD_ENV_ARGOCD_ENV_KSERVE_CMP_NAMESPACE", "name it 'KSERVE_CMP_NAMESPACE'"),
    ("ARGOCD_ENV_KSERVE_CMP_NAMESPACES", "did you mean 'KSERVE_CMP_NAMESPACE'?"),
    ("ARGOCD_ENV_NAMESPACE", "name the plugin.env entry 'KSERVE_CMP_NAMESPACE', or set parameter 'namespace'"),
    ("ARGOCD_ENV_KUSTOMIZE_TIMEOUT", "or set parameter 'kustomize-timeout'"),
])
def test_application_env_mistakes_are_errors(key: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve({key: "x"})
    assert message in str(info.value)


def test_unrelated_env_is_ignored() -> None:
    env = {"ARGOCD_ENV_LOG_LEVEL": "debug", "KSERVE_CMP_DEBUG": "1", "PATH": "/bin"}
    assert resolve(env).settings == Settings()


def test_parameter_and_env_mistakes_are_reported_together() -> None:
    env = {"ARGOCD_APP_PARAMETERS": "[{\"name\": \"nope\", \"string\": \"1\"}]",
           "ARGOCD_ENV_ARGOCD_ENV_KSERVE_CMP_NAMESPACE": "x"}
    with pytest.raises(UsageError) as info:
        resolve(env)
    assert len(info.value.problems) == 2


def test_render_args_reproduce_the_settings() -> None:
    env = {"ARGOCD_APP_NAMESPACE": "llm", "KSERVE_CMP_ALLOW_EMPTY": "true",
           "ARGOCD_ENV_KSERVE_CMP_KUSTOMIZE_TIMEOUT": "9"}
    resolved = resolve(env)
    assert resolved.render_args() == ["--namespace", "llm", "--kustomize-timeout", "9", "--allow-empty"]
    assert resolved.summary() == ("namespace=llm (ARGOCD_APP_NAMESPACE), kustomize-timeout=9 "
                                  "(ARGOCD_ENV_KSERVE_CMP_KUSTOMIZE_TIMEOUT), allow-empty=True "
                                  "(KSERVE_CMP_ALLOW_EMPTY)")


_NAME = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)


@given(param=st.one_of(st.none(), _NAME), app=st.one_of(st.none(), _NAME), side=st.one_of(st.none(), _NAME))
def test_the_strongest_set_source_wins(param: str | None, app: str | None, side: str | None) -> None:
    env = {}
    if param is not None:
        env["PARAM_NAMESPACE"] = param
    if app is not None:
        env["ARGOCD_ENV_KSERVE_CMP_NAMESPACE"] = app
    if side is not None:
        env["KSERVE_CMP_NAMESPACE"] = side
    expected = next((v for v in (param, app, side) if v is not None), "")
    assert resolve(env).settings.namespace == expected


def test_every_setting_has_each_source_the_policy_allows() -> None:
    for setting in SETTINGS:
        value = {"bool": "true", "int": "7", "path": "profile.yaml"}.get(setting.kind, "x7")
        for key in (f"PARAM_{setting.name.upper().replace('-', '_')}", "ARGOCD_ENV_" + setting.env, setting.env):
            if key == setting.env or application_may_set(setting):
                assert resolve({key: value}).origins[setting.name] == (key if not key.startswith("PARAM_")
                                                                      else f"parameter {setting.name}")
            else:
                with pytest.raises(UsageError, match="can only be set by the Argo CD admin"):
                    resolve({key: value})
