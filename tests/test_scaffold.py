"""``kserve-cmp init``: golden apps in ``tests/scaffold/<name>/``, each rendering and valid against the schema.

Each case holds ``cmd`` (the arguments, one a line, run in an empty directory), ``expected/``
(every file init writes, byte for byte) and ``expected-stderr.txt``. ``KSERVE_CMP_UPDATE_GOLDEN=1``
rewrites them. The written app is then rendered with the real pipeline (kustomize for
``--kustomize``: base, dev and prod) and every ModelDeployment it yields is validated with the
reference JSON Schema validator. Errors of init (bad name, format, runtime, a non-empty
directory) are golden cases of ``tests/errors/init-*``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jsonschema as reference
import pytest

from cmp.settings import Settings
from cmp.source.read import read_app
from cmp.spec import fields
from cmp.spec.jsonschema import schema
from helpers import run_cli

HERE = Path(__file__).parent / "scaffold"
UPDATE = os.environ.get("KSERVE_CMP_UPDATE_GOLDEN") == "1"
VALIDATOR = reference.Draft202012Validator(schema("ModelDeployment"))


def _cases() -> list[Path]:
    return sorted(p for p in HERE.iterdir() if p.is_dir())


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_init_writes_the_golden_app(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = [line for line in (case / "cmd").read_text().splitlines() if line.strip()]
    result = run_cli(args, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = _tree(tmp_path)
    if UPDATE:
        shutil.rmtree(case / "expected", ignore_errors=True)
        for rel, text in written.items():
            (case / "expected" / rel).parent.mkdir(parents=True, exist_ok=True)
            (case / "expected" / rel).write_text(text)
        (case / "expected-stderr.txt").write_text(result.stderr)
    assert written == _tree(case / "expected")
    assert result.stderr == (case / "expected-stderr.txt").read_text()
    monkeypatch.chdir(tmp_path)   # the app's paths as a user in that directory names them
    app = args[1]
    apps = [f"{app}/{env}" for env in ("base", "dev", "prod")] if "--kustomize" in args else [app]
    for path in apps:
        rendered = run_cli(["render", path])
        assert rendered.exit_code == 0, rendered.stderr
        assert "kind: InferenceService" in rendered.stdout
        models = [d.obj for d in read_app(path, Settings()) if d.obj.get("kind") == "ModelDeployment"]
        assert len(models) == 1
        assert models[0]["apiVersion"] == fields.API_VERSION
        assert [e.message for e in VALIDATOR.iter_errors(models[0])] == []


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "iris").mkdir()
    (tmp_path / "iris" / "notes.txt").write_text("mine")
    result = run_cli(["init", "iris", "--format", "sklearn", "--storage-uri", "gs://b/m"], cwd=tmp_path)
    assert result.exit_code == 2
    assert "init never overwrites" in result.stderr
    assert _tree(tmp_path) == {"iris/notes.txt": "mine"}


def test_an_empty_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "iris").mkdir()
    result = run_cli(["init", "iris", "--format", "sklearn", "--storage-uri", "gs://b/m"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert list(_tree(tmp_path)) == ["iris/model.yaml"]


def test_a_uri_the_render_refuses_writes_nothing(tmp_path: Path) -> None:
    result = run_cli(["init", "iris", "--format", "sklearn", "--storage-uri", "ftp://b/m"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "ftp://" in result.stderr
    assert _tree(tmp_path) == {}
