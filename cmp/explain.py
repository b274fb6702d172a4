"""``cmp explain``: the predictor container KServe will build from the rendered objects.

For every model of a render this assembles ``kserve-container`` the way the KServe controller
does (:func:`cmp.kserve.merge.assemble_predictor_container`: runtime container merged with
``spec.predictor.model``, args concatenated, placeholders filled, image tag rewritten) after the
admission webhook's defaults, and says where every argument came from: the runtime, a line of
an input file, or a kserve-cmp rule. The runtime is the one the InferenceService names (looked up
among the rendered objects, then the built-in catalog) or, when it names none, the one KServe
would auto-select there.

Transforms that write arguments describe them in ``unit.facts[FACT_ARGS]`` (an
:class:`ArgsFact`); arguments nobody described are attributed to the object that carries them.
The scaling and multi-node transforms leave their decisions in ``unit.facts`` too (replicas at
start and the range, each with the rule and input that decided it; GPUs per head and worker);
the storage initializer shown is the pinned ClusterStorageContainer among the rendered objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, field

from .lazydataclass import dataclass
from . import catalog, explain_llm
from .derive import LABEL_BASE
from .kserve import parsers, select, storage
from .kserve.defaults import MULTINODE_SOURCE, multinode_env, runtime_defaults, set_env
from .kserve.defaults import SOURCE as DEFAULTS_SOURCE
from .kserve.merge import AssemblyError, assemble_predictor_container, kserve_container
from .kserve.placeholders import PlaceholderError
from .podview import pod_fields, pod_text, transformer_text, transformer_view
from .provenance import Provenance
from .safetext import visible
from .unit import Unit

FACT_ARGS = "predictor_args"
FACT_SCALING = "scaling"
FACT_MULTINODE = "multinode"
MODEL_FORMAT_ANNOTATION = "modelFormat"
RUNTIME = "runtime"
OVERLAY = "overlay"
ISVC = "isvc"
RULE = "rule"
#: Container fields shown in the text view, in this order.
TEXT_FIELDS = ("image", "command", "args", "env", "ports", "resources")


@dataclass(frozen=True)
class ArgSource:
    """One argument of the effective list and where it came from."""

    arg: str
    kind: str  # runtime | overlay | isvc | rule
    source: str  # "runtime kserve-vllmserver", "overlays/x/model.yaml:12", a rule name


@dataclass(frozen=True)
class Replaced:
    """A runtime argument the merge dropped, and the input that replaced or removed it."""

    arg: str
    source: str
    by: str


@dataclass(frozen=True)
class ArgsFact:
    """What a transform wrote into a runtime container's args: the tokens and their sources."""

    runtime: str  # name of the runtime object holding the tokens
    tokens: tuple[str, ...]
    sources: tuple[ArgSource, ...]
    replaced: tuple[Replaced, ...] = ()


@dataclass
class ModelView:
    """One model's predictor container as KServe will assemble it."""

    name: str
    namespace: str | None
    source: str
    runtime: str | None
    runtime_kind: str | None
    runtime_from: str
    container: dict | None
    args: list[ArgSource] = field(default_factory=list)
    replaced: list[Replaced] = field(default_factory=list)
    note: str | None = None
    kind: str = "InferenceService"
    scaling: dict | None = None          # replicas at start and range, each with its rule and input
    multinode: dict | None = None        # parallelism, nodes and GPUs per head/worker as KServe computes them
    storage_initializer: dict | None = None   # the init container KServe will inject, when it is pinned
    flags: str | None = None             # how the server's own parser was used to check the flags
    kserve_defaults: list[str] = field(default_factory=list)   # what KServe's controller adds, with its source
    pod: dict = field(default_factory=dict)   # the predictor's pod fields, each {"value", "source"}
    transformer: dict | None = None      # the transformer container KServe runs, with sources (cmp.podview)
    llm: dict | None = None              # an LLMInferenceService: cmp.explain_llm's view


def explain(units: list[Unit], objects: list[dict], provenance: Provenance | None = None) -> list[ModelView]:
    """A view per unit, sorted by namespace and name (``provenance``: where pod and transformer fields came from)."""
    views = [explain_unit(u, objects, provenance) for u in units]
    return sorted(views, key=lambda v: (v.namespace or "", v.name))


