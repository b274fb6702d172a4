"""Real-world corpus: every manifest KServe's docs and samples publish, rendered as its own app.

Each file of ``../shared/kserve/corpus/`` (skipped when absent) is copied alone into a temporary
directory and rendered. It must render, or fail for the reason listed in ``EXPECTED_FAILURES``
(the published manifest itself is invalid against the CRDs). Every rendered object passed the
CRD schema check (the pipeline fails otherwise), and no InferenceService whose runtime is known
ends up with a non-repeatable flag twice in the container KServe assembles.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmp.explain import admitted, explain_unit, find_runtime
from cmp.kserve import parsers
from cmp.kserve.flags import find_duplicates
from cmp.kserve.merge import assemble_predictor_container
from cmp.pipeline import render
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from cmp.transforms.args import rules_for
from helpers import SHARED

CORPUS = SHARED / "kserve" / "corpus"
FILES = sorted(CORPUS.rglob("*.yaml")) if CORPUS.is_dir() else []

#: One line per file that must fail: file (relative to the corpus) -> (phrase of the error, why).
EXPECTED_FAILURES: dict[str, tuple[str, str]] = {
    "samples/explanation__aif__germancredit__bias-v1alpha1.yaml": ("not served as serving.kserve.io/v1alpha2", "v1alpha2 is gone"),
    "samples/rollout-strategy__rollout-strategy-example.yaml": ('unknown field "custom"', "pre-v1beta1 transformer.custom"),
    "samples/storage__oci-fetch__inference_service.yaml": ("unsupported storage URI 'oci+fetch://", "scheme not in kserve-cmp's list"),
    "samples/v1beta1__torchserve__v1__bloom__bloom-560m.yaml": ('spec.nodeName: unknown field "nodeName"', "nodeName outside predictor"),
    "website/blog-2022-07-21-KServe-0-9-release--9ad500beb7.yaml": ("unknown deployment mode 'ModelMesh'", "ModelMesh is out of scope"),
    "website/ctive-inference-rollout-strategies-rollout-strategy-standard--b7a3a10766.yaml": ('unknown field "custom"', "pre-v1beta1 transformer.custom"),
    "website/del-serving-predictive-inference-autoscaling-keda-autoscaler--23fa827cc5.yaml": ('unknown field "authModes"', "KEDA fields not in the ISVC CRD"),
    "website/docs-concepts-resources-servingruntime--1eb381015f.yaml": ('missing required field "containers"', "abridged runtime"),
    "website/docs-concepts-resources-servingruntime--6d251c72ac.yaml": ('missing required field "containers"', "abridged runtime"),
    "website/docs-concepts-resources-servingruntime--e0eecbd66d.yaml": ('missing required field "containers"', "abridged runtime"),
    "website/docs-model-serving-inferencegraph-overview--11ba2c8163.yaml": ("expected object, got string", "graph steps as strings"),
    "website/docs-model-serving-inferencegraph-overview--a5d10fbf3e.yaml": ('unsupported value "Sequence|Switch', "routerType lists all choices"),
    "website/docs-model-serving-storage-providers-git--a2467144dd.yaml": ("InferenceService: has no metadata.name", "fragment without metadata"),
    "website/docs-model-serving-storage-providers-ms--98a0e46cf5.yaml": ("unsupported storage URI 'modelscope://", "scheme not in kserve-cmp's list"),
    "website/docs-model-serving-storage-providers-ms--e0efe4e91c.yaml": ("unsupported storage URI 'modelscope://", "scheme not in kserve-cmp's list"),
    "website/el-serving-predictive-inference-logger-request-header-logger--b575ead9d3.yaml": ('predictor: unknown field "predictor"', "fragment"),
    "website/ng-predictive-inference-transformers-collocation-collocation--42dc3f303e.yaml": ("--enable_predictor_health_check belongs on a transformer", "'transformer-container ' (trailing blank) is not the collocated transformer"),
    "website/odel-serving-predictive-inference-logger-blob-storage-logger--efcb6d7698.yaml": ('predictor: unknown field "predictor"', "fragment"),
}  # fmt: skip


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _duplicates(runtime: dict, container: dict) -> list[tuple]:
    """Non-repeatable flags set twice in an assembled container's args, as token pairs.

    Keyed as the server sees them (one key per dest) when its parser is in the catalog.
    """
    parser, _ = parsers.parser_for(_base_of(runtime), None)
    rules = rules_for(runtime, "", parser)
    pairs = find_duplicates(container.get("args") or [], normalize_underscores=rules.normalize_underscores,
                            repeatable=rules.repeatable, parser=rules.parser)
    return [(a.tokens, b.tokens) for a, b in pairs]


def _kserve_today(obj: dict, objects: list[dict]) -> list[tuple]:
    """Duplicates in the container KServe builds for an input InferenceService as published."""
    if obj.get("kind") != "InferenceService" or not ((obj.get("spec") or {}).get("predictor") or {}).get("model"):
        return []
    runtime, _ = find_runtime(admitted(obj), objects)
    return _duplicates(runtime, assemble_predictor_container(runtime, admitted(obj))) if runtime else []


@pytest.mark.skipif(not FILES, reason="corpus not present")
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_corpus_file_renders_without_duplicate_flags(path: Path, tmp_path: Path) -> None:
    shutil.copy(path, tmp_path / path.name)
    expected = EXPECTED_FAILURES.get(_id(path))
    if expected is not None:
        with pytest.raises(CmpError) as failure:
            render(str(tmp_path), Settings())
        assert expected[0] in str(failure.value)
        return
    result = render(str(tmp_path), Settings())
    inputs = [d.obj for d in load_stream(path.read_text(), path.name)]
    for unit, view in zip(result.units, (explain_unit(u, result.objects) for u in result.units)):
        if unit.deployment is None and _kserve_today(unit.source.obj, inputs):
            assert unit.runtime is not None, f"{unit.name}: collision left to KServe"
        if view.container is not None:
            runtime, _ = find_runtime(admitted(unit.isvc), result.objects)
            assert _duplicates(runtime, view.container) == [], unit.name
            assert _ignored_not_from_input(unit, runtime, view.container, result.warnings) == [], unit.name


def _ignored_not_from_input(unit, runtime: dict, container: dict, warnings: list) -> list[str]:
    """Flags of the assembled container the server ignores or rejects that kserve-cmp added or did not report.

    A published manifest may pass a flag its server ignores (KServe's docs do: ``--return_logits``,
    ``--gpu_memory_utilization``); kserve-cmp must not add one, and must warn about each it passes on.
    """
    version = _model_of(unit.source.obj).get("runtimeVersion")
    parser, _ = parsers.parser_for(_base_of(runtime), None, version if isinstance(version, str) else None)
    if parser is None:
        return []
    written = [t.partition("=")[0] for t in _model_of(unit.source.obj).get("args") or [] if isinstance(t, str)]
    bad = []
    for token in container.get("args") or []:
        name = token.partition("=")[0]
        if not name.startswith("--") or parser.resolve(name).declared is not None:
            continue
        reported = any(w.message.startswith(f"{name}: ") for w in warnings)
        if name not in written or not reported:
            bad.append(token)
    return bad


def _model_of(obj: dict) -> dict:
    model = ((obj.get("spec") or {}).get("predictor") or {}).get("model")
    return model if isinstance(model, dict) else {}


def _base_of(runtime: dict) -> dict:
    """A derived runtime stands for its base (the label kserve-cmp writes)."""
    base = ((runtime.get("metadata") or {}).get("labels") or {}).get("kserve-cmp.io/base-runtime")
    return {**runtime, "metadata": {**runtime["metadata"], "name": base}} if base else runtime


@pytest.mark.skipif(not FILES, reason="corpus not present")
def test_expected_failures_name_existing_files() -> None:
    assert set(EXPECTED_FAILURES) <= {_id(p) for p in FILES}


@pytest.mark.skipif(not FILES, reason="corpus not present")
def test_corpus_has_37_collisions_with_kserve_merge() -> None:
    """The measurement the fix is about: 37 published InferenceServices get a flag twice today."""
    colliding = 0
    for path in FILES:
        objects = [d.obj for d in load_stream(path.read_text(), path.name)]
        colliding += sum(1 for o in objects if _kserve_today(o, objects))
    assert colliding == 37
