"""Transforms: one module per concern, each ``apply(unit, ctx)``, run in ``ORDER``.

A transform reads the unit (its InferenceService, base and derived runtime, input document)
and the context (settings, cluster profile), changes the unit's objects, records provenance
for every field it sets and adds problems to the context. It never prints and never raises
for a problem in the inputs.
"""

from __future__ import annotations

from types import ModuleType

from ..source.yamlio import Doc
from ..unit import RenderContext, Unit
from . import admission, args, health, images, inputs, llm, llm_checks, multinode, patches, pod, scaling, storage

#: Every transform module, by name; ``ORDER`` decides when each runs.
TRANSFORMS: dict[str, ModuleType] = {m.NAME: m for m in (admission, args, health, images, inputs, llm, llm_checks,
                                                         multinode, patches, pod, scaling, storage)}

#: Sections of ModelDeployment.spec that some transform implements.
SUPPORTED_SECTIONS: frozenset[str] = frozenset(
    s for m in TRANSFORMS.values() for s in getattr(m, "SECTIONS", ()))

#: Sections of ClusterProfile.spec that some transform parses (beyond the profile's own).
PROFILE_SECTIONS: frozenset[str] = frozenset(
    s for m in TRANSFORMS.values() for s in getattr(m, "PROFILE_SECTIONS", ()))


def ordered() -> list[ModuleType]:
    return sorted(TRANSFORMS.values(), key=lambda m: (m.ORDER, m.NAME))


#: The kinds a transform works on unless its module lists others in ``KINDS``.
DEFAULT_KINDS = ("InferenceService",)


def run_all(units: list[Unit], ctx: RenderContext) -> None:
    """Every transform over every unit of a kind it handles, in order; a unit a transform marked
    broken (its problem is reported) is left to the final checks."""
    for transform in ordered():
        kinds = getattr(transform, "KINDS", DEFAULT_KINDS)
        for unit in units:
            if unit.isvc.get("kind") in kinds and not unit.broken:
                transform.apply(unit, ctx)


def cluster_objects(ctx: RenderContext) -> list[tuple[dict, Doc]]:
    """Cluster-wide objects rendered from the cluster profile, with the document each comes from.

    A transform module contributes by defining ``cluster_objects(ctx)``.
    """
    return [item for m in ordered() if hasattr(m, "cluster_objects") for item in m.cluster_objects(ctx)]
