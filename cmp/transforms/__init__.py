"""Transforms: one module per concern, each ``apply(unit, ctx)``, run in ``ORDER``.

A transform reads the unit (its InferenceService, base and derived runtime, input document)
and the context (settings, cluster profile), changes the unit's objects, records provenance
for every field it sets and adds problems to the context. It never prints and never raises
for a problem in the inputs.
"""

from __future__ import annotations

from types import ModuleType

from ..unit import RenderContext, Unit
from . import args, health, patches, storage

#: Every transform module, by name; ``ORDER`` decides when each runs.
TRANSFORMS: dict[str, ModuleType] = {m.NAME: m for m in (args, health, patches, storage)}

#: Sections of ModelDeployment.spec that some transform implements.
SUPPORTED_SECTIONS: frozenset[str] = frozenset(
    s for m in TRANSFORMS.values() for s in getattr(m, "SECTIONS", ()))


def ordered() -> list[ModuleType]:
    return sorted(TRANSFORMS.values(), key=lambda m: (m.ORDER, m.NAME))


def run_all(units: list[Unit], ctx: RenderContext) -> None:
    """Every transform over every unit, in order."""
    for transform in ordered():
        for unit in units:
            transform.apply(unit, ctx)
