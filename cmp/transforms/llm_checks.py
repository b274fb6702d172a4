"""Checks of an LLMInferenceService as it will be emitted (after ``spec.patches``), each with its fix.

What KServe's LLM path only reveals in the cluster (``docs/llm.md`` lists each refusal): a flag the
presets already pass, ``--port`` (the port is hard-wired), a ``command`` that throws the presets'
launch script away, pod specs without container ``main``, ``replicas`` with ``scaling``, ``scaling``
without the WVA controller, pipeline parallelism (no preset ships it), names the LeaderWorkerSet
cannot carry, and GPUs per pod that do not match tensor x dataLocal.
"""

from __future__ import annotations

from ..kserve import flags, gpu
from ..spec import llm
from ..unit import RenderContext, Unit
from .llm import FACT, MAIN, llm_profile

NAME = "llm-checks"
ORDER = 960
KINDS = (llm.LLM,)

#: Pod specs of an LLMInferenceService: (key, path in the spec, path of the workload block).
PODS = (("template", ("template",), ()), ("worker", ("worker",), ()),
        ("prefill.template", ("prefill", "template"), ("prefill",)),
        ("prefill.worker", ("prefill", "worker"), ("prefill",)))
#: vLLM's port is fixed: 8000 (8001 behind the decode routing sidecar); the workload Service,
#: the InferencePool and the probes target 8000 (workload.go, presets, KServe v0.20.0).
PORT_FLAGS = ("port",)
#: LeaderWorkerSet pods fail past 51 characters of the LWS name (kubernetes-sigs/lws#410); KServe names
#: it ``<name>-kserve-mn`` and ``<name>-kserve-mn-prefill`` (workload_multi_node.go).
LWS_NAME_LIMIT = 51
LWS_SUFFIX = {"worker": "-kserve-mn", "prefill.worker": "-kserve-mn-prefill"}


def apply(unit: Unit, ctx: RenderContext) -> None:
    spec = unit.isvc.get("spec")
    if not isinstance(spec, dict):
        return
    _name_length(unit, ctx, spec)
    _workload(unit, ctx, spec, ())
    if isinstance(spec.get("prefill"), dict):
        _workload(unit, ctx, spec["prefill"], ("prefill",))
    for key, path, _ in PODS:
        pod = _get(spec, path)
        if isinstance(pod, dict):
            _pod(unit, ctx, spec, key, path, pod)


def _get(obj, path: tuple):
    for part in path:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _at(unit: Unit, md_path: tuple, obj_path: tuple, message: str):
    """A problem at the ModelDeployment's field, or at the raw service's."""
    return unit.problem(md_path if unit.deployment is not None else ("spec",) + obj_path, message, rule=NAME)


def _md_workload(path: tuple) -> tuple:
    return ("spec", "prefill") if path else ("spec",)


# ---------------------------------------------------------------- workload level


def _workload(unit: Unit, ctx: RenderContext, block: dict, path: tuple) -> None:
    md_base = _md_workload(path)
    if "replicas" in block and "scaling" in block:
        ctx.add(_at(unit, md_base + ("scaling",) if unit.deployment is None else ("spec", "patches"),
                    path + ("scaling",), "replicas and scaling are exclusive (KServe's webhook refuses both): keep "
                                         "scaling for autoscaling, or replicas for a fixed count"))
    scaling = block.get("scaling")
    if isinstance(scaling, dict) and llm_profile(ctx).wva_actuator is None and unit.deployment is None:
        ctx.add(_at(unit, (), path + ("scaling",), "scaling needs the Workload Variant Autoscaler, which the cluster "
                                                   "profile does not declare: declare it (ClusterProfile spec.llm.wva."
                                                   "actuator) or use replicas"))
    parallelism = block.get("parallelism") if isinstance(block.get("parallelism"), dict) else {}
    if parallelism.get("pipeline"):
        _pipeline(unit, ctx, block, path, parallelism)


