"""What we print decodes, in Kubernetes' own decoder, to exactly the objects we rendered.

Argo CD and kubectl read plugin output with go-yaml v2 (YAML 1.1 rules, through
sigs.k8s.io/yaml): a string printed plain that any resolver reads as a boolean, a number or null
would be retyped on the way to the cluster (a label ``canary: n`` becomes ``false``, an env value
``1e3`` becomes ``1000``). ``kube_decode`` runs the real decoder (kubectl, offline); every check
sends one stream per kubectl call (~50 ms each).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import cmp.pipeline
from cmp.pipeline import render
from cmp.settings import Settings
from cmp.source.yamlio import dump_stream, load_stream, plain_is_safe

from helpers import REPO, run_cli
from kube_decode import kube_decode, same

CASES = REPO / "tests" / "cases"
#: Characters that decide how resolvers type a scalar: digits, signs, exponent and base letters,
#: separators, the first letters of the boolean and null words.
ALPHABET = "019eExXoObB.-+_:~/yYnNtT a$"
#: Strings any resolver reads as something else than a string.
HOSTILE = ["n", "N", "y", "Y", "yes", "No", "ON", "off", "oFf", "true", "False", "NULL", "null", "~", "",
           "1e3", "1E3", "-1e3", "1e+3", "0o17", "0O17", "08", "0755", "017", "-.5", "+.5", ".5", ".inf",
           "-.Inf", ".NaN", "0x1F", "0xF", "0B1", "0b101", "12:30", "-12:30", "1_000", "3.10", "1.", "2001-12-14",
           "2001-12-14T21:59:43.10-05:00", "<<", "="]


def _configmap(name: str, data: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _assert_decodes_to(objects: list[dict], text: str) -> None:
    decoded = kube_decode(text)
    assert len(decoded) == len(objects)
    diffs = [d for ours, theirs in zip(objects, decoded) for d in same(ours, theirs)]
    assert diffs == [], diffs[:20]


def test_every_short_string_round_trips_as_a_string() -> None:
    """Every string of up to 3 characters of the typing alphabet, as a value and as a key."""
    words = ["".join(p) for n in range(4) for p in itertools.product(ALPHABET, repeat=n)] + HOSTILE
    values = _configmap("values", {f"k{i}": w for i, w in enumerate(words)})
    keys = _configmap("keys", {w: "v" for w in words if w})
    _assert_decodes_to([values, keys], dump_stream([values, keys]))


def test_the_allow_list_is_what_stays_plain() -> None:
    """Plain output only for what the allow-list admits; the hostile words are all quoted."""
    text = dump_stream([{w: w for w in HOSTILE}])
    for word in HOSTILE:
        assert not plain_is_safe(word)
        assert f"\n{word}: {word}\n" not in "\n" + text
    for word in ("2Gi", "500m", "--port=8080", "gs://bucket/model", "/mnt/models", "kserve-sklearnserver"):
        assert plain_is_safe(word) and f"{word}: {word}" in dump_stream([{word: word}])


def _render_cases() -> list[Path]:
    out = []
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        cmd = case / "cmd"
        argv = cmd.read_text().split() if cmd.exists() else ["render", "input"]
        if argv[0] == "render":
            out.append(case)
    return out


def test_every_golden_render_decodes_to_our_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each golden case's expected output, decoded by Kubernetes, equals the objects the render made."""
    from test_golden import _command, _env

    rendered: list[list[dict]] = []

    def capture(path: str, settings: Settings) -> cmp.pipeline.RenderResult:
        result = render(path, settings)
        rendered.append(result.objects)
        return result

    monkeypatch.setattr(cmp.pipeline, "render", capture)
    objects, texts = [], []
    cases = _render_cases()
    assert len(cases) >= 30
    for case in cases:
        run = run_cli(_command(case), cwd=case, env=_env(case))
        assert run.exit_code == 0, (case.name, run.stderr)
        expected = (case / "expected.yaml").read_text()
        assert run.stdout == expected, case.name
        objects.extend(rendered[-1])
        texts.append(expected)
    _assert_decodes_to(objects, "---\n".join(texts))


def _example_apps() -> list[Path]:
    """Every app directory under overlays/: one with a kustomization, or YAML files and no parent app."""
    apps = []
    for path in sorted((REPO / "overlays").rglob("*")):
        if path.is_dir() and ((path / "kustomization.yaml").exists() or any(path.glob("*.yaml"))):
            apps.append(path)
    return apps


def test_every_example_decodes_to_our_objects() -> None:
    apps = _example_apps()
    assert len(apps) >= 6
    objects, texts = [], []
    for app in apps:
        result = render(str(app), Settings(namespace="default"))
        objects.extend(result.objects)
        texts.append(result.text)
    _assert_decodes_to(objects, "---\n".join(texts))


MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: iris, namespace: models}
spec:
  runtime: kserve-sklearnserver
  model:
    format: sklearn
    storageUri: "gs://bucket/iris"
"""
HOSTILE_MODEL = MODEL.replace("metadata: {name: iris, namespace: models}", """\
metadata:
  name: iris
  namespace: "y"
  labels: {canary: "n", "ON": "0o17", tier: "08"}
  annotations: {"y": "-.5", "1e3": "12:30", kserve-cmp.io/unchecked-flags: "--threshold,--umask,--at,--version,--flag"}""") + """\
    env: {"ON": "1e3", RATIO: "-.5", MODE: "0o17", PAD: "08", FLAG: "y", EMPTY: "", NUL: "~"}
    args: {--threshold: "1e3", --umask: "0755", --at: "12:30", --version: "3.10", --flag: "n"}
"""


def test_hostile_strings_in_a_model_deployment_keep_their_type(scratch) -> None:
    """Labels, annotations, env and args holding boolean- and number-like strings stay strings."""
    scratch.write("repo/app/model.yaml", HOSTILE_MODEL)
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    ours = [doc.obj for doc in load_stream(outcome.stdout)]
    isvc = next(o for o in ours if o["kind"] == "InferenceService")
    assert isvc["metadata"]["namespace"] == "y"
    assert isvc["metadata"]["labels"]["canary"] == "n"
    assert isvc["metadata"]["labels"] == {"canary": "n", "ON": "0o17", "tier": "08"}
    env = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["model"]["env"]}
    assert env == {"ON": "1e3", "RATIO": "-.5", "MODE": "0o17", "PAD": "08", "FLAG": "y", "EMPTY": "", "NUL": "~"}
    runtime = next(o for o in ours if o["kind"] == "ServingRuntime")
    assert {"--threshold=1e3", "--umask=0755", "--at=12:30", "--version=3.10", "--flag=n"} <= set(
        runtime["spec"]["containers"][0]["args"])
    _assert_decodes_to(ours, outcome.stdout)


def test_cmp_diff_hunks_quote_as_the_render_does() -> None:
    """``cmp diff`` shows objects in the render's YAML: a reviewer sees the quoted text that is applied."""
    from cmp.diff.unified import yaml_lines

    obj = _configmap("hunk", {w: w for w in HOSTILE if w})
    lines = yaml_lines(obj)
    assert "\n".join(lines) + "\n" == dump_stream([obj]).removeprefix("---\n")
    _assert_decodes_to([obj], "\n".join(lines) + "\n")
