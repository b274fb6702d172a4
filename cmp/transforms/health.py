"""Health: transformers with the predictor health check, and probes replaced whole.

* ``spec.transformer: {image, args, env, resources, predictorHealthCheck, readinessProbe,
  livenessProbe}`` renders ``spec.transformer.containers``. KServe's Python model server reads
  ``--enable_predictor_health_check`` as a bare switch (a value such as ``=true`` makes it exit),
  so the container gets the bare flag exactly once when the check is on and never otherwise;
  ``=true``/``=True``/``=false`` spellings in the arguments are normalised. The same
  normalisation applies to the transformer containers of raw InferenceServices.
* The flag on a predictor is an error: there ``--predictor_host`` is unset and the check would
  probe ``http://None``.
* A readiness or liveness probe set for the predictor (``spec.model.readinessProbe``...)
  replaces the runtime's probe as a whole: KServe merges the InferenceService's probe into the
  runtime's field by field, so two different handlers would both survive and the API server
  would reject the pod. When the runtime has that probe, the probe goes into the derived
  runtime instead of the InferenceService.

``docs/transformer.md`` explains the choices.
"""

from __future__ import annotations

import copy
from dataclasses import field
from typing import Any

from ..lazydataclass import dataclass
from ..derive import ensure_derived_runtime, runtime_container
from ..expand import write_scaling
from ..podview import FACT_TRANSFORMER_ARGS as FACT_ARGS
from ..kserve import flags
from ..kserve.merge import merge_runtime_container
from ..kserve.placeholders import escape_strings
from ..source.yamlio import format_path
from ..spec.deployment import read_env, read_scaling
from ..spec.fields import PROBE_HANDLERS, TRANSFORMER
from ..spec.reader import Reader, type_name
from ..unit import RenderContext, Unit

NAME = "health"
ORDER = 30
SECTIONS = (TRANSFORMER.name,)

FLAG = "--enable_predictor_health_check"
FLAG_KEY = "enable-predictor-health-check"
TRANSFORMER_FIELDS = TRANSFORMER.names()
PROBES = ("readinessProbe", "livenessProbe")
HANDLERS = PROBE_HANDLERS
CONTAINER_NAME = "kserve-container"
#: A transformer running in the predictor's pod (collocation) is the predictor container of this name.
COLLOCATED_NAME = "transformer-container"
_TRUE, _FALSE = "true", "false"


@dataclass
class FlagScan:
    """Arguments with every spelling of the health-check flag taken out, and what they asked for.

    ``position`` is where the first spelling stood (the bare flag goes back there);
    ``requested`` is True/False when the arguments asked, None when they did not mention it;
    ``errors`` are ``(token index, message)`` pairs.
    """

    tokens: list[str]
    position: int | None = None
    requested: bool | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)


def scan_flag(tokens: list[str]) -> FlagScan:
    """Find ``--enable_predictor_health_check`` in any spelling (``_`` or ``-``, ``=value``, ``--no-``)."""
    scan = FlagScan([])
    wishes: set[bool] = set()
    for arg in flags.parse_args(tokens, normalize_underscores=True, repeatable=frozenset()):
        if arg.key != FLAG_KEY:
            scan.tokens.extend(arg.tokens)
            continue
        wish, kept, error = _read_spelling(arg)
        if error:
            scan.errors.append((arg.index, error))
            continue
        scan.position = len(scan.tokens) if scan.position is None else scan.position
        scan.tokens.extend(kept)
        wishes.add(wish)
    if len(wishes) > 1:
        scan.errors.append((scan.position or 0, f"{FLAG} is both switched on and off"))
    elif wishes:
        scan.requested = wishes.pop()
    return scan


