"""Where KServe fetches a model from: storage URI schemes, storage-container selection, quantities.

Re-implemented from the KServe notes (storage initializer section), as pure functions:

* the controller accepts a ``storageUri`` when an enabled ClusterStorageContainer supports it,
  when it has no ``scheme://`` (a local path), or when it starts with one of KServe's built-in
  prefixes;
* the pod webhook picks the storage container: the one named by
  ``spec.predictor.storageContainerName`` (which must exist, be enabled, be an ``initContainer``
  workload and support the URI), else the first enabled ``initContainer`` container, in the
  order the cluster lists them, whose URI formats match;
* the init container is built from the ``inferenceservice-config`` values first, then the chosen
  container's ``spec.container`` is strategically merged over it (its image and each resource
  key win).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from cmp import goregexp
from cmp.kserve.merge import CONTAINER_SCHEMA
from cmp.kserve.smp import omit_empty, strategic_merge

API_VERSION = "serving.kserve.io/v1alpha1"
KIND = "ClusterStorageContainer"
INIT_CONTAINER_NAME = "storage-initializer"
INIT_CONTAINER_WORKLOAD = "initContainer"
DEFAULT_CONTAINER_NAME = "default"
MODEL_DIR = "/mnt/models"

#: URIs served without a storage-initializer init container (PVC mount, modelcar, image volume).
NO_INIT_CONTAINER_PREFIXES: tuple[str, ...] = ("pvc://", "oci://", "oci+native://")

#: Init-container values of the ``inferenceservice-config`` ConfigMap as KServe ships it.
CONFIGMAP_DEFAULTS: dict[str, str] = {
    "image": "kserve/storage-initializer:latest",
    "cpuRequest": "100m",
    "cpuLimit": "1",
    "memoryRequest": "100Mi",
    "memoryLimit": "1Gi",
}
#: Resources of the shipped ``default`` ClusterStorageContainer (equal to the ConfigMap's).
DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "100m", "memory": "100Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
RELEASE_IMAGE = "kserve/storage-initializer"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_AZURE_BLOB = re.compile(r"https://(.+?).blob.core.windows.net/(.+)")
_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")

def parse_version(text: str) -> tuple[int, int, int] | None:
    """``v0.20.0`` / ``0.20`` / ``v0.19.2-rc1`` -> ``(0, 20, 0)``...; None when not a version."""
    match = _VERSION.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    return tuple(int(part or 0) for part in match.groups())  # type: ignore[return-value]


def is_kserve_initializer(image: str | None) -> bool:
    """An image of KServe's own storage initializer (or none: the ConfigMap's, which is KServe's)."""
    return not image or image.split("@")[0].rsplit(":", 1)[0].endswith(RELEASE_IMAGE)


def uri_scheme(uri: str) -> str | None:
    """``s3`` for ``s3://b/k``; None for a local path without ``scheme://``."""
    match = _SCHEME.match(uri)
    return match.group(1) if match else None


def format_matches(uri_format: Mapping, uri: str) -> bool:
    """One ``supportedUriFormats`` entry: a plain prefix, or an unanchored regular expression.

    As KServe's ``StorageContainerSpec.IsStorageUriSupported`` (pkg/apis/serving/v1alpha1/
    storage_container_types.go, v0.20.0): a non-empty prefix wins; else Go's
    ``regexp.MatchString(regex, uri)``, here with RE2 (:mod:`cmp.goregexp`, linear time). A pattern
    RE2 refuses matches nothing (:func:`regex_problem` reports it at its line).
    """
    if uri_format.get("prefix"):
        return uri.startswith(uri_format["prefix"])
    regex = uri_format.get("regex")
    if isinstance(regex, str) and regex:
        try:
            return goregexp.search(regex, uri)
        except goregexp.PatternError:
            return False
    return False


def regex_problem(uri_format: object) -> str | None:
    """Why a ``supportedUriFormats`` entry's regex would not compile (KServe then fails admission)."""
    if not isinstance(uri_format, Mapping) or uri_format.get("prefix"):
        return None
    regex = uri_format.get("regex")
    if not isinstance(regex, str) or not regex:
        return None
    try:
        goregexp.compile_go(regex)
    except goregexp.PatternError as exc:
        return str(exc)
    return None


def is_enabled(container: Mapping) -> bool:
    """A storage container is enabled unless its top-level ``disabled`` is true."""
    return container.get("disabled") is not True


def supports(container: Mapping, uri: str) -> bool:
    """True when one of the container's URI formats matches ``uri``."""
    formats = (container.get("spec") or {}).get("supportedUriFormats") or []
    return any(format_matches(f, uri) for f in formats if isinstance(f, Mapping))


def uri_accepted(uri: str, containers: Sequence[Mapping], prefixes: Sequence[str]) -> bool:
    """Whether the controller accepts ``uri`` as a ``storageUri``; ``prefixes`` are the release's
    ``SupportedStorageURIPrefixList`` (``cmp.catalog.Release.uri_prefixes``)."""
    if any(is_enabled(c) and supports(c, uri) for c in containers):
        return True
    if uri_scheme(uri) is None or _AZURE_BLOB.match(uri):
        return True
    return uri.startswith(tuple(prefixes))


def needs_init_container(uri: str) -> bool:
    """False for URIs KServe serves without a storage-initializer init container."""
    return not uri.startswith(NO_INIT_CONTAINER_PREFIXES)


def select_storage_container(uri: str, containers: Sequence[Mapping], name: str | None = None
                             ) -> tuple[Mapping | None, str | None]:
    """(the container the webhook uses for ``uri`` or None, an error message or None).

    ``containers`` are in the order the cluster lists them; ``name`` is the InferenceService's
    ``spec.predictor.storageContainerName``. No match and no name: (None, None), and the init
    container keeps the ConfigMap values.
    """
    if name:
        named = [c for c in containers if (c.get("metadata") or {}).get("name") == name]
        if not named:
            return None, f"storage container {name!r} not found"
        chosen = named[0]
        if not is_enabled(chosen):
            return None, f"storage container {name!r} is disabled"
        if _workload(chosen) != INIT_CONTAINER_WORKLOAD:
            return None, f"storage container {name!r} is not an {INIT_CONTAINER_WORKLOAD} workload"
        if not supports(chosen, uri):
            return None, f"storage container {name!r} does not support {uri}"
        return chosen, None
    for container in containers:
        if is_enabled(container) and _workload(container) == INIT_CONTAINER_WORKLOAD and supports(container, uri):
            return container, None
    return None, None


def init_container(uri: str, storage_container: Mapping | None,
                   config: Mapping[str, str] = CONFIGMAP_DEFAULTS) -> dict:
    """The ``storage-initializer`` init container the webhook injects for ``uri``."""
    base = {
        "name": INIT_CONTAINER_NAME,
        "image": config["image"],
        "args": [uri, MODEL_DIR],
        "resources": {
            "requests": {"cpu": config["cpuRequest"], "memory": config["memoryRequest"]},
            "limits": {"cpu": config["cpuLimit"], "memory": config["memoryLimit"]},
        },
    }
    if storage_container is None:
        return base
    patch = omit_empty((storage_container.get("spec") or {}).get("container") or {})
    merged = strategic_merge(base, patch, CONTAINER_SCHEMA)
    merged["name"] = merged.get("name") or INIT_CONTAINER_NAME
    return merged


def _workload(container: Mapping) -> str:
    return (container.get("spec") or {}).get("workloadType") or INIT_CONTAINER_WORKLOAD
