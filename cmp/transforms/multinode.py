"""Multi-node models and launch scripts: ``spec.multiNode``, KServe's multi-node rules, ``"$@"``.

* ``spec.multiNode`` (``tensorParallelSize``, ``pipelineParallelSize``, worker ``resources`` and
  ``env``) renders ``spec.predictor.workerSpec`` on a runtime that has one, deployment mode
  ``Standard`` and ``serving.kserve.io/autoscalerClass: none``. What KServe's webhook would refuse
  is an error here: storage other than ``pvc://``/``oci://``, ``TENSOR_PARALLEL_SIZE`` or
  ``PIPELINE_PARALLEL_SIZE`` env, a ``command`` on the predictor (it would replace the launch
  script), another deployment mode or autoscaler class.
* A runtime whose server starts from ``bash -c``/``sh -c`` gets a derived runtime whose script
  forwards a quoted ``"$@"`` with a fixed ``$0`` (:mod:`cmp.kserve.script`) and whose args are the
  whole effective list (the args transform's merge), so every arg reaches the server intact.
  Raw InferenceServices with a ``workerSpec`` get the same for a runtime from the inputs.
* Flags the launch script passes itself are never passed twice: ``--tensor-parallel-size`` and
  ``--pipeline-parallel-size`` in a ModelDeployment's args move to the workerSpec (a value that
  contradicts ``spec.multiNode`` is an error); any other (``--model_dir``) is an error, as are
  all of them in a raw InferenceService's args.
* ``spec.patches`` run last: the InferenceService they leave must still pass KServe's multi-node
  rules, each violation an error at the patch that causes it.
* ``unit.facts["multinode"]``: sizes, Ray nodes and GPUs per head/worker as KServe computes them.

``docs/multinode.md`` explains the choices.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from ..lazydataclass import dataclass
from ..derive import ensure_derived_runtime, runtime_container
from ..expand import auto_select, lookup_runtime
from ..kserve import flags
from ..kserve import script as sh
from ..kserve.merge import merge_runtime_container
from ..spec.deployment import env_entry_as_map
from ..spec.fields import ENV_VAR, MULTI_NODE, PARALLEL_ENV
from ..spec.reader import Reader, type_name
from ..unit import RenderContext, Unit

NAME = "multinode"
ORDER = 10
SECTIONS = (MULTI_NODE.name,)
FACT = "multinode"
#: Where the args transform describes the args it wrote (read to keep explain's sources aligned).
ARGS_FACT = "predictor_args"

SECTION = MULTI_NODE.name
FIELDS = MULTI_NODE.names()
RESOURCE_FIELDS = MULTI_NODE["resources"].names()
WORKER_CONTAINER = "worker-container"
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"
STANDARD = "Standard"
STANDARD_NAMES = ("Standard", "RawDeployment")
NO_AUTOSCALER = "none"
STORAGE_SCHEMES = ("pvc", "oci")
#: Flags (canonical, ``_`` read as ``-``) that carry a workerSpec field.
PARALLEL_FLAGS = {"tensor-parallel-size": "tensorParallelSize", "-tp": "tensorParallelSize",
                  "pipeline-parallel-size": "pipelineParallelSize", "-pp": "pipelineParallelSize"}
SIZE_FIELDS = ("tensorParallelSize", "pipelineParallelSize")

_MD_ARGS = ("spec", "model", "args")
_ISVC_MODEL = ("spec", "predictor", "model")
_SPLIT_CHARS = frozenset(" \t\n'\"*?[]{}")
_COMMAND_PATHS = ("/spec/predictor/model/command", "/spec/predictor/workerSpec/containers")


@dataclass
class Sizes:
    """Parallel sizes and where each was decided (input path, or a description)."""

    values: dict[str, int] = dataclasses.field(default_factory=dict)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)


def apply(unit: Unit, ctx: RenderContext) -> None:
    """Multi-node rules and launch-script normalisation for one model."""
    if unit.deployment is not None:
        _deployment(unit, ctx)
    elif isinstance(_raw_predictor(unit).get("workerSpec"), dict):
        _raw(unit, ctx)


def _raw_predictor(unit: Unit) -> dict:
    """A raw InferenceService's predictor, or {} when it has none (the schema check reports that)."""
    spec = unit.isvc.get("spec")
    predictor = spec.get("predictor") if isinstance(spec, dict) else None
    return predictor if isinstance(predictor, dict) else {}


