"""``kserve-cmp generate``: the same bytes as ``render``, settings from the Argo CD env, clear failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmp import __version__
from cmp.argocd.generate import generate
from cmp.pipeline import render
from cmp.problems import NOTE, CmpError, UsageError
from cmp.settings import Settings
from helpers import REPO, SKLEARN_MODEL, run_cli

MODEL = SKLEARN_MODEL


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    (tmp_path / "model.yaml").write_text(MODEL)
    return tmp_path


def test_output_is_the_render_output(app: Path) -> None:
    generated = generate({"ARGOCD_APP_NAMESPACE": "models"}, str(app))
    assert generated.text == render(str(app), Settings(namespace="models")).text
    assert "namespace: models" in generated.text
    assert generated.summary == (f"kserve-cmp {__version__} generate: 1 object; "
                                 "settings: namespace=models (ARGOCD_APP_NAMESPACE)")


def test_failure_ends_with_a_note_that_reproduces_the_run(tmp_path: Path) -> None:
    (tmp_path / "model.yaml").write_text(MODEL.replace("format: sklearn", "format: 42"))
    env = {"ARGOCD_APP_NAMESPACE": "models", "ARGOCD_APP_SOURCE_PATH": "apps/iris"}
    with pytest.raises(CmpError) as info:
        generate(env, str(tmp_path))
    note = info.value.problems[-1]
    assert note.level == NOTE
    assert note.format() == (f"note: kserve-cmp {__version__} generate, app path apps/iris; "
                             "same render locally: kserve-cmp render apps/iris --namespace models")
    assert len(info.value.problems) > 1


def test_bad_settings_keep_their_exit_code_and_get_a_note_without_command(app: Path) -> None:
    with pytest.raises(UsageError) as info:
        generate({"PARAM_KUSTOMIZE_TIMEOUT": "never"}, str(app))
    assert info.value.exit_code == 2
    assert info.value.problems[-1].format() == f"note: kserve-cmp {__version__} generate, app path ."


def test_cluster_without_kserve_fails_before_rendering(tmp_path: Path) -> None:
    with pytest.raises(CmpError) as info:
        generate({"KUBE_API_VERSIONS": "v1,v1/Pod"}, str(tmp_path))
    messages = [p.message for p in info.value.problems]
    assert messages[0].startswith("KServe is not installed on the destination cluster")
    assert len(messages) == 2


def test_cli_command_writes_manifests_to_stdout_and_summary_to_stderr(tmp_path: Path) -> None:
    shutil.copytree(REPO / "overlays" / "sklearn-iris", tmp_path / "app")
    result = run_cli(["generate"], cwd=tmp_path / "app", env={"ARGOCD_APP_NAMESPACE": "elsewhere"})
    assert result.exit_code == 0, result.stderr
    expected = run_cli(["render", "app", "--namespace", "elsewhere"], cwd=tmp_path)
    assert result.stdout == expected.stdout
    assert result.stderr.startswith(f"kserve-cmp {__version__} generate: ")


def test_cli_command_fails_closed_on_zero_objects(tmp_path: Path) -> None:
    result = run_cli(["generate"], cwd=tmp_path, env={"ARGOCD_APP_SOURCE_PATH": "empty"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "rendered zero objects" in result.stderr
    assert result.stderr.rstrip().endswith("same render locally: kserve-cmp render empty")
