"""Arguments: overlay flags override the runtime's, one copy each, in a derived runtime.

KServe concatenates the runtime container's args with the InferenceService's, so a flag set in
both reaches the server twice. This transform computes the effective list itself (the runtime's
args with every flag the overlay sets replaced, then the overlay's new flags: see
:func:`cmp.kserve.flags.merge_args`), writes it into the unit's derived ServingRuntime and puts
no args on the InferenceService, so KServe's append yields exactly that list on every version.

* ModelDeployments: ``spec.model.args`` (a list, or a mapping where ``null`` removes a runtime
  flag and ``true`` is a bare flag). A derived runtime is emitted only when the effective args
  differ from the base runtime's.
* Raw InferenceServices: ``spec.predictor.model.args`` get the same treatment when they collide
  with the runtime's (the named runtime, or the one KServe would auto-select, from the inputs or
  the catalog). An unknown runtime leaves the InferenceService unchanged, with a warning. Their args
  are KServe text: moved as written (never escaped), with a warning when KServe cannot template one.
* Annotation ``kserve-cmp.io/args-merge: append`` keeps KServe's own behaviour (args on the
  InferenceService, appended by KServe).
* Consequences: literal ``{{`` in the overlay's args is escaped for KServe's template pass; a
  changed port flag moves the container's ports and probe ports; an overlay request above the
  runtime's limit raises the limit (an overlay limit below the runtime's request lowers the
  request); the same flag twice within one source is an error naming both places.
"""

from __future__ import annotations

from ..derive import ensure_derived_runtime, runtime_container
from ..expand import auto_select, lookup_runtime
from ..explain import FACT_ARGS, ISVC, OVERLAY, RUNTIME, ArgsFact, ArgSource, Replaced, admitted
from ..kserve import flags, parsers
from ..kserve.defaults import SOURCE as DEFAULTS_SOURCE
from ..kserve.defaults import defaults_server_type, runtime_defaults
from ..kserve import script as sh
from ..kserve.parsers import ServerParser
from ..kserve.flags import FlagError, FlagRules, MergeResult, Origin
from ..kserve.placeholders import (
    ESCAPED_OPEN,
    PlaceholderError,
    UnknownAtRenderTime,
    escape_literal_braces,
    resolve,
)
from ..kserve.ports import (
    METRICS_PORT_ANNOTATION,
    default_ports,
    port_changes,
    rewrite_metrics_port,
    rewrite_ports,
)
from ..kserve.resources import QuantityError, conflicts, is_extended, merged_resources, parse_quantity
from ..source.yamlio import format_path
from ..unit import RenderContext, Unit

NAME = "args"
ORDER = 0

MERGE_ANNOTATION = "kserve-cmp.io/args-merge"
OVERRIDE, APPEND = "override", "append"
#: Runtime annotation: more repeatable flags for that runtime (comma-separated).
REPEATABLE_ANNOTATION = "kserve-cmp.io/repeatable-flags"

_MD_ARGS = ("spec", "model", "args")
_ISVC_ARGS = ("spec", "predictor", "model", "args")


def apply(unit: Unit, ctx: RenderContext) -> None:
    """Merge the unit's args into its runtime's (or leave them to KServe when asked to)."""
    mode = merge_mode(unit, ctx)
    if mode is None:
        return
    if unit.deployment is not None:
        if mode == APPEND:
            _append_on_isvc(unit, ctx)
        else:
            _override_deployment(unit, ctx)
        _reconcile_resources(unit, ctx)
    elif mode == OVERRIDE:
        _override_raw(unit, ctx)


def merge_mode(unit: Unit, ctx: RenderContext) -> str | None:
    """The unit's ``kserve-cmp.io/args-merge`` mode (default override); None when invalid."""
    value = ((unit.isvc.get("metadata") or {}).get("annotations") or {}).get(MERGE_ANNOTATION, OVERRIDE)
    if value in (OVERRIDE, APPEND):
        return value
    ctx.add(unit.problem(("metadata", "annotations", MERGE_ANNOTATION),
                         f"must be {OVERRIDE} or {APPEND}; got {value!r}", rule=NAME))
    return None


