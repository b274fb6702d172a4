"""Compose an LLMInferenceService offline: presets, merge, controller fix-ups, template pass.

The steps and their order are ``combineBaseRefsConfig`` in ``pkg/controller/v1alpha2/llmisvc/config_merge.go``
of the target release, on the objects as the API server stores them (their CRD schema defaults set,
:mod:`.defaults`): the mutating webhook's default (``spec.model.name`` = ``metadata.name``,
``llm_inference_service_defaults.go``); the presets (:mod:`.presets`) merged in order, then the service
(:mod:`.merge`); the scheduler's ServiceAccount name when empty; the template pass over every string of
the merged spec against the *unmerged* service (:mod:`.gotemplate`); then the HTTPRoute's parentRefs from
``router.gateway.refs``, backendRefs pointed at the workload Service when there is no scheduler (or at
``scheduler.pool.ref``), and the endpoint picker's port 9002 when unset.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from .. import catalog
from ..problems import ERROR, Problem
from . import gotemplate
from .defaults import with_defaults
from .merge import MergeError, leaves, merge_layer, tag
from .names import child_name
from .presets import Preset, select_presets

SERVICE = "service"
CRD_DEFAULT = "crd-default"
TEMPLATED = ("preset:", "config:")
"""Sources whose strings are meant as templates: the presets and the app's own LLMInferenceServiceConfigs."""
WEBHOOK = "webhook"
CONTROLLER = "controller"

GLOBAL_CONFIG_DEFAULTS: dict[str, Any] = {
    "SystemNamespace": "kserve",
    "IngressGatewayName": "kserve-ingress-gateway",
    "IngressGatewayNamespace": "kserve",
    "EnableTLS": False,
    "ModelBasedRoutingHeaderName": "X-Gateway-Model-Name",
}
"""The ``.GlobalConfig`` values the presets read when the cluster profile says nothing: the system namespace
``kserve`` and the ``kserveIngressGateway`` (``kserve/kserve-ingress-gateway``) of every release's
``config/configmap/inferenceservice.yaml``; TLS off (the Go zero value: the shipped ConfigMaps set no LLM TLS
key); the model-routing header KServe's own resolver tests use. ``InferencePoolNamespacedName`` is computed."""

_PLAIN = re.compile(r"[A-Za-z0-9_-]+\Z")


