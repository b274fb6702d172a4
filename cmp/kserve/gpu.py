"""GPU and accelerator resource names KServe knows, and the annotation that adds more.

Facts (KServe ``pkg/constants/constants.go`` and ``pkg/utils/utils.go``, v0.17.1 to v0.20.0):

* ``DefaultGPUResourceTypeList`` is per release data (``cmp.catalog.Release.gpu_resource_types``,
  passed in as ``known``); NVIDIA MIG slices (``nvidia.com/mig-...``) count as GPUs for the image choice;
* ``serving.kserve.io/gpu-resource-types`` on an InferenceService adds names: a JSON array of
  non-empty strings (``UpdateGPUResourceTypeListByAnnotation``, ``IsValidCustomGPUArray``);
  anything else is refused with ``invalid GPU format``.

Everything else here (what counts as a native resource, what is a likely misspelling) is ours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

ANNOTATION = "serving.kserve.io/gpu-resource-types"
MIG_PREFIX = "nvidia.com/mig-"

def annotation_types(annotations: Mapping | None) -> tuple[list[str], str | None]:
    """(names the annotation adds, None) or ([], KServe's complaint) when it is malformed."""
    text = (annotations or {}).get(ANNOTATION)
    if text is None or text == "":
        return [], None
    problem = (f"invalid GPU format({text}) for {ANNOTATION} annotation: must be a valid JSON array "
               f"of resource names, e.g. '[\"example.com/accelerator\"]'")
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return [], problem
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        return [], problem
    return list(value), None


def is_native(name: str) -> bool:
    """cpu, memory, ephemeral-storage, hugepages-*... and ``kubernetes.io/`` names: not extended."""
    if "/" not in name:
        return True
    domain = name.split("/", 1)[0]
    return domain == "kubernetes.io" or domain.endswith(".kubernetes.io")


def is_known(name: str, known: tuple[str, ...] | list[str]) -> bool:
    return name in known or name.startswith(MIG_PREFIX)


def misspelling_of(name: str, known: tuple[str, ...] | list[str]) -> str | None:
    """The known name ``name`` is most likely a misspelling of, or None.

    Close means: equal but for case, or at most two edits apart, or the same vendor and resource
    with a different domain suffix (``nvidia/gpu``). Real resources with other names
    (``nvidia.com/gpu.shared``, ``gpu.intel.com/i915``, ``rdma/ib``) are not close.
    """
    best: tuple[int, str] | None = None
    for candidate in known:
        if name.lower() == candidate.lower():
            return candidate
        distance = _distance(name, candidate, limit=2)
        if distance <= 2 and (best is None or distance < best[0]):
            best = (distance, candidate)
        elif best is None and _vendor_and_resource(name) == _vendor_and_resource(candidate):
            best = (3, candidate)
    return best[1] if best else None


def _vendor_and_resource(name: str) -> tuple[str, str]:
    domain, _, resource = name.lower().partition("/")
    return domain.split(".", 1)[0], resource


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def amounts(resources: object) -> str:
    """``1 nvidia.com/gpu`` for each resource whose name says GPU, its limit else its request
    (``0`` without any): how a serving summary shows a container's or pod's GPUs."""
    found: dict[str, str] = {}
    for part in ("requests", "limits"):
        group = resources.get(part) if isinstance(resources, Mapping) else None
        for name, amount in (group.items() if isinstance(group, Mapping) else ()):
            if "gpu" in str(name).lower():
                found[str(name)] = str(amount)
    return ", ".join(f"{amount} {name}" for name, amount in sorted(found.items())) or "0"