def rules_for(runtime: dict, repeatable_setting: str, parser: ServerParser | None = None) -> FlagRules:
    """Flag rules of a runtime: built-in, plus the setting's and the runtime annotation's flags.

    ``parser`` is the server's own parser (:func:`server_parser`) when the catalog has it.
    """
    name = (runtime.get("metadata") or {}).get("name") or ""
    annotation = ((runtime.get("metadata") or {}).get("annotations") or {}).get(REPEATABLE_ANNOTATION, "")
    extra = []
    for item in f"{repeatable_setting},{annotation}".split(","):
        scope, _, flag = item.strip().rpartition(":")
        if flag and scope in ("", name):
            extra.append(flag)
    base = flags.flag_rules_for(runtime)
    if parser is not None:   # the parser says which flags repeat (action="append"); the lists below only add
        base = FlagRules(base.normalize_underscores, frozenset(), parser)
    return base.with_repeatable(extra)


def server_parser(unit: Unit, ctx: RenderContext, runtime: dict) -> tuple[ServerParser | None, str]:
    """The exact parser of the server ``runtime`` runs for this unit (see :func:`parsers.parser_for`)."""
    version = (_raw_model(unit.isvc).get("runtimeVersion") or None)
    return parsers.parser_for(runtime, ctx.release.tag, version if isinstance(version, str) else None)


def overlay_tokens(args: list[str] | dict) -> list[str]:
    """The command-line tokens of an overlay's args (list as is, mapping expanded)."""
    if isinstance(args, dict):
        return [t for key, value in args.items() for t in flags.overlay_map_tokens(str(key), value)]
    return list(args)


def _append_on_isvc(unit: Unit, ctx: RenderContext) -> None:
    """``args-merge: append``: the overlay's args on the InferenceService, for KServe to append."""
    args = unit.deployment.model.args
    if not args:
        return
    try:
        tokens = [escape_literal_braces(t) for t in overlay_tokens(args)]
    except FlagError as exc:
        ctx.add(unit.problem(_MD_ARGS, str(exc), rule=NAME))
        return
    base = unit.base_runtime
    if base is not None and runtime_container(base) is not None and _appended_rejects(unit, ctx, base, args):
        return
    unit.predictor.setdefault("model", {})["args"] = tokens
    ctx.provenance.record(unit.isvc, "spec.predictor.model.args", tokens, unit.where(_MD_ARGS),
                          f"{MERGE_ANNOTATION}: {APPEND}")


def _appended_rejects(unit: Unit, ctx: RenderContext, base: dict, args: list[str] | dict) -> bool:
    """``append`` mode: the server still parses runtime + overlay args; check the overlay's as in a merge."""
    rules = rules_for(base, ctx.settings.repeatable_flags, server_parser(unit, ctx, base)[0])
    if rules.parser is None:
        return False
    base_args = _base_args(base)
    items = flags._overlay_items(args, rules.normalize_underscores, None, rules.parser) if isinstance(args, dict) \
        else [(Origin(flags.OVERLAY, i), None, [t]) for i, t in enumerate(args)]
    tokens = base_args + [t for _, _, item in items for t in item]
    origins = [Origin(flags.RUNTIME, i) for i in range(len(base_args))] + \
        [origin for origin, _, item in items for _ in item]
    return _server_rejects(unit, ctx, base, MergeResult(tokens, origins, []), rules, admitted(unit.isvc)["metadata"],
                           _MD_ARGS)


