"""What an Application may set: no program, network or limit settings; paths stay in the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmp.argocd.policy import SIDECAR_ONLY, application_may_set
from cmp.argocd.sources import resolve
from cmp.problems import UsageError
from cmp.settings import BY_NAME


@pytest.mark.parametrize("name", sorted(SIDECAR_ONLY))
def test_sidecar_only_settings_are_refused_from_the_application(name: str) -> None:
    setting = BY_NAME[name]
    value = "true" if setting.kind == "bool" else ("99" if setting.kind == "int" else "sh")
    for key in (f"PARAM_{name.upper().replace('-', '_')}", "ARGOCD_ENV_" + setting.env):
        with pytest.raises(UsageError) as info:
            resolve({key: value})
        assert f"{name} can only be set by the Argo CD admin, in the sidecar's env ({setting.env})" in str(info.value)
    assert resolve({setting.env: value}).origins[name] == setting.env
    assert not application_may_set(setting)


def test_the_sidecar_value_still_applies_next_to_a_refused_one() -> None:
    with pytest.raises(UsageError) as info:
        resolve({"PARAM_KUSTOMIZE": "sh", "KSERVE_CMP_KUSTOMIZE": "kustomize"})
    assert len(info.value.problems) == 1


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """An extracted repository: ``apps/iris`` with a profile, a sibling file and a file outside."""
    root = tmp_path / "checkout"
    (root / "apps" / "iris").mkdir(parents=True)
    (root / "apps" / "iris" / "profile.yaml").write_text("kind: ClusterProfile\n")
    (root / "clusters").mkdir()
    (root / "clusters" / "prod.yaml").write_text("kind: ClusterProfile\n")
    (tmp_path / "secret.yaml").write_text("token: x\n")
    return root


@pytest.mark.parametrize("value", ["profile.yaml", "../../clusters/prod.yaml"])
def test_application_paths_inside_the_repository_are_accepted(checkout: Path, value: str) -> None:
    env = {"PARAM_CLUSTER_PROFILE": value, "ARGOCD_APP_SOURCE_PATH": "apps/iris"}
    assert resolve(env, str(checkout / "apps" / "iris")).settings.cluster_profile == value


@pytest.mark.parametrize("key", ["PARAM_CLUSTER_PROFILE", "ARGOCD_ENV_KSERVE_CMP_CLUSTER_PROFILE"])
@pytest.mark.parametrize("value", ["../../../secret.yaml", "/etc/passwd"])
def test_application_paths_leaving_the_repository_are_refused(checkout: Path, key: str, value: str) -> None:
    env = {key: value, "ARGOCD_APP_SOURCE_PATH": "apps/iris"}
    with pytest.raises(UsageError, match="must be a path inside the repository"):
        resolve(env, str(checkout / "apps" / "iris"))


def test_a_symlink_out_of_the_repository_is_refused(checkout: Path) -> None:
    (checkout / "apps" / "iris" / "link.yaml").symlink_to(checkout.parent / "secret.yaml")
    env = {"PARAM_CLUSTER_PROFILE": "link.yaml", "ARGOCD_APP_SOURCE_PATH": "apps/iris"}
    with pytest.raises(UsageError, match="must be a path inside the repository"):
        resolve(env, str(checkout / "apps" / "iris"))


def test_the_admin_may_name_any_file(checkout: Path) -> None:
    env = {"KSERVE_CMP_CLUSTER_PROFILE": str(checkout.parent / "secret.yaml"), "ARGOCD_APP_SOURCE_PATH": "apps/iris"}
    assert resolve(env, str(checkout / "apps" / "iris")).origins["cluster-profile"] == "KSERVE_CMP_CLUSTER_PROFILE"
