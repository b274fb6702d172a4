"""KServe's image rewriting after the container merge (``UpdateImageTag``).

Order of the rules (``pkg/controller/v1beta1/inferenceservice/utils/utils.go``, v0.20.0): an
image pinned by digest (``@sha256:``) is never changed; a ``runtimeVersion`` replaces the tag (or
adds one); an image without a tag is left alone; otherwise a GPU limit on a tensorflow-serving,
torchserve or huggingfaceserver server appends ``-gpu`` to the tag, and a vLLM server without a GPU
limit moves to the sibling ``-cpu`` repository. Only ``limits`` count, and only ``nvidia.com/gpu``
or NVIDIA MIG resources (``nvidia.com/mig-...``).

The server type is the runtime's ``serving.kserve.io/server-type`` annotation, else KServe's
mapping of the *official* runtime names (``GetServerTypeFromRuntimeName``,
``pkg/constants/constants.go``): a runtime with another name and no annotation gets no rewriting.
Before v0.20.0 (v0.17.1 to v0.19.0, same file) the rule keyed on the runtime name the
InferenceService names only (``kserve-tensorflow-serving``, ``kserve-torchserve``,
``kserve-huggingfaceserver``) and had no ``-cpu`` rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

GPU_RESOURCE = "nvidia.com/gpu"
MIG_PREFIX = "nvidia.com/mig-"
SERVER_TYPE_ANNOTATION = "serving.kserve.io/server-type"
#: ``GetServerTypeFromRuntimeName`` (``pkg/constants/constants.go``, v0.20.0): official names only.
RUNTIME_NAME_SERVER_TYPES = {
    "kserve-huggingfaceserver": "huggingfaceserver",
    "kserve-mlserver": "mlserver",
    "kserve-tensorflow-serving": "tensorflow-serving",
    "kserve-torchserve": "torchserve",
    "kserve-tritonserver": "tritonserver",
    "kserve-vllmserver": "vllmserver",
}
#: Server types with ``-gpu`` tags.
GPU_TAG_SERVER_TYPES = frozenset({"huggingfaceserver", "tensorflow-serving", "torchserve"})
#: Server types whose image moves to the ``-cpu`` repository without a GPU limit.
CPU_REPO_SERVER_TYPES = frozenset({"vllmserver"})
#: Before v0.20.0: runtime names (not types) whose image gets ``-gpu``.
LEGACY_GPU_TAG_RUNTIMES = frozenset({"kserve-huggingfaceserver", "kserve-tensorflow-serving", "kserve-torchserve"})
#: The first release whose UpdateImageTag reads the server-type annotation.
ANNOTATION_RELEASE = (0, 20)

_TAG = re.compile(r":[\w.\-]*\Z")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)")


def gpu_enabled(resources: Mapping | None) -> bool:
    """True when the container's ``limits`` hold an NVIDIA GPU (whole or MIG slice)."""
    limits = (resources or {}).get("limits") or {}
    return any(name == GPU_RESOURCE or name.startswith(MIG_PREFIX) for name in limits)


def kserve_server_type(runtime: Mapping, name: str | None = None) -> str:
    """KServe's server type of a runtime: a non-empty annotation, else the official name's type, else ""."""
    metadata = runtime.get("metadata") or {}
    annotation = (metadata.get("annotations") or {}).get(SERVER_TYPE_ANNOTATION)
    if isinstance(annotation, str) and annotation:
        return annotation
    return RUNTIME_NAME_SERVER_TYPES.get(name if name is not None else metadata.get("name") or "", "")


def annotation_aware(release: str | None) -> bool:
    """True when ``release`` (default: the newest) rewrites images by server type, not by name."""
    found = _VERSION.match(release or "")
    return found is None or (int(found.group(1)), int(found.group(2))) >= ANNOTATION_RELEASE


def update_image_tag(
    image: str, *, runtime_version: str | None, server_type: str, resources: Mapping | None,
    runtime_name: str | None = None, release: str | None = None,
) -> str:
    """The image KServe runs for a merged ``kserve-container``.

    ``server_type`` is :func:`kserve_server_type`; ``runtime_name`` the runtime the
    InferenceService names and ``release`` the cluster's KServe release (for the rule before v0.20.0).
    """
    if "@sha256:" in image:
        return image
    if runtime_version:
        return _with_tag(image, runtime_version)
    gpu = gpu_enabled(resources)
    if not _TAG.search(image):
        return image
    if not annotation_aware(release):
        gpu_tagged = gpu and runtime_name in LEGACY_GPU_TAG_RUNTIMES
        return f"{image}-gpu" if gpu_tagged and not image.endswith("-gpu") else image
    if gpu and server_type in GPU_TAG_SERVER_TYPES:
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