def _override_deployment(unit: Unit, ctx: RenderContext) -> None:
    """A ModelDeployment's args merged into a derived runtime."""
    args = unit.deployment.model.args
    base = unit.base_runtime
    if not args or base is None:
        return
    container = runtime_container(base)
    if container is None:
        ctx.add(unit.problem(("spec", "runtime"), f"runtime {_name(base)} has no container named "
                                                  "kserve-container", rule=NAME))
        return
    rules = rules_for(base, ctx.settings.repeatable_flags, server_parser(unit, ctx, base)[0])
    meta = admitted(unit.isvc)["metadata"]
    if _deployment_duplicates(unit, ctx, args, rules, meta):
        return
    base_args = _base_args(base)
    result = _merge(unit, ctx, base, args, rules, meta, _MD_ARGS)
    if result is None or _server_rejects(unit, ctx, base, result, rules, meta, _MD_ARGS) \
            or _kserve_appends_too(unit, ctx, base, result, rules, meta, _MD_ARGS):
        return
    if result.args == base_args:
        return
    if not base_args and not container.get("command"):
        ctx.add(unit.problem(_MD_ARGS, f"runtime {_name(base)} sets neither command nor args: these "
                                       "args replace the image's default command", rule=NAME, level="warning"))
    _write(unit, ctx, base_args, result, rules, meta, _MD_ARGS)


def _override_raw(unit: Unit, ctx: RenderContext) -> None:
    """A raw InferenceService whose args collide with its runtime's: merged into a derived runtime."""
    model = _raw_model(unit.isvc)
    args = model.get("args")
    if not args or not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return
    meta = admitted(unit.isvc)["metadata"]
    _warn_untemplatable(unit, ctx, args, meta)
    base, found_in, wanted = _raw_runtime(unit, ctx)
    if base is None:
        ctx.add(unit.problem(_ISVC_ARGS, f"runtime {wanted} is not in the inputs or the catalog (installed "
                                         "on the cluster?): passed through unchanged, KServe will append "
                                         "its args to the runtime's", rule=NAME, level="warning"))
        return
    container = runtime_container(base)
    if container is None:
        return
    rules = rules_for(base, ctx.settings.repeatable_flags, server_parser(unit, ctx, base)[0])
    if _list_duplicates(unit, ctx, args, rules, meta, _ISVC_ARGS):
        return
    base_args = _base_args(base)
    result = _merge(unit, ctx, base, args, rules, meta, _ISVC_ARGS)
    if result is None or _server_rejects(unit, ctx, base, result, rules, meta, _ISVC_ARGS) \
            or _kserve_appends_too(unit, ctx, base, result, rules, meta, _ISVC_ARGS):
        return
    if result.args == base_args + args:
        return
    unit.base_runtime, unit.base_from = base, found_in
    del model["args"]
    _write(unit, ctx, base_args, result, rules, meta, _ISVC_ARGS)


def _server_rejects(unit: Unit, ctx: RenderContext, base: dict, result: MergeResult, rules: FlagRules,
                    meta: dict, where: tuple) -> bool:
    """Check the input's flags against the server's own parser; True when one is an error.

    A flag the server ignores or exits on (unknown, a spelling it does not declare, an ambiguous
    abbreviation, a value on a flag that takes none, no value on one that needs it) is an error
    naming the spelling it declares (a warning for a raw InferenceService, which is passed on as
    written); an abbreviation it accepts is a warning. Flags listed in
    ``kserve-cmp.io/unchecked-flags`` (runtime or model annotation) are not checked.
    """
    parser = rules.parser
    if parser is None:
        return False
    skip = parsers.unchecked(base, unit.isvc)
    if sh.find_launch(runtime_container(base) or {}) is not None:
        # the multi-node transform moves these into the workerSpec: they never reach the server
        skip = skip | _parallel_spellings(result.args)
    failed = False
    parsed = flags.parse_args(result.args, normalize_underscores=rules.normalize_underscores,
                              repeatable=rules.repeatable, meta=meta, parser=parser)
    previous: flags.Arg | None = None
    for arg in parsed:
        origin = result.origins[arg.index]
        if origin.source == flags.OVERLAY:
            name = arg.tokens[0].partition("=")[0]
            message, level = _flag_problem(parser, arg, previous, name, meta, skip)
            if message and unit.deployment is None:
                level = "warning"   # a raw InferenceService is KServe text, passed on as written
            if message:
                failed = failed or level == "error"
                ctx.add(unit.problem(where + ((origin.key,) if origin.key is not None else (origin.index,)),
                                     message, rule=NAME, level=level))
        previous = arg
    return failed