def explain_unit(unit: Unit, objects: list[dict], provenance: Provenance | None = None) -> ModelView:
    """The assembled predictor container of one unit, with the origin of every argument."""
    if unit.isvc.get("kind") == "InferenceGraph":
        return _graph_view(unit)
    if unit.isvc.get("kind") == "LLMInferenceService":
        meta = unit.isvc.get("metadata") or {}
        return ModelView(name=meta.get("name", ""), namespace=meta.get("namespace"), source=unit.where(()),
                         runtime=None, runtime_kind=None, runtime_from="", container=None,
                         kind="LLMInferenceService", llm=explain_llm.describe(unit, provenance))
    view = _container_view(unit, objects)
    runtime = find_runtime(admitted(unit.isvc), objects, unit.release)[0]
    view.pod = pod_fields(unit, provenance, "predictor", runtime)
    view.transformer = transformer_view(unit, provenance)
    view.scaling = unit.facts.get(FACT_SCALING)
    view.multinode = unit.facts.get(FACT_MULTINODE)
    view.storage_initializer = storage_initializer(unit.isvc, objects)
    return view


def _graph_view(unit: Unit) -> ModelView:
    """An InferenceGraph has router pods, no predictor container: only its replicas are explained."""
    meta = unit.isvc.get("metadata") or {}
    return ModelView(name=meta.get("name", ""), namespace=meta.get("namespace"), source=unit.where(()),
                     runtime=None, runtime_kind=None, runtime_from="", container=None,
                     note="InferenceGraph: KServe runs its router; there is no predictor container",
                     kind="InferenceGraph", scaling=unit.facts.get(FACT_SCALING))


def storage_initializer(isvc: Mapping, objects: list[dict]) -> dict | None:
    """The init container KServe's webhook will inject, when the model pins a ClusterStorageContainer.

    Chosen and merged as KServe does (``cmp.kserve.storage``): the pinned container among the
    rendered objects, merged over the ConfigMap's defaults.
    """
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    name = predictor.get("storageContainerName")
    uri = (predictor.get("model") or {}).get("storageUri")
    if not name or not isinstance(uri, str):
        return None
    rendered = [o for o in objects if o.get("kind") == "ClusterStorageContainer"]
    chosen, error = storage.select_storage_container(uri, rendered, name)
    if chosen is None:
        return {"clusterStorageContainer": name, "image": None, "resources": {},
                "note": f"{error} among the rendered objects: installed on the cluster?"}
    container = storage.init_container(uri, chosen)
    return {"clusterStorageContainer": name, "image": container.get("image"),
            "resources": container.get("resources") or {}}


def _container_view(unit: Unit, objects: list[dict]) -> ModelView:
    isvc = admitted(unit.isvc)
    runtime, found_in = find_runtime(isvc, objects, unit.release)
    meta = unit.isvc.get("metadata") or {}
    view = ModelView(
        name=meta.get("name", ""),
        namespace=meta.get("namespace"),
        source=unit.where(()),
        runtime=(runtime or {}).get("metadata", {}).get("name") or _model(isvc).get("runtime"),
        runtime_kind=(runtime or {}).get("kind"),
        runtime_from=found_in,
        container=None,
    )
    if runtime is None:
        view.note = "runtime not in the inputs or the catalog (installed on the cluster?): container unknown"
        return view
    isvc, view.kserve_defaults = runtime_defaults(isvc, runtime)
    try:
        view.container = assemble_predictor_container(runtime, isvc, unit.kserve.tag)
    except (AssemblyError, PlaceholderError) as exc:
        view.note = f"KServe cannot assemble the container: {exc}"
        return view
    multinode = unit.facts.get(FACT_MULTINODE)
    if isinstance(multinode, Mapping):
        pairs = multinode_env(isvc, multinode)
        set_env(view.container, pairs)
        view.kserve_defaults.append(f"env {', '.join(n for n, _ in pairs)} on the head  ({MULTINODE_SOURCE})")
    args = view.container.get("args") or []
    view.args, view.replaced = arg_sources(unit, runtime, args)
    view.args += [ArgSource(a, RULE, f"KServe: {DEFAULTS_SOURCE}") for a in args[len(view.args):]]
    view.flags = flags_checked(runtime, isvc, unit.kserve.tag)
    return view


def flags_checked(runtime: Mapping, isvc: Mapping, release: str | None = None) -> str:
    """Which parser the flags were checked against, or why they were not (``cmp.kserve.parsers``)."""
    labels = (runtime.get("metadata") or {}).get("labels") or {}
    base = labels.get(LABEL_BASE)
    subject = {**runtime, "metadata": {**(runtime.get("metadata") or {}), "name": base}} if base else runtime
    version = _model(isvc).get("runtimeVersion")
    parser, why = parsers.parser_for(subject, release, version if isinstance(version, str) else None)
    if parser is None:
        return f"not checked ({why})"
    unknown = "ignored" if parser.ignores_unknown else "an error at start-up"
    spelling = "`_` read as `-`" if parser.underscores else "only the declared spellings"
    return f"checked against {parser.label}: {parser.parse}, {spelling}, unknown flags {unknown}"


