"""plugin.yaml is what argocd-cmp-server accepts, and it runs our own console script."""

from __future__ import annotations

import tomllib

import yaml

from cmp.argocd.announce import announcements
from cmp import launch
from cmp.cli import main
from helpers import REPO


def _plugin() -> dict:
    return yaml.load((REPO / "plugin.yaml").read_text(), Loader=yaml.CSafeLoader)


def test_plugin_config_is_valid_for_argocd_cmp_server() -> None:
    plugin = _plugin()
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1"
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["metadata"]["name"] == "kserve-cmp"
    assert plugin["spec"]["version"] == "v1" and isinstance(plugin["spec"]["version"], str)
    assert set(plugin["spec"]) == {"version", "generate", "parameters", "preserveFileMode", "provideGitCreds"}


def test_generate_is_a_direct_argv_of_our_console_script() -> None:
    command = _plugin()["spec"]["generate"]["command"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert command[:2] == ["kserve-cmp", "generate"]
    assert scripts[command[0]] == "cmp.launch:main"
    assert command[1] in main.commands
    assert command[1:] in (launch.GENERATE, launch.GENERATE_VIA_SERVER)  # the click-free path


def test_static_parameters_are_the_settings_announcements() -> None:
    parameters = _plugin()["spec"]["parameters"]
    assert set(parameters) == {"static"}
    assert parameters["static"] == announcements()
    assert all("collectionType" not in entry for entry in parameters["static"])