def _kserve_appends_too(unit: Unit, ctx: RenderContext, base: dict, result: MergeResult, rules: FlagRules,
                        meta: dict, where: tuple) -> bool:
    """A flag KServe's controller appends itself (``SetRuntimeDefaults``) that the args already set.

    An error for a ModelDeployment, a warning for a raw InferenceService (passed on as written).

    KServe adds ``--model-control-mode=explicit`` to a Triton model without storage after the
    runtime's args, so the server would get the flag twice and keep the last. True on an error.
    """
    _, applied = runtime_defaults(unit.isvc, base)
    if not applied:
        return False
    after, _ = runtime_defaults(unit.isvc, base)
    added = list(_raw_model(after).get("args") or [])[len(_raw_model(unit.isvc).get("args") or []):]
    if not added:
        return False
    options = {"normalize_underscores": rules.normalize_underscores, "repeatable": rules.repeatable, "meta": meta,
               "parser": rules.parser}
    keys = {a.key: " ".join(a.tokens) for a in flags.parse_args(added, **options) if a.key and not a.repeatable}
    failed = False
    for arg in flags.parse_args(result.args, **options):
        if arg.key in keys:
            origin = result.origins[arg.index]
            path = (where + ((origin.key,) if origin.key is not None else (origin.index,))
                    if origin.source == flags.OVERLAY else ("spec", "runtime") if unit.deployment is not None else where)
            ctx.add(unit.problem(path, f"{' '.join(arg.tokens)}: KServe appends {keys[arg.key]} itself for this model "
                                       f"({DEFAULTS_SOURCE.split(',')[0]}, {defaults_server_type(base)} without "
                                       "storage), after these args: the server would get both and keep KServe's; "
                                       "remove it, or give the model a storage URI", rule=NAME,
                                 level="error" if unit.deployment is not None else "warning"))
            failed = unit.deployment is not None   # a raw InferenceService is passed on as written
    return failed


def _parallel_spellings(tokens: list[str]) -> frozenset[str]:
    """Flag names among ``tokens`` that the multi-node transform reads as parallel sizes."""
    from .multinode import PARALLEL_FLAGS  # noqa: PLC0415 (multinode runs after args; no cycle at import)

    names = {t.partition("=")[0] for t in tokens if t.startswith("-")}
    return frozenset(n for n in names if n in PARALLEL_FLAGS or n.lstrip("-").replace("_", "-") in PARALLEL_FLAGS)


def _flag_problem(parser: ServerParser, arg: flags.Arg, previous: flags.Arg | None, name: str, meta: dict,
                  skip: frozenset[str]) -> tuple[str | None, str]:
    """(message, level) for one argument as the server's parser reads it; (None, "") when it is fine."""
    if arg.key is None:
        if previous is not None and not previous.tokens[0].partition("=")[1] and _kind(parser, previous, meta) in \
                parsers.NO_VALUE_KINDS and _flag_name(previous) not in skip:
            return (f"{_flag_name(previous)} takes no value for {parser.label}: {arg.tokens[0]!r} becomes a stray "
                    "argument the server does not apply (a switch is on when present; drop the value)", "error")
        return None, ""
    if name in skip or not name.startswith("-"):
        return None, ""
    try:
        found = parser.resolve(resolve(name, meta))
    except PlaceholderError:
        return None, ""
    label = parser.label
    outcome = ("ignores it silently (parse_known_args)" if parser.ignores_unknown
               else "exits at start-up (unrecognized arguments)")
    if found.how == "unknown":
        hint = f": did you mean {found.candidates[0]}?" if found.candidates else ""
        return f"{name}: {label} declares no such flag and {outcome}{hint}", "error"
    if found.how == "ambiguous-early":
        shown = ", ".join(found.candidates[:6]) + (", ..." if len(found.candidates) > 6 else "")
        return (f"{name}: {label} parses its own flags first, without vLLM's, and there {name} is an ambiguous "
                f"abbreviation ({shown}): argparse exits at start-up"), "error"
    if found.how == "ambiguous":
        shown = ", ".join(found.candidates[:6]) + (", ..." if len(found.candidates) > 6 else "")
        return (f"{name}: an ambiguous abbreviation for {label} ({shown}); argparse exits at start-up: "
                "write the flag in full"), "error"
    declared = found.declared
    if declared.kind == "help":
        return f"{name}: {found.option} makes {label} print its help and exit instead of serving", "error"
    _, eq, value = arg.tokens[0].partition("=")
    if declared.kind in parsers.NO_VALUE_KINDS and eq:
        form = "--x / --no-x" if declared.kind == "bool" else "a switch"
        return (f"{name}={value}: {found.option} takes no value for {label} ({form}); argparse exits at start-up "
                f"(ignored explicit argument): write {found.option} alone, or leave it out"), "error"
    if declared.kind == "value" and arg.value is None:
        return f"{name}: {found.option} expects a value for {label}; argparse exits at start-up", "error"
    if found.how == "abbreviation":
        return f"{name} is argparse's abbreviation of {found.option} for {label}: write {found.option}", "warning"
    return None, ""