@dataclass
class Composition:
    """The result of :func:`compose`.

    ``presets``: the presets in merge order (name, reason, ...); ``spec``: the composed, templated spec;
    ``origins``: leaf path tuple (``("template", "containers", 0, "args", 1)``, relative to ``spec``) ->
    ``preset:<name>@<release>``, ``service``, ``webhook`` or ``controller``; ``problems``: what the controller
    would fail on or silently change, as :class:`cmp.problems.Problem` values (``path`` is the dotted path
    of the service, ``spec.``-prefixed); ``release``: the KServe tag composed for; ``service``: the service
    as the controller sees it (webhook defaults applied)."""

    release: str
    service: dict
    presets: list[Preset] = field(default_factory=list)
    spec: dict = field(default_factory=dict)
    origins: dict[tuple, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def dotted(path: tuple) -> str:
    """``("spec", "template", "containers", 0, "args")`` -> ``spec.template.containers[0].args``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{part}]"
    return out


def _problem(path: tuple, message: str, rule: str, level: str = ERROR) -> Problem:
    return Problem(message, path=dotted(path), rule=rule, level=level)


def defaulted(service: dict) -> dict:
    """The service after KServe's mutating webhook: ``spec.model.name`` defaults to ``metadata.name``."""
    out = copy.deepcopy(service) if isinstance(service, dict) else {}
    if not isinstance(out.get("spec"), dict):
        out["spec"] = {}
    if not isinstance(out.get("metadata"), dict):
        out["metadata"] = {}
    model = out["spec"].setdefault("model", {})
    meta = out["metadata"]
    if isinstance(model, dict) and not model.get("name"):
        model["name"] = meta.get("name", "")
    return out


def compose(service: dict, release: str, *, global_config: dict | None = None,
            configs: dict[str, dict] | None = None) -> Composition:
    """Compose ``service`` (an LLMInferenceService document) as the controller of KServe ``release`` does.

    ``configs``: the specs of the LLMInferenceServiceConfigs the app puts in the service's namespace, by name.
    The controller looks a config up there before ``kserve``, so one named like a preset replaces it (a
    ``worker-pipeline-parallel`` one supplies the preset no release ships), and ``spec.baseRefs`` are read
    from them; a baseRef that is not among them is a problem (it would have to exist in the cluster)."""
    tag_ = catalog.resolve(release).tag
    configs = {name: with_defaults(spec, tag_, "spec")[0] for name, spec in (configs or {}).items()}
    svc, added = with_defaults(defaulted(service), tag_)
    spec = svc["spec"] if isinstance(svc.get("spec"), dict) else {}
    spec_source: Any = SERVICE
    if any(path[:1] == ("spec",) for path in added):
        tree = tag(spec, SERVICE)
        for path in added:
            if path[:1] == ("spec",):
                _set_origin(tree, path[1:], CRD_DEFAULT)
        spec_source = (tree, SERVICE)
    result = Composition(release=tag_, service=svc)
    problems = result.problems
    base_refs = _base_refs(spec, configs, problems)
    resolved = spec
    try:
        for name in base_refs:   # the pre-pass: baseRefs merged over the service decide the presets
            resolved, _ = merge_layer(resolved, {}, configs[name], f"config:{name}", tag_)
    except MergeError as exc:
        problems.append(_problem(("spec", "baseRefs") + exc.path, str(exc), "llmisvc-merge"))
    if _get(resolved, ("model", "name")) != _get(spec, ("model", "name")):
        spec["model"]["name"] = resolved["model"]["name"]   # config_merge.go writes a baseRef's model.name back
    result.presets = [_shadowed(p, configs) for p in select_presets(resolved, tag_)]
    for preset in result.presets:
        if not preset.shipped and not preset.config:
            problems.append(_problem(("spec",), f"the controller looks up LLMInferenceServiceConfig {preset.name} "
                                     f"({preset.reason}) but KServe {tag_} ships no such preset: reconcile stops "
                                     "with ConfigNotFound", "llmisvc-preset-missing"))
    if isinstance(resolved.get("worker"), dict) and not any("worker" in p.name for p in result.presets):
        problems.append(_problem(("spec", "worker"), "a worker needs data (parallelism.data/dataLocal) or pipeline "
                                 "(parallelism.pipeline) parallelism: no workload preset applies and the webhook "
                                 "refuses the service", "llmisvc-no-workload-preset"))
    merged: dict = {}
    origin: Any = {}
    layers = [(p.source, configs[p.name] if p.config else with_defaults(p.spec(), tag_, "spec")[0])
              for p in result.presets if p.shipped or p.config]
    layers += [(f"config:{name}", configs[name]) for name in base_refs] + [(spec_source, spec)]
    try:
        for source, layer in layers:
            merged, origin = merge_layer(merged, origin, layer, source, tag_)
    except MergeError as exc:
        problems.append(_problem(("spec",) + exc.path, str(exc), "llmisvc-merge"))
    if not _get(service, ("spec", "model", "name")) and not base_refs:
        _set_origin(origin, ("model", "name"), WEBHOOK)
    _before_template(svc, merged, origin)
    key = catalog.version_key(tag_)
    data = gotemplate.root(svc, _global_config(svc, merged, global_config), key)
    _template_metadata(svc, problems)
    merged = _template(merged, origin, (), data, gotemplate.functions_for(key), problems)
    _after_template(svc, merged, origin, key)
    result.spec = merged
    result.origins = leaves(origin)
    return result


def _get(node: Any, path: tuple) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _base_refs(spec: dict, configs: dict[str, dict], problems: list[Problem]) -> list[str]:
    """The names of ``spec.baseRefs`` the app supplies; a problem for each other one."""
    out = []
    refs = spec.get("baseRefs")
    for index, ref in enumerate(refs if isinstance(refs, list) else []):
        name = ref.get("name") if isinstance(ref, dict) else None
        if name in configs:
            out.append(name)
        else:
            problems.append(_problem(("spec", "baseRefs", index), f"LLMInferenceServiceConfig {name} is not in the app: "
                                     "the composition leaves it out (write its settings into the service, or add it "
                                     "to the app)", "llmisvc-baserefs"))
    return out


def _shadowed(preset: Preset, configs: dict[str, dict]) -> Preset:
    if preset.name not in configs:
        return preset
    return dataclasses.replace(preset, config=True, reason=preset.reason + "; the app's LLMInferenceServiceConfig "
                               "of that name in the service's namespace replaces the shipped preset")


def _global_config(svc: dict, merged: dict, overrides: dict | None) -> dict:
    values = {**GLOBAL_CONFIG_DEFAULTS, **(overrides or {})}
    meta = svc.get("metadata") or {}
    scheduler = (merged.get("router") or {}).get("scheduler") if isinstance(merged.get("router"), dict) else None
    ref = ((scheduler or {}).get("pool") or {}).get("ref") if isinstance(scheduler, dict) else None
    pool = ref["name"] if isinstance(ref, dict) and ref.get("name") else child_name(str(meta.get("name", "")),
                                                                                     "-inference-pool")
    values["InferencePoolNamespacedName"] = f"{meta.get('namespace', '')}/{pool}"
    return values


def _set_origin(origin: Any, path: tuple, source: Any) -> None:
    node = origin
    for key in path[:-1]:
        if isinstance(node, dict):
            if not isinstance(node.get(key), (dict, list)):
                node[key] = {}
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return
    if isinstance(node, dict) or isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        node[path[-1]] = source


def _before_template(svc: dict, merged: dict, origin: Any) -> None:
    """The controller's fix-up before the template pass: the scheduler pod's ServiceAccount."""
    template = ((merged.get("router") or {}).get("scheduler") or {}).get("template") \
        if isinstance(merged.get("router"), dict) and isinstance(merged["router"].get("scheduler"), dict) else None
    if isinstance(template, dict) and not template.get("serviceAccountName"):
        template["serviceAccountName"] = child_name(str((svc.get("metadata") or {}).get("name", "")), "-epp-sa")
        _set_origin(origin, ("router", "scheduler", "template", "serviceAccountName"), CONTROLLER)


def _origin_at(origin: Any, path: tuple) -> str:
    node = origin
    for key in path:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            break
    return node if isinstance(node, str) else SERVICE


def _template(node: Any, origin: Any, path: tuple, data: gotemplate.Value, functions: frozenset[str],
              problems: list[Problem]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if "{{" in str(key):
                problems.append(_problem(("spec",) + path + (key,), "a map key holds '{{': the controller runs the "
                                         "whole spec through Go's text/template", "llmisvc-template-user-text"))
            out[key] = _template(value, origin, path + (key,), data, functions, problems)
        return out
    if isinstance(node, list):
        return [_template(value, origin, path + (i,), data, functions, problems) for i, value in enumerate(node)]
    if not isinstance(node, str) or "{{" not in node:
        return node
    source = _origin_at(origin, path)
    try:
        rendered = gotemplate.render_string(node, data, functions)
    except gotemplate.TemplateError as exc:
        problems.append(_template_problem(("spec",) + path, source, node, exc))
        return node
    if not source.startswith(TEMPLATED) and not _only_escapes(node):
        problems.append(_problem(("spec",) + path, f"holds '{{{{', and the controller runs the whole spec through "
                                 f"Go's text/template: it becomes {rendered!r} (escape it as {{{{ `{{{{` }}}})",
                                 "llmisvc-template-user-text"))
    return rendered


#: An action that only prints a raw string: how a literal ``{{`` is escaped (``{{ `{{` }}``). A quoted
#: string would not do: the template is the spec's JSON text, where its quotes are ``\"``.
_ESCAPE_ACTION = re.compile(r"\{\{-? *`[^`]*` *-?\}\}")


def _only_escapes(text: str) -> bool:
    """Every action of ``text`` prints a constant: the user escaped a literal ``{{`` on purpose."""
    return "{{" not in _ESCAPE_ACTION.sub("", text)


def _template_problem(path: tuple, source: str, text: str, exc: gotemplate.TemplateError) -> Problem:
    if isinstance(exc, gotemplate.Unsupported) and source.startswith(TEMPLATED):
        return _problem(path, f"kserve-cmp cannot evaluate this preset template ({exc})", "llmisvc-template")
    if source.startswith(TEMPLATED):
        return _problem(path, f"the controller's template pass fails on {source}: {exc}", "llmisvc-template")
    return _problem(path, f"holds '{{{{': the controller runs the whole spec through Go's text/template and fails "
                          f"({exc}); escape it as {{{{ `{{{{` }}}}", "llmisvc-template-user-text")


def _template_metadata(svc: dict, problems: list[Problem]) -> None:
    """The metadata is templated too (the merged config carries the service's ObjectMeta)."""
    meta = svc.get("metadata") or {}
    for section in ("labels", "annotations"):
        for key, value in (meta.get(section) or {}).items() if isinstance(meta.get(section), dict) else ():
            if "{{" in str(key) or (isinstance(value, str) and "{{" in value):
                problems.append(_problem(("metadata", section, key), "holds '{{': the controller runs the "
                                         "service's metadata through Go's text/template with the spec",
                                         "llmisvc-template-user-text"))


def _parent_refs(refs: list) -> list:
    out = []
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        entry = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": ref.get("name")}
        if ref.get("namespace"):
            entry["namespace"] = ref["namespace"]
        if ref.get("sectionName"):
            entry["sectionName"] = ref["sectionName"]
        out.append(entry)
    return out


def _after_template(svc: dict, merged: dict, origin: Any, release: tuple[int, int, int]) -> None:
    """The controller's fix-ups after the template pass (config_merge.go; the endpoint picker's port from
    v0.20.0)."""
    router = merged.get("router") if isinstance(merged.get("router"), dict) else None
    if router is None:
        return
    name = str((svc.get("metadata") or {}).get("name", ""))
    route_spec = ((router.get("route") or {}).get("http") or {}).get("spec") \
        if isinstance(router.get("route"), dict) and isinstance(router["route"].get("http"), dict) else None
    gateway_refs = (router.get("gateway") or {}).get("refs") if isinstance(router.get("gateway"), dict) else None
    route_origin = _node(origin, ("router", "route", "http", "spec"))
    if isinstance(route_spec, dict) and gateway_refs:
        route_spec["parentRefs"] = _parent_refs(gateway_refs)
        if isinstance(route_origin, dict):
            route_origin["parentRefs"] = tag(route_spec["parentRefs"], CONTROLLER)
    scheduler = router.get("scheduler")
    pool_ref = ((scheduler.get("pool") or {}).get("ref") or {}).get("name") if isinstance(scheduler, dict) else None
    if isinstance(route_spec, dict) and (scheduler is None or pool_ref):
        default_pool = child_name(name, "-inference-pool")
        for i, rule in enumerate(route_spec.get("rules") or []):
            for j, backend in enumerate((rule or {}).get("backendRefs") or []):
                if isinstance(backend, dict) and backend.get("kind") == "InferencePool" \
                        and backend.get("name") == default_pool:
                    if scheduler is None:
                        backend.update({"group": "", "kind": "Service", "name": child_name(name, "-kserve-workload-svc")})
                        keys = ("group", "kind", "name")
                    else:
                        backend["name"] = pool_ref
                        keys = ("name",)
                    for key in keys:
                        _set_origin(origin, ("router", "route", "http", "spec", "rules", i, "backendRefs", j, key),
                                    CONTROLLER)
    picker = (((scheduler or {}).get("pool") or {}).get("spec") or {}).get("endpointPickerRef") \
        if isinstance(scheduler, dict) else None
    if release >= (0, 20, 0) and isinstance(picker, dict) and picker.get("kind", "Service") in ("Service", "") \
            and not (isinstance(picker.get("port"), dict) and picker["port"].get("number")):
        picker["port"] = {"number": 9002}
        _set_origin(origin, ("router", "scheduler", "pool", "spec", "endpointPickerRef", "port"), {"number": CONTROLLER})


def _node(origin: Any, path: tuple) -> Any:
    node = origin
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
