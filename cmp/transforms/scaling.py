"""Scaling normalisation: min, max and initial replicas mean what the model asked for on the target cluster.

Runs on every InferenceService (from a ModelDeployment or raw in the inputs) and every
InferenceGraph. Each spelling of a replica count (``minReplicas``/``maxReplicas`` fields,
``spec.scaling.initialScale``, and the annotations ``autoscaling.knative.dev/min-scale``,
``max-scale``, ``initial-scale`` and their camelCase forms on the metadata or on a component)
is folded into one value per component; spellings that disagree are an error. Then, with the
cluster profile's ``config-autoscaler`` (Knative's defaults without one):

- Knative mode: ``minReplicas``/``maxReplicas`` written on every component and
  ``autoscaling.knative.dev/initial-scale`` on the metadata, so no cluster-wide value decides;
  ranges and initial scales Knative or KServe would override or refuse are errors;
  ``scaleMetric`` cpu/memory selects Knative's HPA class, concurrency/rps need KPA.
- Standard mode: no Knative annotations, ``minReplicas`` >= 1 unless the autoscaler class is
  keda or none, ``maxReplicas`` written and >= ``minReplicas``.
- ``serving.kserve.io/deploymentMode`` written as ``Knative`` or ``Standard``.

``unit.facts["scaling"]`` holds what explain shows: ``mode``, ``initialScale`` (Knative) and,
per component, ``start`` (pods at start), ``min`` and ``max`` (the range it scales in; ``max``
may be ``"unlimited"``), each ``{"value", "rule", "input"}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..kserve import autoscaling as a
from ..provenance import object_key
from ..source.yamlio import format_path
from ..spec import profile as profiles
from ..spec.deployment import DEPLOYMENT_MODES, LEGACY_MODES, SCALING_FIELDS
from ..unit import RenderContext, Unit

NAME = "scaling"
ORDER = 950  # after spec.patches (900): the rules hold for the InferenceService as it is emitted
KINDS = ("InferenceService", "InferenceGraph")

MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
ISVC_COMPONENTS = ("predictor", "transformer", "explainer")
META_ANNOTATIONS = ("metadata", "annotations")
#: Quantity -> (field name, annotation spellings); initial scale has no field on KServe objects.
QUANTITIES = {"min": ("minReplicas", a.MIN_SCALE_KEYS), "max": ("maxReplicas", a.MAX_SCALE_KEYS),
              "initial": (None, a.INITIAL_SCALE_KEYS)}
SCALE_KEYS = frozenset(a.MIN_SCALE_KEYS + a.MAX_SCALE_KEYS + a.INITIAL_SCALE_KEYS)
#: Where a ModelDeployment asked for a component's replica fields and pod annotations.
SCALING_INPUTS = {("spec", "predictor"): ("spec", "scaling"),
                  ("spec", "transformer"): ("spec", "transformer", "scaling")}
POD_ANNOTATION_INPUTS = {("spec", "predictor", "annotations"): ("spec", "pod", "annotations"),
                         ("spec", "transformer", "annotations"): ("spec", "transformer", "pod", "annotations")}
#: How the patches transform names what an operation wrote (``patches[3] add``).
PATCH_RULE = re.compile(r"^patches\[(\d+)\] ")


@dataclass(frozen=True)
class Claim:
    """One place of the input that asks for a replica count."""

    value: int
    label: str    # the field or annotation as written
    path: tuple   # in the source document


@dataclass(frozen=True)
class Decision:
    """A value with the rule and the input that decided it (for explain and provenance)."""

    value: Any
    rule: str
    input: str

    def as_dict(self) -> dict:
        return {"value": self.value, "rule": self.rule, "input": self.input}


@dataclass(frozen=True)
class Component:
    """A part of the object that scales on its own: an InferenceService component, or a whole graph."""

    name: str
    path: tuple          # in the object
    spec: dict
    annotated: bool      # has its own ``annotations`` (InferenceService components do, graphs do not)

    def annotations(self) -> dict:
        return (self.spec.get("annotations") or {}) if self.annotated else {}


class _Run:
    """One unit's normalisation: its problems, provenance and facts."""

    def __init__(self, unit: Unit, ctx: RenderContext):
        self.unit, self.ctx = unit, ctx
        self.profile = ctx.profile or profiles.DEFAULT
        self.config = self.profile.autoscaler
        self.errors = 0
        self.seen: set[tuple] = set()

    @property
    def meta(self) -> dict:
        return self.unit.isvc.setdefault("metadata", {})

    def source(self, path: tuple) -> tuple:
        """Where a path of the emitted object was written in the input document."""
        md = self.unit.deployment
        if md is None:
            return path
        patch = self.patch_of(path)
        if patch is not None:
            return ("spec", "patches", patch)
        if len(path) == 3 and path[:2] in SCALING_INPUTS and path[2] in SCALING_FIELDS:
            return SCALING_INPUTS[path[:2]] + (path[2],)
        if path[:3] in POD_ANNOTATION_INPUTS:
            return POD_ANNOTATION_INPUTS[path[:3]] + path[3:]
        if path == META_ANNOTATIONS + (MODE_ANNOTATION,):
            return ("spec", "deploymentMode")
        if path[:2] == ("spec", "transformer"):
            return ("spec", "transformer")
        return path if path[:2] == META_ANNOTATIONS else ("spec",)

    def patch_of(self, path: tuple) -> int | None:
        """The index of the ``spec.patches`` operation that last wrote ``path`` or a parent of it, if any."""
        key = object_key(self.unit.isvc)
        for end in range(len(path), 0, -1):
            record = self.ctx.provenance.latest(key, format_path(path[:end]))
            if record is not None:
                match = PATCH_RULE.match(record.rule)
                return int(match.group(1)) if match else None
        return None

    def where(self, path: tuple) -> str:
        return self.unit.where(path)

    def problem(self, path: tuple, message: str, level: str = "error") -> None:
        key = (path, message, level)
        if key in self.seen:
            return
        self.seen.add(key)
        if level == "error":
            self.errors += 1
        self.ctx.add(self.unit.problem(path, message, rule=NAME, level=level))

    def record(self, path: tuple, value: Any, decision: Decision) -> None:
        self.ctx.provenance.record(self.unit.isvc, format_path(path), value, decision.input,
                                   f"{NAME}: {decision.rule}")