# --- ModelDeployment ------------------------------------------------------------------------------

def _deployment(unit: Unit, ctx: RenderContext) -> None:
    md = unit.deployment
    base = unit.base_runtime
    if base is None:
        return
    section = md.spec.get(SECTION)
    if section is None:
        if _worker_spec(base) is not None:
            ctx.add(md.problem(("spec", "runtime"), f"runtime {_name(base)} is a multi-node runtime (it has a "
                                                    f"workerSpec): add spec.{SECTION}", rule=NAME))
            return
        _launch(unit, ctx, None)
        return
    sizes = _parse_section(unit, ctx, section)
    if sizes is None:
        return
    if _worker_spec(base) is None:
        ctx.add(md.problem(("spec", SECTION), f"runtime {_name(base)} has no workerSpec: spec.{SECTION} needs a "
                                              "multi-node runtime such as kserve-huggingfaceserver-multinode",
                           rule=NAME))
        return
    errors = len(ctx.problems.errors)
    _deployment_rules(unit, ctx)
    if not _launch(unit, ctx, sizes) or len(ctx.problems.errors) > errors:
        return
    _write_worker_spec(unit, ctx, sizes, section)
    _check_patches(unit, ctx)
    _facts(unit, ctx, sizes)


def _parse_section(unit: Unit, ctx: RenderContext, section: Any) -> Sizes | None:
    """The sizes set in ``spec.multiNode`` (its worker fields are checked too); None on errors."""
    r = Reader(unit.source)
    path = ("spec", SECTION)
    block = r.mapping(path, section, FIELDS)
    sizes = Sizes()
    for name in SIZE_FIELDS:
        value = r.scalar(path + (name,), block.get(name), MULTI_NODE[name])
        if value is not None:
            sizes.values[name] = value
            sizes.sources[name] = unit.where(path + (name,))
    _check_worker_env(r, path + ("env",), block.get("env"))
    _check_resources(r, path + ("resources",), block.get("resources"))
    ctx.problems.extend(r.problems)
    return None if any(p.level == "error" for p in r.problems) else sizes


def _check_worker_env(r: Reader, path: tuple, value: Any) -> None:
    """Worker env: a name->value mapping or an EnvVar list, no parallel sizes, no placeholders."""
    if value is None or env_entry_as_map(r, path, value):
        return
    if isinstance(value, dict):
        items = [(path + (k,), str(k), v) for k, v in value.items()]
        for item_path, _, v in items:
            r.string(item_path, v)
    elif isinstance(value, list):
        items = []
        for i, e in enumerate(value):
            e = r.mapping(path + (i,), e, ENV_VAR.names(), required=ENV_VAR.required_names())
            items.append((path + (i,), str(e.get("name")), e.get("value")))
    else:
        r.error(path, f"expected a mapping of name to value or a list of EnvVar, got {type_name(value)}")
        return
    for item_path, name, v in items:
        if name in PARALLEL_ENV:
            r.error(item_path, f"{name} is set by KServe from the parallel sizes; use spec.{SECTION} fields")
        if isinstance(v, str) and "{{" in v:
            r.error(item_path, "KServe does not fill {{ }} placeholders in worker containers")


def _check_resources(r: Reader, path: tuple, value: Any) -> None:
    """Worker resources: limits/requests mappings of quantities."""
    if value is None:
        return
    res = r.mapping(path, value, RESOURCE_FIELDS)
    for part in ("limits", "requests"):
        group = res.get(part)
        if group is not None and not isinstance(group, dict):
            r.error(path + (part,), f"expected a mapping of resource to quantity, got {type_name(group)}")
            continue
        for key, qty in (group or {}).items():
            if isinstance(qty, bool) or not isinstance(qty, (str, int, float)):
                r.error(path + (part, key), f"expected a quantity, got {type_name(qty)}")


