"""Kubernetes resource quantities, and the requests <= limits rule of a merged container.

KServe merges ``resources.requests`` and ``resources.limits`` of the runtime container and the
InferenceService per resource key (the InferenceService wins per key). The API server then
rejects a pod whose request for a resource exceeds its limit. :func:`conflicts` finds those
keys in the merged view, so a caller can fix or report them before KServe builds the pod.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction

from ..lazydataclass import dataclass

_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?\Z")
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


class QuantityError(ValueError):
    """Text that is not a Kubernetes quantity."""


@dataclass(frozen=True)
class Conflict:
    """A resource whose effective request is above its effective limit."""

    resource: str
    request: object
    limit: object


def parse_quantity(value: object) -> Fraction:
    """The exact value of a quantity such as ``500m``, ``16Gi``, ``1e3`` or ``2``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(f"not a quantity: {value!r}")
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(f"not a quantity: {value!r}")
    number, exponent, suffix = match.groups()
    amount = Fraction(number)
    if exponent:
        return amount * Fraction(10) ** int(exponent[1:])
    if suffix in _BINARY:
        return amount * 2 ** _BINARY[suffix]
    return amount * Fraction(10) ** _DECIMAL[suffix or ""]


def merged_resources(runtime: Mapping | None, isvc: Mapping | None) -> dict[str, dict]:
    """``{"requests": {...}, "limits": {...}}`` after KServe's per-key merge."""
    runtime, isvc = runtime or {}, isvc or {}
    return {
        part: {**(runtime.get(part) or {}), **(isvc.get(part) or {})}
        for part in ("requests", "limits")
    }


def is_extended(name: str) -> bool:
    """True for an extended resource (``nvidia.com/gpu``...): Kubernetes wants its request equal to its limit.

    Native resources have no domain (``cpu``, ``memory``) or a ``kubernetes.io/`` one.
    """
    return "/" in name and "kubernetes.io/" not in name


def conflicts(resources: Mapping) -> list[Conflict]:
    """Resources (sorted by name) whose request is above the limit; unparsable values are skipped."""
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    found = []
    for name in sorted(set(requests) & set(limits)):
        try:
            above = parse_quantity(requests[name]) > parse_quantity(limits[name])
        except QuantityError:
            continue
        if above:
            found.append(Conflict(name, requests[name], limits[name]))
    return found