def _read_spelling(arg: flags.Arg) -> tuple[bool, list[str], str | None]:
    """(on or off, tokens to keep, error) for one spelling of the flag."""
    if arg.negated:
        return False, [], None
    if arg.value is None:
        return True, [], None
    value = arg.value.lower()
    if value in (_TRUE, _FALSE):
        return value == _TRUE, [], None
    if len(arg.tokens) == 2:  # "--flag x": the server does not consume x, it stays a positional
        return True, [arg.tokens[1]], None
    return False, [], (f"{arg.tokens[0]}: {FLAG} takes no value (only true or false are understood "
                       f"here; KServe's server exits on any value)")


def with_flag(scan: FlagScan, enabled: bool) -> list[str]:
    """The scanned arguments with the bare flag once (where it first stood) when ``enabled``."""
    if not enabled:
        return list(scan.tokens)
    at = len(scan.tokens) if scan.position is None else scan.position
    return scan.tokens[:at] + [FLAG] + scan.tokens[at:]


def apply(unit: Unit, ctx: RenderContext) -> None:
    """Render or normalise transformers, reject the flag on predictors, replace probes whole."""
    if unit.deployment is None:
        _raw_transformers(unit, ctx)
        _raw_predictor(unit, ctx)
        return
    _reject_on_predictor(unit, ctx, ("spec", "model", "args"), unit.deployment.model.args)
    _predictor_probes(unit, ctx)
    if unit.deployment.spec.get("transformer") is not None:
        _transformer(unit, ctx)


# ---------------------------------------------------------------- ModelDeployment


def _transformer(unit: Unit, ctx: RenderContext) -> None:
    path = ("spec", "transformer")
    r = Reader(unit.source)
    block = r.mapping(path, unit.deployment.spec["transformer"], TRANSFORMER_FIELDS)
    check = r.scalar(path + ("predictorHealthCheck",), block.get("predictorHealthCheck"),
                     TRANSFORMER["predictorHealthCheck"])
    image = r.string(path + ("image",), block.get("image"))
    if image is None and "image" not in block:
        r.error(path, ("predictorHealthCheck needs a transformer: set spec.transformer.image (the check runs "
                       "in a transformer; a predictor has no predictor to probe)") if check else
                "missing required field 'image'", rule=NAME)
    tokens, sources = _arg_tokens(r, unit, path + ("args",), block.get("args"))
    container: dict = {"name": CONTAINER_NAME, "image": image}
    env = read_env(r, path + ("env",), block.get("env"))
    if env:
        container["env"] = escape_strings(env)
    resources = block.get("resources")
    if resources is not None:
        container["resources"] = copy.deepcopy(r.mapping(path + ("resources",), resources,
                                                         TRANSFORMER["resources"].names()))
    scan = scan_flag(tokens)
    for index, message in scan.errors:
        r.error(path + ("args",) if isinstance(block.get("args"), dict) else path + ("args", index), message,
                rule=NAME)
    if check is not None and scan.requested is not None and check != scan.requested:
        r.error(path + ("args",), f"the arguments switch {FLAG} {'on' if scan.requested else 'off'} but "
                                  f"predictorHealthCheck is {str(check).lower()}", rule=NAME)
    for probe in PROBES:
        value = _probe(r, path + (probe,), block.get(probe))
        if value is not None:
            container[probe] = escape_strings(value)
    scaling = read_scaling(r, path + ("scaling",), block.get("scaling"))
    if scaling.initial_scale is not None:
        r.error(path + ("scaling", "initialScale"), "initialScale is one value for the whole InferenceService "
                                                    "(autoscaling.knative.dev/initial-scale on its metadata): set "
                                                    "spec.scaling.initialScale", rule=NAME)
    ctx.problems.extend(r.problems)
    if r.problems:
        return
    enabled = check if check is not None else bool(scan.requested)
    args = with_flag(scan, enabled)
    if args:
        container["args"] = args
    unit.isvc["spec"]["transformer"] = {"containers": [container]}
    ctx.provenance.record(unit.isvc, "spec.transformer.containers[0]", container, unit.where(path), NAME)
    for name in ("image", "args", "env", "resources") + PROBES:
        if name in container:
            ctx.provenance.record(unit.isvc, f"spec.transformer.containers[0].{name}", container[name],
                                  unit.where(path + (name,)), NAME)
    unit.facts[FACT_ARGS] = _arg_sources(args, list(zip(tokens, sources)),
                                         unit.where(path + ("predictorHealthCheck",)) if check else None,
                                         unit.where(path + ("args",)))
    write_scaling(unit, ctx, "transformer", scaling, path + ("scaling",))
    if enabled:
        ctx.provenance.record(unit.isvc, "spec.transformer.containers[0].args", FLAG,
                              unit.where(path + ("predictorHealthCheck",)), "predictor health check (bare flag)")