def _deployment_rules(unit: Unit, ctx: RenderContext) -> None:
    """Mode, autoscaler class, storage, env and command rules for a multi-node ModelDeployment."""
    md = unit.deployment
    if md.deployment_mode not in (None, STANDARD):
        ctx.add(md.problem(("spec", "deploymentMode"), f"multi-node models run only in {STANDARD} mode (KServe "
                                                       f"creates no workers in {md.deployment_mode} mode)",
                           rule=NAME))
    _set_annotation(unit, ctx, MODE_ANNOTATION, STANDARD, "multi-node models run only in Standard mode")
    chosen = md.annotations.get(CLASS_ANNOTATION)
    if chosen not in (None, NO_AUTOSCALER):
        ctx.add(md.problem(("metadata", "annotations", CLASS_ANNOTATION),
                           f"multi-node models need {CLASS_ANNOTATION}: {NO_AUTOSCALER} (KServe's webhook refuses "
                           f"{chosen!r})", rule=NAME))
    _set_annotation(unit, ctx, CLASS_ANNOTATION, NO_AUTOSCALER, "KServe requires it for multi-node models")
    _check_storage(unit, ctx, md.model.storage_uri, ("spec", "model", "storageUri"))
    for i, env in enumerate(md.model.env):
        if env.get("name") in PARALLEL_ENV:
            ctx.add(md.problem(_env_path(md, i, env["name"]), f"{env['name']} is set by KServe from the "
                                                              f"parallel sizes; use spec.{SECTION}", rule=NAME))
    for i, op in enumerate(md.patches):
        if str(op.get("path", "")).startswith(_COMMAND_PATHS):
            ctx.add(md.problem(("spec", "patches", i), f"a patch of {op.get('path')} on a multi-node model would "
                                                       "replace the runtime's launch script or add worker "
                                                       "containers; patch the runtime (runtimePatches) instead",
                               rule=NAME))


def _check_patches(unit: Unit, ctx: RenderContext) -> None:
    """KServe's multi-node rules on the InferenceService as ``spec.patches`` (applied last) leave it.

    The patches are applied one by one to a copy; a violation first seen after patch ``i`` is an
    error at ``spec.patches[i]``. A patch that fails is left to the patches transform to report.
    """
    import jsonpatch  # only renders that use patches pay for the import

    md = unit.deployment
    doc: Any = copy.deepcopy(unit.isvc)
    seen = {message for _, message in violations(doc)}
    for i, op in enumerate(md.patches):
        if str(op.get("path", "")).startswith(_COMMAND_PATHS):
            return  # refused by _deployment_rules
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
            return
        for _, message in violations(doc):
            if message not in seen:
                seen.add(message)
                ctx.add(md.problem(("spec", "patches", i), f"after this patch: {message}", rule=NAME))


