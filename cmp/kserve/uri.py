"""Malformed storage URIs: what each scheme KServe downloads from needs, checked before a pod fails.

Which scheme is accepted at all (and from which release) is :mod:`cmp.kserve.storage`'s question;
this module asks whether a URI of a scheme KServe knows is well formed. Grounded in KServe
v0.20.0's storage initializer (``python/storage/kserve_storage/kserve_storage.py``: prefixes,
``_download_hf``'s ``owner/model`` split, the ``https?://(.+)/(.+)`` catch-all) and the
controller's ``pvc://<claim>/<path>`` form. A URI without ``scheme://`` is a local path to
KServe, so ``s3:/bucket/m`` (one slash) would be copied from a path that does not exist.
"""

from __future__ import annotations

import re

#: Schemes KServe or its storage initializer handles in some release (``scheme://``).
SCHEMES = ("gs", "s3", "pvc", "file", "https", "http", "hdfs", "webhdfs", "oci", "oci+native", "oci+fetch",
           "hf", "modelscope")
#: Schemes whose first part after ``://`` names something that must be there (bucket, claim, host...).
NEED_AUTHORITY = ("gs", "s3", "pvc", "hf", "oci", "oci+native", "oci+fetch", "modelscope", "http", "https")

_SCHEME_COLON = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(.*)\Z", re.S)
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_CATCH_ALL = re.compile(r"https?://(.+)/(.+)")


def problem(uri: str) -> str | None:
    """Why ``uri`` is malformed, with the fix; None when it looks right (or is not ours to judge)."""
    if uri != uri.strip():
        return (f"storage URI {uri!r} has leading or trailing whitespace: KServe would read it as a local "
                f"path; write {uri.strip()!r}")
    match = _SCHEME_COLON.match(uri)
    if match is None:
        return None
    written, rest = match.groups()
    scheme = written.lower()
    if scheme not in SCHEMES:
        return None
    if not rest.startswith("//"):
        fixed = f"file://{'/' + rest.lstrip('/')}" if scheme == "file" else f"{scheme}://{rest.lstrip('/')}"
        return (f"storage URI {uri!r} is not {scheme}:// (KServe would take it for a local path that does "
                f"not exist): did you mean {fixed!r}?")
    if written != scheme:
        return None  # ``S3://``: an unsupported scheme, which the storage check reports
    body = rest[2:]
    first = body.split("/", 1)[0]
    if scheme in NEED_AUTHORITY and not first:
        return f"storage URI {uri!r} has nothing between {scheme}:// and the next '/': {_WHAT[scheme]} is missing"
    if scheme == "hf":
        parts = body.split("/")
        if len(parts) != 2 or not all(parts):
            return (f"storage URI {uri!r}: KServe's storage initializer wants hf://<owner>/<model>[:<revision>] "
                    f"(two parts), e.g. hf://meta-llama/Llama-3.1-8B-Instruct")
    if scheme == "pvc" and not _DNS1123_SUBDOMAIN.match(first):
        return (f"storage URI {uri!r}: {first!r} is not a PersistentVolumeClaim name (lower-case letters, "
                f"digits, '-' and '.'); the form is pvc://<claim>/<path>")
    if scheme in ("http", "https") and not _CATCH_ALL.search(uri):
        return (f"storage URI {uri!r} names no file: KServe's storage initializer downloads "
                f"{scheme}://<host>/<path> (e.g. {scheme}://{first}/models/model.joblib)")
    return None


_WHAT = {"gs": "the bucket", "s3": "the bucket", "pvc": "the claim name", "hf": "the owner",
         "oci": "the registry", "oci+native": "the registry", "oci+fetch": "the registry",
         "modelscope": "the owner", "http": "the host", "https": "the host"}