def admitted(isvc: Mapping) -> dict:
    """The InferenceService after the admission webhook's defaults that reach the container."""
    meta = dict(isvc.get("metadata") or {})
    fmt = (_model(isvc).get("modelFormat") or {}).get("name")
    annotations = dict(meta.get("annotations") or {})
    if fmt and MODEL_FORMAT_ANNOTATION not in annotations:
        annotations[MODEL_FORMAT_ANNOTATION] = fmt
    meta["annotations"] = annotations
    return {**isvc, "metadata": meta}


def find_runtime(isvc: Mapping, objects: list[dict], release: catalog.Release | None = None
                 ) -> tuple[dict | None, str]:
    """(runtime, "rendered" | "catalog" | "auto-selected ..."): what KServe will use."""
    release = release or catalog.resolve(None)
    namespace = (isvc.get("metadata") or {}).get("namespace")
    namespaced = [o for o in objects if o.get("kind") == "ServingRuntime"
                  and (o.get("metadata") or {}).get("namespace") == namespace]
    cluster = [o for o in objects if o.get("kind") == "ClusterServingRuntime"]
    name = _model(isvc).get("runtime")
    if name:
        for candidate in namespaced + cluster:
            if candidate["metadata"].get("name") == name:
                return candidate, "rendered"
        found = release.runtime(name)
        return found, "catalog" if found else ""
    names = {o["metadata"].get("name") for o in cluster}
    cluster += [release.runtime(n) for n in release.runtime_names() if n not in names]
    chosen = select.select_runtime(isvc, namespaced, cluster)
    return (dict(chosen), "auto-selected") if chosen is not None else (None, "")


def arg_sources(unit: Unit, runtime: dict, args: list[str]) -> tuple[list[ArgSource], list[Replaced]]:
    """Sources of the assembled ``args`` (runtime tokens first, then the ISVC's), aligned by index."""
    runtime_tokens = list(kserve_container(runtime).get("args") or [])
    fact = unit.facts.get(FACT_ARGS)
    name = runtime["metadata"].get("name", "")
    if isinstance(fact, ArgsFact) and fact.runtime == name and list(fact.tokens) == runtime_tokens:
        head, replaced = list(fact.sources), list(fact.replaced)
    else:
        head, replaced = [ArgSource(t, RUNTIME, f"runtime {name}") for t in runtime_tokens], []
    isvc_tokens = _model(unit.isvc).get("args") or []
    tail = [ArgSource(t, ISVC, unit.where(("spec", "predictor", "model", "args", i))
                      if unit.deployment is None else f"InferenceService {unit.name}")
            for i, t in enumerate(isvc_tokens)]
    sources = head + tail
    return [ArgSource(arg, s.kind, s.source) for arg, s in zip(args, sources)], replaced


def to_json(views: list[ModelView]) -> str:
    """The views as a JSON document (``{"models": [...]}``), keys sorted."""
    models = [{k: v for k, v in asdict(view).items() if k != "llm" or v is not None} for view in views]
    return json.dumps({"models": models}, indent=2, sort_keys=True) + "\n"


def to_text(views: list[ModelView]) -> str:
    """The views as indented text: one block per model."""
    return "\n".join(_text_block(v) for v in views)


def _text_block(view: ModelView) -> str:
    """One model's block of the text view."""
    where = f"{view.namespace}/{view.name}" if view.namespace else view.name
    lines = [f"{where}  ({view.source})"]
    if view.llm is not None:
        return "\n".join(visible(line) for line in lines + explain_llm.text_lines(view.llm)) + "\n"
    if view.kind == "InferenceService":
        kind = view.runtime_kind or "runtime"
        lines.append(f"  runtime: {kind} {view.runtime} ({view.runtime_from or 'not found'})")
    else:
        lines[0] = f"{view.kind} {lines[0]}"
    if view.note:
        lines.append(f"  note: {view.note}")
    container = view.container or {}
    for name in TEXT_FIELDS:
        if name == "args":
            lines.extend(_text_args(view))
        elif container.get(name):
            lines.extend(_text_field(name, container[name]))
    if view.flags:
        lines.append(f"  flags: {view.flags}")
    if view.kserve_defaults:
        lines.append("  added by KServe's controller:")
        lines.extend(f"    {line}" for line in view.kserve_defaults)
    if view.replaced:
        lines.append("  replaced runtime args:")
        lines.extend(f"    {r.arg}  ({r.source}; replaced by {r.by})" for r in view.replaced)
    lines.extend(pod_text(view.pod, _compact))
    lines.extend(transformer_text(view.transformer, _compact, _env_text))
    lines.extend(_text_storage(view.storage_initializer))
    lines.extend(_text_multinode(view.multinode))
    lines.extend(_text_scaling(view.scaling))
    # Each item is one line: a control character, CR or LF in a value is shown escaped.
    return "\n".join(visible(line) for line in lines) + "\n"


