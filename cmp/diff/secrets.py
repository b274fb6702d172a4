"""Secrets in a diff: whether each key changed and its size, never its value.

A Secret's ``stringData`` is folded into ``data`` (the API server does the same; a
``stringData`` key wins), then every value is replaced by ``*** (N bytes)``; a key whose
value differs between the two sides reads ``(before)`` / ``(after)`` so the change shows even
when the size did not. The ``last-applied-configuration`` annotation, which would carry the
values again, is masked the same way.
"""

from __future__ import annotations

import base64
import binascii
import copy

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def is_secret(obj: dict | None) -> bool:
    """A core ``v1`` Secret."""
    return isinstance(obj, dict) and obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def secret_values(obj: dict) -> dict[str, bytes]:
    """The Secret's keys and raw bytes, ``stringData`` folded over ``data``.

    A ``data`` or ``stringData`` that is not a mapping (a broken input) counts as one value,
    under the key ``(<field>: not a mapping)``, so it is masked like the rest.
    """
    values: dict[str, bytes] = {}
    for field, read in (("data", _decode), ("stringData", _encode)):
        block = obj.get(field)
        if block is None:
            continue
        if not isinstance(block, dict):
            values[f"({field}: not a mapping)"] = str(block).encode("utf-8")
            continue
        for key, text in sorted(block.items(), key=lambda item: str(item[0])):
            values[str(key)] = read(text)
    return values


def _encode(text: object) -> bytes:
    """A ``stringData`` value as bytes."""
    return str(text).encode("utf-8")


def _decode(text: object) -> bytes:
    """Base64 ``data`` value as bytes; text that is not base64 counts as itself."""
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        return str(text).encode("utf-8")


def mask_pair(old: dict | None, new: dict | None) -> tuple[dict | None, dict | None]:
    """Both sides of a matched pair with their secret values masked (non-Secrets unchanged)."""
    old_values = _maskable(old)
    new_values = _maskable(new)
    return (_masked(old, old_values, new_values, "before") if is_secret(old) else old,
            _masked(new, new_values, old_values, "after") if is_secret(new) else new)


def _maskable(obj: dict | None) -> dict[str, bytes]:
    """What gets masked in a Secret: its values, and its last-applied annotation (key ``None``)."""
    if not is_secret(obj):
        return {}
    values: dict = secret_values(obj)
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if LAST_APPLIED in annotations:
        values[None] = str(annotations[LAST_APPLIED]).encode("utf-8")
    return values


def _masked(obj: dict, mine: dict, other: dict, side: str) -> dict:
    out = copy.deepcopy(obj)
    out.pop("stringData", None)
    out.pop("data", None)
    data = {k: mask_value(v, other.get(k), side) for k, v in mine.items() if k is not None}
    if data:
        out["data"] = data
    if None in mine:
        out["metadata"]["annotations"][LAST_APPLIED] = mask_value(mine[None], other.get(None), side)
    return out


def mask_value(value: bytes, other: bytes | None, side: str) -> str:
    """``*** (N bytes)``, marked ``before``/``after`` when the other side has a different value."""
    changed = other is not None and other != value
    return f"*** ({len(value)} bytes{', ' + side if changed else ''})"
