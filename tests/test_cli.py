"""The command line: one --format per command (explain's --output a hidden alias), render's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from helpers import REPO, run_cli, write_app
from kube_decode import json_objects, labelled_json, with_label

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n"


def test_explain_format_and_its_hidden_alias_output_print_the_same() -> None:
    app = str(REPO / "overlays" / "sklearn-iris")
    new, old = run_cli(["explain", app, "--format", "json"]), run_cli(["explain", app, "--output", "json"])
    assert new.exit_code == old.exit_code == 0
    assert new.stdout == old.stdout and json.loads(new.stdout)["models"]
    assert run_cli(["explain", app]).stdout == run_cli(["explain", app, "--format", "text"]).stdout


def test_explain_help_shows_only_format() -> None:
    shown = run_cli(["explain", "--help"]).stdout
    assert "--format" in shown and "--output" not in shown


def test_explain_format_and_output_that_disagree_are_usage_errors() -> None:
    done = run_cli(["explain", str(REPO / "overlays" / "sklearn-iris"), "--format", "json", "--output", "text"])
    assert (done.exit_code, done.stdout) == (2, "")
    assert "--output is the former name of --format" in done.stderr


def test_every_command_with_an_output_choice_calls_it_format() -> None:
    from cmp.cli import main

    for command in ("render", "validate", "explain", "diff", "runtimes"):
        assert "--format" in run_cli([command, "--help"]).stdout, command
    for command in main.commands:
        assert "--output" not in run_cli([command, "--help"]).stdout, command


def test_render_json_of_one_object_is_the_object(tmp_path: Path) -> None:
    done = run_cli(["render", str(write_app(tmp_path / "a", CONFIG_MAP)), "--format", "json"])
    assert done.exit_code == 0
    assert json.loads(done.stdout) == yaml.safe_load(CONFIG_MAP)


def test_render_json_of_several_objects_is_what_kubectl_prints() -> None:
    """A multi-object render: the same objects as the YAML output, in the same order, and each
    item's text is kubectl's ``-o json`` text of that object."""
    app = str(REPO / "overlays" / "llama" / "prod")
    as_yaml = list(yaml.safe_load_all(run_cli(["render", app]).stdout))
    done = run_cli(["render", app, str(REPO / "overlays" / "sklearn-iris"), "--format", "json"])
    assert done.exit_code == 0, done.stderr
    listed = json.loads(done.stdout)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List") and len(listed["items"]) > len(as_yaml)
    assert listed["items"][:len(as_yaml)] == as_yaml
    theirs = labelled_json(run_cli(["render", app, str(REPO / "overlays" / "sklearn-iris")]).stdout)
    assert json_objects(theirs) == [with_label(o) for o in listed["items"]]
    assert theirs == "".join(run_cli(["render", "-", "--format", "json"],
                                     stdin=json.dumps(with_label(o)).encode()).stdout for o in listed["items"])