def _kind(parser: ServerParser, arg: flags.Arg, meta: dict) -> str | None:
    try:
        found = parser.resolve(resolve(_flag_name(arg), meta))
    except PlaceholderError:
        return None
    return found.declared.kind if found.declared else None


def _flag_name(arg: flags.Arg) -> str:
    return arg.tokens[0].partition("=")[0]


def _warn_untemplatable(unit: Unit, ctx: RenderContext, args: list[str], meta: dict) -> None:
    """Warn about raw InferenceService args KServe's template pass cannot render (a literal ``{{``).

    A raw InferenceService is KServe text: its args are moved as written, never escaped.
    """
    for i, arg in enumerate(args):
        try:
            resolve(arg, meta)
        except UnknownAtRenderTime:
            continue
        except PlaceholderError as exc:
            ctx.add(unit.problem(_ISVC_ARGS + (i,), f"KServe's template pass fails on it ({exc}); write a "
                                                    f"literal {{{{ as {ESCAPED_OPEN}", rule=NAME, level="warning"))


def _raw_runtime(unit: Unit, ctx: RenderContext) -> tuple[dict | None, str, str]:
    """(runtime, "inputs" | "catalog", what was looked for) for a raw InferenceService."""
    namespace = unit.namespace or ctx.settings.namespace or None
    model = _raw_model(unit.isvc)
    name = model.get("runtime")
    if name:
        base, found_in = lookup_runtime(str(name), namespace, ctx)
        return base, found_in, repr(name)
    fmt = model.get("modelFormat") or {}
    if not isinstance(fmt, dict) or not fmt.get("name"):
        return None, "", "(none named, no modelFormat to auto-select by)"
    base, found_in = auto_select(unit.isvc, namespace, ctx)
    return base, found_in, f"for model format {fmt['name']!r}"


def _raw_model(isvc: dict) -> dict:
    """``spec.predictor.model`` of an input InferenceService, empty when any level is not a mapping."""
    value: object = isvc
    for key in ("spec", "predictor", "model"):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _merge(unit: Unit, ctx: RenderContext, base: dict, overlay: list[str] | dict, rules: FlagRules,
           meta: dict, where: tuple) -> MergeResult | None:
    """The merge, or None after reporting why it cannot be done."""
    try:
        result = flags.merge_args(_base_args(base), overlay, normalize_underscores=rules.normalize_underscores, parser=rules.parser,
                                  repeatable=rules.repeatable, meta=meta)
    except (FlagError, PlaceholderError) as exc:
        ctx.add(unit.problem(where, str(exc), rule=NAME))
        return None
    if _runtime_duplicates(unit, ctx, base, result, rules, meta):
        return None
    return result


