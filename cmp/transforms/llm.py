"""A ModelDeployment of ``spec.kind: LLMInferenceService``: the service KServe's LLM path will compose.

Everything kserve-cmp decides is written into the service itself, never into a ``baseRefs``
config, so the service layer of KServe's composition (presets, then baseRefs, then the service,
pkg/controller/v1alpha2/llmisvc/config_merge.go) always wins and nothing depends on a config the
app does not own. The model's args, env and resources go into container ``main`` (the presets'
name; another name would be added, not merged) of every pod spec that exists: ``template``,
``worker`` (data or pipeline parallelism: a LeaderWorkerSet), ``prefill.template``,
``prefill.worker``. Every ``{{`` of a user string is escaped for KServe's template pass. The
checks of the emitted object (ports, command, names, GPUs, preset-owned flags) are
:mod:`cmp.transforms.llm_checks`; ``docs/llm.md`` has the mapping and each refusal.
"""

from __future__ import annotations

import copy
import shlex

from .. import llmisvc
from ..kserve import flags
from ..kserve import uri as uris
from ..kserve.placeholders import escape_all_braces
from ..spec import fields, llm
from ..spec import pod as pod_spec
from ..spec.reader import Reader
from ..spec.llm import LLMProfile, Parallelism
from ..unit import RenderContext, Unit
from . import storage as storage_transform

NAME = "llm"
ORDER = 0
KINDS = (llm.LLM,)
SECTIONS = ("routing", "prefill")
PROFILE_SECTIONS = (llm.PROFILE_SECTION,)
FACT = "llm"
MAIN = "main"
STORAGE_INITIALIZER = "storage-initializer"
STORAGE_FIELDS = fields.STORAGE_INITIALIZER.names()
#: URI schemes the LLMInferenceService controller attaches (``attachModelArtifacts`` in
#: pkg/controller/v1alpha2/llmisvc/workload_storage.go); any other fails at reconcile.
SCHEMES = {(0, 17, 0): ("hf://", "s3://", "pvc://", "oci://"), (0, 20, 0): ("hf://", "s3://", "pvc://", "oci://",
                                                                          "oci+native://")}
#: Schemes a storage-initializer init container downloads (pvc and oci are mounted instead).
DOWNLOADED = ("hf://", "s3://")
#: The first release that merges a user's ``storage-initializer`` init container (kserve#5614);
#: earlier ones add the controller's beside it: two init containers of one name, a rejected pod.
STORAGE_MERGE = (0, 20, 0)
TENSOR_FLAG = "--tensor-parallel-size"
_PROFILE_MEMO = "llm-profile"


def apply(unit: Unit, ctx: RenderContext) -> None:
    md = unit.deployment
    if md is None or md.llm is None:
        return
    spec = unit.isvc["spec"]
    if not _uri_ok(unit, ctx):
        return
    _replicas(unit, ctx, spec, ("spec", "scaling"), md.scaling.min_replicas, md.scaling.max_replicas,
              "spec.")
    _parallelism(unit, ctx, spec, md.llm.parallelism, "spec.")
    tokens = _tokens(md.model.args)
    pods = _pods(unit, ctx, spec, md.llm.parallelism, tokens, md.model.env, md.model.resources, "spec.",
                 ("spec", "model"))
    prefill = md.llm.prefill
    if prefill is not None:
        block: dict = {}
        spec["prefill"] = block
        replicas = 1 if prefill.replicas is None else prefill.replicas
        block["replicas"] = replicas
        _record(unit, ctx, "spec.prefill.replicas", replicas, ("spec", "prefill", "replicas")
                if prefill.replicas is not None else None, "prefill replicas")
        _parallelism(unit, ctx, block, prefill.parallelism, "spec.prefill.")
        merged = flags.merge_args(tokens, prefill.args, normalize_underscores=True, repeatable=frozenset(),
                                  meta=None).args if prefill.args is not None else tokens
        env = _merge_env(md.model.env, prefill.env)
        resources = _merge_resources(md.model.resources, prefill.resources)
        pods += _pods(unit, ctx, block, prefill.parallelism, merged, env, resources, "spec.prefill.",
                      ("spec", "prefill"))
    _storage_initializer(unit, ctx, pods)
    _pod_fields(unit, ctx, pods)
    _router(unit, ctx, spec, md.llm.routing)
    facts = unit.facts.setdefault(FACT, {})
    facts["pods"] = [p for p, _ in pods]
    _tensor_flag(unit, ctx, pods)
    _fit_args_to_script(unit, ctx, pods)