def apply(unit: Unit, ctx: RenderContext) -> None:
    run = _Run(unit, ctx)
    mode = _mode(run)
    components = _components(unit.isvc)
    if mode is None or components is None:
        return
    chosen = _fold(run, components)
    if run.errors:
        return
    if mode.value == "Knative":
        facts = _knative(run, components, chosen)
    else:
        facts = _standard(run, components, chosen)
    if facts is not None and not run.errors:
        unit.facts[NAME] = {"mode": mode.as_dict(), **facts}


def _mapping_or_absent(holder: dict) -> bool:
    """Whether ``holder["annotations"]`` is usable (else the schema check reports it)."""
    return isinstance(holder.get("annotations"), (dict, type(None)))


def _writable_annotations(holder: dict) -> dict:
    """``holder["annotations"]`` (checked by :func:`_mapping_or_absent`), created when absent or null."""
    if holder.get("annotations") is None:
        holder["annotations"] = {}
    return holder["annotations"]


def _components(obj: dict) -> list[Component] | None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj.get("kind") == "InferenceGraph":
        return [Component("graph", ("spec",), spec, annotated=False)]
    components = [Component(name, ("spec", name), spec[name], annotated=True)
                  for name in ISVC_COMPONENTS if isinstance(spec.get(name), dict)]
    return components if all(_mapping_or_absent(c.spec) for c in components) else None


