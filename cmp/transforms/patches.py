"""User patches, the escape hatch: RFC 6902 operations on the generated objects, applied last
(only the scaling rules run after them, to hold for what they leave).

``spec.patches`` applies to the InferenceService, ``spec.runtimePatches`` to the derived
ServingRuntime (creating one when the model had none). A failing operation is an error that
names the operation and where it was written.
"""

from __future__ import annotations

from ..derive import ensure_derived_runtime
from ..provenance import object_key
from ..unit import RenderContext, Unit

NAME = "patches"
ORDER = 900


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
    for i, op in enumerate(ops):
        try:
            result = jsonpatch.JsonPatch([op]).apply(target, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            reason = str(exc).split(" in {")[0]  # the library appends the whole document: too much to read
            ctx.add(unit.problem(("spec", field, i), f"{op.get('op')} {op.get('path')} failed on the generated "
                                                     f"{target.get('kind')}: {reason}", rule=NAME))
            return
        if result is not target:  # a patch of the root path replaced the whole object
            target.clear()
            target.update(result)
        ctx.provenance.record(target, pointer_to_path(op.get("path", "")), op.get("value"),
                              unit.where(("spec", field, i)), f"{field}[{i}] {op.get('op')}")
    if object_key(target) != key_before:
        ctx.add(unit.problem(("spec", field), "patches may not change kind, name or namespace", rule=NAME))


def pointer_to_path(pointer: str) -> str:
    """``/spec/containers/0/args`` -> ``spec.containers[0].args`` (the form provenance uses)."""
    out = ""
    for part in pointer.lstrip("/").split("/") if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out