def _write(unit: Unit, ctx: RenderContext, base_args: list[str], result: MergeResult, rules: FlagRules,
           meta: dict, where: tuple) -> None:
    """Put the effective args into the derived runtime; move ports; describe it for explain."""
    base_name = _name(unit.base_runtime)
    runtime = ensure_derived_runtime(unit, ctx, NAME)
    index, container = _kserve_container(runtime)
    escape = unit.deployment is not None   # a raw InferenceService's args are KServe text already
    tokens = [escape_literal_braces(t) if escape and o.source == flags.OVERLAY else t
              for t, o in zip(result.args, result.origins)]
    container["args"] = tokens
    kind = OVERLAY if unit.deployment is not None else ISVC
    sources = tuple(ArgSource(t, RUNTIME, f"runtime {base_name}") if o.source == flags.RUNTIME
                    else ArgSource(t, kind, _origin_where(unit, o, where))
                    for t, o in zip(tokens, result.origins))
    replaced = tuple(Replaced(" ".join(r.arg.tokens), f"runtime {base_name}", _origin_where(unit, r.by, where))
                     for r in result.removed)
    unit.facts[FACT_ARGS] = ArgsFact(_name(runtime), tuple(tokens), sources, replaced)
    ctx.provenance.record(runtime, f"spec.containers[{index}].args", tokens, unit.where(where),
                          "runtime args with the overlay's flags replacing the runtime's")
    server = flags.server_type(unit.base_runtime)
    changes = port_changes(base_args, result.args, rules, meta, default_ports(server, rules))
    if changes:
        _move_ports(unit, ctx, runtime, index, changes, where)


def _move_ports(unit: Unit, ctx: RenderContext, runtime: dict, index: int, changes: dict[int, int],
                where: tuple) -> None:
    """Move ports and probe ports of the derived runtime (and of the ISVC's own fields) to ``changes``."""
    rule = "ports follow the port flag"
    source = unit.where(where)
    for path in rewrite_ports(runtime["spec"]["containers"][index], changes):
        ctx.provenance.record(runtime, f"spec.containers[{index}].{path}", changes, source, rule)
    for path in rewrite_ports(_raw_model(unit.isvc), changes, declare=False):
        ctx.provenance.record(unit.isvc, f"spec.predictor.model.{path}", changes, source, rule)
    annotations = runtime["spec"].get("annotations") or {}
    if rewrite_metrics_port(annotations, changes):
        ctx.provenance.record(runtime, f"spec.annotations.{METRICS_PORT_ANNOTATION}",
                              annotations[METRICS_PORT_ANNOTATION], source, rule)


def _deployment_duplicates(unit: Unit, ctx: RenderContext, args: list[str] | dict, rules: FlagRules,
                           meta: dict) -> bool:
    """Report a flag set twice in ``spec.model.args``; True when one was."""
    if isinstance(args, list):
        return _list_duplicates(unit, ctx, args, rules, meta, _MD_ARGS)
    seen: dict[str, str] = {}
    found = False
    for key in args:
        try:
            parsed = flags.parse_args([_spelled(key)], normalize_underscores=rules.normalize_underscores, parser=rules.parser,
                                      repeatable=rules.repeatable, meta=meta)[0]
        except PlaceholderError as exc:
            ctx.add(unit.problem(_MD_ARGS + (key,), str(exc), rule=NAME))
            return True
        if parsed.key is None or parsed.repeatable:
            continue
        if parsed.key in seen:
            found = True
            first = seen[parsed.key]
            ctx.add(unit.problem(_MD_ARGS + (key,), _twice(_MD_ARGS, (_spelled(first), unit.where(_MD_ARGS + (first,))),
                                                           (_spelled(key), unit.where(_MD_ARGS + (key,)))),
                                 rule=NAME))
        else:
            seen[parsed.key] = key
    return found