def _mode(run: _Run) -> Decision | None:
    """The deployment mode, its annotation written with the canonical name."""
    if not _mapping_or_absent(run.meta):
        return None
    annotations = _writable_annotations(run.meta)
    path = META_ANNOTATIONS + (MODE_ANNOTATION,)
    raw = annotations.get(MODE_ANNOTATION)
    md = run.unit.deployment
    if md is not None and raw in DEPLOYMENT_MODES and run.patch_of(path) is None:
        if md.deployment_mode:
            return Decision(raw, "spec.deploymentMode", run.where(("spec", "deploymentMode")))
        record = run.ctx.provenance.latest(object_key(run.unit.isvc), "metadata.annotations." + MODE_ANNOTATION)
        if record is not None and record.source == "kserve-cmp rule":  # another transform decided (multi-node)
            return Decision(raw, record.rule, record.source)
        return Decision(raw, "the cluster's default deployment mode", run.profile.where_mode())
    if raw is None:
        decision = Decision(run.profile.deployment_mode or "Knative",
                            "no deploymentMode annotation: the cluster's default, written explicitly",
                            run.profile.where_mode())
    elif raw in LEGACY_MODES:
        decision = Decision(LEGACY_MODES[raw], f"legacy name {raw} rewritten (KServe's webhook rewrites it, "
                                               "which Argo CD would show as drift)", run.where(run.source(path)))
    elif raw in DEPLOYMENT_MODES:
        return Decision(raw, "deploymentMode annotation", run.where(run.source(path)))
    else:
        run.problem(run.source(path), f"unknown deployment mode {raw!r}; expected one of "
                          f"{', '.join(DEPLOYMENT_MODES + tuple(LEGACY_MODES))}")
        return None
    annotations[MODE_ANNOTATION] = decision.value
    run.record(path, decision.value, decision)
    return decision


def _fold(run: _Run, components: list[Component]) -> dict[tuple[str, str], Claim | None]:
    """One claim per (quantity, component) from every spelling; conflicting spellings are errors.

    The replica annotations are removed from the object: what they asked for is written as fields
    (and, in Knative mode, as one canonical ``initial-scale``) afterwards.
    """
    meta_annotations = run.meta.get("annotations") or {}
    initial: list[Claim] = _deployment_initial(run)
    chosen: dict[tuple[str, str], Claim | None] = {}
    for c in components:
        scopes = [(META_ANNOTATIONS, meta_annotations), (c.path + ("annotations",), c.annotations())]
        for quantity, (field, keys) in QUANTITIES.items():
            claims = _field_claims(run, c, field) if field else []
            for scope_path, annotations in scopes:
                claims += _annotation_claims(run, scope_path, annotations, keys)
            if quantity == "initial":
                initial += claims
            else:
                chosen[(quantity, c.name)] = _agree(run, claims)
    chosen[("initial", "")] = _agree(run, initial)
    for c in components:
        _drop_scale_annotations(run, c.path + ("annotations",), c.spec if c.annotated else {})
    _drop_scale_annotations(run, ("metadata", "annotations"), run.meta)
    return chosen


def _deployment_initial(run: _Run) -> list[Claim]:
    md = run.unit.deployment
    if md is None or md.scaling.initial_scale is None:
        return []
    return [Claim(md.scaling.initial_scale, "initialScale", ("spec", "scaling", "initialScale"))]


def _field_claims(run: _Run, c: Component, field: str) -> list[Claim]:
    value = c.spec.get(field)
    if value is None:
        return []
    path = c.path + (field,)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        run.problem(run.source(path), f"{field} must be an integer >= 0, got {value!r}")
        return []
    return [Claim(value, field, run.source(path))]


def _annotation_claims(run: _Run, scope: tuple, annotations: dict, keys: tuple[str, ...]) -> list[Claim]:
    claims = []
    for key in keys:
        if key not in annotations:
            continue
        text = annotations[key]
        number = a.parse_int(text) if isinstance(text, str) else None
        if number is None or number < 0:
            run.problem(run.source(scope + (key,)), f"{key} must be an integer >= 0, got {text!r}")
            continue
        claims.append(Claim(number, key, run.source(scope + (key,))))
    return claims


def _agree(run: _Run, claims: list[Claim]) -> Claim | None:
    if not claims:
        return None
    first = claims[0]
    for other in claims[1:]:
        if other.value != first.value:
            run.problem(other.path, f"{other.label} {other.value} conflicts with {first.label} {first.value} "
                                    f"({run.where(first.path)})")
    return first


