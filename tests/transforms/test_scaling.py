"""Scaling normalisation, table-driven: (min, max, initial, profile, mode) -> fields, annotations or error.

Every rendered Knative result is also put through an independent model of what happens next
on the cluster (kserve.md §4): KServe builds the revision template annotations from the
rendered InferenceService, Knative validates them, and the pods it starts and the range it
scales in must be the ones the model asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cmp.pipeline import render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream

KN = "autoscaling.knative.dev/"
HPA_CLASS = "hpa.autoscaling.knative.dev"
KPA_CLASS = "kpa.autoscaling.knative.dev"


# --- an independent model of KServe (Knative mode) and Knative admission -------------------------

KNATIVE_DEFAULTS = {"initial-scale": "1", "allow-zero-initial-scale": "false", "max-scale": "0",
                    "max-scale-limit": "0", "enable-scale-to-zero": "true"}


def cluster(profile: dict | None) -> dict:
    data = {**KNATIVE_DEFAULTS, **(profile or {})}
    return {"initial": int(data["initial-scale"]),
            "allow_zero": data["allow-zero-initial-scale"].lower() in ("true", "1", "t"),
            "max_scale": int(data["max-scale"]), "limit": int(data["max-scale-limit"]),
            "to_zero": data["enable-scale-to-zero"].lower() in ("true", "1", "t")}


def revision_annotations(isvc: dict, component: str, c: dict) -> dict:
    """What KServe (v0.20, Knative mode) writes on a component's revision template."""
    meta = dict(isvc["metadata"].get("annotations") or {})
    initial = meta.get(KN + "initial-scale")
    if initial is not None and (not initial.isdigit() or (initial == "0" and not c["allow_zero"])):
        del meta[KN + "initial-scale"]
    spec = isvc["spec"].get(component, isvc["spec"])
    out = {k: v for k, v in meta.items() if k not in (KN + "min-scale", KN + "max-scale")}
    out.update({k: v for k, v in (spec.get("annotations") or {}).items()
                if k not in (KN + "min-scale", KN + "max-scale")})
    out.setdefault(KN + "class", KPA_CLASS)
    if spec.get("scaleMetric"):
        out[KN + "metric"] = spec["scaleMetric"]
    out[KN + "min-scale"] = str(spec["minReplicas"]) if spec.get("minReplicas") is not None else "1"
    if spec.get("maxReplicas"):
        out[KN + "max-scale"] = str(spec["maxReplicas"])
    return out


def knative_rejects(annotations: dict, c: dict) -> list[str]:
    """Knative's annotation validation (min/max/limit, initial scale, metric per class)."""
    errors = []
    low = int(annotations.get(KN + "min-scale", "0"))
    high = int(annotations.get(KN + "max-scale", "0"))
    if low < 0 or high < 0:
        errors.append("negative scale")
    if high != 0 and high < low:
        errors.append(f"max-scale={high} is less than min-scale={low}")
    if KN + "max-scale" in annotations and c["limit"] > 0 and (high > c["limit"] or high == 0):
        errors.append("max-scale out of bounds")
    if KN + "initial-scale" in annotations:
        text = annotations[KN + "initial-scale"]
        if not text.isdigit() or (int(text) == 0 and not c["allow_zero"]):
            errors.append("invalid initial-scale")
    metric, cls = annotations.get(KN + "metric"), annotations.get(KN + "class")
    if metric and cls == KPA_CLASS and metric not in ("concurrency", "rps"):
        errors.append(f"metric {metric} invalid for KPA")
    return errors


def kserve_rejects(obj: dict) -> list[str]:
    """KServe's admission webhook (Knative mode): every component's scaleMetric is checked against
    the class on the object's metadata (a component's own annotations are not consulted)."""
    meta = obj["metadata"].get("annotations") or {}
    if meta.get("serving.kserve.io/deploymentMode") == "Standard":
        return []
    allowed = ("cpu", "memory") if meta.get(KN + "class") == HPA_CLASS else ("concurrency", "rps")
    spec = obj["spec"]
    parts = [spec] if obj["kind"] == "InferenceGraph" else [spec[n] for n in ("predictor", "transformer",
                                                                              "explainer") if n in spec]
    return [f"[{p['scaleMetric']}] is not a supported metric" for p in parts
            if p.get("scaleMetric") is not None and p["scaleMetric"] not in allowed]