def _arg_tokens(r: Reader, unit: Unit, path: tuple, value: Any) -> tuple[list[str], list[str]]:
    """Transformer arguments (a list of strings, or a mapping of flag to value, as for the model) and
    the ``file:line`` each token was written at."""
    if value is None:
        return [], []
    tokens, sources = [], []
    if isinstance(value, dict):
        for key, item in value.items():
            try:
                found = flags.overlay_map_tokens(str(key), item)
            except flags.FlagError as exc:
                r.error(path + (key,), str(exc))
                continue
            tokens += found
            sources += [unit.where(path + (key,))] * len(found)
        return tokens, sources
    if isinstance(value, list):
        for i, item in enumerate(value):
            if r.string(path + (i,), item) is not None:
                tokens.append(item)
                sources.append(unit.where(path + (i,)))
        return tokens, sources
    r.error(path, f"expected a list of arguments or a mapping of flag to value, got {type_name(value)}")
    return [], []


def _arg_sources(args: list[str], given: list[tuple[str, str]], check: str | None, written: str
                 ) -> list[tuple[str, str]]:
    """(token, where it was written) for the emitted arguments: the bare health-check flag from
    ``predictorHealthCheck`` when that asked for it, every other token from its input line."""
    pool = list(given)
    out = []
    for token in args:
        if token == FLAG and check:
            out.append((token, check))
            continue
        at = next((i for i, (t, _) in enumerate(pool) if t == token), None)
        out.append((token, pool.pop(at)[1] if at is not None else written))
    return out


def _probe(r: Reader, path: tuple, value: Any) -> dict | None:
    """A probe with exactly one handler (the API server rejects none or several)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        r.error(path, f"expected a probe mapping, got {type_name(value)}")
        return None
    handlers = [h for h in HANDLERS if value.get(h) is not None]
    if len(handlers) != 1:
        found = ", ".join(handlers) or "none"
        r.error(path, f"a probe needs exactly one handler ({', '.join(HANDLERS)}); found {found}", rule=NAME)
        return None
    return copy.deepcopy(value)


def _predictor_probes(unit: Unit, ctx: RenderContext) -> None:
    """Predictor probes replace the runtime's probe of the same kind as a whole."""
    model_spec = unit.deployment.spec.get("model") or {}
    r = Reader(unit.source)
    for probe in PROBES:
        value = _probe(r, ("spec", "model", probe), model_spec.get(probe))
        if value is None:
            continue
        value = escape_strings(value)
        where = unit.where(("spec", "model", probe))
        base = unit.runtime or unit.base_runtime
        base_container = runtime_container(base) if base else None
        if base_container is not None and probe in base_container:
            derived = runtime_container(ensure_derived_runtime(unit, ctx, f"{probe} replaces the runtime's"))
            derived[probe] = value
            ctx.provenance.record(unit.runtime, f"spec.containers[{CONTAINER_NAME}].{probe}", value, where,
                                  f"{probe} (whole probe)")
        else:
            unit.predictor.setdefault("model", {})[probe] = value
            ctx.provenance.record(unit.isvc, f"spec.predictor.model.{probe}", value, where, probe)
    ctx.problems.extend(r.problems)


# ---------------------------------------------------------------- raw InferenceServices