def _drop_scale_annotations(run: _Run, path: tuple, holder: dict) -> None:
    annotations = holder.get("annotations")
    if not isinstance(annotations, dict):
        return
    for key in sorted(set(annotations) & SCALE_KEYS):
        del annotations[key]
        run.record(path + (key,), None, Decision(None, "replica annotation folded into the replica fields",
                                                 run.where(run.source(path + (key,)))))
    if not annotations:
        del holder["annotations"]


def _asked(run: _Run, claim: Claim) -> Decision:
    return Decision(claim.value, f"{claim.label} as written", run.where(claim.path))


def _claimed(run: _Run, claim: Claim | None, default: Decision) -> Decision:
    return default if claim is None else _asked(run, claim)


def _knative(run: _Run, components: list[Component], chosen: dict) -> dict | None:
    cfg, profile = run.config, run.profile
    ranges: dict[str, tuple[Decision, Decision]] = {}
    for c in components:
        lo, hi = chosen[("min", c.name)], chosen[("max", c.name)]
        low = _claimed(run, lo, Decision(1, "minReplicas unset: KServe's default", "KServe default"))
        high = _claimed(run, hi, Decision(cfg.max_scale, "maxReplicas unset: the cluster's max-scale "
                                                         "applies (0: unlimited), written explicitly",
                                          profile.where("max-scale")))
        if hi is not None:
            _check_knative_max(run, hi)
        if high.value and low.value > high.value:
            _min_above_max(run, c, lo, hi, low.value, high.value)
        if low.value == 0 and not cfg.enable_scale_to_zero:
            run.problem(lo.path, "minReplicas 0, but this cluster never scales to zero "
                                 f"({profile.where('enable-scale-to-zero')}): at least one pod stays",
                        level="warning")
        ranges[c.name] = (low, high)
    initial = _initial_scale(run, chosen[("initial", "")], ranges)
    written_for = _shared_class(run, components)
    for c in components:
        _knative_class(run, c, ranges[c.name][0], written_for)
    if run.errors:
        return None
    for c in components:
        low, high = ranges[c.name]
        _write_range(run, c, low, high)
    run.meta["annotations"][a.INITIAL_SCALE] = str(initial.value)
    run.record(META_ANNOTATIONS + (a.INITIAL_SCALE,), str(initial.value), initial)
    _knative_admission(run, components)
    return {"initialScale": initial.as_dict(),
            "components": {c.name: _knative_facts(run, *ranges[c.name], initial) for c in components}}


def _check_knative_max(run: _Run, hi: Claim) -> None:
    cfg, profile = run.config, run.profile
    limit = cfg.max_scale_limit
    if hi.value == 0 and limit > 0:
        run.problem(hi.path, f"{hi.label} 0 (unlimited) is not allowed on this cluster "
                             f"({profile.where('max-scale-limit')}); set a number from 1 to {limit}")
    elif hi.value == 0 and cfg.max_scale > 0:
        run.problem(hi.path, f"{hi.label} 0 (unlimited) is not reachable on this cluster: for 0 its global "
                             f"max-scale applies ({profile.where('max-scale')}); set an explicit number")
    elif limit > 0 and hi.value > limit:
        run.problem(hi.path, f"{hi.label} {hi.value} is above this cluster's limit "
                             f"({profile.where('max-scale-limit')})")


def _min_above_max(run: _Run, c: Component, lo: Claim | None, hi: Claim | None, low: int, high: int) -> None:
    path = lo.path if lo else hi.path if hi else run.source(c.path)
    if hi is None:
        run.problem(path, f"minReplicas {low} is above the cluster's max-scale, which applies while maxReplicas "
                          f"is unset ({run.profile.where('max-scale')}); set maxReplicas")
    else:
        run.problem(path, f"minReplicas {low} is above maxReplicas {high} ({run.where(hi.path)}); only "
                          "maxReplicas 0 (unlimited) may be below minReplicas")


