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
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert command[:2] == ["kserve-cmp", "generate"]
    assert f"bin/{command[0]}" in setuptools["script-files"]
    script = (REPO / "bin" / command[0]).read_text()
    assert script.startswith("#!python\n") and "from cmp.launch import main\n\nmain()\n" in script
    assert "import re" not in script  # the point of a plain script: no import before ours
    assert command[1] in main.commands
    assert command[1:] in (launch.GENERATE, launch.GENERATE_VIA_SERVER)  # the click-free path


def test_static_parameters_are_the_settings_announcements() -> None:
    parameters = _plugin()["spec"]["parameters"]
    assert set(parameters) == {"static"}
    assert parameters["static"] == announcements()
    assert all("collectionType" not in entry for entry in parameters["static"])
