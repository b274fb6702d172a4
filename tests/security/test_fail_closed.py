"""Fail closed: inputs that ended in an internal error (exit 3), rendered objects Argo CD could not
apply, and duplicates hidden by namespace defaulting are located errors; nothing reaches exit 3.

The table cases run the CLI as a subprocess (5 s, nothing on stdout); the property tests mutate
the patches and the values of a valid ModelDeployment and render in-process, where any
exception but :class:`CmpError` fails the test (the CLI turns exactly those into exit 3).
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmp.pipeline import identity_problems, render
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import dump_stream
from cmp.validate import validate_object

from .conftest import MODEL

RAW_ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
{metadata}spec:
  predictor:
    model: {{modelFormat: {{name: sklearn}}, storageUri: "gs://bucket/other"}}
"""


def _with_patches(*ops: str, field: str = "patches") -> str:
    return MODEL + f"  {field}:\n" + "".join(f"    - {op}\n" for op in ops)


CASES = {
    "int-tag-on-a-word": (MODEL.replace('storageUri: "gs://bucket/iris"}',
                                        'storageUri: "gs://bucket/iris", args: {workers: !!int abc}}'),
                          {}, "'abc' is not a valid !!int"),
    "float-tag-on-a-word": (MODEL.replace('storageUri: "gs://bucket/iris"}',
                                          'storageUri: "gs://bucket/iris", args: {x: !!float many}}'),
                            {}, "'many' is not a valid !!float"),
    "an-integer-of-5000-digits": (MODEL.replace('storageUri: "gs://bucket/iris"}',
                                                'storageUri: "gs://bucket/iris", args: {x: ' + "9" * 5000 + "}}"),
                                  {}, "is not a valid !!int"),
    "patch-sets-metadata-to-null": (_with_patches("{op: replace, path: /metadata, value: null}"), {},
                                    "patches may not change apiVersion, kind, name or namespace"),
    "patch-removes-metadata": (_with_patches("{op: remove, path: /metadata}"), {},
                               "patches may not change apiVersion, kind, name or namespace"),
    "patch-sets-the-name-to-a-number": (_with_patches("{op: replace, path: /metadata/name, value: 7}"), {},
                                        "patches may not change"),
    "patch-sets-the-predictor-to-a-string": (_with_patches('{op: replace, path: /spec/predictor, value: "x"}'),
                                             {}, "spec.predictor: expected object, got string"),
    "patch-sets-spec-to-a-list": (_with_patches("{op: replace, path: /spec, value: [1]}"), {},
                                  "spec: expected object, got array"),
    "patch-sets-spec-to-null": (_with_patches("{op: add, path: /spec, value: null}"), {},
                                "patches leave the InferenceService without spec.predictor"),
    "patch-removes-the-predictor": (_with_patches("{op: remove, path: /spec/predictor}"), {},
                                    'missing required field "predictor"'),
    "runtime-patch-sets-spec-to-null": (_with_patches("{op: replace, path: /spec, value: null}",
                                                      field="runtimePatches"), {},
                                        "patches leave the ServingRuntime without spec"),
    "runtime-patch-sets-metadata-to-null": (_with_patches("{op: replace, path: /metadata, value: null}",
                                                          field="runtimePatches"), {}, "patches may not change"),
    "runtime-patch-sets-containers-to-a-string": (
        _with_patches('{op: replace, path: /spec/containers, value: "x"}', field="runtimePatches"), {},
        "spec.containers: expected array, got string"),
    "kustomize-timeout-beyond-any-clock": (MODEL, {"KSERVE_CMP_KUSTOMIZE_TIMEOUT": "10000000000"},
                                           "kustomize-timeout: must be between 1 and 3600, got 10000000000"),
    "max-file-size-beyond-a-gibibyte": (MODEL, {"KSERVE_CMP_MAX_FILE_SIZE": str(1 << 40)},
                                        "max-file-size: must be between 1 and 1073741824"),
    "namespace-setting-with-a-trailing-newline": (MODEL, {"KSERVE_CMP_NAMESPACE": "models\n"},
                                                  "is not a valid namespace name"),
    "model-name-with-a-trailing-newline": (MODEL.replace("{name: iris,", '{name: "iris\\n",'), {},
                                           "is not a valid name"),
    "model-namespace-with-a-trailing-newline": (MODEL.replace("namespace: models}", 'namespace: "models\\n"}'), {},
                                                "is not a valid name"),
    "raw-inferenceservice-without-metadata": (RAW_ISVC.format(metadata=""), {},
                                              "InferenceService: has no metadata.name"),
    "raw-inferenceservice-with-an-empty-name": (RAW_ISVC.format(metadata='metadata: {name: ""}\n'), {},
                                                "has no metadata.name"),
    "raw-inferenceservice-name-with-a-newline": (RAW_ISVC.format(metadata='metadata: {name: "x\\n"}\n'), {},
                                                 "metadata.name 'x\\n' is not a valid RFC 1035 label"),
    "raw-configmap-name-with-a-slash": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a/b}\n", {},
                                        "metadata.name 'a/b' is not a valid RFC 1123 subdomain"),
    "raw-object-namespace-with-a-newline": ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: "b\\n"}\n',
                                            {}, "metadata.namespace 'b\\n' is not a valid namespace name"),
    "raw-object-with-a-bad-apiversion": ("apiVersion: 'v1 '\nkind: ConfigMap\nmetadata: {name: a}\n", {},
                                         "apiVersion 'v1 ' is not group/version or version"),
    "raw-object-with-a-bad-kind": ("apiVersion: v1\nkind: 'Config Map'\nmetadata: {name: a}\n", {},
                                   "kind 'Config Map' is not a Kubernetes kind"),
    "namespace-less-raw-isvc-shadows-a-model-in-the-destination-namespace": (
        MODEL + "---\n" + RAW_ISVC.format(metadata="metadata: {name: iris}\n"), {"ARGOCD_APP_NAMESPACE": "models"},
        "InferenceService/models/iris is produced twice"),
    "namespace-less-model-next-to-a-raw-isvc-in-the-destination-namespace": (
        MODEL.replace(", namespace: models", "") + "---\n" +
        RAW_ISVC.format(metadata="metadata: {name: iris, namespace: models}\n"), {"KSERVE_CMP_NAMESPACE": "models"},
        "InferenceService/models/iris is produced twice"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_case_is_a_located_error(scratch, case: str) -> None:
    text, env, message = CASES[case]
    scratch.write("repo/app/model.yaml", text)
    outcome = scratch.render("app", env=env)
    outcome.assert_clean_error(message)
    if not env or "ARGOCD_APP_NAMESPACE" in env:
        assert "app/model.yaml:" in outcome.stderr, outcome.stderr   # located: file:line


def test_rbac_names_may_hold_colons_and_other_names_render(scratch) -> None:
    scratch.write("repo/app/model.yaml", MODEL + "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                  "metadata: {name: 'system:kserve-cmp:reader'}\nrules: []\n---\n"
                  "apiVersion: example.com/v1alpha1\nkind: My-Thing\nmetadata: {name: a.b-c, namespace: x}\n")
    outcome = scratch.render("app")
    assert outcome.code == 0, outcome.stderr
    assert "name: system:kserve-cmp:reader" in outcome.stdout


@pytest.mark.parametrize(("obj", "problems"), [
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok.name-1"}}, []),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}},
     ["metadata.name 'a.b' is not a valid RFC 1123 label (at most 63 lower-case letters, digits and '-')"]),
    ({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": "1abc"}},
     ["metadata.name '1abc' is not a valid RFC 1035 label (at most 63 lower-case letters, digits and '-')"]),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a" * 254}},
     [f"metadata.name {'a' * 254!r} is not a valid RFC 1123 subdomain (at most 253 lower-case letters, digits "
      "and '-', '.')"]),
    ({"kind": "ConfigMap", "metadata": {"name": "a"}}, ["apiVersion None is not group/version or version"]),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": []}, ["has no metadata.name"]),
    ({"apiVersion": "v1\n", "kind": "ConfigMap\n", "metadata": {"name": "a\n", "namespace": "b\n"}},
     ["apiVersion 'v1\\n' is not group/version or version", "kind 'ConfigMap\\n' is not a Kubernetes kind",
      "metadata.name 'a\\n' is not a valid RFC 1123 subdomain (at most 253 lower-case letters, digits and '-', '.')",
      "metadata.namespace 'b\\n' is not a valid namespace name (RFC 1123 label)"]),
])
def test_identity_rules(obj: dict, problems: list[str]) -> None:
    assert identity_problems(obj) == problems