def _initial_scale(run: _Run, claim: Claim | None, ranges: dict[str, tuple[Decision, Decision]]) -> Decision:
    cfg, profile = run.config, run.profile
    if claim is not None:
        if claim.value == 0 and not cfg.allow_zero_initial_scale:
            run.problem(claim.path, f"{claim.label} 0 is not allowed on this cluster "
                                    f"({profile.where('allow-zero-initial-scale')}): KServe would drop it and "
                                    f"the cluster's initial scale would apply ({profile.where('initial-scale')})")
        for name, (_, high) in sorted(ranges.items()):
            if high.value and claim.value > high.value:
                run.problem(claim.path, f"{claim.label} {claim.value} is above the {name}'s maxReplicas "
                                        f"{high.value}: Knative would start {claim.value} pods (it ignores "
                                        "max-scale while scaling initially)")
        return _asked(run, claim)
    low = min((low for low, _ in ranges.values()), key=lambda d: d.value)
    if low.value == 0 and not cfg.allow_zero_initial_scale:
        return Decision(1, "minReplicas 0 raised to 1: this cluster does not allow a zero initial scale",
                        profile.where("allow-zero-initial-scale"))
    return Decision(low.value, "initial scale = minReplicas, so the cluster-wide initial-scale does not "
                               "apply", low.input)


def _shared_class(run: _Run, components: list[Component]) -> str:
    """Knative's HPA class on the metadata when a component's ``scaleMetric`` is cpu/memory and none is set.

    KServe's webhook checks every component's metric against the class on the object's metadata
    only (a class in a component's own annotations reaches Knative, not that check), so the one
    class lives there. Returns a note naming the metric it was written for ("" when not written).
    """
    annotations = _writable_annotations(run.meta)
    for c in components:
        metric = c.spec.get("scaleMetric")
        if metric in a.HPA_METRICS and a.CLASS not in annotations:
            annotations[a.CLASS] = a.HPA
            path = run.source(c.path + ("scaleMetric",))
            run.record(META_ANNOTATIONS + (a.CLASS,), a.HPA,
                       Decision(a.HPA, f"scaleMetric {metric} needs Knative's HPA class", run.where(path)))
            return (f" (written for the {c.name}'s scaleMetric {metric}: KServe checks every component's metric "
                    "against the one class on the InferenceService's metadata)")
    return ""


def _knative_class(run: _Run, c: Component, low: Decision, written_for: str) -> None:
    """``scaleMetric`` cpu/memory needs Knative's HPA class, concurrency/rps KPA: on the metadata (what
    KServe checks) and, when the component sets its own, there too (what Knative uses).

    Knative's HPA class keeps at least one pod, and an HPA never scales up from zero pods, so it
    cannot serve a component that may scale to zero.
    """
    metric = c.spec.get("scaleMetric")
    shared = (run.meta.get("annotations") or {}).get(a.CLASS)
    own = c.annotations().get(a.CLASS)
    metric_path = run.source(c.path + ("scaleMetric",))
    wanted = a.HPA if metric in a.HPA_METRICS else a.KPA if metric in a.KPA_METRICS else None
    if wanted == a.HPA and shared != a.HPA or wanted == a.KPA and shared not in (None, a.KPA):
        run.problem(metric_path, f"scaleMetric {metric} needs the autoscaler class {wanted}, but {a.CLASS} "
                                 f"is {shared!r}{written_for}")
    elif wanted is not None and own not in (None, wanted):
        run.problem(metric_path, f"scaleMetric {metric} needs the autoscaler class {wanted}, but the {c.name}'s "
                                 f"{a.CLASS} is {own!r}")
    if (own or shared) == a.HPA and low.value == 0:
        run.problem(run.source(c.path + ("minReplicas",)),
                    "minReplicas 0 with Knative's HPA class: an HPA keeps at least one pod and never scales "
                    "up from zero; use scaleMetric concurrency or rps (KPA) to scale to zero")


def _write_range(run: _Run, c: Component, low: Decision, high: Decision) -> None:
    for field, decision in (("minReplicas", low), ("maxReplicas", high)):
        c.spec[field] = decision.value
        run.record(c.path + (field,), decision.value, decision)


def _knative_admission(run: _Run, components: list[Component]) -> None:
    """What KServe will write on each revision must pass Knative's own annotation checks."""
    annotations = run.meta.get("annotations") or {}
    for c in components:
        template = a.template_annotations(annotations, c.spec, run.config.allow_zero_initial_scale)
        for error in a.validate_annotations(template, run.config):
            run.problem(run.source(c.path), f"Knative would reject the {c.name}'s revision: {error}")


