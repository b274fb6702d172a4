"""Who set which field: every value a transform writes is recorded with its source.

``cmp explain`` and ``cmp diff`` read these records; nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def object_key(obj: dict) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for objects without a namespace); total, even on an
    object a patch left malformed (metadata not a mapping, a name that is not a string)."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ns = meta.get("namespace")
    return "/".join(str(p) for p in (obj.get("kind"), ns, meta.get("name")) if p)


@dataclass(frozen=True)
class Record:
    object: str      # object_key of the object that holds the field
    path: str        # field path, e.g. spec.predictor.minReplicas
    value: Any
    source: str      # "overlays/x/model.yaml:12", "runtime kserve-vllmserver", ...
    rule: str        # the transform or rule that wrote it


@dataclass
class Provenance:
    records: list[Record] = field(default_factory=list)
    _latest: dict[tuple[str, str], Record] = field(default_factory=dict, repr=False, compare=False)

    def record(self, obj: dict, path: str, value: Any, source: str, rule: str) -> None:
        entry = Record(object_key(obj), path, value, source, rule)
        self.records.append(entry)
        self._latest[(entry.object, path)] = entry

    def for_object(self, key: str) -> list[Record]:
        return [r for r in self.records if r.object == key]

    def latest(self, key: str, path: str) -> Record | None:
        """The last record for a field (later transforms override earlier ones)."""
        return self._latest.get((key, path))