def _text_storage(info: dict | None) -> list[str]:
    if not info:
        return []
    lines = [f"  storage initializer: ClusterStorageContainer {info['clusterStorageContainer']}"]
    if info.get("image"):
        lines.append(f"    image: {info['image']}")
    for part, values in sorted((info.get("resources") or {}).items()):
        lines.append(f"    {part}: {_compact(values)}")
    if info.get("note"):
        lines.append(f"    note: {info['note']}")
    return lines


def _text_multinode(info: dict | None) -> list[str]:
    if not info:
        return []
    sources = info.get("sources") or {}
    lines = ["  multi-node:"]
    for key in ("tensorParallelSize", "pipelineParallelSize"):
        where = f"  <- {sources[key]}" if key in sources else ""
        lines.append(f"    {key}: {info.get(key)}{where}")
    lines.append(f"    executor backend: {info.get('executorBackend')}; {info.get('nodes')} nodes "
                 f"(head + {info.get('workers')} workers)")
    lines.append(f"    GPUs ({info.get('gpuResource')}): {info.get('totalGpus')} in all, "
                 f"{info.get('headGpus')} on the head, {info.get('workerGpus')} per worker")
    if info.get("note"):
        lines.append(f"    note: {info['note']}")
    return lines


def _text_scaling(info: dict | None) -> list[str]:
    if not info:
        return []
    lines = ["  scaling:"]
    if info.get("mode"):
        lines.append(f"    mode: {_decision(info['mode'])}")
    if info.get("initialScale"):
        lines.append(f"    initial-scale: {_decision(info['initialScale'])}")
    for component, decided in sorted((info.get("components") or {}).items()):
        lines.append(f"    {component}:")
        for key, label in (("start", "pods at start"), ("min", "min replicas"), ("max", "max replicas"),
                           ("metric", "HPA metric")):
            if key in decided:
                lines.append(f"      {label}: {_decision(decided[key])}")
    return lines


def _decision(item: object) -> str:
    """``value  (rule; input)`` for a decision recorded by a transform."""
    if not isinstance(item, Mapping):
        return str(item)
    reason = "; ".join(str(item[k]) for k in ("rule", "input") if item.get(k))
    return f"{item.get('value')}  ({reason})" if reason else str(item.get("value"))


def _text_args(view: ModelView) -> list[str]:
    """The args lines: each argument and its source, aligned."""
    if not view.args:
        return []
    width = max(len(a.arg) for a in view.args if "\n" not in a.arg) if any(
        "\n" not in a.arg for a in view.args) else 0
    lines = ["  args:"]
    for a in view.args:
        text = json.dumps(a.arg) if "\n" in a.arg else a.arg.ljust(width)
        lines.append(f"    {text}  <- {a.source}")
    return lines


def _text_field(name: str, value: object) -> list[str]:
    """One container field as text: scalars inline, lists one item per line."""
    if isinstance(value, str):
        return [f"  {name}: {value}"]
    if name == "env":
        return [f"  {name}:"] + [f"    {_env_text(e)}" for e in value]
    if isinstance(value, list):
        return [f"  {name}:"] + [line for v in value for line in _list_item(v)]
    if isinstance(value, Mapping):
        return [f"  {name}:"] + [f"    {k}: {_compact(v)}" for k, v in sorted(value.items())]
    return [f"  {name}: {value}"]


def _list_item(value: object) -> list[str]:
    """A list item on one line, or a multi-line string (a launch script) as ``|``-prefixed lines."""
    if isinstance(value, str) and "\n" in value:
        return [f"    | {line}".rstrip() for line in value.rstrip("\n").split("\n")]
    return [f"    {_compact(value)}"]


def _env_text(entry: Mapping) -> str:
    """``NAME=value`` or ``NAME from {...}``."""
    if "valueFrom" in entry:
        return f"{entry.get('name')} from {_compact(entry['valueFrom'])}"
    return f"{entry.get('name')}={entry.get('value', '')}"


def _compact(value: object) -> str:
    """A value on one line: strings as they are, the rest as sorted JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _model(isvc: Mapping) -> Mapping:
    """``spec.predictor.model`` (empty when absent)."""
    return ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}
