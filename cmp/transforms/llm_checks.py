"""Checks of an LLMInferenceService as it will be emitted (after ``spec.patches``), each with its fix.

What KServe's LLM path only reveals in the cluster (``docs/llm.md`` lists each refusal): a flag the
presets already pass, ``--port`` (the port is hard-wired), a ``command`` that throws the presets'
launch script away, pod specs without container ``main``, ``replicas`` with ``scaling``, ``scaling``
without the WVA controller, pipeline parallelism (no preset ships it), names the LeaderWorkerSet
cannot carry, and GPUs per pod that do not match tensor x dataLocal.
"""

from __future__ import annotations

import re
import shlex

from .. import llmisvc
from ..kserve import flags, gpu
from ..kserve.placeholders import PlaceholderError, resolve
from ..spec import llm
from ..unit import RenderContext, Unit
from .llm import FACT, MAIN, composition, llm_profile, service_tokens

NAME = "llm-checks"
ORDER = 960
KINDS = (llm.LLM,)

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
    composed = composition(unit, ctx)
    unit.facts.setdefault(FACT, {})["composition"] = composed
    _name_length(unit, ctx, spec)
    _workload(unit, ctx, spec, (), composed)
    if isinstance(spec.get("prefill"), dict):
        _workload(unit, ctx, spec["prefill"], ("prefill",), composed)
    _composition_problems(unit, ctx, composed)
    for key, path in llmisvc.POD_PATHS.items():
        pod = _get(spec, path)
        if isinstance(pod, dict):
            _pod(unit, ctx, spec, key, path, pod, composed)


#: Problems of the composition that the checks here report in their own words.
OWN_RULES = ("llmisvc-preset-missing",)
_PART = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")   # a dotted path's parts: names and [index or key]


def _composition_problems(unit: Unit, ctx: RenderContext, composed: llmisvc.Composition) -> None:
    """What the controller would fail on (``cmp.llmisvc``): at the patches that wrote it, or the raw field."""
    for problem in composed.problems:
        if problem.rule in OWN_RULES and unit.deployment is not None:
            continue
        path = tuple(int(key) if key.isdigit() else key or name
                     for name, key in _PART.findall(problem.path or "spec"))
        where = path
        if unit.deployment is not None and path[:1] != ("metadata",):
            where = ("spec", "patches") if unit.deployment.patches else ("spec",)
        ctx.add(unit.problem(where, problem.message, rule=problem.rule or NAME, level=problem.level))


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


def _workload(unit: Unit, ctx: RenderContext, block: dict, path: tuple, composed: llmisvc.Composition) -> None:
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
        _pipeline(unit, ctx, block, path, composed)


def _pipeline(unit: Unit, ctx: RenderContext, block: dict, path: tuple, composed: llmisvc.Composition) -> None:
    """Pipeline parallelism: the preset it needs is not shipped (``Preset.shipped``; no release has
    ``kserve-config-llm-worker-pipeline-parallel``), so reconcile stops with ConfigNotFound; on one node
    it is ignored."""
    missing = [p.name for p in composed.presets if not p.shipped]
    md_path = _md_workload(path) + ("multiNode", "pipelineParallelSize") if path else \
        ("spec", "multiNode", "pipelineParallelSize")
    if "worker" not in block:
        message = (f"parallelism.pipeline is ignored on a single node by KServe {unit.kserve.tag} (kserve#6044): "
                   "use tensor parallelism, or pipeline with a worker")
    elif missing:
        message = (f"pipeline parallelism has no preset in KServe {unit.kserve.tag} (no {', '.join(missing)}): "
                   "the controller stops with ConfigNotFound; use tensorParallelSize (GPUs of one pod) or "
                   "data/dataLocal (data parallelism over pods)")
    else:
        return
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


def _pod(unit: Unit, ctx: RenderContext, spec: dict, key: str, path: tuple, pod: dict,
         composed: llmisvc.Composition) -> None:
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
    owned = llmisvc.preset_owned_flags(composed, key)
    _flags(unit, ctx, key, path + ("containers", index, "args"), [str(a) for a in args], ours, owned)
    if not main.get("command"):
        _split_by_eval(unit, ctx, key, path + ("containers", index, "args"), [str(a) for a in args], composed)
    if not key.endswith("worker") or main.get("resources") != (_main(_get(spec, path[:-1] + ("template",)) or {})
                                                               or {}).get("resources"):
        _gpus(unit, ctx, spec, key, path, main)   # a worker with the leader's resources is checked once