def violations(isvc: Any) -> list[tuple[tuple, str]]:
    """(path, why) for each rule of KServe's multi-node webhook a multi-node InferenceService breaks.

    A missing mode or autoscaler-class annotation counts: without it KServe uses the cluster's default.
    """
    meta = isvc.get("metadata") if isinstance(isvc, dict) else None
    annotations = (meta.get("annotations") if isinstance(meta, dict) else None) or {}
    spec = isvc.get("spec") if isinstance(isvc, dict) else None
    predictor = (spec.get("predictor") if isinstance(spec, dict) else None) or {}
    model = predictor.get("model") if isinstance(predictor.get("model"), dict) else {}
    worker = predictor.get("workerSpec") if isinstance(predictor.get("workerSpec"), dict) else {}
    found: list[tuple[tuple, str]] = []
    mode, cls = annotations.get(MODE_ANNOTATION), annotations.get(CLASS_ANNOTATION)
    if mode not in STANDARD_NAMES:
        why = f"KServe creates no workers in {mode} mode" if mode is not None else \
            f"without {MODE_ANNOTATION} KServe uses the cluster's default"
        found.append((("metadata", "annotations", MODE_ANNOTATION),
                      f"multi-node models run only in {STANDARD} mode ({why})"))
    if cls != NO_AUTOSCALER:
        found.append((("metadata", "annotations", CLASS_ANNOTATION),
                      f"multi-node models need {CLASS_ANNOTATION}: {NO_AUTOSCALER} (KServe's webhook refuses "
                      f"{cls!r})"))
    storage = _storage_problem(model.get("storageUri"))
    if storage:
        found.append((_ISVC_MODEL + ("storageUri",), storage))
    for i, env in enumerate(model.get("env") if isinstance(model.get("env"), list) else []):
        if isinstance(env, dict) and env.get("name") in PARALLEL_ENV:
            found.append((_ISVC_MODEL + ("env", i), f"{env['name']} is set by KServe from workerSpec; set the "
                                                    "size there"))
    if model.get("command"):
        found.append((_ISVC_MODEL + ("command",), "a command on a multi-node predictor replaces the runtime's "
                                                  "launch script (ray head, health check, server); remove it"))
    containers = worker.get("containers")
    if isinstance(containers, list) and len(containers) > 1:
        found.append((("spec", "predictor", "workerSpec", "containers"), "KServe allows at most one worker "
                                                                          "container"))
    for name in SIZE_FIELDS:
        value = worker.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            found.append((("spec", "predictor", "workerSpec", name),
                          f"workerSpec.{name} must be a whole number >= 1 (KServe's webhook refuses {value!r})"))
    return found


def _env_path(md: Any, index: int, name: str) -> tuple:
    """Path of one ``spec.model.env`` entry as written (mapping key or list index)."""
    written = (md.spec.get("model") or {}).get("env")
    return ("spec", "model", "env", name if isinstance(written, dict) else index)


def _write_worker_spec(unit: Unit, ctx: RenderContext, sizes: Sizes, section: dict) -> None:
    """``spec.predictor.workerSpec``: both sizes explicit, a worker container when asked for."""
    base_worker = _worker_spec(unit.base_runtime) or {}
    worker: dict = {}
    for name in SIZE_FIELDS:
        if name not in sizes.values:
            sizes.values[name] = base_worker.get(name) or 1
            sizes.sources[name] = (f"runtime {_name(unit.base_runtime)} workerSpec" if base_worker.get(name)
                                   else "KServe default")
        worker[name] = sizes.values[name]
        ctx.provenance.record(unit.isvc, f"spec.predictor.workerSpec.{name}", worker[name], sizes.sources[name],
                              NAME)
    container: dict = {}
    if section.get("env"):
        env = section["env"]
        container["env"] = ([{"name": str(k), "value": v} for k, v in env.items()] if isinstance(env, dict)
                            else [dict(e) for e in env])
    if section.get("resources"):
        container["resources"] = dict(section["resources"])
    if container:
        worker["containers"] = [{"name": WORKER_CONTAINER, **container}]
        ctx.provenance.record(unit.isvc, "spec.predictor.workerSpec.containers[0]", worker["containers"][0],
                              unit.where(("spec", SECTION)), NAME)
    unit.predictor["workerSpec"] = worker


# --- raw InferenceService -------------------------------------------------------------------------