def cluster_behaviour(annotations: dict, c: dict) -> tuple[int, int, int]:
    """(pods at start, lowest, highest; 0 = unlimited) of a revision on that cluster."""
    low = int(annotations[KN + "min-scale"])
    high = int(annotations.get(KN + "max-scale", c["max_scale"]))
    initial = int(annotations.get(KN + "initial-scale", c["initial"]))
    if not c["allow_zero"] and initial == 0:
        initial = 1
    floor = max(low, 1) if not c["to_zero"] else low
    return max(low, initial), floor, high


# --- rendering one ModelDeployment under one profile -----------------------------------------------

@dataclass
class Err:
    path: str
    message: str


@dataclass
class Case:
    id: str
    scaling: dict
    expect: dict | Err
    mode: str | None = "Knative"
    profile: dict | None = None
    annotations: dict = field(default_factory=dict)
    warning: str | None = None


def model_text(case: Case) -> str:
    lines = ["apiVersion: kserve-cmp.io/v1alpha1", "kind: ModelDeployment", "metadata:", "  name: iris",
             "  namespace: models"]
    if case.annotations:
        lines.append("  annotations:")
        lines += [f"    {k}: {v!r}" for k, v in case.annotations.items()]
    lines += ["spec:", "  runtime: kserve-sklearnserver"]
    if case.mode:
        lines.append(f"  deploymentMode: {case.mode}")
    lines += ["  model:", "    format: sklearn", "    storageUri: gs://models/iris"]
    if case.scaling:
        lines.append("  scaling:")
        lines += [f"    {k}: {v}" for k, v in case.scaling.items()]
    return "\n".join(lines) + "\n"


def profile_text(data: dict, mode: str | None = None) -> str:
    lines = ["apiVersion: kserve-cmp.io/v1alpha1", "kind: ClusterProfile", "metadata: {name: target}", "spec:"]
    if mode:
        lines.append(f"  deploymentMode: {mode}")
    lines += ["  knative:", "    configAutoscaler:"]
    lines += [f"      {k}: {v!r}" for k, v in sorted(data.items())]
    return "\n".join(lines) + "\n"


def render_case(case: Case):
    docs = load_stream(model_text(case), "model.yaml")
    if case.profile is not None:
        docs += load_stream(profile_text(case.profile), "profile.yaml")
    return render_docs(docs, Settings())


# Profile lines: configAutoscaler keys sit on lines 7, 8, ... in sorted order.
ZERO_OK = {"allow-zero-initial-scale": "true"}
CAPPED = {"max-scale": "8"}
LIMITED = {"max-scale": "4", "max-scale-limit": "10"}
NO_SCALE_TO_ZERO = {"enable-scale-to-zero": "false"}
BIG_INITIAL = {"initial-scale": "5"}

