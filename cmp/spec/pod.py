"""``spec.pod`` and ``spec.transformer.pod``: the pod-level fields of a component, checked as Kubernetes checks them.

The fields are KServe's own: the PodSpec fields inlined in ``spec.predictor`` (and
``spec.transformer``) of a v1beta1 InferenceService, and the component's ``labels`` and
``annotations`` (``ComponentExtensionSpec``), which KServe puts on the component's pods
(``pkg/apis/serving/v1beta1/predictor.go``, ``component.go``, v0.20.0). Every value is checked
the way the API server would check the pod KServe creates from it
(``pkg/apis/core/validation/validation.go`` of Kubernetes: ``ValidateTolerations``,
``ValidateLabels``, ``ValidateAnnotations``, ``ValidateServiceAccountName``; names from
``k8s.io/apimachinery/pkg/util/validation``), so a mistake is an error at its line instead of a
pod that never starts. ``affinity`` is checked against the PodSpec schema of the target
release's InferenceService CRD by the caller (``check_affinity``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any

from ..lazydataclass import dataclass
from . import fields
from .reader import Reader, type_name

#: The PodSpec fields ``spec.pod`` carries, in KServe's spelling (also the emitted field names).
META_FIELDS = ("labels", "annotations")
SPEC_FIELDS = tuple(name for name in fields.POD.names() if name not in META_FIELDS)
#: The component's pod metadata (``ComponentExtensionSpec.labels``/``annotations``): META_FIELDS.
POD_FIELDS = fields.POD.names()
#: The fields KServe does not copy to the workers of a multi-node predictor and kserve-cmp does.
WORKER_FIELDS = SPEC_FIELDS

TOLERATION_FIELDS = fields.TOLERATION.names()
#: ``corev1.TolerationOperator`` and ``corev1.TaintEffect`` (an empty effect matches every effect).
TOLERATION_OPERATORS = fields.TOLERATION_OPERATORS
TAINT_EFFECTS = fields.TAINT_EFFECTS

#: Pod labels KServe sets itself, after the component's (``buildObjectMeta``/``reconcileWorker`` in
#: ``pkg/controller/v1beta1/inferenceservice/components/predictor.go``, transformer.go; the raw
#: Deployment's ``app`` in ``reconcilers/deployment/deployment_reconciler.go``, v0.20.0): a value
#: written there would be replaced.
KSERVE_LABELS = fields.KSERVE_POD_LABELS
STANDARD_LABELS = ("app",)
#: Annotations KServe drops from the pod (``ServiceAnnotationDisallowedList``, pkg/constants/constants.go,
#: v0.20.0), but for min-scale/max-scale, which the scaling rules fold into the replica fields.
#: Read by KServe from the InferenceService's metadata only.
METADATA_ONLY_ANNOTATIONS = {"serving.kserve.io/deploymentMode": "spec.deploymentMode"}
DROPPED_ANNOTATIONS = tuple(a for a in fields.REFUSED_POD_ANNOTATIONS if a not in METADATA_ONLY_ANNOTATIONS)

_SUBDOMAIN = re.compile(fields.DNS1123_SUBDOMAIN + r"\Z")
_NAME_PART = re.compile(fields.NAME_PART + r"\Z")
_LABEL_VALUE = re.compile(fields.LABEL_VALUE.lstrip("^").rstrip("$") + r"\Z")
_ANNOTATIONS_MAX = 256 * 1024   # TotalAnnotationSizeLimitB

#: ``check_affinity(value) -> [(path below affinity, message)]``: the CRD schema's verdict.
AffinityCheck = Callable[[dict], list[tuple[tuple, str]]]


@dataclass
class PodFields:
    """What ``spec.pod`` asked for: PodSpec fields (emitted names) and the pods' labels and annotations."""

    spec: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.spec or self.labels or self.annotations)


def read_pod(r: Reader, path: tuple, value: Any, *, check_affinity: AffinityCheck | None = None,
             mode: str | None = None) -> PodFields:
    """The checked fields of one ``pod`` section (problems go to ``r``); empty when ``value`` is None."""
    out = PodFields()
    if value is None:
        return out
    block = r.mapping(path, value, POD_FIELDS)
    readers = {"serviceAccountName": _dns_subdomain, "priorityClassName": _dns_subdomain,
               "nodeSelector": _label_map, "tolerations": _tolerations, "imagePullSecrets": _pull_secrets}
    for name in SPEC_FIELDS:
        item = block.get(name)
        if item is None:
            continue
        if name == "affinity":
            checked = _affinity(r, path + (name,), item, check_affinity)
        else:
            checked = readers[name](r, path + (name,), item)
        if checked is not None:
            out.spec[name] = checked
    out.labels = _labels(r, path + ("labels",), block.get("labels"), mode)
    out.annotations = _annotations(r, path + ("annotations",), block.get("annotations"))
    return out


def choice(r: Reader, path: tuple, value: Any, choices: tuple[str, ...], what: str) -> str | None:
    """One of ``choices`` (case-sensitive, as Kubernetes compares), with a did-you-mean."""
    text = r.string(path, value)
    if text is None or text in choices:
        return text
    import difflib  # a suggestion for a typo only

    folded = [c for c in choices if c.lower() == text.lower()]
    guess = folded or difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    r.error(path, f"unknown {what} {text!r}{hint}; Kubernetes accepts {', '.join(choices)}")
    return None


def _dns_subdomain(r: Reader, path: tuple, value: Any) -> str | None:
    text = r.string(path, value)
    if text is None:
        return None
    if len(text) > 253 or not _SUBDOMAIN.match(text):
        r.error(path, f"{text!r} is not a valid name (RFC 1123 subdomain: at most 253 lower-case letters, "
                      "digits, '-' and '.', starting and ending with a letter or digit)")
        return None
    return text


