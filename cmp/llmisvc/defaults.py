"""The defaults the API server writes into a stored LLMInferenceService or LLMInferenceServiceConfig.

A CRD's structural schema carries ``default`` values; the API server sets each one where its parent object
exists and the field does not (k8s.io/apiextensions-apiserver structural defaulting), recursing into what
it set. The controller therefore merges and templates the stored objects with those values: a port
without ``protocol`` is ``TCP``, ``kvCacheOffloading.evictionPolicy`` is ``lru`` (which reaches
``--kv-transfer-config``), ``scaling.minReplicas`` is 1. The schemas are the release's shipped CRD schemas
(``cmp/schema/``, see ``cmp/catalog``).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .. import catalog


@cache
def _schema(release: str, kind: str) -> dict[str, Any]:
    from ..validate import load_schema   # the shipped schema files and their loader

    return load_schema(catalog.release(release).schemas[kind]["file"])


def with_defaults(obj: Any, release: str, kind: str = "LLMInferenceService") -> tuple[Any, list[tuple]]:
    """``obj`` (a whole document, or a spec with ``kind`` ``"spec"`` of LLMInferenceServiceConfig) with the
    schema's defaults set, and the paths that were set."""
    schema = _schema(release, "LLMInferenceServiceConfig" if kind == "spec" else kind)
    if kind == "spec":
        schema = (schema.get("properties") or {}).get("spec") or {}
    out = copy.deepcopy(obj)
    added: list[tuple] = []
    _apply(out, schema, (), added)
    return out, added


def _apply(node: Any, schema: dict[str, Any], path: tuple, added: list[tuple]) -> None:
    if isinstance(node, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for key, child in properties.items():
                if key not in node and isinstance(child, dict) and "default" in child:
                    node[key] = copy.deepcopy(child["default"])
                    added.append(path + (key,))
            for key, value in node.items():
                child = properties.get(key)
                if isinstance(child, dict):
                    _apply(value, child, path + (key,), added)
        elif isinstance(schema.get("additionalProperties"), dict):
            for key, value in node.items():
                _apply(value, schema["additionalProperties"], path + (key,), added)
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(node):
            _apply(value, schema["items"], path + (index,), added)
