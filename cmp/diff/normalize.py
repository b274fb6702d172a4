"""Objects as reviewers compare them: noise dropped, named lists keyed, args read as flags.

Two rendered objects are the same when their :func:`flatten` maps are equal. Flattening keys
named lists (containers, env, ports, volumes...) by name instead of by position, so reordering
them is not a change, and reads a container's ``args`` as command-line flags, so ``--a=1 --b``
and ``--b --a 1`` are equal. :func:`normalize` and :func:`align` give the matching YAML view:
named lists sorted by their key, and an argument list that only moved kept in its old order.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..kserve.flags import parse_args

#: Metadata fields the API server writes; they never come from a render and never matter in review.
NOISE_METADATA = ("creationTimestamp", "generation", "managedFields", "resourceVersion", "selfLink", "uid")

#: List fields whose items are identified by a key (first key present and unique on every item).
NAMED_LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "env": ("name",),
    "imagePullSecrets": ("name",),
    "ports": ("name", "containerPort"),
    "volumeDevices": ("devicePath",),
    "volumeMounts": ("mountPath",),
    "volumes": ("name",),
}
ARGS_FIELD = "args"


def normalize(obj: dict) -> dict:
    """A copy of ``obj`` without status and server-written metadata, named lists sorted by key."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in NOISE_METADATA:
            meta.pop(key, None)
    return _sorted_lists(out)


def _sorted_lists(value: Any, field: str = "") -> Any:
    """``value`` with every named list (by its field name) sorted by its identifying key."""
    if isinstance(value, dict):
        return {k: _sorted_lists(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        key = list_key(field, items)
        return sorted(items, key=lambda item: str(item[key])) if key else items
    return value


def list_key(field: str, items: list) -> str | None:
    """The key that names the items of list ``field``, or None when it is a positional list."""
    for key in NAMED_LISTS.get(field, ()):
        if items and all(isinstance(i, dict) and isinstance(i.get(key), (str, int)) for i in items):
            if len({str(i[key]) for i in items}) == len(items):
                return key
    return None


def args_as_flags(tokens: list) -> dict[str, Any]:
    """``{"--flag": value}`` for each flag (values of a repeated flag as a list, in order);
    positionals by their position among positionals (``"0"``). Bare flags are ``True``, ``--no-x`` is ``--x: False``."""
    if not all(isinstance(t, str) for t in tokens):
        return {str(i): t for i, t in enumerate(tokens)}
    values: dict[str, list] = {}
    positional = 0
    for arg in parse_args(tokens, normalize_underscores=False, repeatable=frozenset()):
        if arg.key is None:
            values[str(positional)] = [arg.value]
            positional += 1
            continue
        flag = arg.key if arg.key.startswith("-") else f"--{arg.key}"
        value: Any = (not arg.negated) if arg.value is None else arg.value
        values.setdefault(flag, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}


def flatten(value: Any, prefix: str = "", field: str = "") -> dict[str, Any]:
    """``{"spec.containers[kserve-container].image": "...", ...}``: one entry per leaf.

    Empty mappings and lists are leaves (``{}``, ``[]``) so adding one is a change.
    """
    if isinstance(value, dict):
        if not value:
            return {prefix: {}}
        out: dict[str, Any] = {}
        for k in sorted(value, key=str):
            out.update(flatten(value[k], f"{prefix}.{k}" if prefix else str(k), str(k)))
        return out
    if isinstance(value, list):
        if not value:
            return {prefix: []}
        if field == ARGS_FIELD:
            return {f"{prefix}[{k}]": v for k, v in args_as_flags(value).items()}
        key = list_key(field, value)
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{item[key] if key else i}]"))
        return out
    return {prefix: value}


def align(old: Any, new: Any, field: str = "") -> Any:
    """``new`` with every ``args`` list that equals ``old``'s as flags replaced by ``old``'s order."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: align(old[k], v, k) if k in old else v for k, v in new.items()}
    if isinstance(old, list) and isinstance(new, list):
        if field == ARGS_FIELD:
            return old if args_as_flags(old) == args_as_flags(new) else new
        key = list_key(field, old)
        if key and key == list_key(field, new):
            by_key = {str(item[key]): item for item in old}
            return [align(by_key[str(i[key])], i) if str(i[key]) in by_key else i for i in new]
        if len(old) == len(new):
            return [align(o, n) for o, n in zip(old, new)]
    return new


def leaf_text(value: Any) -> str:
    """A flattened leaf as one line of text (strings bare, everything else as JSON)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