def qualified_name_problem(key: str) -> str | None:
    """Why ``key`` is not a Kubernetes qualified name (``[prefix/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        return f"the prefix {prefix!r} must be a DNS subdomain (lower-case, at most 253 characters)"
    if not name or len(name) > 63 or not _NAME_PART.match(name):
        return ("the name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit")
    return None


def _label_value_problem(value: str) -> str | None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        return ("a label value is empty or at most 63 letters, digits, '-', '_' or '.', starting and ending "
                "with a letter or digit")
    return None


def _label_map(r: Reader, path: tuple, value: Any) -> dict[str, str] | None:
    """A map of label key to label value (``nodeSelector``, pod ``labels``), each checked."""
    checked = r.string_map(path, value)
    if not isinstance(value, dict):
        return None
    for key, item in checked.items():
        why = qualified_name_problem(key)
        if why:
            r.error(path + (key,), f"{key!r} is not a valid label key: {why}")
        else:
            why = _label_value_problem(item)
            if why:
                r.error(path + (key,), f"{item!r} is not a valid label value: {why}")
    return dict(checked)


def _labels(r: Reader, path: tuple, value: Any, mode: str | None) -> dict[str, str]:
    labels = _label_map(r, path, value) or {}
    reserved = KSERVE_LABELS + (STANDARD_LABELS if mode == "Standard" else ())
    for key in labels:
        if key in reserved:
            r.error(path + (key,), f"KServe sets the pod label {key!r} itself and would replace this value; "
                                   "use another key")
    return labels


def _annotations(r: Reader, path: tuple, value: Any) -> dict[str, str]:
    annotations = r.string_map(path, value)
    for key in annotations:
        why = qualified_name_problem(key.lower())
        if why:
            r.error(path + (key,), f"{key!r} is not a valid annotation key: {why}")
        elif key in DROPPED_ANNOTATIONS:
            r.error(path + (key,), f"KServe removes {key!r} from the pod's annotations "
                                   "(serviceAnnotationDisallowedList); it would never arrive")
        elif key in METADATA_ONLY_ANNOTATIONS:
            r.error(path + (key,), f"KServe reads {key!r} from the InferenceService's metadata only; set "
                                   f"{METADATA_ONLY_ANNOTATIONS[key]}")
    size = sum(len(k) + len(v) for k, v in annotations.items())
    if size > _ANNOTATIONS_MAX:
        r.error(path, f"the annotations take {size} bytes; Kubernetes allows {_ANNOTATIONS_MAX}")
    return annotations


def _tolerations(r: Reader, path: tuple, value: Any) -> list[dict] | None:
    """A list of Tolerations, each checked as Kubernetes' ``ValidateTolerations`` checks it."""
    if not isinstance(value, list):
        r.error(path, f"expected a list of tolerations, got {type_name(value)}")
        return None
    out = []
    for i, item in enumerate(value):
        at = path + (i,)
        t = r.mapping(at, item, TOLERATION_FIELDS)
        if not isinstance(item, dict):
            continue
        key = r.string(at + ("key",), t.get("key"))
        operator = choice(r, at + ("operator",), t.get("operator"), TOLERATION_OPERATORS, "toleration operator")
        text = r.string(at + ("value",), t.get("value"))
        effect = t.get("effect")
        if effect is not None and effect != "":
            effect = choice(r, at + ("effect",), effect, TAINT_EFFECTS, "taint effect")
        seconds = r.integer(at + ("tolerationSeconds",), t.get("tolerationSeconds"))
        if key:
            why = qualified_name_problem(key)
            if why:
                r.error(at + ("key",), f"{key!r} is not a valid taint key: {why}")
        elif t.get("operator") != "Exists":
            r.error(at, "a toleration without a key must have operator Exists (it then tolerates every taint)")
        if operator == "Exists" and text:
            r.error(at + ("value",), "a toleration with operator Exists must not have a value")
        elif operator in (None, "Equal") and text:
            why = _label_value_problem(text)
            if why:
                r.error(at + ("value",), f"{text!r} is not a valid toleration value: {why}")
        if seconds is not None and t.get("effect") != "NoExecute":
            r.error(at + ("tolerationSeconds",), "tolerationSeconds needs effect NoExecute (it bounds how long "
                                                  "a pod stays on a node tainted NoExecute)")
        out.append(copy.deepcopy(item))
    return out


def _pull_secrets(r: Reader, path: tuple, value: Any) -> list[dict] | None:
    """``[{name: X}, ...]`` (a LocalObjectReference per Secret), no name twice."""
    if not isinstance(value, list):
        r.error(path, f"expected a list of {{name: SECRET}}, got {type_name(value)}")
        return None
    out, seen = [], set()
    for i, item in enumerate(value):
        if isinstance(item, str):
            r.error(path + (i,), f"expected {{name: {item}}}: imagePullSecrets lists references to Secrets")
            continue
        entry = r.mapping(path + (i,), item, ("name",), required=("name",))
        name = _dns_subdomain(r, path + (i, "name"), entry.get("name"))
        if name is None:
            continue
        if name in seen:
            r.error(path + (i, "name"), f"{name!r} is listed twice")
            continue
        seen.add(name)
        out.append({"name": name})
    return out


def _affinity(r: Reader, path: tuple, value: Any, check: AffinityCheck | None) -> dict | None:
    if not isinstance(value, dict):
        r.error(path, f"expected an Affinity mapping, got {type_name(value)}")
        return None
    problems = check(value) if check is not None else []
    for below, message in problems:
        r.error(path + below, message)
    return None if problems else copy.deepcopy(value)