def _knative_facts(run: _Run, low: Decision, high: Decision, initial: Decision) -> dict:
    start = max(low.value, initial.value)
    started_by = initial if initial.value >= low.value else low
    floor = low
    if low.value == 0 and not run.config.enable_scale_to_zero:
        floor = Decision(1, "the cluster never scales to zero", run.profile.where("enable-scale-to-zero"))
    ceiling = high if high.value else Decision("unlimited", high.rule, high.input)
    return {"start": Decision(start, "Knative starts max(minReplicas, initial-scale) pods",
                              started_by.input).as_dict(),
            "min": floor.as_dict(), "max": ceiling.as_dict()}


def _standard(run: _Run, components: list[Component], chosen: dict) -> dict | None:
    initial = chosen[("initial", "")]
    if initial is not None:
        run.problem(initial.path, f"{initial.label} applies only in Knative mode (deploymentMode is Standard)")
    scopes = [(META_ANNOTATIONS, run.meta.get("annotations") or {})]
    scopes += [(c.path + ("annotations",), c.annotations()) for c in components]
    for scope, annotations in scopes:
        for key in sorted(annotations):
            if key.startswith(a.KNATIVE_PREFIX):
                run.problem(run.source(scope + (key,)), f"{key} has no effect in Standard mode; remove it")
    facts = {c.name: _standard_component(run, c, chosen) for c in components}
    if run.errors:
        return None
    return {"components": facts}


def _standard_component(run: _Run, c: Component, chosen: dict) -> dict | None:
    cls, cls_path = _standard_class(run, c)
    if cls is None:
        return None
    lo, hi = chosen[("min", c.name)], chosen[("max", c.name)]
    low = _claimed(run, lo, Decision(1, "minReplicas unset: KServe's default", "KServe default"))
    if low.value == 0 and cls not in ("keda", "none"):
        run.problem(lo.path, f"minReplicas 0 needs {a.KSERVE_CLASS} keda or none in Standard mode "
                             f"(autoscaler class {cls} keeps at least one pod)")
    if hi is None:
        high = Decision(low.value, "maxReplicas unset: written as minReplicas (KServe would pin the "
                                   "autoscaler there)", low.input)
        if cls in ("hpa", "keda"):
            run.problem(lo.path if lo else run.source(c.path),
                        f"no maxReplicas: written as minReplicas {low.value}, so the {cls} autoscaler cannot "
                        "scale; set maxReplicas for a range", level="warning")
    else:
        high = _asked(run, hi)
        if hi.value < low.value:
            hint = " (0 is not unlimited in Standard mode)" if hi.value == 0 else ""
            run.problem(hi.path, f"maxReplicas {hi.value} is below minReplicas {low.value}{hint}: the {cls} "
                                 f"autoscaler would be pinned at {low.value}")
    _standard_metric(run, c, cls)
    if run.errors:
        return None
    _write_range(run, c, low, high)
    decided_by = f"{a.KSERVE_CLASS} {cls}" + (f" at {run.where(cls_path)}" if cls_path else " (KServe default)")
    if cls == "none":
        ceiling = Decision(low.value, "no autoscaler: the Deployment keeps minReplicas pods", decided_by)
    else:
        ceiling = Decision(high.value, f"the {cls} autoscaler scales up to maxReplicas", high.input)
    facts = {"start": Decision(low.value, "the Deployment starts with minReplicas pods", low.input).as_dict(),
             "min": low.as_dict(), "max": ceiling.as_dict()}
    if cls == "hpa":
        facts["metric"] = _hpa_metric(run, c).as_dict()
    return facts


#: KServe's default CPU target (``DefaultCPUUtilization``, ``pkg/constants/constants.go``, v0.20.0).
DEFAULT_CPU_UTILIZATION = 80
_HPA_SOURCE = "KServe's HPA reconciler (getHPAMetrics, pkg/controller/v1beta1/inferenceservice/reconcilers/hpa/)"


