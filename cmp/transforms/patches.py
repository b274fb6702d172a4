"""User patches, the escape hatch: RFC 6902 operations on the generated objects, applied last
(only the scaling rules run after them, to hold for what they leave).

``spec.patches`` applies to the InferenceService, ``spec.runtimePatches`` to the derived
ServingRuntime (creating one when the model had none). A failing operation is an error that
names the operation and where it was written.

Fail closed: patches that change the object's kind, name or namespace, or leave ``metadata``
not a mapping, are an error and the object is restored as it was before them; patches that
leave it invalid against its CRD schema (``/spec/predictor`` a string) mark the unit broken,
so no later transform reads it, and the final schema check reports where the patch wrote it.
"""

from __future__ import annotations

import copy

from ..derive import ensure_derived_runtime
from ..provenance import object_key
from ..unit import RenderContext, Unit

NAME = "patches"
ORDER = 900
KINDS = ("InferenceService", "LLMInferenceService")


def apply(unit: Unit, ctx: RenderContext) -> None:
    md = unit.deployment
    if md is None:
        return
    if md.patches:
        _apply(unit, ctx, unit.isvc, md.patches, "patches")
    if md.runtime_patches:
        if unit.base_runtime is None:
            ctx.add(md.problem(("spec", "runtimePatches"), "no base runtime to patch", rule=NAME))
            return
        runtime = ensure_derived_runtime(unit, ctx, "runtimePatches")
        _apply(unit, ctx, runtime, md.runtime_patches, "runtimePatches")


def _apply(unit: Unit, ctx: RenderContext, target: dict, ops: list[dict], field: str) -> None:
    import jsonpatch  # only renders that use patches pay for the import

    key_before = object_key(target)
    before = copy.deepcopy(target)
    for i, op in enumerate(ops):
        try:
            result = jsonpatch.JsonPatch([op]).apply(target, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            reason = str(exc).split(" in {")[0]  # the library appends the whole document: too much to read
            ctx.add(unit.problem(("spec", field, i), f"{op.get('op')} {op.get('path')} failed on the generated "
                                                     f"{target.get('kind')}: {reason}", rule=NAME))
            _restore(unit, target, before)
            return
        if result is not target:  # a patch of the root path replaced the whole object
            if not isinstance(result, dict):
                ctx.add(unit.problem(("spec", field, i), f"{op.get('op')} {op.get('path')!r} replaces the whole "
                                                         f"{before.get('kind')} with something not a mapping",
                                     rule=NAME))
                _restore(unit, target, before)
                return
            target.clear()
            target.update(result)
        ctx.provenance.record(target, pointer_to_path(op.get("path", "")), op.get("value"),
                              unit.where(("spec", field, i)), f"{field}[{i}] {op.get('op')}")
    meta = target.get("metadata")
    identity = (target.get("apiVersion"), target.get("kind"))
    if not isinstance(meta, dict) or object_key(target) != key_before or \
            identity != (before.get("apiVersion"), before.get("kind")) or \
            any(not isinstance(meta.get(k), (str, type(None))) for k in ("name", "namespace")):
        ctx.add(unit.problem(("spec", field), "patches may not change apiVersion, kind, name or namespace "
                                              "(nor remove metadata)", rule=NAME))
        _restore(unit, target, before)
        return
    from ..validate import validate_object  # the CRD schemas, loaded once per process

    if validate_object(target):
        unit.broken = True  # reported, located at the patch, by the final schema check
        return
    spec = target.get("spec")
    lost = not isinstance(spec, dict) if isinstance(before.get("spec"), dict) else False
    if not lost and target.get("kind") == "InferenceService":
        lost = not isinstance(spec, dict) or not isinstance(spec.get("predictor"), dict)
    if lost:
        # a null is pruned by the API server: the object would reach KServe without it, which every
        # later transform (and KServe's admission) needs
        what = "spec.predictor" if target.get("kind") == "InferenceService" else "spec"
        ctx.add(unit.problem(("spec", field), f"patches leave the {target.get('kind')} without {what} "
                                              "(a mapping)", rule=NAME))
        _restore(unit, target, before)
        return


def _restore(unit: Unit, target: dict, before: dict) -> None:
    """Put the object back as it was before the patches (later checks name it) and skip the unit."""
    target.clear()
    target.update(before)
    unit.broken = True


def pointer_to_path(pointer: str) -> str:
    """``/spec/containers/0/args`` -> ``spec.containers[0].args`` (the form provenance uses)."""
    out = ""
    for part in pointer.lstrip("/").split("/") if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out
