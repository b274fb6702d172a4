"""The LLM path of a ModelDeployment (``spec.kind: LLMInferenceService``): the fields only it reads.

The shared fields (``model.storageUri/args/env/resources``, ``scaling``, ``patches``) are parsed by
:mod:`cmp.spec.deployment` as for an InferenceService; this module checks that the fields an
LLMInferenceService has no use for are absent, and parses the ones only it has: ``model.name``,
``multiNode`` (tensor, pipeline, data, dataLocal), ``routing`` and ``prefill``. It also parses the
ClusterProfile's ``spec.llm`` section (what the cluster has installed for LLMs: WVA, TLS).
``docs/llm.md`` documents each field.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any

from ..lazydataclass import dataclass
from ..source.yamlio import Doc
from . import fields
from .reader import Reader, type_name

ISVC = "InferenceService"
LLM = "LLMInferenceService"

#: Fields of a ModelDeployment an LLMInferenceService has no use for, and why.
NOT_FOR_LLM: dict[tuple, str] = {
    ("spec", "runtime"): "the server is vLLM, run by the release's LLMInferenceServiceConfig presets",
    ("spec", "runtimePatches"): "there is no ServingRuntime; patch the LLMInferenceService with spec.patches",
    ("spec", "transformer"): "an LLMInferenceService has no transformer",
    ("spec", "model", "format"): "the model is always served by vLLM",
    ("spec", "model", "protocolVersion"): "vLLM serves the OpenAI API",
    ("spec", "model", "runtimeVersion"): "the image is the preset's; override it with spec.patches",
    ("spec", "model", "readinessProbe"): "the presets' probes target the fixed port 8000",
    ("spec", "model", "livenessProbe"): "the presets' probes target the fixed port 8000",
    ("spec", "scaling", "initialScale"): "there is no Knative: replicas are minReplicas..maxReplicas",
    ("spec", "scaling", "scaleMetric"): "LLM autoscaling is WVA's (KV cache and queue metrics)",
    ("spec", "scaling", "scaleTarget"): "LLM autoscaling is WVA's (KV cache and queue metrics)",
    ("spec", "scaling", "containerConcurrency"): "there is no Knative queue proxy",
    ("spec", "multiNode", "resources"): "worker pods get spec.model.resources",
    ("spec", "multiNode", "env"): "worker pods get spec.model.env",
}
#: Fields only the LLM path reads.
LLM_ONLY = (("spec", "routing"), ("spec", "prefill"), ("spec", "model", "name"),
            ("spec", "multiNode", "data"), ("spec", "multiNode", "dataLocal"))

ROUTING_FIELDS = fields.ROUTING.names()
GATEWAY_FIELDS = fields.GATEWAY_REF.names()
PREFILL_FIELDS = fields.PREFILL.names()
PROFILE_SECTION = fields.LLM_PROFILE.name
PROFILE_FIELDS = fields.LLM_PROFILE.names()
WVA_FIELDS = fields.LLM_PROFILE["wva"].names()
ACTUATORS = fields.LLM_PROFILE["wva"]["actuator"].enum
KNATIVE_ANNOTATION = "autoscaling.knative.dev/"

#: A served model name: the presets put it in a shell script (``--served-model-name "<name>"``) and
#: in ``publishers/<namespace>/models/<name>``, so quotes, ``$``, spaces and ``{{`` are refused.
MODEL_NAME = re.compile(fields.MODEL_NAME_PATTERN.removesuffix("$") + r"\Z")
_VARIANT_COST = re.compile(fields.LLM_PROFILE["wva"]["variantCost"].pattern.removesuffix("$") + r"\Z")


@dataclass
class Parallelism:
    """``multiNode`` of the LLM path: sizes and the input path of each one set."""

    tensor: int | None = None
    pipeline: int | None = None
    data: int | None = None
    data_local: int | None = None
    paths: dict[str, tuple] = field(default_factory=dict)   # field name -> input path

    @property
    def multi_node(self) -> bool:
        """A worker pod spec (LeaderWorkerSet) is rendered: data or pipeline parallelism."""
        return self.data is not None or self.pipeline is not None


@dataclass
class Routing:
    gateways: list[dict] = field(default_factory=list)
    route: bool = True
    scheduler: bool = True


@dataclass
class Prefill:
    replicas: int | None = None
    args: list[str] | dict | None = None
    env: list[dict] = field(default_factory=list)
    resources: dict | None = None
    parallelism: Parallelism = field(default_factory=Parallelism)


@dataclass
class LLMSpec:
    """The LLM-only sections of one ModelDeployment."""

    model_name: str
    parallelism: Parallelism
    routing: Routing | None = None
    prefill: Prefill | None = None


@dataclass(frozen=True)
class LLMProfile:
    """ClusterProfile ``spec.llm``: the WVA controller (and its actuator) and TLS between pods."""

    doc: Doc | None = None
    wva_actuator: str | None = None
    variant_cost: str | None = None
    enable_tls: bool = False

    def where(self, *path: str) -> str:
        if self.doc is None:
            return "no cluster profile"
        return self.doc.where(("spec", PROFILE_SECTION) + path)


def parse(r: Reader, obj: dict, kind: str) -> LLMSpec | None:
    """The LLM-only sections of a ModelDeployment of ``kind``; for an InferenceService, errors for any set."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if kind != LLM:
        for path in LLM_ONLY:
            if _get(obj, path) is not None:
                r.error(path, f"{path[-1]} is only read for spec.kind: {LLM}", rule="llm")
        return None
    for path, why in NOT_FOR_LLM.items():
        if _get(obj, path) is not None:
            r.error(path, f"{path[-1]} is not used by an {LLM}: {why}; remove it", rule="llm")
    if spec.get("deploymentMode") == "Knative" or spec.get("deploymentMode") == "Serverless":
        r.error(("spec", "deploymentMode"), f"an {LLM} runs as a Deployment or LeaderWorkerSet, never on Knative: "
                                            "remove spec.deploymentMode", rule="llm")
    annotations = (obj.get("metadata") or {}).get("annotations") if isinstance(obj.get("metadata"), dict) else None
    for key in sorted(annotations or {}) if isinstance(annotations, dict) else ():
        if str(key).startswith(KNATIVE_ANNOTATION):
            r.error(("metadata", "annotations", key), f"{key}: an {LLM} has no Knative and KServe drops this "
                                                      "annotation silently; set spec.scaling instead", rule="llm")
    model = spec.get("model") if isinstance(spec.get("model"), dict) else {}
    prefill = spec.get("prefill") if isinstance(spec.get("prefill"), dict) else {}
    for path, args in ((("spec", "model", "args"), model.get("args")), (("spec", "prefill", "args"),
                                                                           prefill.get("args"))):
        for key, value in args.items() if isinstance(args, dict) else ():
            if value is None or value is False:
                r.error(path + (key,), f"{key}: {'null' if value is None else 'false'} removes a runtime's flag on the "
                                       f"InferenceService path; the presets' launch script cannot lose a flag, "
                                       "so this does nothing: remove the entry", rule="llm")
    name = model.get("name", (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict)
                      else None)
    model_name = _model_name(r, name, "name" in model)
    return LLMSpec(model_name or "", parse_parallelism(r, ("spec", "multiNode"), spec.get("multiNode"),
                                                       fields.MULTI_NODE.names()),
                   _routing(r, spec.get("routing")), _prefill(r, spec.get("prefill")))