def _raw_transformers(unit: Unit, ctx: RenderContext) -> None:
    """Normalise the flag in every transformer container of a raw InferenceService, collocated ones included."""
    spec = unit.isvc.get("spec") or {}
    for part in ("transformer", "predictor"):
        containers = (spec.get(part) or {}).get("containers") or []
        for i, container in enumerate(containers):
            if isinstance(container, dict) and (part == "transformer" or container.get("name") == COLLOCATED_NAME):
                _normalise_container(unit, ctx, container, ("spec", part, "containers", i, "args"))


def _normalise_container(unit: Unit, ctx: RenderContext, container: dict, path: tuple) -> None:
    """One bare flag where the container's arguments ask for the check, none where they switch it off."""
    args = container.get("args")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return
    scan = scan_flag(args)
    for index, message in scan.errors:
        ctx.add(unit.problem(path + (index,), message, rule=NAME))
    if scan.requested is None or scan.errors:
        return
    normalised = with_flag(scan, scan.requested)
    if normalised != args:
        container["args"] = normalised
        ctx.provenance.record(unit.isvc, format_path(path), normalised, unit.where(path),
                              "predictor health check (bare flag)")


def _raw_predictor(unit: Unit, ctx: RenderContext) -> None:
    """A raw predictor must not carry the flag, and its probes must not union with the runtime's."""
    predictor = (unit.isvc.get("spec") or {}).get("predictor") or {}
    model = predictor.get("model") if isinstance(predictor.get("model"), dict) else {}
    _reject_on_predictor(unit, ctx, ("spec", "predictor", "model", "args"), model.get("args"))
    for i, container in enumerate(predictor.get("containers") or []):
        if isinstance(container, dict) and container.get("name") != COLLOCATED_NAME:
            _reject_on_predictor(unit, ctx, ("spec", "predictor", "containers", i, "args"), container.get("args"))
    base = _raw_runtime(unit, ctx, model)
    base_container = runtime_container(base) if base else None
    if base_container is None:
        return
    merged = merge_runtime_container(base_container, model)
    for probe in PROBES:
        handlers = [h for h in HANDLERS if isinstance(merged.get(probe), dict) and h in merged[probe]]
        if len(handlers) > 1:
            ctx.add(unit.problem(("spec", "predictor", "model", probe), (
                f"KServe merges this {probe} into runtime {base['metadata']['name']}'s field by field: the pod "
                f"would get handlers {', '.join(handlers)} and be rejected; use the same handler as the runtime, "
                f"or a ModelDeployment (which replaces the runtime's probe whole)"), rule=NAME))


def _raw_runtime(unit: Unit, ctx: RenderContext, model: dict) -> dict | None:
    """The runtime a raw InferenceService pins, when the inputs or the catalog know it."""
    if unit.base_runtime is not None:
        return unit.base_runtime
    name = model.get("runtime")
    if not isinstance(name, str):
        return None
    return ctx.runtime_in_inputs(name, unit.namespace) or ctx.release.runtime(name)


def _reject_on_predictor(unit: Unit, ctx: RenderContext, path: tuple, args: Any) -> None:
    """The health-check flag on a predictor is an error, in any spelling."""
    if isinstance(args, dict):
        keys = [k for k in args if flags.canonical_key(f"--{str(k).lstrip('-')}", normalize_underscores=True)
                == FLAG_KEY]
        where = [path + (k,) for k in keys]
    elif isinstance(args, list):
        tokens = [a for a in args if isinstance(a, str)]
        where = [path + (arg.index,) for arg in flags.parse_args(tokens, normalize_underscores=True,
                                                                   repeatable=frozenset()) if arg.key == FLAG_KEY]
    else:
        return
    for at in where:
        ctx.add(unit.problem(at, f"{FLAG} belongs on a transformer: on a predictor --predictor_host is unset "
                                 f"and the check would probe http://None (use spec.transformer."
                                 f"predictorHealthCheck)", rule=NAME))