def _list_duplicates(unit: Unit, ctx: RenderContext, args: list[str], rules: FlagRules, meta: dict,
                     where: tuple) -> bool:
    """Report a flag set twice in one args list of the unit's input; True when one was."""
    try:
        pairs = flags.find_duplicates(args, normalize_underscores=rules.normalize_underscores, parser=rules.parser,
                                      repeatable=rules.repeatable, meta=meta)
    except PlaceholderError as exc:
        ctx.add(unit.problem(where, str(exc), rule=NAME))
        return True
    for first, later in pairs:
        ctx.add(unit.problem(where + (later.index,), _twice(where, (_flag(first), unit.where(where + (first.index,))),
                                                            (_flag(later), unit.where(where + (later.index,))),
                                                            _several_values_hint(rules.parser, _flag(later), meta)),
                             rule=NAME))
    return bool(pairs)


def _several_values_hint(parser: ServerParser | None, name: str, meta: dict) -> str:
    """For a flag the server declares with ``nargs`` (several values after one flag): how to write it."""
    if parser is None:
        return ""
    try:
        found = parser.resolve(resolve(name, meta))
    except PlaceholderError:
        return ""
    if found.declared is None or found.declared.kind != "multi":
        return ""
    return (f"; {parser.label} keeps only the last {found.option}: give all its values after one "
            f"{found.option} (as separate list items)")


def _runtime_duplicates(unit: Unit, ctx: RenderContext, base: dict, result: MergeResult, rules: FlagRules,
                        meta: dict) -> bool:
    """Report a runtime flag set twice that survives the merge; True when one does."""
    pairs = flags.find_duplicates(result.args, normalize_underscores=rules.normalize_underscores, parser=rules.parser,
                                  repeatable=rules.repeatable, meta=meta)
    runtime_pairs = [(a, b) for a, b in pairs if result.origins[a.index].source == flags.RUNTIME
                     and result.origins[b.index].source == flags.RUNTIME]
    for first, later in runtime_pairs:
        ctx.add(unit.problem(("spec", "runtime") if unit.deployment is not None else _ISVC_ARGS,
                             f"runtime {_name(base)} sets {_flag(later)} twice ({' '.join(first.tokens)} and "
                             f"{' '.join(later.tokens)}); mark it repeatable or fix the runtime", rule=NAME))
    return bool(runtime_pairs)


def _reconcile_resources(unit: Unit, ctx: RenderContext) -> None:
    """Keep requests <= limits after KServe's per-key merge with the runtime's resources."""
    own = unit.deployment.model.resources
    model = unit.predictor.get("model") or {}
    if not own or unit.base_runtime is None or not isinstance(model.get("resources"), dict):
        return
    path = ("spec", "model", "resources")
    clashes = conflicts(own)
    for c in clashes:
        ctx.add(unit.problem(path + ("requests", c.resource), f"request {c.request} is above the limit "
                             f"{c.limit} set at {unit.where(path + ('limits', c.resource))}", rule=NAME))
    unequal = [n for n in _unequal_extended(own) if n not in {c.resource for c in clashes}]
    for name in unequal:
        ctx.add(unit.problem(path + ("requests", name), f"request {own['requests'][name]} differs from the limit "
                             f"{own['limits'][name]}; Kubernetes needs them equal for {name}", rule=NAME))
    if clashes or unequal:
        return
    base = runtime_container(unit.base_runtime) or {}
    resources = model["resources"]
    for c in conflicts(merged_resources(base.get("resources"), resources)):
        if c.resource in (own.get("requests") or {}):
            resources.setdefault("limits", {})[c.resource] = c.request
            ctx.provenance.record(unit.isvc, f"spec.predictor.model.resources.limits.{c.resource}", c.request,
                                  unit.where(path + ("requests", c.resource)),
                                  f"limit raised to the request (runtime {_name(unit.base_runtime)} "
                                  f"limits it to {c.limit})")
        elif c.resource in (own.get("limits") or {}):
            resources.setdefault("requests", {})[c.resource] = c.limit
            ctx.provenance.record(unit.isvc, f"spec.predictor.model.resources.requests.{c.resource}", c.limit,
                                  unit.where(path + ("limits", c.resource)),
                                  f"request lowered to the limit (runtime {_name(unit.base_runtime)} "
                                  f"requests {c.request})")
    _pair_extended(unit, ctx, base.get("resources"), resources)