# ---------------------------------------------------------------- profile


def llm_profile(ctx: RenderContext) -> LLMProfile:
    """ClusterProfile ``spec.llm``, parsed once per render (its problems reported once)."""
    if _PROFILE_MEMO not in ctx.memo:
        profile, problems = llm.parse_profile(getattr(ctx.profile, "doc", None))
        ctx.problems.extend(problems)
        ctx.memo[_PROFILE_MEMO] = profile
    return ctx.memo[_PROFILE_MEMO]


# ---------------------------------------------------------------- model


def schemes(release) -> tuple[str, ...]:
    """The model URI schemes ``release``'s LLMInferenceService controller attaches."""
    return next(found for since, found in sorted(SCHEMES.items(), reverse=True) if release.key >= since)


def _uri_ok(unit: Unit, ctx: RenderContext) -> bool:
    path = ("spec", "model", "storageUri")
    value = unit.isvc["spec"]["model"]["uri"]
    malformed = uris.problem(value)
    if malformed:
        ctx.add(unit.problem(path, malformed, rule=NAME))
        return False
    accepted = schemes(unit.kserve)
    if not value.startswith(accepted):
        later = [tag for tag, found in ((r, schemes(r)) for r in _releases()) if value.startswith(found)]
        hint = f" (first in KServe {later[0].tag}; the target release is {unit.kserve.tag})" if later else ""
        ctx.add(unit.problem(path, f"an {llm.LLM} of KServe {unit.kserve.tag} attaches only "
                                   f"{', '.join(accepted)} models{hint}; any other URI fails at reconcile "
                                   "(\"unsupported schema in model URI\")", rule=NAME))
        return False
    if value.startswith("oci://") and not unit.kserve.storage_initializer.get("enableModelcar"):
        ctx.add(unit.problem(path, "oci:// models need OCI modelcars, which this release's storageInitializer "
                                   "config leaves off (\"OCI modelcars is not enabled\")", rule=NAME))
        return False
    return True


def _releases():
    from .. import catalog

    return catalog.all_releases()


# ---------------------------------------------------------------- replicas and scaling


def _replicas(unit: Unit, ctx: RenderContext, block: dict, path: tuple, low: int | None, high: int | None,
              prefix: str) -> None:
    """``minReplicas == maxReplicas`` -> ``replicas``; a range -> ``scaling`` with WVA, if the cluster has it."""
    if high is None:
        high = 1 if low is None else low
    if low is None:
        low = min(1, high)
    source = path if unit.deployment.spec.get("scaling") is not None else None
    if low > high:
        ctx.add(unit.problem(path + ("minReplicas",), f"minReplicas {low} exceeds maxReplicas {high}", rule=NAME))
        return
    if low == high:
        block["replicas"] = low
        _record(unit, ctx, prefix + "replicas", low, source, "minReplicas = maxReplicas: fixed replicas")
        return
    profile = llm_profile(ctx)
    if profile.wva_actuator is None:
        ctx.add(unit.problem(path, f"minReplicas {low} < maxReplicas {high} needs KServe's autoscaler for LLMs, "
                                   "the Workload Variant Autoscaler (WVA), which the cluster profile does not declare "
                                   f"({profile.where()}): install it and declare it (ClusterProfile spec.llm.wva."
                                   "actuator: hpa or keda), or set minReplicas equal to maxReplicas", rule=NAME))
        return
    if low < 1:
        ctx.add(unit.problem(path + ("minReplicas",), "WVA scaling starts at minReplicas 1 (the CRD's minimum); "
                                                      "to stop the model set minReplicas = maxReplicas = 0",
                             rule=NAME))
        return
    wva = {"variantCost": profile.variant_cost or "10.0", profile.wva_actuator: {}}
    block["scaling"] = {"minReplicas": low, "maxReplicas": high, "wva": wva}
    _record(unit, ctx, prefix + "scaling", block["scaling"], source, "minReplicas < maxReplicas: WVA scaling")
    ctx.provenance.record(unit.isvc, prefix + "scaling.wva", wva, profile.where("wva"), "WVA actuator")


