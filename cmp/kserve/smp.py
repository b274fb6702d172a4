"""Strategic merge patch semantics, as KServe applies them to containers and pod specs.

KServe marshals Go structs to JSON (``omitempty`` drops empty strings and lists and the zero
values of non-pointer fields, so unset overlay fields never clear base fields) and applies the
overlay with Kubernetes' strategic merge patch: mappings merge recursively, lists with a
``patchMergeKey`` merge item by item (base order kept, new items appended), every other list
is replaced atomically, scalars are replaced.

A :data:`Schema` maps a field name either to a :class:`Keyed` rule (a list merged by key) or
to a nested schema for a mapping field; fields not named merge with the defaults above.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Keyed:
    """A list merged item by item on ``key``, each item merged with the ``item`` schema."""

    key: str
    item: Mapping[str, Rule] = field(default_factory=dict)


Rule = Union[Keyed, Mapping[str, "Rule"]]
Schema = Mapping[str, Rule]

#: Non-pointer Go fields with ``omitempty`` whose zero value (``false``/``0``) is dropped.
ZERO_OMITTED = frozenset(
    {
        "failureThreshold",
        "hostIPC",
        "hostNetwork",
        "hostPID",
        "hostPort",
        "initialDelaySeconds",
        "periodSeconds",
        "readOnly",
        "stdin",
        "stdinOnce",
        "successThreshold",
        "timeoutSeconds",
        "tty",
    }
)


class MergeError(ValueError):
    """A patch that strategic merge patch cannot apply (e.g. a keyed item without its key)."""


def omit_empty(value: object) -> object:
    """``value`` as Go's JSON marshalling would send it: empty and zero fields removed."""
    if isinstance(value, Mapping):
        cleaned = {k: omit_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if not _is_omitted(k, v)}
    if isinstance(value, list):
        return [omit_empty(v) for v in value]
    return value


def strategic_merge(base: Mapping, patch: Mapping, schema: Schema) -> dict:
    """Merge ``patch`` over ``base`` (neither is modified); ``patch`` should be omit_empty'd."""
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        rule = schema.get(key, {})
        current = merged.get(key)
        if isinstance(rule, Keyed) and isinstance(current, list) and isinstance(value, list):
            merged[key] = _merge_keyed(current, value, rule, key)
        elif isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = strategic_merge(current, value, rule if isinstance(rule, Mapping) else {})
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_keyed(base: list, patch: list, rule: Keyed, name: str) -> list:
    """Merge two lists of mappings by ``rule.key``: base order kept, new items appended."""
    merged = copy.deepcopy(base)
    for item in patch:
        if not isinstance(item, Mapping) or rule.key not in item:
            raise MergeError(f"{name}: item without merge key {rule.key!r}: {item!r}")
        position = _find(merged, rule.key, item[rule.key])
        if position is None:
            merged.append(copy.deepcopy(dict(item)))
        else:
            merged[position] = strategic_merge(merged[position], item, rule.item)
    return merged


def _find(items: list, key: str, value: object) -> int | None:
    """Index of the first mapping in ``items`` whose ``key`` equals ``value``."""
    for position, item in enumerate(items):
        if isinstance(item, Mapping) and item.get(key) == value:
            return position
    return None


def _is_omitted(key: str, value: object) -> bool:
    """True when Go would leave ``key`` out of the JSON (nil, empty, or zero non-pointer).

    Empty mappings are kept: a pointer to an empty struct (``emptyDir: {}``) is meaningful,
    and merging an empty map changes nothing.
    """
    if value is None or value == "" or value == []:
        return True
    return key in ZERO_OMITTED and value in (False, 0)