def _hpa_metric(run: _Run, c: Component) -> Decision:
    """The metric of the HorizontalPodAutoscaler KServe creates in Standard mode.

    ``autoScaling.metrics`` (resource metrics only; cpu without a target gets 80%), else
    ``scaleMetric`` (default cpu) with ``scaleTarget`` (cpu default 80%). ``scaleMetric: memory``
    without ``scaleTarget`` gets no metric at all, and an HPA without metrics scales on
    Kubernetes' default, 80% average CPU utilization: a warning.
    """
    metrics = (c.spec.get("autoScaling") or {}).get("metrics") if isinstance(c.spec.get("autoScaling"), dict) else None
    if isinstance(metrics, list) and metrics:
        parts = [_resource_metric_text(m.get("resource")) for m in metrics
                 if isinstance(m, dict) and isinstance(m.get("resource"), dict)]
        parts = [p for p in parts if p]
        if parts:
            return Decision(", ".join(parts), "autoScaling.metrics (resource metrics)", _HPA_SOURCE)
        return Decision("cpu 80% average utilization", "autoScaling.metrics has no resource metric: the HPA has "
                        "none and Kubernetes scales on its default", _HPA_SOURCE)
    metric = c.spec.get("scaleMetric") or "cpu"
    target = c.spec.get("scaleTarget")
    if metric == "cpu":
        value = target if isinstance(target, int) else DEFAULT_CPU_UTILIZATION
        rule = "scaleTarget" if isinstance(target, int) else "scaleTarget unset: KServe's default 80"
        return Decision(f"cpu {value}% average utilization", rule, _HPA_SOURCE)
    if metric == "memory" and isinstance(target, int):
        return Decision(f"memory {target}% average utilization", "scaleMetric memory, scaleTarget", _HPA_SOURCE)
    path = run.source(c.path + ("scaleMetric",))
    if metric == "memory":
        run.problem(path, "scaleMetric memory without scaleTarget: KServe creates the HPA with no metric, so "
                          "Kubernetes scales on its default, 80% average CPU utilization; set scaleTarget "
                          "(a memory utilization percentage)", level="warning")
    return Decision(f"cpu {DEFAULT_CPU_UTILIZATION}% average utilization (Kubernetes' default)",
                    f"scaleMetric {metric} without a metric KServe writes into the HPA", _HPA_SOURCE)


def _resource_metric_text(resource: dict) -> str | None:
    name, target = resource.get("name"), resource.get("target") or {}
    if name == "cpu":
        value = target.get("averageUtilization") or DEFAULT_CPU_UTILIZATION
        return f"cpu {value}% average utilization"
    if name == "memory":
        if target.get("type") == "Utilization":
            return f"memory {target.get('averageUtilization')}% average utilization"
        if target.get("type") == "AverageValue":
            return f"memory {target.get('averageValue')} average value"
        return "memory (no target type: the HPA rejects it)"
    return None


def _standard_class(run: _Run, c: Component) -> tuple[str | None, tuple | None]:
    """KServe's autoscaler class (component annotation first, then metadata) and where it was set."""
    for scope, annotations in ((c.path + ("annotations",), c.annotations()),
                               (META_ANNOTATIONS, run.meta.get("annotations") or {})):
        if a.KSERVE_CLASS in annotations:
            value, path = annotations[a.KSERVE_CLASS], run.source(scope + (a.KSERVE_CLASS,))
            if value not in a.STANDARD_CLASSES:
                run.problem(path, f"{a.KSERVE_CLASS} must be one of {', '.join(a.STANDARD_CLASSES)}; "
                                  f"got {value!r}")
                return None, path
            return value, path
    return a.DEFAULT_STANDARD_CLASS, None


def _standard_metric(run: _Run, c: Component, cls: str) -> None:
    metric = c.spec.get("scaleMetric")
    if metric is None:
        return
    path = run.source(c.path + ("scaleMetric",))
    if cls == "keda":
        run.problem(path, "scaleMetric is not used with KEDA (its triggers decide); remove it")
    elif cls in ("external", "none"):
        run.problem(path, f"scaleMetric has no effect with autoscaler class {cls}; remove it")
    elif metric not in a.HPA_METRICS:
        run.problem(path, f"scaleMetric {metric} needs Knative mode; an HPA scales on "
                          f"{' or '.join(a.HPA_METRICS)}")