def _get(obj: Any, path: tuple) -> Any:
    for part in path:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _model_name(r: Reader, value: Any, written: bool) -> str | None:
    path = ("spec", "model", "name") if written else ("metadata", "name")
    value = r.string(path, value)
    if value is not None and not MODEL_NAME.fullmatch(value):
        r.error(path, f"model name {value!r} would break the presets' launch script: use letters, digits and "
                      "'.', '_', '-', '/' (at most 253 characters, starting with a letter or digit)", rule="llm")
        return None
    return value


def parse_parallelism(r: Reader, path: tuple, value: Any, known: tuple[str, ...]) -> Parallelism:
    """``multiNode`` sizes: each an integer >= 1; data and dataLocal together, data a multiple of dataLocal."""
    block = r.mapping(path, value, known)
    out = Parallelism()
    for name, attr in (("tensorParallelSize", "tensor"), ("pipelineParallelSize", "pipeline"), ("data", "data"),
                       ("dataLocal", "data_local")):
        size = r.integer(path + (name,), block.get(name), minimum=1)
        if size is not None:
            setattr(out, attr, size)
            out.paths[name] = path + (name,)
    if (out.data is None) != (out.data_local is None):
        missing, present = ("dataLocal", "data") if out.data is not None else ("data", "dataLocal")
        r.error(path + (present,), f"{present} needs {missing}: set both (data = ranks in all, dataLocal = ranks "
                                   "per pod; pods = data / dataLocal)", rule="llm")
    elif out.data is not None and out.data_local is not None and out.data % out.data_local:
        r.error(path + ("data",), f"data {out.data} is not a multiple of dataLocal {out.data_local}: KServe sizes "
                                  f"the LeaderWorkerSet as data / dataLocal = {out.data // out.data_local} pod(s) and "
                                  f"{out.data % out.data_local} ranks would never start; make data a multiple of "
                                  "dataLocal", rule="llm")
    if out.pipeline is not None and out.data is not None:
        r.error(path + ("pipelineParallelSize",), "pipeline and data parallelism cannot be combined (KServe's "
                                                  "webhook refuses it): choose one", rule="llm")
    return out


