"""Pairing the objects of two renders: by identity first, then the renames a change can cause.

Identity is (group, kind, namespace, name); the API version is not part of it, so moving
``v1beta1`` to ``v1`` is a change of one object. What is left unpaired goes through three
rename passes, each pairing only what the previous left over:

1. kustomize hash suffixes: ``cfg-7c2m9tbk6f`` and ``cfg-b8h2g4d9mk`` (same group, kind, namespace);
2. the same namespace and name under another kind (a ServingRuntime that became a
   ClusterServingRuntime keeps its name but not its namespace, so only the name counts there);
3. content: the same kind, and at least half of the ``path=value`` leaves in common
   (Jaccard similarity over content: apiVersion, kind, name and namespace left out).

Within a pass, candidates are taken best first, ties broken by identity, so results are stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from ..scope import CLUSTER_SCOPED
from .normalize import flatten, leaf_text

SIMILARITY = 0.5
_IDENTITY_PATHS = frozenset({"apiVersion", "kind", "metadata.name", "metadata.namespace"})
#: kustomize's name hash: a dash and ten characters from its vowel-free alphabet.
_HASH_SUFFIX = re.compile(r"^(?P<base>.+)-[bcdfghkmt2456789]{10}\Z")


@dataclass(frozen=True, order=True)
class ObjectId:
    """Who an object is, independent of its API version."""

    group: str
    kind: str
    namespace: str
    name: str

    def display(self) -> str:
        """``Kind: namespace/name`` (``Kind: name`` without a namespace)."""
        return f"{self.kind}: {self.namespace + '/' if self.namespace else ''}{self.name}"


def object_id(obj: dict) -> ObjectId:
    """The identity of a rendered object."""
    api = str(obj.get("apiVersion") or "")
    meta = obj.get("metadata") or {}
    return ObjectId(api.split("/")[0] if "/" in api else "", str(obj.get("kind") or ""),
                    str(meta.get("namespace") or ""), str(meta.get("name") or ""))


Pair = tuple[dict | None, dict | None]


def match(old: Iterable[dict], new: Iterable[dict]) -> list[Pair]:
    """Every object of both sides once: paired, added (``(None, obj)``) or removed (``(obj, None)``)."""
    old_by = {object_id(o): o for o in old}
    new_by = {object_id(o): o for o in new}
    pairs: list[Pair] = [(old_by[i], new_by[i]) for i in sorted(old_by.keys() & new_by.keys())]
    left = {i: old_by[i] for i in sorted(old_by.keys() - new_by.keys())}
    right = {i: new_by[i] for i in sorted(new_by.keys() - old_by.keys())}
    for score in (_hash_rename, _kind_rename, _content_scorer(left, right)):
        for a, b in _best_pairs(list(left), list(right), score):
            pairs.append((left.pop(a), right.pop(b)))
    pairs += [(o, None) for o in left.values()] + [(None, n) for n in right.values()]
    return sorted(pairs, key=_pair_key)


def _pair_key(pair: Pair) -> tuple:
    old, new = pair
    return object_id(new if new is not None else old), object_id(old) if old is not None else ObjectId("", "", "", "")


def _best_pairs(left: list[ObjectId], right: list[ObjectId],
                score: Callable[[ObjectId, ObjectId], float | None]) -> list[tuple[ObjectId, ObjectId]]:
    """Greedy best-first assignment of the pairs ``score`` accepts (a score of None refuses)."""
    candidates = []
    for a in left:
        for b in right:
            value = score(a, b)
            if value is not None:
                candidates.append((-value, a, b))
    taken_a: set[ObjectId] = set()
    taken_b: set[ObjectId] = set()
    chosen = []
    for _, a, b in sorted(candidates):
        if a not in taken_a and b not in taken_b:
            taken_a.add(a)
            taken_b.add(b)
            chosen.append((a, b))
    return chosen


def strip_hash(name: str) -> str | None:
    """``name`` without a kustomize hash suffix, or None when it has none."""
    found = _HASH_SUFFIX.match(name)
    return found.group("base") if found else None


def _hash_rename(a: ObjectId, b: ObjectId) -> float | None:
    base = strip_hash(a.name)
    same_place = (a.group, a.kind, a.namespace) == (b.group, b.kind, b.namespace)
    return 1.0 if same_place and base is not None and base == strip_hash(b.name) else None


def _kind_rename(a: ObjectId, b: ObjectId) -> float | None:
    if a.kind == b.kind or a.name != b.name:
        return None
    scoped = (a.group, a.kind) in CLUSTER_SCOPED or (b.group, b.kind) in CLUSTER_SCOPED
    return 1.0 if scoped or a.namespace == b.namespace else None


def _content_scorer(left: dict[ObjectId, dict], right: dict[ObjectId, dict]) -> Callable:
    """Scores same-kind pairs by :func:`jaccard` of their leaves (each side flattened once)."""
    leaves = {("old", i): _leaves(o) for i, o in left.items()} | {("new", i): _leaves(o) for i, o in right.items()}

    def score(a: ObjectId, b: ObjectId) -> float | None:
        if (a.group, a.kind) != (b.group, b.kind):
            return None
        value = jaccard(leaves[("old", a)], leaves[("new", b)])
        return value if value >= SIMILARITY else None
    return score


def similarity(old: dict, new: dict) -> float:
    """Jaccard similarity of the two objects' ``path=value`` content leaves."""
    return jaccard(_leaves(old), _leaves(new))


def jaccard(left: set[str], right: set[str]) -> float:
    """Shared over combined (1.0 for two empty sets)."""
    union = left | right
    return len(left & right) / len(union) if union else 1.0


def _leaves(obj: dict) -> set[str]:
    """``path=value`` of every leaf but the identity ones (the pass compares content)."""
    return {f"{path}={leaf_text(value)}" for path, value in flatten(obj).items() if path not in _IDENTITY_PATHS}