def _pair_extended(unit: Unit, ctx: RenderContext, runtime_resources: dict | None, resources: dict) -> None:
    """Extended resources (GPUs) the overlay sets get a limit equal to their request after KServe's merge.

    Kubernetes refuses an extended resource requested without a limit, or with a different one, and
    KServe picks GPU images from limits only.
    """
    path = ("spec", "model", "resources")
    own = unit.deployment.model.resources
    merged = merged_resources(runtime_resources, resources)
    for name in sorted(own.get("requests") or {}):
        if is_extended(name) and name not in merged["limits"]:
            resources.setdefault("limits", {})[name] = own["requests"][name]
            ctx.provenance.record(unit.isvc, f"spec.predictor.model.resources.limits.{name}", own["requests"][name],
                                  unit.where(path + ("requests", name)), "limit set to the request (Kubernetes "
                                  "needs a limit equal to the request of an extended resource)")
    for name in _unequal_extended(merged):
        if name in (own.get("limits") or {}) and name not in (own.get("requests") or {}):
            resources.setdefault("requests", {})[name] = own["limits"][name]
            ctx.provenance.record(unit.isvc, f"spec.predictor.model.resources.requests.{name}", own["limits"][name],
                                  unit.where(path + ("limits", name)), "request set to the limit (Kubernetes "
                                  "needs a limit equal to the request of an extended resource)")
        elif name in (own.get("requests") or {}) and name not in (own.get("limits") or {}):
            resources.setdefault("limits", {})[name] = own["requests"][name]
            ctx.provenance.record(unit.isvc, f"spec.predictor.model.resources.limits.{name}", own["requests"][name],
                                  unit.where(path + ("requests", name)), "limit set to the request (Kubernetes "
                                  "needs a limit equal to the request of an extended resource)")


def _unequal_extended(resources: dict) -> list[str]:
    """Extended resources (sorted) whose request and limit, both given, differ."""
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    found = []
    for name in sorted(set(requests) & set(limits)):
        try:
            if is_extended(name) and parse_quantity(requests[name]) != parse_quantity(limits[name]):
                found.append(name)
        except QuantityError:
            continue
    return found


def _base_args(runtime: dict) -> list[str]:
    """The args of a runtime's ``kserve-container``."""
    return list((runtime_container(runtime) or {}).get("args") or [])


def _origin_where(unit: Unit, origin: Origin, where: tuple) -> str:
    """``file:line`` of the overlay item an origin points at."""
    return unit.where(where + ((origin.key,) if origin.key is not None else (origin.index,)))


def _kserve_container(runtime: dict) -> tuple[int, dict]:
    """(index, container) of the runtime's ``kserve-container``."""
    for i, container in enumerate(runtime["spec"]["containers"]):
        if container.get("name") == "kserve-container":
            return i, container
    raise ValueError(f"runtime {_name(runtime)} has no kserve-container")  # callers checked


def _twice(where: tuple, first: tuple[str, str], later: tuple[str, str], hint: str = "") -> str:
    """The duplicate-flag message: both spellings, both places (``file:line``)."""
    return (f"flag set twice in {format_path(where)}: {first[0]} at {first[1]} and {later[0]} at {later[1]} "
            f"(one value per flag{hint}; list it in the repeatable-flags setting if the program accepts repeats)")


def _spelled(key: object) -> str:
    """A mapping key as the flag it stands for."""
    return str(key) if str(key).startswith("-") else f"--{key}"


def _flag(arg: flags.Arg) -> str:
    """The flag as written (without its value)."""
    return arg.tokens[0].partition("=")[0]


def _name(obj: dict | None) -> str:
    """``metadata.name`` of an object."""
    return ((obj or {}).get("metadata") or {}).get("name") or ""
