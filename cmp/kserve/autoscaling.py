"""Autoscaling as KServe and Knative see it: config-autoscaler, annotations and their validation.

Pure functions over plain dicts. What is modelled (see ``docs/scaling.md``):

- Knative's cluster-wide ``config-autoscaler`` ConfigMap: its defaults, how its ``data`` values
  are parsed and the consistency checks Knative applies when it loads them (:func:`parse_config`).
- What KServe (Knative mode) writes on a component's revision template: the union of the
  InferenceService and component annotations minus KServe's disallowed list, then class (KPA by
  default), target, metric, ``min-scale`` (1 when ``minReplicas`` is unset) and ``max-scale``
  (only when ``maxReplicas`` is not 0) (:func:`template_annotations`); ``initial-scale`` passes
  from the InferenceService metadata only when it is an integer, and 0 only where the cluster
  allows a zero initial scale (:func:`kserve_initial_scale`).
- Knative's admission checks of those annotations (:func:`validate_annotations`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KNATIVE_PREFIX = "autoscaling.knative.dev/"
MIN_SCALE_KEYS = (KNATIVE_PREFIX + "min-scale", KNATIVE_PREFIX + "minScale")
MAX_SCALE_KEYS = (KNATIVE_PREFIX + "max-scale", KNATIVE_PREFIX + "maxScale")
INITIAL_SCALE_KEYS = (KNATIVE_PREFIX + "initial-scale", KNATIVE_PREFIX + "initialScale")
INITIAL_SCALE = INITIAL_SCALE_KEYS[0]
CLASS = KNATIVE_PREFIX + "class"
METRIC = KNATIVE_PREFIX + "metric"
TARGET = KNATIVE_PREFIX + "target"
KPA = "kpa.autoscaling.knative.dev"
HPA = "hpa.autoscaling.knative.dev"
KPA_METRICS = ("concurrency", "rps")
HPA_METRICS = ("cpu", "memory")

#: Standard mode: KServe's own autoscaler class annotation and the values it accepts.
KSERVE_CLASS = "serving.kserve.io/autoscalerClass"
STANDARD_CLASSES = ("hpa", "keda", "external", "none")
DEFAULT_STANDARD_CLASS = "hpa"

#: Annotations KServe removes before building a Knative revision (its default disallowed list).
DISALLOWED = frozenset({MIN_SCALE_KEYS[0], MAX_SCALE_KEYS[0],
                        "internal.serving.kserve.io/storage-initializer-sourceuri",
                        "kubectl.kubernetes.io/last-applied-configuration", "modelFormat"})

#: Knative's built-in ``config-autoscaler`` values (what a key that is not set means).
KNATIVE_DEFAULTS: dict[str, str] = {
    "activator-capacity": "100.0",
    "allow-zero-initial-scale": "false",
    "container-concurrency-target-default": "100",
    "container-concurrency-target-percentage": "70",
    "enable-scale-to-zero": "true",
    "initial-scale": "1",
    "max-scale": "0",
    "max-scale-down-rate": "2.0",
    "max-scale-limit": "0",
    "max-scale-up-rate": "1000.0",
    "min-scale": "0",
    "panic-threshold-percentage": "200.0",
    "panic-window-percentage": "10.0",
    "pod-autoscaler-class": KPA,
    "requests-per-second-target-default": "200",
    "scale-down-delay": "0s",
    "scale-to-zero-grace-period": "30s",
    "scale-to-zero-pod-retention-period": "0s",
    "stable-window": "60s",
    "target-burst-capacity": "211",
}

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class AutoscalerConfig:
    """The ``config-autoscaler`` values the replica rules depend on."""

    initial_scale: int = 1
    allow_zero_initial_scale: bool = False
    min_scale: int = 0
    max_scale: int = 0
    max_scale_limit: int = 0
    enable_scale_to_zero: bool = True
    pod_autoscaler_class: str = KPA


def parse_int(text: str) -> int | None:
    """A Go-style decimal integer (optional sign, digits only, within int32), else None."""
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if -_INT32_MAX - 1 <= value <= _INT32_MAX else None


def parse_bool(text: str) -> bool | None:
    """A boolean as Go's ``strconv.ParseBool`` reads it, else None."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


_INT_KEYS = {"initial-scale": "initial_scale", "min-scale": "min_scale", "max-scale": "max_scale",
             "max-scale-limit": "max_scale_limit"}
_BOOL_KEYS = {"allow-zero-initial-scale": "allow_zero_initial_scale",
              "enable-scale-to-zero": "enable_scale_to_zero"}


def parse_config(data: Mapping[str, str]) -> tuple[AutoscalerConfig, list[tuple[str, str]]]:
    """The config from a ``config-autoscaler`` data map, and (key, message) for each value Knative refuses."""
    values: dict = {}
    errors: list[tuple[str, str]] = []
    for keys, parse, wanted in ((_INT_KEYS, parse_int, "an integer"), (_BOOL_KEYS, parse_bool, "true or false")):
        for key, attr in sorted(keys.items()):
            if key in data:
                value = parse(data[key])
                if value is None:
                    errors.append((key, f"expected {wanted}, got {data[key]!r}"))
                else:
                    values[attr] = value
    if "pod-autoscaler-class" in data:
        values["pod_autoscaler_class"] = data["pod-autoscaler-class"]
    config = AutoscalerConfig(**values)
    return config, errors + _config_consistency(config, data)