# --- no pattern in cmp/ lets `$` match before a trailing newline ---------------------------------

CMP = Path(__file__).resolve().parents[2] / "cmp"


def _patterns() -> list[tuple[str, int, str, bool]]:
    """(file, line, pattern, multiline flag) of every literal pattern given to the re module."""
    found = []
    for path in sorted(CMP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                flags = "".join(ast.unparse(a) for a in node.args[1:])
                flags += "".join(ast.unparse(k.value) for k in node.keywords if k.arg == "flags")
                found.append((str(path.relative_to(CMP.parent)), node.lineno, node.args[0].value,
                              "re.M" in flags or "MULTILINE" in flags))
    return found


def test_no_pattern_ends_with_a_dollar_that_accepts_a_trailing_newline() -> None:
    patterns = _patterns()
    assert len(patterns) > 20
    loose = [(f, line, p) for f, line, p, multiline in patterns
             if not multiline and re.search(r"(?<!\\)\$", p)]
    assert loose == [], "use \\Z or fullmatch: `$` also matches before a final newline"


# --- property tests: mutated patches and values never end in an internal error -------------------

EXAMPLES = int(os.environ.get("KSERVE_CMP_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = {"apiVersion": "kserve-cmp.io/v1alpha1", "kind": "ModelDeployment",
        "metadata": {"name": "iris", "namespace": "models"},
        "spec": {"runtime": "kserve-huggingfaceserver",
                 "model": {"format": "huggingface", "storageUri": "hf://org/model",
                           "args": ["--max-model-len=4096", "--dtype=half"], "env": {"A": "1"},
                           "resources": {"limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"}}},
                 "scaling": {"minReplicas": 1, "maxReplicas": 3}}}

HOSTILE_VALUES = st.sampled_from([
    None, "", "x", "x\n", "\x1b]0;t\x07", "0755", "-1", 0, -1, 1, 10**30, -(10**30), 1.5, float("inf"), True, False,
    [], {}, [None], ["--x"], {"a": None}, {"": ""}, [[[]]], {"name": 1}, "9" * 40, "{{.Name}}", "$(x)",
])
ISVC_POINTERS = ["", "/metadata", "/metadata/name", "/metadata/namespace", "/metadata/annotations",
                 "/metadata/labels", "/metadata/annotations/serving.kserve.io~1deploymentMode", "/kind",
                 "/apiVersion", "/spec", "/spec/predictor", "/spec/predictor/model", "/spec/predictor/model/args",
                 "/spec/predictor/model/args/0", "/spec/predictor/model/args/-", "/spec/predictor/model/env",
                 "/spec/predictor/model/resources", "/spec/predictor/model/runtime",
                 "/spec/predictor/model/modelFormat", "/spec/predictor/minReplicas", "/spec/predictor/maxReplicas",
                 "/spec/predictor/containers", "/spec/predictor/workerSpec", "/spec/transformer"]
RUNTIME_POINTERS = ["", "/metadata", "/metadata/name", "/kind", "/spec", "/spec/containers", "/spec/containers/0",
                    "/spec/containers/0/args", "/spec/containers/0/args/0", "/spec/containers/0/env",
                    "/spec/containers/0/resources", "/spec/supportedModelFormats", "/spec/protocolVersions",
                    "/spec/workerSpec", "/spec/multiModel"]


@st.composite
def patch_ops(draw, pointers: list[str]) -> dict:
    op = draw(st.sampled_from(["add", "replace", "remove", "copy", "move", "test"]))
    out: dict = {"op": op, "path": draw(st.sampled_from(pointers))}
    if op in ("copy", "move"):
        out["from"] = draw(st.sampled_from(pointers))
    elif op != "remove":
        out["value"] = copy.deepcopy(draw(HOSTILE_VALUES))
    return out


def _leaves(value: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _leaves(item, path + (index,))
    return out


def _set(doc: dict, path: tuple, value: object) -> dict:
    if not path:
        return value  # type: ignore[return-value]
    holder = doc
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = value
    return doc


def _render_or_clean_error(md: object, namespace: str = "default") -> None:
    """The CLI's path (read the app directory, render); only CmpError may leave it."""
    try:
        with tempfile.TemporaryDirectory(prefix="kserve-cmp-fuzz-") as app:
            Path(app, "model.yaml").write_text(dump_stream([md]), encoding="utf-8")
            result = render(app, Settings(namespace=namespace))
    except CmpError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    for obj in result.objects:
        assert identity_problems(obj) == [], obj
        assert validate_object(obj) == [], obj
    json.dumps(result.objects)


@FUZZ
@given(isvc=st.lists(patch_ops(ISVC_POINTERS), max_size=4), runtime=st.lists(patch_ops(RUNTIME_POINTERS), max_size=3))
def test_mutated_patches_render_or_fail_cleanly(isvc: list[dict], runtime: list[dict]) -> None:
    md = copy.deepcopy(BASE)
    if isvc:
        md["spec"]["patches"] = isvc
    if runtime:
        md["spec"]["runtimePatches"] = runtime
    _render_or_clean_error(md)


@FUZZ
@given(data=st.data(), count=st.integers(1, 3))
def test_mutated_values_render_or_fail_cleanly(data: st.DataObject, count: int) -> None:
    md: object = copy.deepcopy(BASE)
    for _ in range(count):
        leaves = _leaves(md)
        path = data.draw(st.sampled_from(leaves))
        md = _set(md, path, copy.deepcopy(data.draw(HOSTILE_VALUES)))  # type: ignore[arg-type]
    _render_or_clean_error(md)


RAW = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
       "metadata": {"name": "raw", "annotations": {"serving.kserve.io/deploymentMode": "Standard"}},
       "spec": {"predictor": {"minReplicas": 1, "maxReplicas": 2,
                              "model": {"modelFormat": {"name": "huggingface"}, "storageUri": "hf://org/m",
                                        "args": ["--max-model-len=4096"],
                                        "resources": {"limits": {"nvidia.com/gpu": "1"}}}}}}


@FUZZ
@given(data=st.data(), count=st.integers(1, 3))
def test_mutated_raw_inferenceservices_render_or_fail_cleanly(data: st.DataObject, count: int) -> None:
    isvc: object = copy.deepcopy(RAW)
    for _ in range(count):
        path = data.draw(st.sampled_from(_leaves(isvc)))
        isvc = _set(isvc, path, copy.deepcopy(data.draw(HOSTILE_VALUES)))  # type: ignore[arg-type]
    _render_or_clean_error(isvc)