# ---------------------------------------------------------------- parallelism and pods


def _parallelism(unit: Unit, ctx: RenderContext, block: dict, sizes: Parallelism, prefix: str) -> None:
    out = {key: value for key, value in (("tensor", sizes.tensor), ("pipeline", sizes.pipeline),
                                         ("data", sizes.data), ("dataLocal", sizes.data_local)) if value}
    if not out:
        return
    block["parallelism"] = out
    for field, path in sizes.paths.items():
        key = {"tensorParallelSize": "tensor", "pipelineParallelSize": "pipeline"}.get(field, field)
        _record(unit, ctx, f"{prefix}parallelism.{key}", out[key], path, "parallelism")


def _tokens(args: list[str] | dict | None) -> list[str]:
    if args is None:
        return []
    if isinstance(args, dict):
        return [t for key, value in args.items() for t in flags.overlay_map_tokens(str(key), value)]
    return list(args)


def _pods(unit: Unit, ctx: RenderContext, block: dict, sizes: Parallelism, tokens: list[str], env: list[dict],
          resources: dict | None, prefix: str, source: tuple) -> list[tuple[str, dict]]:
    """``template`` (and ``worker`` when multi-node) of one workload, each with container ``main``."""
    names = ["template"] + (["worker"] if sizes.multi_node else [])
    out = []
    for name in names:
        args = list(tokens)
        # the words vLLM must receive from this pod's args (before any escaping for KServe)
        unit.facts.setdefault(FACT, {}).setdefault("intended", {})[(prefix + name).removeprefix("spec.")] = list(args)
        container: dict = {"name": MAIN}
        if args:
            container["args"] = escape_all_braces(args)
        if env:
            container["env"] = escape_all_braces(env)
        if resources:
            container["resources"] = copy.deepcopy(resources)
        pod = {"containers": [container]}
        block[name] = pod
        for key in ("args", "env", "resources"):
            if key in container:
                _record(unit, ctx, f"{prefix}{name}.containers[0].{key}", container[key], source + (key,), key)
        out.append((prefix + name, pod))
    return out


def _merge_env(base: list[dict], over: list[dict]) -> list[dict]:
    names = {e.get("name") for e in over}
    return [e for e in base if e.get("name") not in names] + list(over)


def _merge_resources(base: dict | None, over: dict | None) -> dict | None:
    if not over:
        return copy.deepcopy(base)
    out = copy.deepcopy(base) or {}
    for group, values in over.items():
        out[group] = {**(out.get(group) or {}), **values} if isinstance(values, dict) else values
    return out


def composition(unit: Unit, ctx: RenderContext) -> llmisvc.Composition:
    """The service as KServe's controller of the target release composes it (``cmp.llmisvc``), with the
    cluster's TLS setting from the profile."""
    tls = {"EnableTLS": True} if llm_profile(ctx).enable_tls else None
    namespace = (unit.isvc.get("metadata") or {}).get("namespace") or ctx.settings.namespace or None
    return llmisvc.compose(unit.isvc, unit.kserve.tag, global_config=tls, configs=app_configs(ctx, namespace))


CONFIG_KIND = "LLMInferenceServiceConfig"


def app_configs(ctx: RenderContext, namespace: str | None) -> dict[str, dict] | None:
    """The app's LLMInferenceServiceConfigs of ``namespace`` (name -> spec): a service's baseRefs, and
    configs named like a preset, which replace it (the controller looks in the service's namespace first)."""
    found = {}
    for doc in ctx.inputs:
        obj = doc.obj
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        if obj.get("kind") == CONFIG_KIND and str(obj.get("apiVersion", "")).startswith("serving.kserve.io/") \
                and (meta.get("namespace") or ctx.settings.namespace or None) == namespace \
                and isinstance(meta.get("name"), str) and isinstance(obj.get("spec"), dict):
            found[meta["name"]] = obj["spec"]
    return found or None


def _args_of(pod: dict) -> list[str]:
    return pod["containers"][0].get("args") or []


