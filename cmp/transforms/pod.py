"""Pod fields: ``spec.pod`` on the predictor, ``spec.transformer.pod`` on the transformer.

KServe reads a component's PodSpec fields inline in ``spec.predictor``/``spec.transformer`` and
puts the component's ``labels``/``annotations`` on its pods (``PredictorSpec``/``TransformerSpec``
inline ``PodSpec`` and ``ComponentExtensionSpec``, ``pkg/apis/serving/v1beta1/``, v0.20.0); the
fields are written there, each with where it came from. ``cmp.spec.pod`` checks them.

A multi-node predictor's workers are built from the runtime's ``workerSpec`` and the
InferenceService's ``spec.predictor.workerSpec`` only (``multiNodeProcess`` in
``pkg/controller/v1beta1/inferenceservice/components/predictor.go``, v0.17.1 to v0.20.0): the
predictor's service account, scheduling fields and pull secrets never reach them, while its labels
and annotations do (``reconcileWorker``). So the PodSpec fields of ``spec.pod`` are written on the
``workerSpec`` too: GPU workers need the same tolerations and node selection as the head.

Runs before ``spec.patches``, which may change or remove anything written here.
"""

from __future__ import annotations

import re

from ..source.yamlio import format_path
from ..spec import pod as pods
from ..spec import profile as profiles
from ..spec.reader import Reader
from ..unit import RenderContext, Unit

NAME = "pod"
ORDER = 40   # after health (30), which renders spec.transformer; before spec.patches (900)
SECTIONS = ("pod",)

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
ISVC_API = "serving.kserve.io/v1beta1"
#: PodSpec field -> the Knative feature flag that admits it (``PodSpecMask``, ``pkg/apis/serving/fieldmask.go``,
#: knative/serving knative-v1.21.1; ``serviceAccountName`` and ``imagePullSecrets`` are always allowed).
KNATIVE_FEATURES = {"affinity": "kubernetes.podspec-affinity", "nodeSelector": "kubernetes.podspec-nodeselector",
                    "tolerations": "kubernetes.podspec-tolerations",
                    "priorityClassName": "kubernetes.podspec-priorityclassname"}
_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[([^\]]*)\]")


def apply(unit: Unit, ctx: RenderContext) -> None:
    md = unit.deployment
    if md is None:
        return
    spec = unit.isvc.get("spec") or {}
    transformer_block = md.spec.get("transformer")
    sections = [(("spec", "pod"), md.spec.get("pod"), "predictor")]
    if isinstance(transformer_block, dict) and isinstance(spec.get("transformer"), dict):
        sections.append((("spec", "transformer", "pod"), transformer_block.get("pod"), "transformer"))
    mode = ((unit.isvc.get("metadata") or {}).get("annotations") or {}).get(MODE_ANNOTATION)
    for path, value, component in sections:
        if value is None:
            continue
        r = Reader(unit.source)
        fields = pods.read_pod(r, path, value, check_affinity=affinity_check(unit), mode=mode)
        if mode != "Standard":
            _knative_features(r, ctx, path, fields)
        ctx.problems.extend(r.problems)
        if r.problems or not fields:
            continue
        _write(unit, ctx, spec[component], ("spec", component), fields, path)
        worker = spec[component].get("workerSpec") if component == "predictor" else None
        if isinstance(worker, dict):
            _write_worker(unit, ctx, worker, fields, path)


def _knative_features(r: Reader, ctx: RenderContext, path: tuple, fields: pods.PodFields) -> None:
    """Knative drops these fields from a revision, and so refuses it, unless a feature flag lets them in."""
    profile = ctx.profile or profiles.DEFAULT
    for name, key in KNATIVE_FEATURES.items():
        if name in fields.spec and not profile.feature_on(key):
            r.error(path + (name,), f"Knative refuses {name} in a revision unless its config-features enables "
                                    f"{key} ({profile.where_feature(key)}): enable it on the cluster and in the "
                                    f"cluster profile's spec.knative.configFeatures, or use deploymentMode Standard",
                    rule=NAME)


def _write(unit: Unit, ctx: RenderContext, target: dict, at: tuple, fields: pods.PodFields, source: tuple) -> None:
    for name, value in fields.spec.items():
        _set(unit, ctx, target, at, name, value, unit.where(source + (name,)), NAME)
    for name in pods.META_FIELDS:
        values = getattr(fields, name)
        if values:
            merged = {**(target.get(name) or {}), **values}
            target[name] = merged
            ctx.provenance.record(unit.isvc, format_path(at + (name,)), merged, unit.where(source + (name,)), NAME)


def _write_worker(unit: Unit, ctx: RenderContext, worker: dict, fields: pods.PodFields, source: tuple) -> None:
    """The PodSpec fields on the workers too: KServe does not copy them from the predictor."""
    at = ("spec", "predictor", "workerSpec")
    for name, value in fields.spec.items():
        if name in pods.WORKER_FIELDS:
            _set(unit, ctx, worker, at, name, value, unit.where(source + (name,)),
                 f"{NAME}: copied to the workers (KServe builds their pods from workerSpec only)")


def _set(unit: Unit, ctx: RenderContext, target: dict, at: tuple, name: str, value, where: str, rule: str) -> None:
    if name == "imagePullSecrets":  # the storage initializer's may be there already: one list, no name twice
        current = [s for s in target.get(name) or [] if isinstance(s, dict)]
        names = {s.get("name") for s in current}
        value = current + [s for s in value if s["name"] not in names]
    target[name] = value
    ctx.provenance.record(unit.isvc, format_path(at + (name,)), value, where, rule)


def affinity_check(unit: Unit) -> pods.AffinityCheck:
    """``affinity`` against the PodSpec schema of the target release's InferenceService CRD."""
    from ..validate import validate_object  # schemas load lazily

    prefix = "spec.predictor.affinity"

    def check(value: dict) -> list[tuple[tuple, str]]:
        probe = {"apiVersion": ISVC_API, "kind": "InferenceService", "metadata": {"name": "probe"},
                 "spec": {"predictor": {"affinity": value}}}
        found = []
        for error in validate_object(probe, unit.kserve):
            rest = error.path[len(prefix):]
            if error.path.startswith(prefix) and rest[:1] in ("", ".", "["):
                found.append((path_parts(rest), error.message))
        return found

    return check


def path_parts(text: str) -> tuple:
    """``.a.b[0][key]`` -> ``('a', 'b', 0, 'key')``."""
    parts: list = []
    for name, index, key in _PATH_PART.findall(text):
        parts.append(int(index) if index else name or key)
    return tuple(parts)
