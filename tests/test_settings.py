"""The settings table: typed values, env names, defaults in one place."""

from __future__ import annotations

import pytest

from cmp.settings import BY_NAME, SETTINGS, Settings, parse_value


def test_env_names() -> None:
    assert BY_NAME["cluster-profile"].env == "KSERVE_CMP_CLUSTER_PROFILE"


def test_defaults_match_table() -> None:
    defaults = Settings()
    for setting in SETTINGS:
        assert getattr(defaults, setting.attr) == setting.default


@pytest.mark.parametrize("raw,value", [("true", True), ("False", False), ("1", True), ("", False)])
def test_bool(raw: str, value: bool) -> None:
    assert parse_value(BY_NAME["allow-empty"], raw) is value


def test_bad_values() -> None:
    with pytest.raises(ValueError, match="expected true or false"):
        parse_value(BY_NAME["allow-empty"], "maybe")
    with pytest.raises(ValueError, match="expected an integer"):
        parse_value(BY_NAME["kustomize-timeout"], "soon")
    with pytest.raises(ValueError, match="unknown setting"):
        Settings.from_raw({"nope": 1})


def test_from_raw() -> None:
    s = Settings.from_raw({"namespace": "ns", "kustomize-timeout": "5", "allow-remote-bases": "true"})
    assert (s.namespace, s.kustomize_timeout, s.allow_remote_bases) == ("ns", 5, True)