def _pipeline(unit: Unit, ctx: RenderContext, block: dict, path: tuple, parallelism: dict) -> None:
    """Pipeline parallelism: no release ships ``kserve-config-llm-worker-pipeline-parallel`` (it is listed
    under a FIXME in config_merge.go), so reconcile stops with ConfigNotFound; on one node it is ignored."""
    md_path = _md_workload(path) + ("multiNode", "pipelineParallelSize") if path else \
        ("spec", "multiNode", "pipelineParallelSize")
    if "worker" not in block:
        message = (f"parallelism.pipeline is ignored on a single node by KServe {unit.kserve.tag} (kserve#6044): "
                   "use tensor parallelism, or pipeline with a worker")
    else:
        message = (f"pipeline parallelism has no preset in KServe {unit.kserve.tag} (no "
                   "kserve-config-llm-worker-pipeline-parallel): the controller stops with ConfigNotFound; use "
                   "tensorParallelSize (GPUs of one pod) or data/dataLocal (data parallelism over pods)")
    ctx.add(_at(unit, md_path, path + ("parallelism", "pipeline"), message))


def _name_length(unit: Unit, ctx: RenderContext, spec: dict) -> None:
    name = unit.name
    for key, suffix in LWS_SUFFIX.items():
        if not isinstance(_get(spec, tuple(key.split("."))), dict):
            continue
        longest = LWS_NAME_LIMIT - len(suffix)
        if len(name) > longest:
            what = "the prefill workload's" if key.startswith("prefill") else "the"
            ctx.add(unit.problem(("metadata", "name"), f"name {name!r} has {len(name)} characters: {what} "
                                                       f"LeaderWorkerSet {name}{suffix} would be over "
                                                       f"{LWS_NAME_LIMIT} and its pods fail to start "
                                                       f"(kubernetes-sigs/lws#410); use at most {longest}",
                                 rule=NAME))
            return


# ---------------------------------------------------------------- pod level


def _main(pod: dict) -> dict | None:
    containers = pod.get("containers") if isinstance(pod.get("containers"), list) else []
    return next((c for c in containers if isinstance(c, dict) and c.get("name") == MAIN), None)


def _pod(unit: Unit, ctx: RenderContext, spec: dict, key: str, path: tuple, pod: dict) -> None:
    main = _main(pod)
    containers = pod.get("containers") if isinstance(pod.get("containers"), list) else []
    if main is None:
        if containers:
            ctx.add(_at(unit, ("spec", "patches"), path + ("containers",),
                        f"{key} has no container named {MAIN}: KServe merges only {MAIN} with its presets, so "
                        f"these containers are added beside the preset's vLLM container; name it {MAIN}"))
        return
    index = containers.index(main)
    if main.get("command"):
        ctx.add(_at(unit, ("spec", "patches"), path + ("containers", index, "command"),
                    f"{key}: command replaces the presets' launch script whole (lists are replaced between "
                    "layers), so vLLM would start without --served-model-name, the port and the parallelism flags; "
                    "remove command and put vLLM flags in args"))
    args = main.get("args") if isinstance(main.get("args"), list) else []
    ours = set((unit.facts.get(FACT) or {}).get("rule_args", {}).get(key, ()))
    _flags(unit, ctx, spec, key, path + ("containers", index, "args"), [str(a) for a in args], ours)
    if not key.endswith("worker") or main.get("resources") != (_main(_get(spec, path[:-1] + ("template",)) or {})
                                                               or {}).get("resources"):
        _gpus(unit, ctx, spec, key, path, main)   # a worker with the leader's resources is checked once


def _flags(unit: Unit, ctx: RenderContext, spec: dict, key: str, path: tuple, args: list[str], ours: set[int]
           ) -> None:
    """``--port`` and flags the presets pass; ``ours`` are indexes of tokens kserve-cmp wrote itself."""
    owned = preset_owned(unit, ctx, spec, key)
    for arg in flags.parse_args(args, normalize_underscores=True, repeatable=frozenset()):
        if arg.key is None or arg.index in ours:
            continue
        spelled = arg.tokens[0].split("=", 1)[0]
        if arg.key in PORT_FLAGS:
            ctx.add(_at(unit, _arg_path(unit, key, arg), path + (arg.index,),
                        f"{spelled}: vLLM's port is fixed by KServe (8000; 8001 behind the prefill/decode routing "
                        "sidecar) and the workload Service, InferencePool and probes target it; remove the flag"))
        elif arg.key in owned:
            ctx.add(_at(unit, _arg_path(unit, key, arg), path + (arg.index,),
                        f"{spelled} is already passed by KServe's preset launch script (from {owned[arg.key]}): "
                        f"set {owned[arg.key]} instead of the flag, which would reach vLLM twice"))