def _tensor_flag(unit: Unit, ctx: RenderContext, pods: list[tuple[str, dict]]) -> None:
    """Where the release's preset for a pod does not pass ``parallelism.tensor`` (single-node presets
    before v0.20.0, kserve#5782), kserve-cmp passes ``--tensor-parallel-size`` in the pod's args."""
    composed = None
    for key, pod in pods:
        block = unit.isvc["spec"]["prefill"] if key.startswith("spec.prefill.") else unit.isvc["spec"]
        tensor = (block.get("parallelism") or {}).get("tensor")
        if not tensor:
            continue
        composed = composed or composition(unit, ctx)
        pod_key = key.removeprefix("spec.")
        if TENSOR_FLAG in llmisvc.preset_owned_flags(composed, pod_key):
            continue
        args = pod["containers"][0].setdefault("args", [])
        args.append(f"{TENSOR_FLAG}={tensor}")
        unit.facts[FACT]["intended"][pod_key].append(args[-1])
        unit.facts[FACT].setdefault("rule_args", {}).setdefault(pod_key, []).append(len(args) - 1)
        ctx.provenance.record(unit.isvc, f"{key}.containers[0].args[{len(args) - 1}]", args[-1],
                              unit.where(_tensor_path(unit, key)),
                              f"tensorParallelSize: KServe {unit.kserve.tag}'s preset for {pod_key} does not pass "
                              "parallelism.tensor to vLLM (kserve#5782, fixed in v0.20.0 for single-node pods)")


def _tensor_path(unit: Unit, key: str) -> tuple:
    llm_spec = unit.deployment.llm
    sizes = llm_spec.prefill.parallelism if key.startswith("spec.prefill.") else llm_spec.parallelism
    return sizes.paths["tensorParallelSize"]


def service_tokens(composed: llmisvc.Composition, pod: str) -> list[str]:
    """The words of vLLM's command line that come from the pod's own args."""
    return [token for token, source in llmisvc.vllm_argv(composed, pod) if source == "service"]


def _fit_args_to_script(unit: Unit, ctx: RenderContext, pods: list[tuple[str, dict]]) -> None:
    """From v0.18 the presets pass args through bash ``eval`` (``eval "exec vllm serve ... $@"``), which
    splits and unquotes them again: an argument with spaces, quotes or ``$`` would reach vLLM in pieces.
    Where the composed command line shows that, each such argument is shell-quoted once, so that ``eval``
    gives vLLM the argument as written; the composition is checked again afterwards."""
    composed = composition(unit, ctx)
    intended = unit.facts[FACT]["intended"]
    for key, pod in pods:
        pod_key = key.removeprefix("spec.")
        if service_tokens(composed, pod_key) == intended[pod_key]:
            continue
        args = _args_of(pod)
        quoted = [i for i, arg in enumerate(intended[pod_key]) if shlex.quote(arg) != arg]
        before = list(args)
        for i in quoted:
            args[i] = escape_all_braces(shlex.quote(intended[pod_key][i]))
        if service_tokens(composition(unit, ctx), pod_key) != intended[pod_key]:
            args[:] = before        # quoting does not help: llm_checks reports the split
            continue
        unit.facts[FACT].setdefault("quoted", {})[pod_key] = quoted
        for i in quoted:
            ctx.provenance.record(unit.isvc, f"{key}.containers[0].args[{i}]", args[i], "kserve-cmp",
                                  "quoted once for the preset's bash eval, which unquotes it: vLLM gets it as written")


# ---------------------------------------------------------------- storage initializer


