"""README settings table and plugin.yaml announcements agree with the settings table in code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from cmp.argocd.announce import announcements
from cmp.argocd.policy import application_may_set
from cmp.settings import SETTINGS, parse_value
from helpers import REPO


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_table", REPO / "scripts" / "settings_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


settings_table = _load_script()


def test_readme_and_plugin_yaml_are_up_to_date(capsys: pytest.CaptureFixture) -> None:
    code = settings_table.main(["--check"])
    assert code == 0, capsys.readouterr().err


def test_announced_defaults_are_the_code_defaults() -> None:
    announced = [s for s in SETTINGS if application_may_set(s)]
    assert len(announced) < len(SETTINGS), "sidecar-only settings are not announced"
    for setting, entry in zip(announced, announcements(), strict=True):
        assert entry["name"] == setting.name
        assert parse_value(setting, entry["string"]) == setting.default


def test_table_has_one_row_per_setting_with_parameter_env_and_default() -> None:
    rows = [line for line in settings_table.table_markdown().splitlines() if line.startswith("| `--")]
    assert len(rows) == len(SETTINGS)
    for setting, row in zip(SETTINGS, rows, strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        parameter = f"`{setting.name}`" if application_may_set(setting) else "sidecar env only"
        assert cells[:3] == [f"`--{setting.name}`", parameter, f"`{setting.env}`"]
        assert cells[3] == (f"`{str(setting.default).lower()}`" if setting.default != "" else "empty")


def test_check_reports_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n\n<!-- settings-table:begin -->\nold\n<!-- settings-table:end -->\n")
    (tmp_path / "plugin.yaml").write_text("spec:\n  static:\n    # settings:begin\n    # settings:end\n")
    assert settings_table.main(["--check", "--root", str(tmp_path)]) == 1
    assert settings_table.main(["--root", str(tmp_path)]) == 0
    assert settings_table.main(["--check", "--root", str(tmp_path)]) == 0
    plugin = yaml.safe_load((tmp_path / "plugin.yaml").read_text())
    assert plugin["spec"]["static"] == announcements()
    assert "old" not in (tmp_path / "README.md").read_text()


@pytest.mark.parametrize("text", ["no markers\n", "# settings:end\n# settings:begin\n",
                                  "# settings:begin\n# settings:begin\n# settings:end\n"])
def test_markers_must_appear_once_in_order(text: str) -> None:
    with pytest.raises(ValueError):
        settings_table.replace_between(text, settings_table.PLUGIN_MARKERS, lambda indent: "")
