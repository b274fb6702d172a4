"""Which ServingRuntime KServe picks for an InferenceService.

Auto-selection keeps runtimes that are enabled, single-model, list the ISVC's model format
among their ``autoSelect`` formats (``mt:<name>`` / ``mt:<name>:<version>`` labels: exact,
case-sensitive; an ISVC without a version matches any), support the ISVC protocol (``v1`` when
unset; a runtime without ``protocolVersions`` supports any), and are multi-node exactly when the
predictor has a ``workerSpec``. Each scope is ordered by lowest protocol
(v1 < v2 < grpc-v1 < grpc-v2 < none), newest ``creationTimestamp``, name, then stable-sorted
by the format's ``priority`` (higher first, unset last). Namespaced runtimes come before
cluster runtimes; the first wins.
"""

from __future__ import annotations


from collections.abc import Mapping
from datetime import datetime, timezone

DEFAULT_PROTOCOL = "v1"
PROTOCOL_ORDER = ("v1", "v2", "grpc-v1", "grpc-v2")
#: Model formats whose ISVC the webhook defaults to protocol v2.
V2_DEFAULT_FORMATS = frozenset({"triton", "vLLM"})

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


def default_protocol(isvc: Mapping) -> str | None:
    """The ISVC ``protocolVersion`` after the webhook: as set, ``v2`` for triton/vLLM, or None."""
    model = _model(isvc)
    if model.get("protocolVersion"):
        return model["protocolVersion"]
    if _format(model).get("name") in V2_DEFAULT_FORMATS:
        return "v2"
    return None


def select_runtime(
    isvc: Mapping, namespaced: list[Mapping], cluster: list[Mapping]
) -> Mapping | None:
    """The runtime KServe auto-selects for ``isvc`` (namespaced first), or None."""
    for scope in (namespaced, cluster):
        candidates = [rt for rt in scope if _supports(rt, isvc)]
        if candidates:
            return _ordered(candidates, _format(_model(isvc)).get("name"))[0]
    return None


def check_explicit_runtime(isvc: Mapping, runtime: Mapping) -> str | None:
    """Why KServe would reject ``runtime`` named explicitly by ``isvc`` (None if accepted).

    ``autoSelect`` is ignored for an explicitly named runtime: every listed format counts.
    """
    spec = runtime.get("spec") or {}
    name = (runtime.get("metadata") or {}).get("name")
    protocol = default_protocol(isvc)
    if spec.get("disabled"):
        return f"runtime {name} is disabled"
    if protocol and not _protocol_supported(spec, protocol):
        return f"runtime {name} does not support protocol version {protocol}"
    if _model_label(isvc) not in format_labels(spec, auto_select_only=False):
        return f"runtime {name} does not support model format {_format_text(isvc)}"
    return None


def format_names(spec: Mapping) -> list[str]:
    """The model format names a runtime lists, in its order, each once."""
    names: list[str] = []
    for fmt in spec.get("supportedModelFormats") or []:
        if isinstance(fmt, Mapping) and isinstance(fmt.get("name"), str) and fmt["name"] not in names:
            names.append(fmt["name"])
    return names


def closest(word: str, choices: list[str] | set[str]) -> str | None:
    """The choice a user most likely meant by ``word``: the same ignoring case, else the only one
    that holds it (``vllm`` in ``kserve-vllmserver``), else the closest spelling; None when none is close."""
    choices = sorted(set(choices))
    same = [c for c in choices if c.lower() == word.lower()]
    if same:
        return same[0]
    holding = [c for c in choices if word.lower() in c.lower()]
    if len(holding) == 1 and len(word) >= 3:
        return holding[0]
    import difflib  # a suggestion for a typo only

    close = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
    return next((c for c in choices if close and c.lower() == close[0]), None)


def format_labels(spec: Mapping, *, auto_select_only: bool) -> frozenset[str]:
    """``mt:<name>`` and ``mt:<name>:<version>`` labels of a runtime's model formats."""
    labels = set()
    for fmt in spec.get("supportedModelFormats") or []:
        if auto_select_only and not fmt.get("autoSelect"):
            continue
        labels.add(f"mt:{fmt['name']}")
        if fmt.get("version"):
            labels.add(f"mt:{fmt['name']}:{fmt['version']}")
    return frozenset(labels)