def _raw(unit: Unit, ctx: RenderContext) -> None:
    """KServe's multi-node rules on a raw InferenceService; its launch script fixed when we own the runtime."""
    errors = len(ctx.problems.errors)
    _raw_rules(unit, ctx)
    if unit.runtime is None:
        base, found_in = _raw_runtime(unit, ctx)
        if base is None:
            return
        unit.base_runtime, unit.base_from = base, found_in
    if _worker_spec(unit.base_runtime) is None:
        ctx.add(unit.problem(("spec", "predictor", "workerSpec"), f"runtime {_name(unit.base_runtime)} has no "
                                                                  "workerSpec: KServe cannot start workers",
                             rule=NAME))
        return
    owned = unit.runtime is not None or unit.base_from == "inputs"
    launched = _launch(unit, ctx, None) if owned else True
    if not (_raw_args_clean(unit, ctx) and launched) or len(ctx.problems.errors) > errors:
        return
    given = unit.predictor["workerSpec"]
    sizes = Sizes({n: v for n in SIZE_FIELDS if isinstance(v := given.get(n), int)},
                  {n: unit.where(("spec", "predictor", "workerSpec", n)) for n in SIZE_FIELDS if n in given})
    base_worker = _worker_spec(unit.base_runtime) or {}
    for name in SIZE_FIELDS:
        if name not in sizes.values:
            sizes.values[name] = base_worker.get(name) or 1
            sizes.sources[name] = f"runtime {_name(unit.base_runtime)} workerSpec" if base_worker.get(name) \
                else "KServe default"
    _facts(unit, ctx, sizes)


def _raw_rules(unit: Unit, ctx: RenderContext) -> None:
    """The webhook's multi-node checks, after filling in the two annotations when missing."""
    annotations = unit.isvc.setdefault("metadata", {}).setdefault("annotations", {})
    if annotations.get(MODE_ANNOTATION) is None:
        _set_annotation(unit, ctx, MODE_ANNOTATION, STANDARD, "multi-node models run only in Standard mode")
    if annotations.get(CLASS_ANNOTATION) is None:
        _set_annotation(unit, ctx, CLASS_ANNOTATION, NO_AUTOSCALER, "KServe requires it for multi-node models")
    for path, message in violations(unit.isvc):
        ctx.add(unit.problem(path, message, rule=NAME))


def _raw_runtime(unit: Unit, ctx: RenderContext) -> tuple[dict | None, str]:
    """(runtime, "inputs" | "catalog") the raw InferenceService runs on, or (None, "")."""
    namespace = unit.namespace or ctx.settings.namespace or None
    model = unit.predictor.get("model") or {}
    if model.get("runtime"):
        return lookup_runtime(str(model["runtime"]), namespace, ctx)
    if not (model.get("modelFormat") or {}).get("name"):
        return None, ""
    return auto_select(unit.isvc, namespace, ctx)


def _raw_args_clean(unit: Unit, ctx: RenderContext) -> bool:
    """Refuse InferenceService args that repeat a flag the runtime's launch script passes."""
    args = (unit.predictor.get("model") or {}).get("args") or []
    container = runtime_container(unit.runtime or unit.base_runtime) or {}
    launch = sh.find_launch(container)
    if not args or launch is None:
        return True
    rules = flags.flag_rules_for(unit.base_runtime)
    owned = _script_keys(launch.script, rules)
    clean = True
    for arg in _parse(args, rules):
        if arg.key in owned:
            clean = False
            ctx.add(unit.problem(_ISVC_MODEL + ("args", arg.index), _owned_message(arg, unit), rule=NAME))
    if clean and not (unit.runtime is not None or unit.base_from == "inputs"):
        _warn_split(unit, ctx, launch, args)
    return clean


def _warn_split(unit: Unit, ctx: RenderContext, launch: sh.Launch, args: list[str]) -> None:
    """An installed runtime forwarding args unquoted splits those with spaces, quotes or globs."""
    if launch.forwarding.quoted:
        return
    for i, arg in enumerate(args):
        if any(c in arg for c in _SPLIT_CHARS):
            ctx.add(unit.problem(_ISVC_MODEL + ("args", i), f"runtime {_name(unit.base_runtime)} forwards args "
                                                            f"unquoted: {arg!r} reaches the server split or "
                                                            "globbed; add the runtime to the inputs so kserve-cmp "
                                                            "can fix its script", rule=NAME, level="warning"))


# --- launch scripts and flags ---------------------------------------------------------------------