def _routing(r: Reader, value: Any) -> Routing | None:
    if value is None:
        return None
    path = ("spec", "routing")
    block = r.mapping(path, value, ROUTING_FIELDS)
    out = Routing()
    gateways = block.get("gateways")
    if gateways is not None and not isinstance(gateways, list):
        r.error(path + ("gateways",), f"expected a list of {{name, namespace}}, got {type_name(gateways)}")
    for i, item in enumerate(gateways if isinstance(gateways, list) else []):
        at = path + ("gateways", i)
        ref = r.mapping(at, item, GATEWAY_FIELDS, required=("name", "namespace"))
        entry = {key: r.dns_name(at + (key,), ref.get(key), max_len=253 if key == "name" else 63)
                 for key in ("name", "namespace")}
        if ref.get("sectionName") is not None:
            entry["sectionName"] = r.dns_name(at + ("sectionName",), ref.get("sectionName"), max_len=253)
        out.gateways.append({k: v for k, v in entry.items() if v is not None})
    for key in ("route", "scheduler"):
        flag = r.typed(path + (key,), block.get(key), bool)
        if flag is not None:
            setattr(out, key, flag)
    if out.gateways and not out.route:
        r.error(path + ("gateways",), "gateways are the parents of the managed HTTPRoute: with route: false there "
                                      "is none; remove gateways or set route: true", rule="llm")
    return out


def _prefill(r: Reader, value: Any) -> Prefill | None:
    from . import deployment   # the shared field readers (deployment imports this module)

    if value is None:
        return None
    path = ("spec", "prefill")
    block = r.mapping(path, value, PREFILL_FIELDS)
    return Prefill(replicas=r.integer(path + ("replicas",), block.get("replicas"), minimum=0),
                   args=deployment.read_args(r, path + ("args",), block.get("args")),
                   env=deployment.read_env(r, path + ("env",), block.get("env")),
                   resources=deployment.read_resources(r, path + ("resources",), block.get("resources")),
                   parallelism=parse_parallelism(r, path + ("multiNode",), block.get("multiNode"),
                                                 fields.LLM_MULTI_NODE.names()))


def parse_profile(doc: Doc | None) -> tuple[LLMProfile, list]:
    """ClusterProfile ``spec.llm`` of ``doc`` (None: no profile), and its problems."""
    if doc is None:
        return LLMProfile(), []
    r = Reader(doc)
    path = ("spec", PROFILE_SECTION)
    spec = doc.obj.get("spec") if isinstance(doc.obj.get("spec"), dict) else {}
    block = r.mapping(path, spec.get(PROFILE_SECTION), PROFILE_FIELDS)
    actuator = cost = None
    if block.get("wva") is not None:
        wva = r.mapping(path + ("wva",), block.get("wva"), WVA_FIELDS, required=("actuator",))
        actuator = r.choice(path + ("wva", "actuator"), wva.get("actuator"), ACTUATORS)
        cost = r.string(path + ("wva", "variantCost"), wva.get("variantCost"))
        if cost is not None and not _VARIANT_COST.fullmatch(cost):
            r.error(path + ("wva", "variantCost"), f"variantCost {cost!r} must be a non-negative decimal such as "
                                                   "\"10.0\"")
    tls = r.typed(path + ("enableTLS",), block.get("enableTLS"), bool)
    return LLMProfile(doc, actuator, cost, bool(tls)), r.problems