def _config_consistency(c: AutoscalerConfig, data: Mapping[str, str]) -> list[tuple[str, str]]:
    """The checks Knative applies when it loads config-autoscaler (key to blame, message)."""
    errors = []
    if c.initial_scale < 0 or (c.initial_scale == 0 and not c.allow_zero_initial_scale):
        errors.append(("initial-scale", f"initial-scale {c.initial_scale} must be at least "
                                        f"{0 if c.allow_zero_initial_scale else 1} "
                                        "(0 needs allow-zero-initial-scale: \"true\")"))
    if c.min_scale < 0:
        errors.append(("min-scale", f"min-scale {c.min_scale} must be >= 0"))
    if c.max_scale < 0:
        errors.append(("max-scale", f"max-scale {c.max_scale} must be >= 0"))
    if c.max_scale_limit < 0:
        errors.append(("max-scale-limit", f"max-scale-limit {c.max_scale_limit} must be >= 0"))
    if c.max_scale_limit > 0 and not 1 <= c.max_scale <= c.max_scale_limit:
        key = "max-scale" if "max-scale" in data else "max-scale-limit"
        errors.append((key, f"max-scale {c.max_scale} must be between 1 and max-scale-limit "
                            f"{c.max_scale_limit}"))
    if c.max_scale > 0 and c.min_scale > c.max_scale:
        errors.append(("min-scale", f"min-scale {c.min_scale} is above max-scale {c.max_scale}"))
    return errors


def lookup(annotations: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, str] | None:
    """(key, value) of the first of ``keys`` present: Knative's alias priority (canonical first)."""
    for key in keys:
        if key in annotations:
            return key, annotations[key]
    return None


def template_annotations(isvc_annotations: Mapping[str, str], component: Mapping, allow_zero: bool
                         ) -> dict[str, str]:
    """The autoscaling annotations KServe puts on one component's Knative revision template."""
    meta = dict(isvc_annotations)
    if INITIAL_SCALE in meta and kserve_initial_scale(meta, allow_zero) is None:
        del meta[INITIAL_SCALE]
    merged = {k: v for k, v in meta.items() if k not in DISALLOWED}
    merged.update({k: v for k, v in (component.get("annotations") or {}).items() if k not in DISALLOWED})
    merged.setdefault(CLASS, KPA)
    if component.get("scaleTarget") is not None:
        merged[TARGET] = str(component["scaleTarget"])
    if component.get("scaleMetric") is not None:
        merged[METRIC] = component["scaleMetric"]
    minimum = component.get("minReplicas")
    merged[MIN_SCALE_KEYS[0]] = "1" if minimum is None else str(minimum)
    if component.get("maxReplicas"):
        merged[MAX_SCALE_KEYS[0]] = str(component["maxReplicas"])
    return merged


def kserve_initial_scale(isvc_annotations: Mapping[str, str], allow_zero: bool) -> str | None:
    """The metadata ``initial-scale`` KServe keeps: dropped when not an integer, or 0 where not allowed."""
    value = isvc_annotations.get(INITIAL_SCALE)
    if value is None:
        return None
    number = parse_int(value)
    if number is None or (number == 0 and not allow_zero):
        return None
    return value


def validate_annotations(annotations: Mapping[str, str], config: AutoscalerConfig) -> list[str]:
    """Knative's admission errors for a revision template's autoscaling annotations (empty: accepted)."""
    errors: list[str] = []
    found = {name: lookup(annotations, keys) for name, keys in
             (("min", MIN_SCALE_KEYS), ("max", MAX_SCALE_KEYS), ("initial", INITIAL_SCALE_KEYS))}
    numbers: dict[str, int] = {}
    for name in ("min", "max"):
        if found[name] is not None:
            key, text = found[name]
            number = parse_int(text)
            if number is None or number < 0:
                errors.append(f"invalid value {text!r} for {key}: expected an integer >= 0")
            else:
                numbers[name] = number
    low, high = numbers.get("min", 0), numbers.get("max", 0)
    if high != 0 and high < low:
        errors.append(f"max-scale={high} is less than min-scale={low}")
    if "max" in numbers and config.max_scale_limit > 0:
        if high > config.max_scale_limit:
            errors.append(f"max-scale={high} is outside 1..{config.max_scale_limit} (max-scale-limit)")
        if high == 0:
            errors.append(f"max-scale=0 (unlimited), must be less than {config.max_scale_limit}")
    if found["initial"] is not None:
        key, text = found["initial"]
        number = parse_int(text)
        if number is None or number < 0 or (number == 0 and not config.allow_zero_initial_scale):
            errors.append(f"invalid value {text!r} for {key}")
    errors.extend(_metric_errors(annotations))
    return errors


def _metric_errors(annotations: Mapping[str, str]) -> list[str]:
    metric = annotations.get(METRIC)
    if metric is None:
        return []
    cls = annotations.get(CLASS, KPA)
    if (cls == KPA and metric not in KPA_METRICS) or (cls == HPA and not metric):
        return [f"invalid value {metric!r} for {METRIC} (autoscaler class {cls})"]
    return []