def _launch(unit: Unit, ctx: RenderContext, sizes: Sizes | None) -> bool:
    """Normalise the runtime's launch script, moving or refusing flags it passes itself.

    ``sizes`` (multi-node only) receives ``--tensor-parallel-size``/``--pipeline-parallel-size``
    values found in the args. False when a problem was reported.
    """
    runtime = unit.runtime or unit.base_runtime
    container = runtime_container(runtime) or {}
    launch = sh.find_launch(container)
    if launch is None:
        return sizes is None or _take_sizes(unit, ctx, container.get("args") or [], sizes, frozenset())
    if not launch.server_args() and not (unit.predictor.get("model") or {}).get("args"):
        return True   # nothing to hand to the server: the script stays as it is
    rules = flags.flag_rules_for(unit.base_runtime)
    try:
        normal = sh.normalise(launch)
    except sh.ScriptError as exc:
        ctx.add(unit.problem(_runtime_path(unit), f"runtime {_name(unit.base_runtime)}: {exc}", rule=NAME))
        return False
    owned = _script_keys(normal.command[-2], rules)
    args = list(normal.args)
    if not _take_sizes(unit, ctx, args, sizes, owned):
        return False
    kept = [t for a in _parse(args, rules) if not (a.key in owned and _parallel(a.key)) for t in a.tokens]
    if not normal.changed and kept == list(container.get("args") or []):
        return True
    _write_launch(unit, ctx, normal, kept)
    return True


def _take_sizes(unit: Unit, ctx: RenderContext, args: list[str], sizes: Sizes | None,
                owned: frozenset[str]) -> bool:
    """Read parallel-size flags into ``sizes``; refuse other script-owned flags. False on problems."""
    rules = flags.flag_rules_for(unit.base_runtime)
    ok = True
    for arg in _parse(args, rules):
        field = PARALLEL_FLAGS.get(_parallel(arg.key) or "") if sizes is not None else None
        if field is not None:
            ok = _take_size(unit, ctx, arg, field, sizes) and ok
        elif arg.key in owned:
            ok = False
            ctx.add(unit.problem(_arg_path(unit, arg), _owned_message(arg, unit), rule=NAME))
    return ok


def _take_size(unit: Unit, ctx: RenderContext, arg: flags.Arg, field: str, sizes: Sizes) -> bool:
    """One parallel-size flag: its value for the workerSpec, unless it contradicts spec.multiNode."""
    path = _arg_path(unit, arg)
    flag = arg.tokens[0].partition("=")[0]
    value = arg.value
    if value is None or not value.isdigit() or int(value) < 1:
        ctx.add(unit.problem(path, f"{flag} needs a whole number >= 1, got {value!r}", rule=NAME))
        return False
    if field in sizes.values and sizes.values[field] != int(value):
        ctx.add(unit.problem(path, f"{flag}={value} contradicts spec.{SECTION}.{field}: {sizes.values[field]} "
                                   f"({sizes.sources[field]}); set it in one place", rule=NAME))
        return False
    if field not in sizes.values:
        sizes.values[field] = int(value)
        sizes.sources[field] = unit.where(path)
    return True


def _write_launch(unit: Unit, ctx: RenderContext, normal: sh.Normalised, args: list[str]) -> None:
    """Put the normalised command and the args into the derived runtime (created if needed)."""
    derived = ensure_derived_runtime(unit, ctx, NAME)
    index, container = next((i, c) for i, c in enumerate(derived["spec"]["containers"])
                            if c.get("name") == "kserve-container")
    before = list(container.get("args") or [])
    container["command"] = normal.command
    where = f"runtime {_name(unit.base_runtime)}"
    ctx.provenance.record(derived, f"spec.containers[{index}].command", normal.command, where,
                          f'launch script forwards "$@" with $0 fixed to {sh.LAUNCH_NAME}')
    if args != before:
        container["args"] = args
        ctx.provenance.record(derived, f"spec.containers[{index}].args", args, where,
                              "every arg after the script goes to the server")
        _realign_args_fact(unit, before, args)
    shipped = sh.find_launch(runtime_container(unit.base_runtime) or {})
    dropped = shipped.dropped() if shipped is not None else []
    if dropped:
        ctx.add(unit.problem(_runtime_path(unit), f"runtime {_name(unit.base_runtime)}'s launch script never "
                                                  f"passed {', '.join(map(repr, dropped))} to the server; the "
                                                  "derived runtime does", rule=NAME, level="warning"))


