"""Diff settings resolve like the sidecar's: parameters > plugin env > sidecar env; options win."""

from __future__ import annotations

import pytest

from cmp.diff.sidecar import diff_settings, sidecar_environ
from cmp.problems import UsageError


def test_parameters_env_and_sidecar_env_in_order() -> None:
    environ = {"KSERVE_CMP_NAMESPACE": "sidecar", "KSERVE_CMP_KUSTOMIZE_TIMEOUT": "40", "HOME": "/x"}
    settings = diff_settings({}, [], ["KSERVE_CMP_NAMESPACE=app"], environ)
    assert (settings.namespace, settings.kustomize_timeout) == ("app", 40)
    settings = diff_settings({}, ["namespace=param"], ["KSERVE_CMP_NAMESPACE=app"], environ)
    assert settings.namespace == "param"
    assert diff_settings({"namespace": "flag"}, ["namespace=param"], [], environ).namespace == "flag"


def test_the_sidecar_sees_argo_cd_variables_only() -> None:
    assert sidecar_environ(["namespace=a=b"], ["X=1"], {"HOME": "/x", "KSERVE_CMP_ALLOW_EMPTY": "1"}) == {
        "ARGOCD_APP_PARAMETERS": '[{"name":"namespace","string":"a=b"}]', "ARGOCD_ENV_X": "1",
        "KSERVE_CMP_ALLOW_EMPTY": "1"}


@pytest.mark.parametrize("parameters, app_env", [(["nonsense"], []), (["no-such-setting=1"], []),
                                                 ([], ["ARGOCD_ENV_KSERVE_CMP_NAMESPACE=x"]), ([], ["=x"])])
def test_what_the_sidecar_refuses_is_refused(parameters, app_env) -> None:
    with pytest.raises(UsageError):
        diff_settings({}, parameters, app_env, {})


def test_a_bad_option_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="kustomize-timeout"):
        diff_settings({"kustomize_timeout": "soon"}, [], [], {})
