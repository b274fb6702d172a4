"""KServe's image rewriting after the container merge (``UpdateImageTag``).

Order of the rules: an image pinned by digest (``@sha256:``) is never changed; a
``runtimeVersion`` replaces the tag (or adds one); otherwise a GPU limit on a
tensorflow/torchserve/huggingface server appends ``-gpu`` to the tag, and a vLLM server
without a GPU limit moves to the sibling ``-cpu`` repository. Only ``limits`` count, and only
``nvidia.com/gpu`` or NVIDIA MIG resources (``nvidia.com/mig-...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

GPU_RESOURCE = "nvidia.com/gpu"
MIG_PREFIX = "nvidia.com/mig-"
#: Server types (annotation value, or official runtime name as fallback) with ``-gpu`` tags.
GPU_TAG_SERVER_TYPES = frozenset(
    {
        "huggingfaceserver",
        "kserve-huggingfaceserver",
        "kserve-huggingfaceserver-multinode",
        "kserve-tensorflow-serving",
        "kserve-torchserve",
        "tensorflow-serving",
        "torchserve",
    }
)
#: Server types whose image moves to the ``-cpu`` repository without a GPU limit.
CPU_REPO_SERVER_TYPES = frozenset({"kserve-vllmserver", "vllmserver"})

_TAG = re.compile(r":[\w.\-]*$")


def gpu_enabled(resources: Mapping | None) -> bool:
    """True when the container's ``limits`` hold an NVIDIA GPU (whole or MIG slice)."""
    limits = (resources or {}).get("limits") or {}
    return any(name == GPU_RESOURCE or name.startswith(MIG_PREFIX) for name in limits)


def update_image_tag(
    image: str, *, runtime_version: str | None, server_type: str, resources: Mapping | None
) -> str:
    """The image KServe runs for a merged ``kserve-container``."""
    if "@sha256:" in image:
        return image
    if runtime_version:
        return _with_tag(image, runtime_version)
    gpu = gpu_enabled(resources)
    if gpu and server_type in GPU_TAG_SERVER_TYPES and _TAG.search(image):
        return image if image.endswith("-gpu") else f"{image}-gpu"
    if not gpu and server_type in CPU_REPO_SERVER_TYPES:
        return _cpu_repository(image)
    return image


def _with_tag(image: str, tag: str) -> str:
    """``image`` with its tag replaced by (or extended with) ``tag``."""
    match = _TAG.search(image)
    return f"{image[: match.start()] if match else image}:{tag}"


def _cpu_repository(image: str) -> str:
    """``repo:tag`` -> ``repo-cpu:tag`` (unchanged when the repository already ends in -cpu)."""
    match = _TAG.search(image)
    repository, tag = (image[: match.start()], match.group(0)) if match else (image, "")
    return image if repository.endswith("-cpu") else f"{repository}-cpu{tag}"
