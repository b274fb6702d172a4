"""Deterministic Kubernetes names for objects kserve-cmp derives."""

from __future__ import annotations


def derived_name(*parts: str, max_len: int = 63) -> str:
    """``-``-joined parts; when too long, shortened with a stable hash of the full name.

    The result is a valid RFC 1123 label whenever the parts are: the hash keeps two long inputs
    that share a prefix from colliding after truncation.
    """
    full = "-".join(p for p in parts if p)
    if len(full) <= max_len:
        return full
    import hashlib  # only for a name too long (OpenSSL's load costs ~3 ms)

    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    head = full[: max_len - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"
