"""Text and JSON reports of the golden inputs: colours on request, secrets masked everywhere."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli

CASES = Path(__file__).parent / "cases"


def test_text_is_plain_unless_colour_is_asked_for() -> None:
    case = CASES / "args-change"
    plain = run_cli(["diff", "base", "head"], cwd=case)
    assert plain.exit_code == 1 and "\x1b[" not in plain.stdout
    assert "  --max-model-len: 4096 → 8192\n" in plain.stdout
    assert "-    - --max-model-len=4096\n+    - --max-model-len=8192\n" in plain.stdout
    coloured = run_cli(["diff", "base", "head", "--color", "always"], cwd=case)
    assert "\x1b[32m+    - --max-model-len=8192\x1b[0m" in coloured.stdout


def test_a_render_failure_is_an_error_section_in_text() -> None:
    result = run_cli(["diff", "base", "head", "--color", "never"], cwd=CASES / "head-render-failure")
    assert result.exit_code == 2
    assert "head does not render:\n  apps/llama/model.yaml:25: spec.scaling.maxReplcas: unknown field" in result.stdout


def test_json_items_mask_secrets_and_name_flags() -> None:
    secret = json.loads(run_cli(["diff", "base", "head", "--format", "json"], cwd=CASES / "secret-change").stdout)
    [obj] = secret["apps"][0]["objects"]
    assert {c["path"]: (c["op"], c["old"], c["new"]) for c in obj["changes"]} == {
        "data.EXTRA": ("add", None, "*** (11 bytes)"),
        "data.HF_TOKEN": ("change", "*** (20 bytes, before)", "*** (20 bytes, after)"),
        "data.PROXY": ("remove", "*** (15 bytes)", None)}
    assert "hf_newtokenvalue" not in json.dumps(secret)
    args = json.loads(run_cli(["diff", "base", "head", "--format", "json"], cwd=CASES / "args-change").stdout)
    paths = [c["path"] for o in args["apps"][0]["objects"] for c in o["changes"]]
    assert "spec.containers[kserve-container].args[--max-model-len]" in paths
    assert (args["exitCode"], args["failed"]) == (1, False)


def test_show_secrets_shows_values_outside_ci() -> None:
    result = run_cli(["diff", "base", "head", "--show-secrets"], cwd=CASES / "secret-change", env={"CI": ""})
    assert "hf_newtokenvalue9876" in result.stdout
