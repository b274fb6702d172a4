"""Field names as kustomize's decoder matches them: Go's ``encoding/json``, case-insensitive.

kustomize decodes a kustomization (``types.Kustomization.Unmarshal``, api/types/kustomization.go,
v5.8.1) and its built-in plugin configurations through ``sigs.k8s.io/yaml`` into ``encoding/json``,
which matches an object key to a struct field by exact name first, else by a case-insensitive
fold. So ``Resources:``, ``RESOURCES:`` and ``reſources:`` (LONG S) all set ``resources``.
"""

from __future__ import annotations

from collections.abc import Iterable


#: The only non-ASCII runes whose simple case-folding orbit holds an ASCII letter (Unicode's
#: CaseFolding: KELVIN SIGN with k, LONG S with s). DOTTED and DOTLESS I are not in i's orbit: Go
#: refuses ``İmages:`` as an unknown field, as a differential test against kustomize shows.
_ASCII_ORBIT = {"\u212a": "K", "\u017f": "S"}


def go_fold(name: str) -> str:
    """``name`` folded so that ``go_fold(a) == go_fold(b)`` exactly when Go's ``bytes.EqualFold``
    (which ``encoding/json`` uses for field names) holds for an ASCII field name ``b``."""
    return "".join(ch.upper() if ch < "\x80" else _ASCII_ORBIT.get(ch, ch) for ch in name)


def match(fields: Iterable[str], key: object) -> str | None:
    """The field of ``fields`` that ``key`` decodes into, or None."""
    if not isinstance(key, str):
        return None
    if key in fields:
        return key
    folded = go_fold(key)
    for name in fields:
        if go_fold(name) == folded:
            return name
    return None


def values(obj: object, name: str) -> list:
    """Every value of ``obj`` (a mapping) whose key decodes into field ``name``, in key order."""
    if not isinstance(obj, dict):
        return []
    return [v for k, v in obj.items() if match((name,), k) == name]


def get(obj: object, name: str) -> object:
    """The value kustomize decodes into field ``name``: the last matching key wins (the decoder
    overwrites), which an exact match does not change; None when there is none."""
    found = values(obj, name)
    return found[-1] if found else None
