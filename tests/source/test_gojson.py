"""Field-name matching against the real kustomize: what it decodes as a field, and what it refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import have_kustomize

from cmp.source import gojson, kustomize
from cmp.source.confine import KUSTOMIZATION

KEYS = ["resources", "Resources", "RESOURCES", "rEsOuRcEs", "reſources", "reſourceſ", "resourcés",
        "resources_", "reѕources", "\u212aind", "kind", "KIND", "İmages", "ımages", "Images", "IMAGES"]
VALUES = {"resources": "[cm.yaml]", "kind": "Kustomization", "images": "[]"}


@pytest.mark.parametrize("key", KEYS)
def test_match_agrees_with_kustomize(tmp_path: Path, key: str) -> None:
    if not have_kustomize():
        pytest.skip("needs kustomize or kubectl")
    field = gojson.match(KUSTOMIZATION.fields, key)
    value = VALUES.get(field or "", "[cm.yaml]")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (tmp_path / "kustomization.yaml").write_text(f"resources: [cm.yaml]\n{key}: {value}\n"
                                                 if field != "resources" else f"{key}: {value}\n")
    proc = subprocess.run(kustomize.kustomize_argv() + (str(tmp_path),), capture_output=True, timeout=20)
    accepted = proc.returncode == 0
    assert accepted == (field is not None), (key, field, proc.stderr)
    if field is None:
        assert b"unknown field" in proc.stderr


def test_fold_and_lookup() -> None:
    assert gojson.go_fold("reſources") == gojson.go_fold("RESOURCES") == "RESOURCES"
    assert gojson.go_fold("\u212aind") == "KIND"
    assert gojson.match(("path",), "PATH") == "path" and gojson.match(("path",), 1) is None
    assert gojson.values({"path": "a", "Path": "b", "x": "c"}, "path") == ["a", "b"]
    assert gojson.get({"Path": "b"}, "path") == "b" and gojson.get({}, "path") is None


def test_every_field_of_the_allow_list_is_a_kustomize_field(tmp_path: Path) -> None:
    """The allow-list names only fields kustomize's decoder knows (it refuses unknown ones)."""
    if not have_kustomize():
        pytest.skip("needs kustomize or kubectl")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    fields = "".join(f"{name}: null\n" for name in KUSTOMIZATION.fields if name != "resources")
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n" + fields)
    proc = subprocess.run(kustomize.kustomize_argv() + (str(tmp_path),), capture_output=True, timeout=20)
    assert proc.returncode == 0 and b"kind: ConfigMap" in proc.stdout, proc.stderr