CASES = [
    # Knative: defaults, with nothing or only part asked for
    Case("kn-empty", {}, {"min": 1, "max": 0, "initial": "1"}),
    Case("kn-range", {"minReplicas": 2, "maxReplicas": 5}, {"min": 2, "max": 5, "initial": "2"}),
    Case("kn-initial-inside", {"minReplicas": 2, "maxReplicas": 5, "initialScale": 4},
         {"min": 2, "max": 5, "initial": "4"}),
    Case("kn-initial-above-max", {"maxReplicas": 3, "initialScale": 5},
         Err("spec.scaling.initialScale", "initialScale 5 is above the predictor's maxReplicas 3: Knative would "
                                          "start 5 pods (it ignores max-scale while scaling initially)")),
    Case("kn-initial-unlimited", {"initialScale": 7}, {"min": 1, "max": 0, "initial": "7"}),
    Case("kn-min-above-max", {"minReplicas": 3, "maxReplicas": 2},
         Err("spec.scaling.minReplicas", "minReplicas 3 is above maxReplicas 2 (model.yaml:14); only "
                                         "maxReplicas 0 (unlimited) may be below minReplicas")),
    Case("kn-min-with-unlimited", {"minReplicas": 3, "maxReplicas": 0}, {"min": 3, "max": 0, "initial": "3"}),
    # scale to zero and the zero initial scale
    Case("kn-zero-min", {"minReplicas": 0, "maxReplicas": 3}, {"min": 0, "max": 3, "initial": "1"}),
    Case("kn-zero-min-allowed", {"minReplicas": 0, "maxReplicas": 3}, {"min": 0, "max": 3, "initial": "0"},
         profile=ZERO_OK),
    Case("kn-zero-initial-refused", {"minReplicas": 0, "initialScale": 0},
         Err("spec.scaling.initialScale", "initialScale 0 is not allowed on this cluster (Knative default "
                                          "allow-zero-initial-scale: false (no cluster profile)): KServe would "
                                          "drop it and the cluster's initial scale would apply (Knative default "
                                          "initial-scale: 1 (no cluster profile))")),
    Case("kn-zero-initial-allowed", {"minReplicas": 0, "initialScale": 0}, {"min": 0, "max": 0, "initial": "0"},
         profile=ZERO_OK),
    Case("kn-zero-min-no-scale-to-zero", {"minReplicas": 0, "maxReplicas": 2},
         {"min": 0, "max": 2, "initial": "1"}, profile=NO_SCALE_TO_ZERO,
         warning="minReplicas 0, but this cluster never scales to zero (enable-scale-to-zero: false at "
                 "profile.yaml:7): at least one pod stays"),
    # a cluster-wide initial-scale never decides
    Case("kn-global-initial-ignored", {"minReplicas": 1, "maxReplicas": 2}, {"min": 1, "max": 2, "initial": "1"},
         profile=BIG_INITIAL),
    Case("kn-global-initial-ignored-empty", {}, {"min": 1, "max": 0, "initial": "1"}, profile=BIG_INITIAL),
    # a cluster-wide max-scale and max-scale-limit
    Case("kn-capped-default", {"minReplicas": 2}, {"min": 2, "max": 8, "initial": "2"}, profile=CAPPED),
    Case("kn-capped-unlimited", {"maxReplicas": 0},
         Err("spec.scaling.maxReplicas", "maxReplicas 0 (unlimited) is not reachable on this cluster: for 0 its "
                                         "global max-scale applies (max-scale: 8 at profile.yaml:7); set an "
                                         "explicit number"), profile=CAPPED),
    Case("kn-capped-above", {"maxReplicas": 20}, {"min": 1, "max": 20, "initial": "1"}, profile=CAPPED),
    Case("kn-capped-min-above", {"minReplicas": 9},
         Err("spec.scaling.minReplicas", "minReplicas 9 is above the cluster's max-scale, which applies while "
                                         "maxReplicas is unset (max-scale: 8 at profile.yaml:7); set maxReplicas"),
         profile=CAPPED),
    Case("kn-limit-unlimited", {"maxReplicas": 0},
         Err("spec.scaling.maxReplicas", "maxReplicas 0 (unlimited) is not allowed on this cluster "
                                         "(max-scale-limit: 10 at profile.yaml:8); set a number from 1 to 10"),
         profile=LIMITED),
    Case("kn-limit-above", {"maxReplicas": 11},
         Err("spec.scaling.maxReplicas", "maxReplicas 11 is above this cluster's limit (max-scale-limit: 10 at "
                                         "profile.yaml:8)"), profile=LIMITED),
    Case("kn-limit-at", {"minReplicas": 1, "maxReplicas": 10}, {"min": 1, "max": 10, "initial": "1"},
         profile=LIMITED),
    Case("kn-limit-default", {}, {"min": 1, "max": 4, "initial": "1"}, profile=LIMITED),
    # metric and autoscaler class
    Case("kn-metric-cpu", {"minReplicas": 1, "maxReplicas": 3, "scaleMetric": "cpu", "scaleTarget": 70},
         {"min": 1, "max": 3, "initial": "1", "class": HPA_CLASS}),
    Case("kn-metric-cpu-zero", {"minReplicas": 0, "maxReplicas": 3, "scaleMetric": "memory"},
         Err("spec.scaling.minReplicas", "minReplicas 0 with Knative's HPA class: an HPA keeps at least one pod "
                                         "and never scales up from zero; use scaleMetric concurrency or rps (KPA) "
                                         "to scale to zero")),
    Case("kn-metric-rps", {"minReplicas": 0, "maxReplicas": 3, "scaleMetric": "rps"},
         {"min": 0, "max": 3, "initial": "1", "class": None}),
    Case("kn-metric-cpu-forced-kpa", {"scaleMetric": "cpu"},
         Err("spec.scaling.scaleMetric", f"scaleMetric cpu needs the autoscaler class {HPA_CLASS}, but "
                                         f"{KN}class is '{KPA_CLASS}'"),
         annotations={KN + "class": KPA_CLASS}),
    Case("kn-metric-concurrency-forced-hpa", {"scaleMetric": "concurrency"},
         Err("spec.scaling.scaleMetric", f"scaleMetric concurrency needs the autoscaler class {KPA_CLASS}, but "
                                         f"{KN}class is '{HPA_CLASS}'"),
         annotations={KN + "class": HPA_CLASS}),
    # legacy annotation spellings on the ModelDeployment
    Case("kn-legacy-max", {}, {"min": 1, "max": 5, "initial": "1"}, annotations={KN + "max-scale": "5"}),
    Case("kn-legacy-max-over-limit", {},
         Err("metadata.annotations.autoscaling.knative.dev/maxScale",
             "autoscaling.knative.dev/maxScale 12 is above this cluster's limit (max-scale-limit: 10 at "
             "profile.yaml:8)"),
         profile=LIMITED, annotations={KN + "maxScale": "12"}),
    Case("kn-legacy-conflict", {"minReplicas": 3},
         Err("metadata.annotations.autoscaling.knative.dev/minScale",
             "autoscaling.knative.dev/minScale 2 conflicts with minReplicas 3 (model.yaml:15)"),
         annotations={KN + "minScale": "2"}),
    Case("kn-legacy-initial-agrees", {"initialScale": 2}, {"min": 1, "max": 0, "initial": "2"},
         annotations={KN + "initialScale": "2"}),
    Case("kn-legacy-not-a-number", {},
         Err("metadata.annotations.autoscaling.knative.dev/min-scale",
             "autoscaling.knative.dev/min-scale must be an integer >= 0, got 'two'"),
         annotations={KN + "min-scale": "two"}),
    # Standard mode
    Case("std-empty", {}, {"min": 1, "max": 1}, mode="Standard",
         warning="no maxReplicas: written as minReplicas 1, so the hpa autoscaler cannot scale; set maxReplicas "
                 "for a range"),
    Case("std-range", {"minReplicas": 2, "maxReplicas": 6, "scaleMetric": "cpu"}, {"min": 2, "max": 6},
         mode="Standard"),
    Case("std-zero-hpa", {"minReplicas": 0, "maxReplicas": 2},
         Err("spec.scaling.minReplicas", "minReplicas 0 needs serving.kserve.io/autoscalerClass keda or none in "
                                         "Standard mode (autoscaler class hpa keeps at least one pod)"),
         mode="Standard"),
    Case("std-zero-keda", {"minReplicas": 0, "maxReplicas": 2}, {"min": 0, "max": 2}, mode="Standard",
         annotations={"serving.kserve.io/autoscalerClass": "keda"}),
    Case("std-max-zero", {"minReplicas": 1, "maxReplicas": 0},
         Err("spec.scaling.maxReplicas", "maxReplicas 0 is below minReplicas 1 (0 is not unlimited in Standard "
                                         "mode): the hpa autoscaler would be pinned at 1"), mode="Standard"),
    Case("std-initial", {"initialScale": 2, "maxReplicas": 3},
         Err("spec.scaling.initialScale", "initialScale applies only in Knative mode (deploymentMode is "
                                          "Standard)"), mode="Standard"),
    Case("std-knative-annotation", {"maxReplicas": 3},
         Err("metadata.annotations.autoscaling.knative.dev/target",
             "autoscaling.knative.dev/target has no effect in Standard mode; remove it"),
         mode="Standard", annotations={KN + "target": "10"}),
    Case("std-kpa-class", {"maxReplicas": 3},
         Err("metadata.annotations.serving.kserve.io/autoscalerClass",
             "serving.kserve.io/autoscalerClass must be one of hpa, keda, external, none; got 'kpa'"),
         mode="Standard", annotations={"serving.kserve.io/autoscalerClass": "kpa"}),
    Case("std-rps", {"maxReplicas": 3, "scaleMetric": "rps"},
         Err("spec.scaling.scaleMetric", "scaleMetric rps needs Knative mode; an HPA scales on cpu or memory"),
         mode="Standard"),
    Case("std-legacy-min-folded", {"maxReplicas": 4}, {"min": 2, "max": 4}, mode="Standard",
         annotations={KN + "minScale": "2"}),
    # the profile's default deployment mode (the model sets none)
    Case("profile-default-mode", {"minReplicas": 1, "maxReplicas": 2}, {"min": 1, "max": 2, "initial": "1"},
         mode=None, profile={}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_scaling_combination(case: Case) -> None:
    if isinstance(case.expect, Err):
        with pytest.raises(CmpError) as raised:
            render_case(case)
        found = [(p.path, p.message) for p in raised.value.problems]
        assert found == [(case.expect.path, case.expect.message)]
        return
    result = render_case(case)
    isvc = next(o for o in result.objects if o["kind"] == "InferenceService")
    predictor = isvc["spec"]["predictor"]
    annotations = isvc["metadata"]["annotations"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (case.expect["min"], case.expect["max"])
    assert [w.message for w in result.warnings] == ([case.warning] if case.warning else [])
    scale_keys = {k for k in annotations if k.startswith(KN)} | {k for k in predictor.get("annotations") or {}
                                                                  if k.startswith(KN)}
    if case.mode == "Standard":
        assert annotations["serving.kserve.io/deploymentMode"] == "Standard"
        assert scale_keys == set()
        facts = result.units[0].facts["scaling"]["components"]["predictor"]
        assert facts["start"]["value"] == case.expect["min"]
        return
    assert annotations["serving.kserve.io/deploymentMode"] == "Knative"
    assert annotations[KN + "initial-scale"] == case.expect["initial"]
    assert annotations.get(KN + "class") == case.expect.get("class")
    assert kserve_rejects(isvc) == []
    assert not scale_keys & {KN + k for k in ("min-scale", "max-scale", "minScale", "maxScale", "initialScale")}
    check_on_cluster(isvc, case, result.units[0].facts["scaling"])


def check_on_cluster(isvc: dict, case: Case, facts: dict) -> None:
    """Knative accepts the revision, and starts and scales it as the model asked."""
    c = cluster(case.profile)
    template = revision_annotations(isvc, "predictor", c)
    assert knative_rejects(template, c) == []
    start, lowest, highest = cluster_behaviour(template, c)
    asked_initial = case.scaling.get("initialScale")
    asked_min = case.scaling.get("minReplicas", 1)
    assert start == max(asked_min, asked_initial if asked_initial is not None else
                        (asked_min if asked_min or c["allow_zero"] else 1))
    if highest:
        assert start <= highest
    if "maxReplicas" in case.scaling:
        assert highest == case.scaling["maxReplicas"]
    predictor = facts["components"]["predictor"]
    assert predictor["start"]["value"] == start
    assert predictor["min"]["value"] == lowest
    assert predictor["max"]["value"] == (highest or "unlimited")
    assert facts["initialScale"]["value"] == int(isvc["metadata"]["annotations"][KN + "initial-scale"])


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


# --- raw InferenceServices and InferenceGraphs from the inputs -------------------------------------

RAW_ISVC = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: flowers
  namespace: models
  annotations:
    serving.kserve.io/deploymentMode: Serverless
    autoscaling.knative.dev/minScale: "2"
    autoscaling.knative.dev/initialScale: "3"
spec:
  predictor:
    annotations:
      autoscaling.knative.dev/max-scale: "4"
    sklearn:
      storageUri: gs://models/flowers
  transformer:
    maxReplicas: 6
    containers:
    - name: kserve-container
      image: example/transformer:1.0
"""

GRAPH = """\
apiVersion: serving.kserve.io/v1alpha1
kind: InferenceGraph
metadata:
  name: chain
  namespace: models
spec:
  maxReplicas: 3
  nodes:
    root:
      routerType: Sequence
      steps:
      - serviceName: flowers
"""


def render_text(text: str, profile: dict | None = None):
    docs = load_stream(text, "app.yaml")
    if profile is not None:
        docs += load_stream(profile_text(profile), "profile.yaml")
    return render_docs(docs, Settings())


def test_raw_isvc_legacy_annotations_fold_into_every_component() -> None:
    result = render_text(RAW_ISVC)
    isvc = result.objects[0]
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Knative",
                                               KN + "initial-scale": "3"}
    predictor, transformer = isvc["spec"]["predictor"], isvc["spec"]["transformer"]
    assert "annotations" not in predictor
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 4)
    assert (transformer["minReplicas"], transformer["maxReplicas"]) == (2, 6)
    assert kserve_rejects(isvc) == []
    c = cluster(None)
    for name in ("predictor", "transformer"):
        template = revision_annotations(isvc, name, c)
        assert knative_rejects(template, c) == []
        assert cluster_behaviour(template, c)[0] == 3


def test_raw_isvc_metric_cpu_puts_the_hpa_class_where_kserve_checks_it() -> None:
    text = RAW_ISVC.replace("    sklearn:\n", "    scaleMetric: cpu\n    sklearn:\n", 1)
    isvc = render_text(text).objects[0]
    assert isvc["metadata"]["annotations"][KN + "class"] == HPA_CLASS
    assert "annotations" not in isvc["spec"]["predictor"]
    assert kserve_rejects(isvc) == []
    c = cluster(None)
    for name in ("predictor", "transformer"):
        assert knative_rejects(revision_annotations(isvc, name, c), c) == []


def test_raw_isvc_class_only_on_a_component_is_copied_to_the_metadata() -> None:
    text = RAW_ISVC.replace('max-scale: "4"', f'max-scale: "4"\n      {KN}class: {HPA_CLASS}')
    isvc = render_text(text.replace("    sklearn:\n", "    scaleMetric: memory\n    sklearn:\n", 1)).objects[0]
    assert isvc["metadata"]["annotations"][KN + "class"] == HPA_CLASS
    assert kserve_rejects(isvc) == []


def test_one_class_for_every_component_of_an_inferenceservice() -> None:
    text = RAW_ISVC.replace("    sklearn:\n", "    scaleMetric: cpu\n    sklearn:\n", 1)
    with pytest.raises(CmpError) as raised:
        render_text(text.replace("  transformer:\n", "  transformer:\n    scaleMetric: rps\n"))
    assert [p.format() for p in raised.value.problems] == [
        f"app.yaml:18: spec.transformer.scaleMetric: scaleMetric rps needs the autoscaler class {KPA_CLASS}, "
        f"but {KN}class is '{HPA_CLASS}' (written for the predictor's scaleMetric cpu: KServe checks every "
        "component's metric against the one class on the InferenceService's metadata)"]
    with pytest.raises(CmpError) as raised:
        render_text(text.replace(f'    {KN}minScale: "2"\n', "").replace("  transformer:\n",
                                                                           "  transformer:\n    minReplicas: 0\n"))
    assert [p.message for p in raised.value.problems] == [
        "minReplicas 0 with Knative's HPA class: an HPA keeps at least one pod and never scales up from zero; "
        "use scaleMetric concurrency or rps (KPA) to scale to zero"]


def test_raw_isvc_conflicting_spellings() -> None:
    text = RAW_ISVC.replace('max-scale: "4"', 'max-scale: "4"\n      autoscaling.knative.dev/minScale: "1"')
    with pytest.raises(CmpError) as raised:
        render_text(text)
    assert [p.format() for p in raised.value.problems] == [
        "app.yaml:14: spec.predictor.annotations.autoscaling.knative.dev/minScale: "
        "autoscaling.knative.dev/minScale 1 conflicts with autoscaling.knative.dev/minScale 2 (app.yaml:8)"]


def test_raw_isvc_initial_scale_above_a_component_max() -> None:
    with pytest.raises(CmpError) as raised:
        render_text(RAW_ISVC.replace('initialScale: "3"', 'initialScale: "5"'))
    assert [p.message for p in raised.value.problems] == [
        "autoscaling.knative.dev/initialScale 5 is above the predictor's maxReplicas 4: Knative would start 5 "
        "pods (it ignores max-scale while scaling initially)"]


def test_raw_isvc_unknown_mode() -> None:
    with pytest.raises(CmpError) as raised:
        render_text(RAW_ISVC.replace("Serverless", "ModelMesh"))
    assert [p.message for p in raised.value.problems] == [
        "unknown deployment mode 'ModelMesh'; expected one of Knative, Standard, Serverless, RawDeployment"]


def test_raw_isvc_gets_the_profile_default_mode() -> None:
    text = RAW_ISVC.replace("    serving.kserve.io/deploymentMode: Serverless\n", "")
    text = text.replace('    autoscaling.knative.dev/initialScale: "3"\n', "")
    docs = load_stream(text, "app.yaml") + load_stream(profile_text({}, mode="RawDeployment"), "profile.yaml")
    isvc = render_docs(docs, Settings()).objects[0]
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Standard"}
    assert (isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"]) == (2, 4)


def test_graph_knative() -> None:
    result = render_text(GRAPH, ZERO_OK)
    graph = result.objects[0]
    assert graph["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Knative",
                                                KN + "initial-scale": "1"}
    assert (graph["spec"]["minReplicas"], graph["spec"]["maxReplicas"]) == (1, 3)
    assert graph["spec"]["nodes"] == {"root": {"routerType": "Sequence", "steps": [{"serviceName": "flowers"}]}}
    c = cluster(ZERO_OK)
    assert knative_rejects(revision_annotations(graph, "graph", c), c) == []
    facts = result.units[0].facts["scaling"]
    assert facts["components"]["graph"]["max"] == {"value": 3, "rule": "maxReplicas as written",
                                                   "input": "app.yaml:7"}


def test_graph_metric_cpu_sets_the_class_on_its_metadata() -> None:
    graph = render_text(GRAPH.replace("maxReplicas: 3", "maxReplicas: 3\n  scaleMetric: cpu")).objects[0]
    assert graph["metadata"]["annotations"][KN + "class"] == HPA_CLASS
    assert kserve_rejects(graph) == []


def test_graph_standard_unlimited_is_an_error() -> None:
    text = GRAPH.replace("  namespace: models\n", "  namespace: models\n  annotations:\n"
                                                  "    serving.kserve.io/deploymentMode: RawDeployment\n")
    with pytest.raises(CmpError) as raised:
        render_text(text.replace("maxReplicas: 3", "maxReplicas: 0"))
    assert [p.format() for p in raised.value.problems] == [
        "app.yaml:9: spec.maxReplicas: maxReplicas 0 is below minReplicas 1 (0 is not unlimited in Standard "
        "mode): the hpa autoscaler would be pinned at 1"]


def test_facts_name_rule_and_input() -> None:
    case = Case("facts", {"minReplicas": 0, "maxReplicas": 3}, {}, profile={})
    facts = render_case(case).units[0].facts["scaling"]
    assert facts["mode"] == {"value": "Knative", "rule": "spec.deploymentMode", "input": "model.yaml:8"}
    assert facts["initialScale"] == {
        "value": 1, "rule": "minReplicas 0 raised to 1: this cluster does not allow a zero initial scale",
        "input": "Knative default allow-zero-initial-scale: false (cluster profile profile.yaml:1 does not set it)"}
    assert facts["components"]["predictor"]["start"]["value"] == 1
    assert facts["components"]["predictor"]["min"]["input"] == "model.yaml:13"


def test_provenance_records_the_folded_annotation() -> None:
    result = render_text(RAW_ISVC)
    record = result.provenance.latest("InferenceService/models/flowers", "spec.predictor.maxReplicas")
    assert (record.value, record.source) == (4, "app.yaml:13")


# --- spec.patches: the InferenceService they leave is held to the same rules -----------------------

def render_patched(ops: list[str], profile: dict | None = None, scaling: dict | None = None):
    case = Case("patched", scaling if scaling is not None else {"minReplicas": 1, "maxReplicas": 3}, {},
                profile=profile)
    text = model_text(case) + "  patches:\n" + "".join(f"  - {op}\n" for op in ops)
    docs = load_stream(text, "model.yaml")
    if profile is not None:
        docs += load_stream(profile_text(profile), "profile.yaml")
    return render_docs(docs, Settings())


@pytest.mark.parametrize("op, expected", [
    ("{op: replace, path: /spec/predictor/maxReplicas, value: 0}",
     "model.yaml:16: spec.patches[0]: maxReplicas 0 (unlimited) is not reachable on this cluster: for 0 its global "
     "max-scale applies (max-scale: 4 at profile.yaml:7); set an explicit number"),
    ("{op: add, path: /metadata/annotations/autoscaling.knative.dev~1minScale, value: '2'}",
     "model.yaml:16: spec.patches[0]: autoscaling.knative.dev/minScale 2 conflicts with minReplicas 1 "
     "(model.yaml:13)"),
    ("{op: add, path: /spec/predictor/scaleMetric, value: cpu}",
     "model.yaml:16: spec.patches[0]: scaleMetric cpu needs the autoscaler class hpa.autoscaling.knative.dev, "
     "but autoscaling.knative.dev/class is 'kpa.autoscaling.knative.dev'"),
])
def test_patches_are_held_to_the_scaling_rules(op: str, expected: str) -> None:
    ops = [op]
    if "scaleMetric" in op:
        ops.insert(0, "{op: add, path: /metadata/annotations, value: {autoscaling.knative.dev/class: "
                      "kpa.autoscaling.knative.dev}}")
        expected = expected.replace("spec.patches[0]", "spec.patches[1]").replace(":16:", ":17:")
    with pytest.raises(CmpError) as raised:
        render_patched(ops, profile={"max-scale": "4"})
    assert [p.format() for p in raised.value.problems] == [expected]


def test_patched_replica_fields_and_annotations_are_normalised() -> None:
    result = render_patched(["{op: add, path: /spec/predictor/maxReplicas, value: 5}",
                             "{op: add, path: /metadata/annotations/autoscaling.knative.dev~1initial-scale, "
                             "value: '2'}"], scaling={})
    isvc = result.objects[0]
    assert (isvc["spec"]["predictor"]["minReplicas"], isvc["spec"]["predictor"]["maxReplicas"]) == (1, 5)
    assert isvc["metadata"]["annotations"][KN + "initial-scale"] == "2"
    facts = result.units[0].facts["scaling"]["components"]["predictor"]
    assert facts["max"] == {"value": 5, "rule": "maxReplicas as written", "input": "model.yaml:13"}
    assert facts["start"]["value"] == 2
    assert kserve_rejects(isvc) == []


def test_a_patched_mode_is_attributed_to_the_patch() -> None:
    result = render_patched(["{op: replace, path: /metadata/annotations/serving.kserve.io~1deploymentMode, "
                             "value: RawDeployment}"])
    isvc = result.objects[0]
    assert isvc["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Standard"}
    assert result.units[0].facts["scaling"]["mode"]["input"] == "model.yaml:16"


HPA_MODEL = """apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: iris, namespace: ml}
spec:
  runtime: kserve-sklearnserver
  deploymentMode: Standard
  model: {format: sklearn, storageUri: gs://b/m}
  scaling: {minReplicas: 1, maxReplicas: 3%s}
"""


@pytest.mark.parametrize(("scaling", "metric", "warned"), [
    ("", "cpu 80% average utilization", False),
    (", scaleMetric: cpu, scaleTarget: 60", "cpu 60% average utilization", False),
    (", scaleMetric: memory, scaleTarget: 70", "memory 70% average utilization", False),
    (", scaleMetric: memory", "cpu 80% average utilization (Kubernetes' default)", True),
])
def test_standard_mode_hpa_metric_is_the_one_kserve_creates(scaling: str, metric: str, warned: bool) -> None:
    result = render_text(HPA_MODEL % scaling)
    facts = result.units[0].facts["scaling"]["components"]["predictor"]
    assert facts["metric"]["value"] == metric
    warnings = [w.message for w in result.warnings if "scaleTarget" in w.message]
    assert bool(warnings) is warned