def _storage_initializer(unit: Unit, ctx: RenderContext, pods: list[tuple[str, dict]]) -> None:
    """``spec.storageInitializer`` -> ``initContainers[name=storage-initializer]`` of every pod spec, which
    KServe merges over its own from v0.20.0 (``attachStorageInitializer``, workload_storage.go). Never a
    ClusterStorageContainer: the LLM controller does not read them."""
    path = ("spec", storage_transform.SECTION)
    if unit.deployment.spec.get(storage_transform.SECTION) is None:
        return
    if unit.kserve.key < STORAGE_MERGE:
        ctx.add(unit.problem(path, f"KServe {unit.kserve.tag} cannot take a per-model storage initializer for an "
                                   f"{llm.LLM}: it adds its own init container beside this one (two named "
                                   "storage-initializer: the pod is rejected), and it ignores ClusterStorageContainers;"
                                   " remove spec.storageInitializer, or target KServe v0.20.0 or later", rule=NAME))
        return
    uri = unit.isvc["spec"]["model"]["uri"]
    if not uri.startswith(DOWNLOADED):
        ctx.add(unit.problem(path, f"no storage initializer runs for {uri.split('://')[0]}:// models (KServe mounts "
                                   "them): remove spec.storageInitializer", rule=NAME))
        return
    settings, problems = storage_transform.parse_settings(unit.source, path, STORAGE_FIELDS)
    ctx.problems.extend(problems)
    if settings is None:
        return
    if settings.image and (why := storage_transform.image_problem(settings.image)):
        ctx.add(unit.problem(path + ("image",), why, rule=NAME))
        return
    init: dict = {"name": STORAGE_INITIALIZER}
    if settings.image:
        init["image"] = settings.image
    if settings.resources:
        init["resources"] = copy.deepcopy(settings.resources)
    if settings.security_context:
        init["securityContext"] = copy.deepcopy(settings.security_context)
    for prefix, pod in pods:
        pod["initContainers"] = [copy.deepcopy(init)]
        _record(unit, ctx, f"{prefix}.initContainers[0]", init, path, "storage initializer")
        if settings.image_pull_secrets:
            pod["imagePullSecrets"] = [{"name": n} for n in settings.image_pull_secrets]
            _record(unit, ctx, f"{prefix}.imagePullSecrets", pod["imagePullSecrets"], path + ("imagePullSecrets",),
                    "storage initializer")


# ---------------------------------------------------------------- spec.pod


def _pod_fields(unit: Unit, ctx: RenderContext, pods: list[tuple[str, dict]]) -> None:
    """``spec.pod`` (service account, node selection, tolerations, affinity, priority class, pull secrets) into
    every pod spec; its labels and annotations into each workload's ``labels``/``annotations``, which KServe
    puts on the pods. No Knative here, so no feature flag limits them."""
    path = ("spec", "pod")
    value = unit.deployment.spec.get("pod")
    if value is None:
        return
    r = Reader(unit.source)
    found = pod_spec.read_pod(r, path, value, mode="Standard")
    ctx.problems.extend(r.problems)
    if r.problems or not found:
        return
    for key, pod in pods:
        for name, item in found.spec.items():
            if name == "imagePullSecrets":   # the storage initializer's may be there: one list, no name twice
                current = pod.get(name) or []
                item = current + [s for s in item if s["name"] not in {c["name"] for c in current}]
            pod[name] = copy.deepcopy(item)
            _record(unit, ctx, f"{key}.{name}", pod[name], path + (name,), "spec.pod")
    spec = unit.isvc["spec"]
    for prefix, block in (("spec.", spec), ("spec.prefill.", spec.get("prefill"))):
        for name in pod_spec.META_FIELDS:
            values = getattr(found, name)
            if values and isinstance(block, dict):
                block[name] = dict(values)
                _record(unit, ctx, f"{prefix}{name}", block[name], path + (name,), "spec.pod")


# ---------------------------------------------------------------- routing


def _router(unit: Unit, ctx: RenderContext, spec: dict, routing: llm.Routing | None) -> None:
    """``routing`` -> ``router``: a managed HTTPRoute under the given Gateways (``{}``: the cluster's
    ingress gateway), and the scheduler (EPP + InferencePool). No section: no router, the model is
    reachable through its workload Service only."""
    if routing is None:
        return
    path = ("spec", "routing")
    router: dict = {}
    if routing.route:
        router["route"] = {}
        router["gateway"] = {"refs": copy.deepcopy(routing.gateways)} if routing.gateways else {}
    if routing.scheduler:
        router["scheduler"] = {}
    spec["router"] = router
    _record(unit, ctx, "spec.router", router, path, "routing")


def _record(unit: Unit, ctx: RenderContext, path: str, value, source: tuple | None, rule: str) -> None:
    ctx.provenance.record(unit.isvc, path, value, unit.where(source) if source else "kserve-cmp default", rule)