def _realign_args_fact(unit: Unit, before: list[str], after: list[str]) -> None:
    """Keep the args transform's per-token sources in step when tokens were dropped or moved."""
    fact = unit.facts.get(ARGS_FACT)
    if fact is None or not dataclasses.is_dataclass(fact) or list(getattr(fact, "tokens", ())) != before:
        return
    by_token: dict[str, list] = {}
    for source in fact.sources:
        by_token.setdefault(source.arg, []).append(source)
    sources = tuple(by_token[t].pop(0) for t in after if by_token.get(t))
    if len(sources) == len(after):
        unit.facts[ARGS_FACT] = dataclasses.replace(fact, tokens=tuple(after), sources=sources)


def _script_keys(script: str, rules: flags.FlagRules) -> frozenset[str]:
    """Canonical keys of the flags a launch script passes itself."""
    return frozenset(flags.canonical_key(f, normalize_underscores=rules.normalize_underscores)
                     for f in sh.launch_flags(script))


def _parse(args: list[str], rules: flags.FlagRules) -> list[flags.Arg]:
    return flags.parse_args(list(args), normalize_underscores=rules.normalize_underscores,
                            repeatable=rules.repeatable)


def _parallel(key: str | None) -> str | None:
    """The parallel-size flag a key names (``_`` read as ``-``), or None."""
    canonical = (key or "").replace("_", "-")
    return canonical if canonical in PARALLEL_FLAGS else None


def _owned_message(arg: flags.Arg, unit: Unit) -> str:
    """Why a flag may not be passed: the script passes it, and where to set it instead."""
    flag = arg.tokens[0].partition("=")[0]
    field = PARALLEL_FLAGS.get(_parallel(arg.key) or "")
    if field:
        place = f"spec.{SECTION}" if unit.deployment is not None else "spec.predictor.workerSpec"
        hint = f"; set {place}.{field} instead"
    elif "model" in (arg.key or ""):
        hint = "; it comes from the storage URI, remove it"
    else:
        hint = "; remove it"
    return f"the launch script of runtime {_name(unit.base_runtime)} already passes {flag}{hint}"


def _arg_path(unit: Unit, arg: flags.Arg) -> tuple:
    """Where a flag of the effective args was written: the input item setting it, else the runtime."""
    if unit.deployment is not None:
        base, written = _MD_ARGS, unit.deployment.model.args
    else:
        base = _ISVC_MODEL + ("args",)
        written = (((unit.source.obj.get("spec") or {}).get("predictor") or {}).get("model") or {}).get("args")
    wanted = _loose(arg.key)
    if isinstance(written, dict):
        keys = [k for k in written if _loose(_key_of(str(k))) == wanted]
        return base + (keys[0],) if keys else _runtime_path(unit)
    if isinstance(written, list):
        hits = [i for i, t in enumerate(written) if isinstance(t, str) and _loose(_key_of(t)) == wanted]
        return base + (hits[0],) if hits else _runtime_path(unit)
    return _runtime_path(unit)


def _key_of(token: str) -> str | None:
    """The key of one written token (mapping keys may omit the dashes)."""
    text = token if token.startswith("-") else f"--{token}"
    return flags.parse_args([text.partition("=")[0]], normalize_underscores=True, repeatable=frozenset())[0].key


def _loose(key: str | None) -> str:
    """A key compared without caring for ``_`` versus ``-``."""
    return (key or "").replace("_", "-")


def _runtime_path(unit: Unit) -> tuple:
    if unit.deployment is not None:
        return ("spec", "runtime")
    return _ISVC_MODEL + ("runtime",)


# --- shared ---------------------------------------------------------------------------------------

def _check_storage(unit: Unit, ctx: RenderContext, uri: Any, path: tuple) -> None:
    problem = _storage_problem(uri)
    if problem:
        ctx.add(unit.problem(path, problem, rule=NAME))


