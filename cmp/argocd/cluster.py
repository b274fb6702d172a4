"""Facts about the destination cluster that Argo CD passes to the plugin.

``KUBE_API_VERSIONS`` lists every ``group/version`` and ``group/version/Kind`` the destination
cluster serves. When it is there and has no InferenceService, KServe is not installed on that
cluster and syncing would fail on every object: say so before rendering anything.
"""

from __future__ import annotations

from typing import Mapping

from ..problems import CmpError, Problem

API_VERSIONS = "KUBE_API_VERSIONS"
INFERENCE_SERVICE = "serving.kserve.io/v1beta1/InferenceService"


def served(environ: Mapping[str, str]) -> frozenset[str] | None:
    """The API versions and kinds of the destination cluster, or None when Argo CD did not pass them."""
    text = environ.get(API_VERSIONS, "")
    if not text.strip():
        return None
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def check_kserve_installed(environ: Mapping[str, str]) -> None:
    """Raise CmpError when the destination cluster is known not to serve InferenceServices."""
    apis = served(environ)
    if apis is None or INFERENCE_SERVICE in apis:
        return
    kserve = sorted(api for api in apis if api.startswith("serving.kserve.io/"))
    seen = f" (it serves only {', '.join(kserve)})" if kserve else ""
    raise CmpError(Problem(
        f"KServe is not installed on the destination cluster: {API_VERSIONS} from Argo CD has no "
        f"{INFERENCE_SERVICE}{seen}. Install KServe there, or point the Application's destination at a "
        f"cluster that has it.", rule="cluster"))