#: Short spellings vLLM's parser declares for flags the presets pass (vLLM's arg_utils).
SHORT = {"-tp": "--tensor-parallel-size", "-dp": "--data-parallel-size", "-dpl": "--data-parallel-size-local",
         "-dpa": "--data-parallel-address", "-dpr": "--data-parallel-rpc-port", "-pp": "--pipeline-parallel-size"}


def _flags(unit: Unit, ctx: RenderContext, key: str, path: tuple, args: list[str], ours: set[int],
           owned: dict[str, str]) -> None:
    """``--port`` and flags the preset's script passes itself (``cmp.llmisvc.preset_owned_flags``);
    ``ours`` are indexes of tokens kserve-cmp wrote."""
    for arg in flags.parse_args(args, normalize_underscores=True, repeatable=frozenset()):
        if arg.key is None or arg.index in ours:
            continue
        spelled = arg.tokens[0].split("=", 1)[0]
        canonical = SHORT.get(arg.key, "--" + arg.key.lstrip("-"))
        if arg.key in PORT_FLAGS:
            ctx.add(_at(unit, _arg_path(unit, key, arg), path + (arg.index,),
                        f"{spelled}: vLLM's port is fixed by KServe (8000; 8001 behind the prefill/decode routing "
                        "sidecar) and the workload Service, InferencePool and probes target it; remove the flag"))
        elif canonical in owned:
            field = owned[canonical]
            fix = (f"set {_md_field(unit, field)} instead" if not field.startswith("none") else
                   "remove it (" + field.removeprefix("none: ") + ")")
            ctx.add(_at(unit, _arg_path(unit, key, arg), path + (arg.index,),
                        f"{spelled} is already passed by KServe's preset launch script for {key}, so it would reach "
                        f"vLLM twice: {fix}"))


#: LLMInferenceService fields a ModelDeployment sets under another name.
MD_FIELDS = {"spec.parallelism.tensor": "multiNode.tensorParallelSize", "spec.parallelism.data": "multiNode.data",
             "spec.parallelism.dataLocal": "multiNode.dataLocal", "spec.model.name": "model.name",
             "spec.model.uri": "model.storageUri", "spec.prefill.parallelism.tensor":
             "prefill.multiNode.tensorParallelSize"}


def _md_field(unit: Unit, field: str) -> str:
    """The field to set, as the input names it (``multiNode.tensorParallelSize`` for a ModelDeployment)."""
    if unit.deployment is None:
        return field
    head, _, rest = field.partition(" ")
    named = MD_FIELDS.get(head)
    return f"{named} ({head}{' ' + rest if rest else ''})" if named else field


def _split_by_eval(unit: Unit, ctx: RenderContext, key: str, path: tuple, args: list[str],
                   composed: llmisvc.Composition) -> None:
    """The words vLLM gets from the pod's args must be the args as meant: the v0.18+ presets' bash ``eval``
    splits and unquotes them again (``cmp.llmisvc.vllm_argv`` models it)."""
    facts = unit.facts.get(FACT) or {}
    meant = (facts.get("intended") or {}).get(key)
    if meant is None or unit.deployment is None:
        meant = [_unescaped(a) for a in args]
        quoted: list[int] = []
    else:
        quoted = (facts.get("quoted") or {}).get(key, [])
        if len(meant) != len(args):
            meant = [_unescaped(a) for a in args]
            quoted = []
    if any(m is None for m in meant):
        return
    got = service_tokens(composed, key)
    if got == meant:
        return
    word = next((m for m in meant if shlex.quote(m) != m), meant[0] if meant else "")
    ctx.add(_at(unit, ("spec", "model", "args") if not key.startswith("prefill") else ("spec", "prefill", "args"),
                path, f"{key}: KServe's preset passes args through bash eval, so vLLM would receive "
                      f"{' '.join(shlex.quote(g) for g in got)!s} instead of the args as written (e.g. {word!r}); "
                      "avoid spaces, quotes and $ in args, or write them quoted for the shell"))


def _unescaped(text: str) -> str | None:
    """``text`` as KServe's template pass leaves it (raw-string actions resolved), None if it has others."""
    try:
        return resolve(text, {})
    except PlaceholderError:
        return None


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