def _arg_path(unit: Unit, key: str, arg: flags.Arg) -> tuple:
    """Where a ModelDeployment wrote the flag (its args map entry or list item), else its args."""
    md = unit.deployment
    if md is None:
        return ()
    base, written = ("spec", "model", "args"), md.model.args
    if key.startswith("prefill") and md.llm is not None and md.llm.prefill is not None and \
            md.llm.prefill.args is not None:
        base, written = ("spec", "prefill", "args"), md.llm.prefill.args
    canonical = arg.key
    if isinstance(written, dict):
        for name in written:
            if flags.canonical_key(str(name).lstrip("-"), normalize_underscores=True) == canonical.lstrip("-"):
                return base + (name,)
    elif isinstance(written, list):
        for i, token in enumerate(written):
            if str(token) == arg.tokens[0]:
                return base + (i,)
    return base if written is not None else ("spec", "multiNode")


#: Flags the presets pass themselves, and the LLMInferenceService field that sets each.
def preset_owned(unit: Unit, ctx: RenderContext, spec: dict, key: str) -> dict[str, str]:
    owned = {"served-model-name": "spec.model.name", "model": "spec.model.storageUri (the presets serve /mnt/models)"}
    block = spec.get("prefill") if key.startswith("prefill") else spec
    if isinstance(block, dict) and isinstance(block.get("parallelism"), dict) and block["parallelism"].get("tensor"):
        owned["tensor-parallel-size"] = owned["-tp"] = "multiNode.tensorParallelSize"
    if key.endswith("worker"):
        for flag in ("data-parallel-size", "data-parallel-size-local", "data-parallel-address",
                     "data-parallel-rpc-port", "data-parallel-start-rank", "-dp", "headless"):
            owned[flag] = "multiNode.data and multiNode.dataLocal"
    if llm_profile(ctx).enable_tls:
        for flag in ("enable-ssl-refresh", "ssl-certfile", "ssl-keyfile"):
            owned[flag] = "ClusterProfile spec.llm.enableTLS"
    return owned


def _gpus(unit: Unit, ctx: RenderContext, spec: dict, key: str, path: tuple, main: dict) -> None:
    """GPUs per pod must be tensor x dataLocal: vLLM starts that many ranks per pod (KServe does not check it)."""
    block = spec["prefill"] if key.startswith("prefill") else spec
    parallelism = block.get("parallelism") if isinstance(block.get("parallelism"), dict) else {}
    tensor = parallelism.get("tensor") or 1
    local = parallelism.get("dataLocal") or 1 if "worker" in block else 1
    wanted = tensor * local if isinstance(tensor, int) and isinstance(local, int) else None
    resources = main.get("resources") if isinstance(main.get("resources"), dict) else {}
    found: dict[str, int] = {}
    for group in ("requests", "limits"):
        for name, amount in (resources.get(group) or {}).items():
            if gpu.is_known(str(name), unit.kserve.gpu_resource_types) and str(amount).isdigit():
                found[str(name)] = int(str(amount))
    have = sum(found.values())
    if wanted is None or (have == wanted) or (not found and wanted == 1):
        return
    md_path = (("spec", "prefill", "resources") if key.startswith("prefill") and unit.deployment is not None
               and unit.deployment.llm.prefill.resources else ("spec", "model", "resources"))
    shown = ", ".join(f"{n}: {a}" for n, a in sorted(found.items())) or "none"
    ctx.add(_at(unit, md_path, path + ("containers",),
                f"{key}: {have} GPU(s) per pod ({shown}) but vLLM starts tensor x dataLocal = {tensor} x {local} = "
                f"{wanted} ranks per pod: set the GPU limit to {wanted}, or change the parallelism"))
