"""The ``ModelDeployment`` input format (``kserve-cmp.io/v1alpha1``), parsed with file:line for every field.

``docs/reference.md`` documents each field; ``cmp/spec/fields.py`` defines them (names, types, choices,
minimums) for this parser and for the JSON Schema (``kserve-cmp schema``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..problems import Problem
from ..source.yamlio import Doc
from . import fields
from .fields import API_GROUP, API_VERSION  # noqa: F401  (re-exported: the input format's identity)
from . import llm
from .reader import Reader, type_name

KIND = "ModelDeployment"

DEPLOYMENT_MODES = fields.DEPLOYMENT_MODES
LEGACY_MODES = fields.DEPLOYMENT_MODE.legacy()
PROTOCOLS = fields.PROTOCOLS
SCALE_METRICS = fields.SCALE_METRICS
PATCH_OPS = fields.PATCH_OPS

TREE = fields.MODEL_DEPLOYMENT
METADATA_FIELDS = TREE["metadata"].names()
SPEC_FIELDS = TREE["spec"].names()
MODEL_FIELDS = fields.MODEL.names()
SCALING_FIELDS = fields.SCALING.names()
RESOURCE_FIELDS = fields.RESOURCES.names()
FORMAT_OBJECT = fields.MODEL["format"].forms[1]   # the {name, version} form
PATCH_FIELDS = fields.PATCH_OP.names()
#: What a ModelDeployment renders (``spec.kind``): the InferenceService path, or KServe's LLM path.
KINDS = fields.RENDER_KINDS

#: Sections specified by later work; until their transform registers, using them is an error.
NOT_YET_SUPPORTED: dict[str, str] = {
    "multiNode": "multi-node deployments",
    "storageInitializer": "per-model storage initializer settings",
    "transformer": "transformers",
    "pod": "pod fields",
}


@dataclass
class ModelSpec:
    format_name: str | None = None
    format_version: str | None = None
    storage_uri: str | None = None
    protocol_version: str | None = None
    args: list[str] | dict | None = None
    env: list[dict] = field(default_factory=list)
    resources: dict | None = None
    runtime_version: str | None = None


@dataclass
class ScalingSpec:
    min_replicas: int | None = None
    max_replicas: int | None = None
    initial_scale: int | None = None
    scale_metric: str | None = None
    scale_target: int | None = None
    container_concurrency: int | None = None


@dataclass
class ModelDeployment:
    """One parsed ModelDeployment and the document it came from (for locating problems)."""

    doc: Doc
    name: str
    namespace: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    runtime: str | None
    deployment_mode: str | None
    model: ModelSpec
    scaling: ScalingSpec
    patches: list[dict]
    runtime_patches: list[dict]
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = KINDS[0]
    llm: Any = None          # the LLM-only sections (cmp.spec.llm.LLMSpec) when kind is LLMInferenceService

    @property
    def spec(self) -> dict:
        return self.doc.obj.get("spec") or {}

    def problem(self, path: tuple, message: str, rule: str | None = None, level: str = "error") -> Problem:
        return self.doc.problem(path, message, rule=rule, level=level)


def is_model_deployment(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == KIND and obj.get("apiVersion") == API_VERSION


def parse(doc: Doc, supported_sections: frozenset[str] = frozenset()) -> tuple[ModelDeployment | None,
                                                                                  list[Problem]]:
    """Parse one ModelDeployment document; returns (deployment or None, problems)."""
    r = Reader(doc)
    obj = r.mapping((), doc.obj, TREE.names(), required=TREE.required_names())
    meta = r.mapping(("metadata",), obj.get("metadata"), METADATA_FIELDS, required=TREE["metadata"].required_names())
    name = r.scalar(("metadata", "name"), meta.get("name"), TREE["metadata"]["name"])
    namespace = r.scalar(("metadata", "namespace"), meta.get("namespace"), TREE["metadata"]["namespace"])
    labels = r.string_map(("metadata", "labels"), meta.get("labels"))
    annotations = r.string_map(("metadata", "annotations"), meta.get("annotations"))

    spec = r.mapping(("spec",), obj.get("spec"), SPEC_FIELDS, required=TREE["spec"].required_names())
    for section, what in NOT_YET_SUPPORTED.items():
        if spec.get(section) is not None and section not in supported_sections:
            r.error(("spec", section), f"{what} ({section}) are not supported yet", rule="unsupported")
    runtime = r.scalar(("spec", "runtime"), spec.get("runtime"), TREE["spec"]["runtime"])
    mode = r.scalar(("spec", "deploymentMode"), spec.get("deploymentMode"), fields.DEPLOYMENT_MODE)
    model = _model(r, spec.get("model"))
    scaling = read_scaling(r, ("spec", "scaling"), spec.get("scaling"))
    patches = _patches(r, ("spec", "patches"), spec.get("patches"))
    runtime_patches = _patches(r, ("spec", "runtimePatches"), spec.get("runtimePatches"))
    kind = r.scalar(("spec", "kind"), spec.get("kind"), TREE["spec"]["kind"]) or KINDS[0]
    llm_spec = llm.parse(r, obj, kind)
    if r.problems and any(p.level == "error" for p in r.problems):
        return None, r.problems
    md = ModelDeployment(doc, name, namespace, labels, annotations, runtime, mode, model, scaling,
                         patches, runtime_patches, kind=kind, llm=llm_spec)
    return md, r.problems


def _model(r: Reader, value: Any) -> ModelSpec:
    path = ("spec", "model")
    out = ModelSpec()
    if value is None:  # reported once, as the missing spec.model
        return out
    m = r.mapping(path, value, MODEL_FIELDS, required=fields.MODEL.required_names())
    fmt = m.get("format")
    if isinstance(fmt, dict):
        f = r.mapping(path + ("format",), fmt, FORMAT_OBJECT.names(), required=FORMAT_OBJECT.required_names())
        out.format_name = r.string(path + ("format", "name"), f.get("name"))
        version = f.get("version")
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            r.error(path + ("format", "version"), f"expected a string, got {type_name(version)} "
                                                  f"(quote it: version \"1\" and \"1.0\" are different to KServe)")
        else:
            out.format_version = r.string(path + ("format", "version"), version)
    elif fmt is not None:
        out.format_name = r.typed(path + ("format",), fmt, str, "a string or {name, version}")
    out.storage_uri = r.string(path + ("storageUri",), m.get("storageUri"))
    if out.storage_uri is not None and not out.storage_uri.strip():
        r.error(path + ("storageUri",), "must not be empty")
    out.protocol_version = r.scalar(path + ("protocolVersion",), m.get("protocolVersion"),
                                    fields.MODEL["protocolVersion"])
    out.args = read_args(r, path + ("args",), m.get("args"))
    out.env = read_env(r, path + ("env",), m.get("env"))
    out.resources = read_resources(r, path + ("resources",), m.get("resources"))
    out.runtime_version = r.string(path + ("runtimeVersion",), m.get("runtimeVersion"))
    return out


def read_args(r: Reader, path: tuple, value: Any) -> list[str] | dict | None:
    if value is None:
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if not isinstance(item, str):
                r.error(path + (i,), f"expected a string, got {type_name(item)} (quote it)")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.lstrip("-"):
                r.error(path + (key,), "flag names must be non-empty strings")
            elif isinstance(item, (dict, list)):
                r.error(path + (key,), f"expected a scalar flag value (string, number, true or null), "
                                       f"got {type_name(item)}")
        return value
    r.error(path, f"expected a list of arguments or a mapping of flag to value, got {type_name(value)}")
    return None


def read_env(r: Reader, path: tuple, value: Any) -> list[dict]:
    """EnvVars from ``{NAME: value}`` or a list of EnvVar, each checked."""
    if value is None:
        return []
    if env_entry_as_map(r, path, value):
        return []
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if not isinstance(item, str):
                r.error(path + (key,), f"expected a string, got {type_name(item)} (quote it)")
                continue
            out.append({"name": str(key), "value": item})
        return out
    if isinstance(value, list):
        for i, item in enumerate(value):
            e = r.mapping(path + (i,), item, ENV_VAR_FIELDS, required=fields.ENV_VAR.required_names())
            r.string(path + (i, "name"), e.get("name"))
            r.string(path + (i, "value"), e.get("value"))
            if e.get("value") is not None and e.get("valueFrom") is not None:
                r.error(path + (i,), "set value or valueFrom, not both")
        return [dict(item) for item in value if isinstance(item, dict)]
    r.error(path, f"expected a mapping of name to value or a list of EnvVar, got {type_name(value)}")
    return []


#: The fields of a Kubernetes EnvVar (``corev1.EnvVar``).
ENV_VAR_FIELDS = fields.ENV_VAR.names()


def env_entry_as_map(r: Reader, path: tuple, value: Any) -> bool:
    """True (after an error) when ``env`` is one EnvVar written where the name->value mapping goes.

    ``env: {name: FOO, value: bar}`` reads, in the mapping form, as two variables called ``name``
    and ``value``; nobody means that. The fix is a list of one EnvVar, or the mapping ``{FOO: bar}``.
    """
    if not isinstance(value, dict) or "name" not in value or not set(value) <= set(ENV_VAR_FIELDS):
        return False
    name = value.get("name")
    shown = name if isinstance(name, str) and name else "NAME"
    if "valueFrom" in value:
        fix = f"write it as a list of EnvVar: env: [{{name: {shown}, valueFrom: ...}}]"
    else:
        fix = (f"write it as a list of EnvVar (env: [{{name: {shown}, value: ...}}]) or as the mapping "
               f"env: {{{shown}: ...}}")
    keys = " and ".join(repr(k) for k in value)
    r.error(path, f"this is one EnvVar in the name->value mapping form, which would set variables called "
                  f"{keys}; {fix}")
    return True


def read_resources(r: Reader, path: tuple, value: Any) -> dict | None:
    if value is None:
        return None
    res = r.mapping(path, value, RESOURCE_FIELDS)
    for part in ("limits", "requests"):
        group = res.get(part)
        if group is None:
            continue
        if not isinstance(group, dict):
            r.error(path + (part,), f"expected a mapping of resource to quantity, got {type_name(group)}")
            continue
        for key, qty in group.items():
            if isinstance(qty, bool) or not isinstance(qty, (str, int, float)):
                r.error(path + (part, key), f"expected a quantity, got {type_name(qty)}")
    return dict(res)


def read_scaling(r: Reader, path: tuple, value: Any) -> ScalingSpec:
    """A component's ``scaling`` section (``spec.scaling``, ``spec.transformer.scaling``)."""
    s = r.mapping(path, value, SCALING_FIELDS)
    return ScalingSpec(**{_snake(f.name): r.scalar(path + (f.name,), s.get(f.name), f)
                          for f in fields.SCALING.children})


def _snake(name: str) -> str:
    """``minReplicas`` -> ``min_replicas``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _patches(r: Reader, path: tuple, value: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        r.error(path, f"expected a list of RFC 6902 operations, got {type_name(value)}")
        return []
    for i, op in enumerate(value):
        o = r.mapping(path + (i,), op, PATCH_FIELDS, required=fields.PATCH_OP.required_names())
        if o.get("op") is not None:
            r.scalar(path + (i, "op"), o.get("op"), fields.PATCH_OP["op"])
        r.string(path + (i, "path"), o.get("path"))
        if o.get("op") in ("move", "copy") and o.get("from") is None:
            r.error(path + (i,), f"op {o.get('op')!r} needs 'from'")
        if o.get("op") in ("add", "replace", "test") and "value" not in o:
            r.error(path + (i,), f"op {o.get('op')!r} needs 'value'")
    return [op for op in value if isinstance(op, dict)]
