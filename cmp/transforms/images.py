"""Images: a derived runtime keeps the GPU build KServe would have picked for its base runtime.

Before v0.20.0, KServe's ``UpdateImageTag`` (``pkg/controller/v1beta1/inferenceservice/utils/
utils.go``, v0.17.1 to v0.19.0) appends ``-gpu`` to the image tag only when the InferenceService
names one of the official runtimes ``kserve-huggingfaceserver``, ``kserve-torchserve`` or
``kserve-tensorflow-serving``: a derived runtime (``<model>-<base>``) would run the CPU build on
a GPU. On a cluster whose ``ClusterProfile.spec.kserve.version`` is older than v0.20.0, this
transform writes the image KServe would have run for the base runtime into the derived runtime
(from v0.20.0 on, KServe reads the server-type annotation the derived runtime keeps).
"""

from __future__ import annotations

from ..derive import runtime_container
from ..kserve.image import annotation_aware, kserve_server_type, update_image_tag
from ..kserve.merge import merge_runtime_container
from ..unit import RenderContext, Unit

NAME = "images"
ORDER = 970   # after spec.patches (900) and scaling (950): the resources are final


def apply(unit: Unit, ctx: RenderContext) -> None:
    """Pin the GPU tag into a derived runtime when the cluster's KServe would not rewrite it."""
    runtime, base = unit.runtime, unit.base_runtime
    version = ctx.release.tag
    if runtime is None or base is None or annotation_aware(version):
        return
    model = unit.predictor.get("model") or {}
    container = runtime_container(runtime)
    if not isinstance(model, dict) or model.get("runtimeVersion") or container is None:
        return
    image = container.get("image")
    if not isinstance(image, str):
        return
    base_name = (base.get("metadata") or {}).get("name")
    merged = merge_runtime_container(container, model)
    wanted = update_image_tag(image, runtime_version=None, server_type=kserve_server_type(base),
                              resources=merged.get("resources"), runtime_name=base_name, release=version)
    if wanted == image:
        return
    container["image"] = wanted
    index = runtime["spec"]["containers"].index(container)
    ctx.provenance.record(runtime, f"spec.containers[{index}].image", wanted, f"runtime {base_name}",
                          f"KServe {version} appends -gpu only for the official runtime name {base_name}: "
                          "the derived runtime carries the GPU build itself")
