"""Shell metacharacters and paths in parameters and values: refused or kept literal, never interpreted."""

from __future__ import annotations

import json

import pytest

from cmp.source.yamlio import load_stream

PAYLOADS = ["$(touch pwned)", "`touch pwned`", "x; touch pwned", "a && touch pwned", "| touch pwned",
            "../../../../etc/passwd", "${HOME}/.ssh/id_rsa", "'\"; touch pwned #"]


def _untouched(scratch) -> None:
    assert not any(p.name == "pwned" for p in scratch.base.rglob("*"))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_namespace_parameter(scratch, payload: str) -> None:
    scratch.write("repo/app/model.yaml", scratch.model.replace(", namespace: models", ""))
    outcome = scratch.render("app", env={"KSERVE_CMP_NAMESPACE": payload})
    outcome.assert_clean_error("is not a valid namespace name")
    assert outcome.code == 2
    _untouched(scratch)


@pytest.mark.parametrize("payload", ["kubectl; touch pwned", "$(touch pwned)", "../../../bin/sh -c 'touch pwned'"])
def test_kustomize_parameter(scratch, payload: str) -> None:
    scratch.write("repo/app/model.yaml", scratch.model)
    scratch.write("repo/app/kustomization.yaml", "resources: [model.yaml]\n")
    scratch.render("app", env={"KSERVE_CMP_KUSTOMIZE": payload}).assert_clean_error("cannot run")
    _untouched(scratch)


@pytest.mark.parametrize("payload", ["$(touch pwned)", "app; touch pwned"])
def test_app_path_argument(scratch, payload: str) -> None:
    scratch.render(payload).assert_clean_error("no such directory")
    _untouched(scratch)


@pytest.mark.parametrize("name", ["timeout", "max-file-size"])
def test_numeric_parameters(scratch, name: str) -> None:
    scratch.write("repo/app/model.yaml", scratch.model)
    env = {f"KSERVE_CMP_{name.upper().replace('-', '_')}": "$(touch pwned)"}
    if name == "timeout":
        env = {"KSERVE_CMP_KUSTOMIZE_TIMEOUT": "1; touch pwned"}
    scratch.render("app", env=env).assert_clean_error("expected an integer")
    _untouched(scratch)


def test_values_in_the_model_are_kept_literally(scratch) -> None:
    env = "".join(f"      V{i}: {json.dumps(payload)}\n" for i, payload in enumerate(PAYLOADS))
    args = "".join(f"      - {json.dumps(f'--arg{i}={payload}')}\n" for i, payload in enumerate(PAYLOADS))
    invented = ",".join(f"--arg{i}" for i in range(len(PAYLOADS)))   # no server declares them: not checked
    scratch.write("repo/app/model.yaml", scratch.model.replace(
        '  model: {format: sklearn, storageUri: "gs://bucket/iris"}\n',
        f"  model:\n    format: sklearn\n    storageUri: gs://bucket/iris\n    env:\n{env}    args:\n{args}").replace(
        "metadata: {name: iris, namespace: models}\n",
        f"metadata:\n  name: iris\n  namespace: models\n  annotations: {{kserve-cmp.io/unchecked-flags: '{invented}'}}\n"))
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    objects = [d.obj for d in load_stream(outcome.stdout)]
    isvc = next(o for o in objects if o["kind"] == "InferenceService")
    values = {e["name"]: e.get("value") for e in isvc["spec"]["predictor"]["model"]["env"]}
    assert [values[f"V{i}"] for i in range(len(PAYLOADS))] == PAYLOADS
    rendered_args = [a for o in objects for c in (o.get("spec") or {}).get("containers") or [] for a in c.get("args", [])]
    rendered_args += isvc["spec"]["predictor"]["model"].get("args", [])
    for i, payload in enumerate(PAYLOADS):
        assert f"--arg{i}={payload}" in rendered_args
    _untouched(scratch)