def _supports(runtime: Mapping, isvc: Mapping) -> bool:
    """The auto-selection filter for one runtime."""
    spec = runtime.get("spec") or {}
    multinode = "workerSpec" in ((isvc.get("spec") or {}).get("predictor") or {})
    return (
        not spec.get("disabled")
        and not spec.get("multiModel")
        and _model_label(isvc) in format_labels(spec, auto_select_only=True)
        and _protocol_supported(spec, default_protocol(isvc) or DEFAULT_PROTOCOL)
        and (spec.get("workerSpec") is not None) == multinode
    )


def _ordered(runtimes: list[Mapping], format_name: str | None) -> list[Mapping]:
    """Runtimes in KServe's preference order for ``format_name``."""
    by_protocol = sorted(runtimes, key=_name)
    by_protocol.sort(key=_created, reverse=True)
    by_protocol.sort(key=_protocol_rank)
    return sorted(by_protocol, key=lambda rt: _priority_rank(rt, format_name))


def _protocol_supported(spec: Mapping, protocol: str) -> bool:
    """A runtime without ``protocolVersions`` supports any protocol."""
    versions = spec.get("protocolVersions") or []
    return not versions or protocol in versions


def lowest_protocol(runtime: Mapping) -> str | None:
    """The runtime's lowest protocol in :data:`PROTOCOL_ORDER`: what KServe fills in on an
    InferenceService without ``protocolVersion`` after selecting this runtime (None: it lists none)."""
    versions = (runtime.get("spec") or {}).get("protocolVersions") or []
    return min((v for v in versions if v in PROTOCOL_ORDER), key=PROTOCOL_ORDER.index, default=None)


def _protocol_rank(runtime: Mapping) -> int:
    """Index of the runtime's lowest protocol in :data:`PROTOCOL_ORDER` (none: last)."""
    lowest = lowest_protocol(runtime)
    return PROTOCOL_ORDER.index(lowest) if lowest else len(PROTOCOL_ORDER)


def _priority_rank(runtime: Mapping, format_name: str | None) -> tuple[int, int]:
    """Sort key for the priority of ``format_name``: higher priority first, unset last.

    The priority is the one of the FIRST ``supportedModelFormats`` entry with that name, even when
    it has none and a later entry does (``ServingRuntimeSpec.GetPriority``,
    ``pkg/apis/serving/v1alpha1/servingruntime_types.go``, used by ``sortSupportedRuntimeByPriority``
    in ``pkg/apis/serving/v1beta1/predictor_model.go``, v0.17.1 to v0.20.0).
    """
    for fmt in (runtime.get("spec") or {}).get("supportedModelFormats") or []:
        if isinstance(fmt, Mapping) and fmt.get("name") == format_name:
            priority = fmt.get("priority")
            return (1, 0) if priority is None else (0, -int(priority))
    return (1, 0)


def _created(runtime: Mapping) -> datetime:
    """The runtime's ``creationTimestamp`` (missing: oldest)."""
    stamp = (runtime.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return _OLDEST
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _name(runtime: Mapping) -> str:
    """The runtime's name."""
    return (runtime.get("metadata") or {}).get("name") or ""


def _model(isvc: Mapping) -> Mapping:
    """``spec.predictor.model`` of an ISVC (empty when absent)."""
    return ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}


def _format(model: Mapping) -> Mapping:
    """``modelFormat`` of a model spec (empty when absent)."""
    return model.get("modelFormat") or {}


def _model_label(isvc: Mapping) -> str:
    """The ISVC's model label: ``mt:<name>`` or ``mt:<name>:<version>``."""
    fmt = _format(_model(isvc))
    version = fmt.get("version")
    return f"mt:{fmt.get('name')}:{version}" if version else f"mt:{fmt.get('name')}"


def _format_text(isvc: Mapping) -> str:
    """``name`` or ``name:version`` of the ISVC's model format, for messages."""
    return _model_label(isvc).removeprefix("mt:")
