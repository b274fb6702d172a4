"""The data a diff produces, shared by every reporter: immutable items, no formatting.

A :class:`DiffReport` holds one :class:`AppDiff` per app; each app holds per-object
:class:`ObjectDiff` items (with field-level :class:`FieldChange` items) and per-model
:class:`ModelDiff` serving summaries. Objects are stored normalized and, for Secrets, masked:
a reporter can print anything it finds here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .match import ObjectId

ADDED, REMOVED, CHANGED, RENAMED, UNCHANGED = "added", "removed", "changed", "renamed", "unchanged"
#: Display order of actions (counts, JSON).
ACTIONS = (ADDED, CHANGED, RENAMED, REMOVED)


@dataclass(frozen=True)
class FieldChange:
    """One leaf of an object: ``op`` is ``add``, ``remove`` or ``change``; absent sides are None."""

    op: str
    path: str
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class ObjectDiff:
    """One object of an app: how it differs between the sides."""

    action: str
    old_id: ObjectId | None
    new_id: ObjectId | None
    old: dict | None
    new: dict | None
    changes: tuple[FieldChange, ...] = ()

    @property
    def id(self) -> ObjectId:
        """The identity it has after the change (before it, for a removal)."""
        return self.new_id if self.new_id is not None else self.old_id  # type: ignore[return-value]

    def title(self) -> str:
        """``Kind: ns/name``, or ``Kind: ns/old → ns/new`` for a rename."""
        if self.action == RENAMED and self.old_id is not None and self.new_id is not None:
            old = self.old_id.display()
            if self.old_id.kind == self.new_id.kind:
                old = old.split(": ", 1)[1]
                return f"{self.new_id.kind}: {old} → {self.new_id.display().split(': ', 1)[1]}"
            return f"{old} → {self.new_id.display()}"
        return self.id.display()


@dataclass(frozen=True)
class Row:
    """One serving fact of a model that differs: label, value before, value after ("" = none)."""

    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ModelDiff:
    """The serving summary of one model: identity line and the facts that change."""

    action: str
    name: str                 # namespace/name after the change (before it, when removed)
    old_name: str
    runtime: str
    image: str
    rows: tuple[Row, ...] = ()
    warnings: tuple[str, ...] = ()   # what the cluster will refuse (an LLMInferenceService's parallelism size)


@dataclass(frozen=True)
class SideError:
    """A side that did not render: which one, and the messages the render gave."""

    side: str                 # "base" | "head"
    messages: tuple[str, ...]


@dataclass
class AppDiff:
    """One app: its path (relative to the tree roots), errors, models and objects."""

    path: str
    errors: list[SideError] = field(default_factory=list)
    models: list[ModelDiff] = field(default_factory=list)
    objects: list[ObjectDiff] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return (bool(self.errors) and not self.still_broken()) or any(o.action != UNCHANGED for o in self.objects) \
            or any(m.action != UNCHANGED for m in self.models)   # what runs changes with no object changed

    def head_failed(self) -> bool:
        """The change broke this app: its head does not render, its base did (or had no such app)."""
        return any(e.side == "head" for e in self.errors) and not self.still_broken()

    def still_broken(self) -> bool:
        """Neither side renders: broken before the change, not by it."""
        return {e.side for e in self.errors} == {"base", "head"}


@dataclass
class DiffReport:
    """Every app of both sides; ``base``/``head`` label the two sides for readers."""

    base: str
    head: str
    apps: list[AppDiff] = field(default_factory=list)
    skipped: int = 0          # apps no changed file can affect, not rendered

    @property
    def still_broken(self) -> list[AppDiff]:
        """Apps that render on neither side: listed, never a reason to fail."""
        return [a for a in self.apps if a.still_broken()]

    @property
    def changed(self) -> bool:
        return any(a.changed for a in self.apps)

    @property
    def failed(self) -> bool:
        """The head side of some app did not render (the change leaves it broken)."""
        return any(a.head_failed() for a in self.apps)

    def exit_code(self) -> int:
        """0 no change, 1 changes, 2 an app the change broke (apps broken on both sides do not count)."""
        return 2 if self.failed else 1 if self.changed else 0

    def counts(self) -> dict[str, dict[str, int]]:
        """``{kind: {action: n}}`` over every app, unchanged objects left out."""
        out: dict[str, dict[str, int]] = {}
        for app in self.apps:
            for item in app.objects:
                if item.action != UNCHANGED:
                    per_kind = out.setdefault(item.id.kind, {})
                    per_kind[item.action] = per_kind.get(item.action, 0) + 1
        return {k: out[k] for k in sorted(out)}