def _storage_problem(uri: Any) -> str | None:
    """Why KServe refuses ``uri`` as a multi-node model's storage, or None when it accepts it."""
    scheme = uri.partition("://")[0] if isinstance(uri, str) and "://" in uri else None
    if scheme in STORAGE_SCHEMES:
        return None
    shown = repr(uri) if uri else "none"
    return (f"multi-node models load from pvc:// or oci:// storage only (KServe's webhook refuses {shown}): "
            "every node must see the same files")


def _set_annotation(unit: Unit, ctx: RenderContext, key: str, value: str, rule: str) -> None:
    annotations = unit.isvc.setdefault("metadata", {}).setdefault("annotations", {})
    if annotations.get(key) != value:
        annotations[key] = value
        ctx.provenance.record(unit.isvc, f"metadata.annotations.{key}", value, "kserve-cmp rule", f"{NAME}: {rule}")


def _facts(unit: Unit, ctx: RenderContext, sizes: Sizes) -> None:
    """Nodes and GPUs per head/worker as KServe computes them, for explain."""
    runtime = unit.runtime or unit.base_runtime
    head = merge_runtime_container(runtime_container(runtime) or {}, unit.predictor.get("model") or {})
    worker_spec = unit.predictor.get("workerSpec") or {}
    worker = merge_runtime_container(_runtime_worker(runtime), (worker_spec.get("containers") or [{}])[0])
    try:
        head_type, head_gpus = sh.gpu_request(head.get("resources"))
        worker_type, worker_gpus = sh.gpu_request(worker.get("resources"))
        plan = sh.plan_gpus(sizes.values["tensorParallelSize"], sizes.values["pipelineParallelSize"],
                            head_gpus, worker_gpus, sh.executor_backend(runtime))
    except sh.GpuError as exc:
        ctx.add(unit.problem(("spec", SECTION) if unit.deployment else ("spec", "predictor", "workerSpec"),
                             str(exc), rule=NAME))
        return
    _warn_limits_only(unit, ctx, head, worker)
    unit.facts[FACT] = {
        "tensorParallelSize": plan.tensor_parallel, "pipelineParallelSize": plan.pipeline_parallel,
        "executorBackend": plan.backend, "gpuResource": head_type or worker_type or sh.GPU_RESOURCES[0],
        "totalGpus": plan.total_gpus, "nodes": plan.nodes, "workers": plan.workers,
        "headGpus": plan.head_gpus, "workerGpus": plan.worker_gpus,
        "sources": dict(sorted(sizes.sources.items())),
        "note": "KServe sets the GPU requests and limits of the head and worker pods to these counts",
    }


def _warn_limits_only(unit: Unit, ctx: RenderContext, head: dict, worker: dict) -> None:
    """A GPU only in limits is invisible to KServe's node arithmetic (it reads requests)."""
    for who, container in (("head", head), ("worker", worker)):
        resources = container.get("resources") or {}
        limited = sorted(set(resources.get("limits") or {}) & set(sh.GPU_RESOURCES))
        if limited and not set(resources.get("requests") or {}) & set(sh.GPU_RESOURCES):
            ctx.add(unit.problem(("spec", SECTION) if unit.deployment else ("spec", "predictor", "workerSpec"),
                                 f"the {who} sets {limited[0]} in limits only; KServe plans nodes from GPU "
                                 "requests, so it counts 0: add the same request", rule=NAME, level="warning"))


def _runtime_worker(runtime: dict) -> dict:
    for container in (_worker_spec(runtime) or {}).get("containers") or []:
        if container.get("name") == WORKER_CONTAINER:
            return container
    return {}


def _worker_spec(runtime: dict | None) -> dict | None:
    spec = (runtime or {}).get("spec") or {}
    return spec.get("workerSpec") if isinstance(spec.get("workerSpec"), dict) else None


def _name(obj: dict | None) -> str:
    return ((obj or {}).get("metadata") or {}).get("name") or ""
