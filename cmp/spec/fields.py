"""The fields of ``ModelDeployment`` and ``ClusterProfile`` as data: one tree per kind.

The parsers (:mod:`cmp.spec.deployment`, :mod:`cmp.spec.profile` and the transforms that read
the ``multiNode``, ``storageInitializer``, ``transformer`` and ``storageInitializerDefaults``
sections) take their known-field tuples, required fields, choices and minimums from here, and
:mod:`cmp.spec.jsonschema` turns the same trees into the JSON Schemas that ``kserve-cmp schema``
prints. A field added here is known to both; a field a parser reads that is missing here is
caught by ``tests/spec/test_jsonschema.py``.

A :class:`Field` says what the parser accepts, not more: ``open`` objects are copied to
Kubernetes as written (a SecurityContext, an EnvVar's ``valueFrom``), ``rules`` are JSON Schema
keywords for the checks the parser makes in code (two fields that exclude each other, a probe's
single handler) and are written in the schema as they stand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

API_GROUP = "kserve-cmp.io"
API_VERSION = f"{API_GROUP}/v1alpha1"


@dataclass(frozen=True)
class Field:
    """One field: its name, its kind and what the parser checks about it.

    ``kind`` is one of ``object`` (``children``), ``map`` (string keys, values ``item``), ``list``
    (items ``item``), ``string``, ``integer``, ``boolean``, ``quantity`` (a Kubernetes quantity:
    a string or a number), ``any``, or ``oneOf`` (one of ``forms``, each a Field without a name).
    """

    name: str
    kind: str
    doc: str = ""
    required: bool = False
    children: tuple[Field, ...] = ()
    item: Field | None = None
    forms: tuple[Field, ...] = ()
    enum: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()   # accepted legacy spelling -> the value it means
    minimum: int | None = None
    check: str | None = None          # a named rule: "dns1035"/"dns1123" (RFC labels, cmp.spec.reader),
                                      # "kserveVersion" (a shipped release's minor, cmp.catalog),
                                      # "podAffinity" (the CRD's Affinity schema, cmp/schema)
    max_length: int | None = None
    pattern: str | None = None        # ECMA-262 and Python alike; the parser checks the same rule in code
    open: bool = False                # an object whose unknown fields pass to Kubernetes unchecked
    section: bool = False             # parsed by a transform (cmp/transforms), not by the spec parser
    ref: str | None = None            # shared shape: written once under $defs with this name
    const: str | None = None
    unique: bool = False              # list items are distinct
    rules: tuple[tuple[str, Any], ...] = ()   # further JSON Schema keywords (cross-field rules)

    def names(self, *, sections: bool = True) -> tuple[str, ...]:
        """The known child field names, in order (``sections=False``: without transform sections)."""
        return tuple(c.name for c in self.children if sections or not c.section)

    def required_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.children if c.required)

    def legacy(self) -> dict[str, str]:
        return dict(self.aliases)

    def __getitem__(self, name: str) -> Field:
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(name)

    def named(self, name: str, doc: str = "", **changes: Any) -> Field:
        """This shape under another name (and description)."""
        return replace(self, name=name, doc=doc or self.doc, **changes)


def obj(name: str, doc: str, *children: Field, **kw: Any) -> Field:
    return Field(name, "object", doc, children=children, **kw)


def string(name: str, doc: str = "", **kw: Any) -> Field:
    return Field(name, "string", doc, **kw)


def integer(name: str, doc: str, minimum: int | None = None, **kw: Any) -> Field:
    return Field(name, "integer", doc, minimum=minimum, **kw)


def one_of(name: str, doc: str, *forms: Field, **kw: Any) -> Field:
    return Field(name, "oneOf", doc, forms=forms, **kw)


def _form(kind: str, doc: str = "", **kw: Any) -> Field:
    return Field("", kind, doc, **kw)


# ---------------------------------------------------------------- shared shapes

DEPLOYMENT_MODES = ("Knative", "Standard")
LEGACY_MODES = (("Serverless", "Knative"), ("RawDeployment", "Standard"))
PROTOCOLS = ("v1", "v2", "grpc-v1", "grpc-v2")
SCALE_METRICS = ("cpu", "memory", "concurrency", "rps")
PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")
#: A probe's handlers; the API server rejects a probe with none or several.
PROBE_HANDLERS = ("exec", "grpc", "httpGet", "tcpSocket")
#: Kubernetes' quantity syntax (k8s.io/apimachinery resource.Quantity), for strings.
QUANTITY_PATTERN = (r"^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(\d+(\.\d*)?|\.\d+)))?$")

DEPLOYMENT_MODE = string(
    "deploymentMode", "Knative or Standard (the legacy names Serverless and RawDeployment are accepted and "
    "written as Knative and Standard). Unset: the cluster profile's default, else Knative.",
    enum=DEPLOYMENT_MODES, aliases=LEGACY_MODES)

STRING_MAP = Field("", "map", item=_form("string"))
QUANTITY = Field("", "quantity", ref="quantity", doc="A Kubernetes quantity such as 500m, 2 or 8Gi.")
STRICT_QUANTITY = Field("", "quantity", ref="checkedQuantity", pattern=QUANTITY_PATTERN,
                        doc="A Kubernetes quantity such as 500m, 2 or 8Gi (checked as Kubernetes parses it).")
QUANTITY_MAP = Field("", "map", "Resource name to quantity.", item=QUANTITY)

RESOURCES = obj(
    "resources", "Kubernetes ResourceRequirements: limits, requests (resource name to quantity), claims.",
    Field("limits", "map", "Resource name to quantity; put GPUs here.", item=QUANTITY),
    Field("requests", "map", "Resource name to quantity.", item=QUANTITY),
    Field("claims", "any", "Dynamic resource claims, copied as written."),
    ref="resources")

ENV_VAR = obj(
    "", "A Kubernetes EnvVar: name and value, or name and valueFrom.",
    string("name", "Variable name.", required=True),
    string("value", "Value."),
    obj("valueFrom", "Where the value comes from (secretKeyRef, configMapKeyRef, fieldRef...).", open=True),
    ref="envVar", rules=(("not", {"required": ["value", "valueFrom"]}),))

#: ``env: {name: X, value: y}`` is one EnvVar written where the name->value mapping goes: refused.
_ENV_VAR_AS_MAP = {"not": {"required": ["name"], "propertyNames": {"enum": [c.name for c in ENV_VAR.children]}}}

ENV = one_of(
    "env", "Container environment: a mapping of name to string value, or a list of EnvVar.",
    Field("", "map", "Name to value (quote numbers and booleans).", item=_form("string"),
          rules=tuple(_ENV_VAR_AS_MAP.items())),
    Field("", "list", "EnvVar items (valueFrom allowed).", item=ENV_VAR),
    ref="env")

ARGS = one_of(
    "args", "Server flags: a list of arguments, or a mapping of flag to value (true: a bare flag; null or "
            "false: remove the runtime's flag). They override the runtime's own flags (docs/args.md).",
    Field("", "list", "Arguments, each a string (quote numbers).", item=_form("string")),
    Field("", "map", "Flag to value.", item=Field("", "any", rules=(
        ("type", ["string", "number", "boolean", "null"]),)),
          rules=(("propertyNames", {"pattern": "[^-]"}),)),
    ref="args")

PROBE = obj(
    "", "A Kubernetes Probe with exactly one handler (exec, grpc, httpGet or tcpSocket).",
    open=True, ref="probe",
    rules=(("oneOf", [{"required": [h], "properties": {h: {"type": "object"}}} for h in PROBE_HANDLERS]),))

PATCH_OP = obj(
    "", "One RFC 6902 operation.",
    string("op", "The operation.", required=True, enum=PATCH_OPS),
    string("path", "JSON pointer of the target.", required=True),
    Field("value", "any", "The value (add, replace, test)."),
    string("from", "JSON pointer of the source (move, copy)."),
    ref="patchOperation", rules=(("allOf", [
        {"if": {"properties": {"op": {"enum": ["move", "copy"]}}}, "then": {"required": ["from"]}},
        {"if": {"properties": {"op": {"enum": ["add", "replace", "test"]}}}, "then": {"required": ["value"]}},
    ]),))

PATCHES = Field("patches", "list", "RFC 6902 operations applied to the rendered InferenceService.",
                item=PATCH_OP)

LABELS = STRING_MAP.named("labels", "Labels (string values).")
ANNOTATIONS = STRING_MAP.named("annotations", "Annotations (string values: quote numbers and booleans).")


# ---------------------------------------------------------------- sections read by transforms

#: Worker env names KServe sets from the parallel sizes (cmp/transforms/multinode.py).
PARALLEL_ENV = ("PIPELINE_PARALLEL_SIZE", "TENSOR_PARALLEL_SIZE")
_NO_PLACEHOLDER = {"not": {"pattern": r"\{\{"}}

MULTI_NODE = obj(
    "multiNode", "Multi-node (Ray) serving with a multi-node runtime (docs/multinode.md).",
    integer("tensorParallelSize", "GPUs per node (tensor parallelism).", minimum=1),
    integer("pipelineParallelSize", "Number of nodes (pipeline parallelism).", minimum=1),
    integer("data", "LLMInferenceService only: data-parallel ranks in all (docs/llm.md).", minimum=1),
    integer("dataLocal", "LLMInferenceService only: data-parallel ranks per pod; data must be a multiple.",
            minimum=1),
    RESOURCES.named("resources", "Resources of each worker container."),
    ENV.named("env", "Worker environment; not the parallel sizes, no {{ }} placeholders.", ref=None, rules=(
        ("allOf", [
            {"if": {"type": "object"}, "then": {
                "propertyNames": {"not": {"enum": list(PARALLEL_ENV)}}, "additionalProperties": _NO_PLACEHOLDER}},
            {"if": {"type": "array"}, "then": {"items": {"properties": {
                "name": {"not": {"enum": list(PARALLEL_ENV)}}, "value": _NO_PLACEHOLDER}}}},
        ]),)),
    section=True)

PULL_SECRETS = Field(
    "imagePullSecrets", "list", "Image pull secrets added to the predictor pod: names or {name} objects.",
    item=one_of("", "", _form("string"), obj("", "", string("name", required=True))))

_STORAGE_RESOURCES = obj(
    "resources", "Requests and limits of the storage-initializer container (requests <= limits).",
    Field("requests", "map", "Resource name to quantity.", item=STRICT_QUANTITY),
    Field("limits", "map", "Resource name to quantity.", item=STRICT_QUANTITY))
_STORAGE_IMAGE = string("image", "Storage-initializer image, pinned (a tag other than latest, or a digest).")
_SECURITY_CONTEXT = obj("securityContext", "Kubernetes SecurityContext of the init container.", open=True)

STORAGE_INITIALIZER = obj(
    "storageInitializer", "Per-model storage initializer (docs/storage.md; KServe v0.20.0 or later).",
    _STORAGE_IMAGE, _STORAGE_RESOURCES, _SECURITY_CONTEXT, PULL_SECRETS, section=True)

STORAGE_DEFAULTS = obj(
    "storageInitializerDefaults", "The cluster's default storage initializer (docs/storage.md).",
    _STORAGE_IMAGE, _STORAGE_RESOURCES, _SECURITY_CONTEXT,
    replace(STRICT_QUANTITY, name="minMemory", doc="Smallest memory limit of any storage initializer.",
            ref=None),
    section=True)

SCALING = obj(
    "scaling", "Replicas and autoscaling (docs/scaling.md).",
    integer("minReplicas", "Fewest replicas.", minimum=0),
    integer("maxReplicas", "Most replicas; 0 means unlimited where the cluster allows it.", minimum=0),
    integer("initialScale", "Knative: pods started before traffic decides.", minimum=0),
    string("scaleMetric", "Metric the autoscaler follows.", enum=SCALE_METRICS),
    integer("scaleTarget", "Target value of the metric.", minimum=1),
    integer("containerConcurrency", "Knative: hard limit of concurrent requests per pod (0: no limit).", minimum=0))

#: Kubernetes' names (k8s.io/apimachinery/pkg/util/validation): a DNS-1123 subdomain, a qualified
#: name (``[prefix/]name``, the form of label and annotation keys) and a label value. Length limits
#: (253 for a subdomain, 63 for a name part and a label value) are the parser's.
DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME = rf"^({DNS1123_SUBDOMAIN}/)?{NAME_PART}$"
#: Annotation keys are checked lower-cased, so their prefix may be written in any case.
ANNOTATION_KEY = rf"^({DNS1123_SUBDOMAIN.replace('a-z', 'a-zA-Z')}/)?{NAME_PART}$"
LABEL_VALUE = rf"^({NAME_PART})?$"
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
#: Pod labels KServe sets itself (``app`` too, in Standard mode: cmp/spec/pod.py).
KSERVE_POD_LABELS = ("serving.kserve.io/inferenceservice", "component", "isvc.generation")
#: Pod annotations KServe drops (its serviceAnnotationDisallowedList, but the replica annotations, which are
#: folded) or reads from the InferenceService's metadata only.
REFUSED_POD_ANNOTATIONS = ("internal.serving.kserve.io/storage-initializer-sourceuri",
                           "kubectl.kubernetes.io/last-applied-configuration", "modelFormat",
                           "serving.kserve.io/deploymentMode")

_OBJECT_NAME = string("", pattern=f"^{DNS1123_SUBDOMAIN}$", max_length=253)
_LABEL_MAP = Field("", "map", item=string("", pattern=LABEL_VALUE, max_length=63),
                   rules=(("propertyNames", {"pattern": QUALIFIED_NAME}),))
_IS_EMPTY = {"anyOf": [{"not": {"required": ["key"]}}, {"required": ["key"], "properties": {"key": {"const": ""}}}]}

TOLERATION = obj(
    "", "A Kubernetes Toleration, checked as Kubernetes checks it.",
    string("key", "Taint key (a qualified name); empty: every key (then operator Exists).",
           pattern=f"^$|{QUALIFIED_NAME}"),
    string("operator", "Equal (default) or Exists.", enum=TOLERATION_OPERATORS),
    string("value", "Taint value for Equal (a label value); none for Exists.", pattern=LABEL_VALUE, max_length=63),
    string("effect", "NoSchedule, PreferNoSchedule or NoExecute; empty: every effect.", enum=("",) + TAINT_EFFECTS),
    Field("tolerationSeconds", "integer", "With effect NoExecute: how long the pod stays on a tainted node."),
    ref="toleration", rules=(("allOf", [
        {"if": _IS_EMPTY, "then": {"required": ["operator"], "properties": {"operator": {"const": "Exists"}}}},
        {"if": {"required": ["operator"], "properties": {"operator": {"const": "Exists"}}},
         "then": {"properties": {"value": {"const": ""}}}},
        {"if": {"required": ["tolerationSeconds"]},
         "then": {"required": ["effect"], "properties": {"effect": {"const": "NoExecute"}}}},
    ]),))

POD = obj(
    "pod", "The component's pods: PodSpec fields KServe reads inline in the component, and the pods' labels "
           "and annotations (docs/reference.md#specpod).",
    _OBJECT_NAME.named("serviceAccountName", "The pods' ServiceAccount (storage credentials come with it)."),
    _LABEL_MAP.named("nodeSelector", "Label key to value: nodes the pods may run on."),
    Field("tolerations", "list", "Taints the pods tolerate.", item=TOLERATION),
    obj("affinity", "Kubernetes Affinity, checked against the target release's InferenceService CRD (here: the "
                    "newest shipped release's).", open=True, check="podAffinity"),
    _OBJECT_NAME.named("priorityClassName", "The pods' PriorityClass."),
    Field("imagePullSecrets", "list", "Secrets for pulling the pods' images, each once: {name} references.",
          item=obj("", "", _OBJECT_NAME.named("name", required=True)), unique=True),
    _LABEL_MAP.named("labels", "Labels of the component's pods (not the ones KServe sets itself).", rules=(
        ("propertyNames", {"pattern": QUALIFIED_NAME, "not": {"enum": list(KSERVE_POD_LABELS)}}),)),
    STRING_MAP.named("annotations", "Annotations of the component's pods (Knative reads its own there).", rules=(
        ("propertyNames", {"pattern": ANNOTATION_KEY, "not": {"enum": list(REFUSED_POD_ANNOTATIONS)}}),)),
    section=True, ref="pod")

TRANSFORMER = obj(
    "transformer", "A transformer in front of the predictor (docs/transformer.md).",
    string("image", "Transformer image.", required=True),
    one_of("args", "Arguments: a list, or a mapping of flag to value (lists repeat the flag).",
           Field("", "list", item=_form("string")),
           Field("", "map", item=Field("", "any", rules=(
               ("type", ["string", "number", "boolean", "null", "array"]),
               ("items", {"type": ["string", "number", "boolean", "null"]}))))),
    ENV.named("env", "Transformer environment."),
    obj("resources", "Kubernetes ResourceRequirements of the transformer container.",
        Field("limits", "any"), Field("requests", "any"), Field("claims", "any")),
    Field("predictorHealthCheck", "boolean", "true: the bare --enable_predictor_health_check, once; false: never."),
    PROBE.named("readinessProbe", "Readiness probe, emitted as written."),
    PROBE.named("livenessProbe", "Liveness probe, emitted as written."),
    SCALING.named("scaling", "The transformer's replicas: spec.scaling's fields and rules, but initialScale (one "
                             "value for the whole InferenceService: set spec.scaling.initialScale).",
                  rules=(("not", {"required": ["initialScale"]}),)),
    POD.named("pod", "The transformer's pods (as spec.pod for the predictor).", section=False),
    section=True)


# ---------------------------------------------------------------- ModelDeployment

#: What a ModelDeployment renders (``spec.kind``).
RENDER_KINDS = ("InferenceService", "LLMInferenceService")
#: A served model name: the LLM presets put it in a shell script (cmp/spec/llm.py).
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$"

LLM_MULTI_NODE = obj(
    "multiNode", "Parallelism of the prefill workload (docs/llm.md).",
    integer("tensorParallelSize", "GPUs of one pod (tensor parallelism).", minimum=1),
    integer("pipelineParallelSize", "Pipeline stages (no shipped release has a preset for it).", minimum=1),
    integer("data", "Data-parallel ranks in all.", minimum=1),
    integer("dataLocal", "Data-parallel ranks per pod; data must be a multiple.", minimum=1))

GATEWAY_REF = obj(
    "", "A Gateway the managed HTTPRoute attaches to.",
    string("name", "Gateway name.", required=True, check="dns1123", max_length=253),
    string("namespace", "Gateway namespace.", required=True, check="dns1123", max_length=63),
    string("sectionName", "Listener of the Gateway.", check="dns1123", max_length=253))

ROUTING = obj(
    "routing", "LLMInferenceService only: how requests reach the model (docs/llm.md). Unset: no router.",
    Field("gateways", "list", "Gateways of the managed HTTPRoute. Unset: the cluster's ingress gateway.",
          item=GATEWAY_REF),
    Field("route", "boolean", "A managed HTTPRoute (default true)."),
    Field("scheduler", "boolean", "The llm-d scheduler (endpoint picker) and InferencePool (default true)."))

PREFILL = obj(
    "prefill", "LLMInferenceService only: a separate prefill workload (prefill/decode disaggregation).",
    integer("replicas", "Prefill replicas (default 1).", minimum=0),
    ARGS.named("args", "Flags merged over spec.model.args for the prefill pods."),
    ENV.named("env", "Env merged over spec.model.env by name."),
    RESOURCES.named("resources", "Resources merged over spec.model.resources per key."),
    LLM_MULTI_NODE)

MODEL = obj(
    "model", "The predictor.",
    one_of("format", "The model format (sklearn, huggingface, vLLM...; case matters): a name, or {name, "
                     "version} with version a string. Unset: the runtime's first format.",
           _form("string"),
           obj("", "", string("name", "Format name.", required=True),
               string("version", "Format version, compared as a string (\"1\" is not \"1.0\").")),
           ref="modelFormat"),
    string("storageUri", "Where the model is (gs://, s3://, hf://, pvc://, oci://, https://...).",
           required=True, pattern=r"\S"),
    string("protocolVersion", "Inference protocol. Unset: what KServe would pick.", enum=PROTOCOLS),
    ARGS,
    ENV,
    RESOURCES.named("resources", "Merged into the runtime's resources per key, as KServe does."),
    string("runtimeVersion", "Image tag override (KServe's runtimeVersion)."),
    string("name", "LLMInferenceService only: the served model name (default metadata.name).",
           pattern=MODEL_NAME_PATTERN),
    PROBE.named("readinessProbe", "Replaces the runtime's readiness probe as a whole."),
    PROBE.named("livenessProbe", "Replaces the runtime's liveness probe as a whole."),
    required=True)

MODEL_DEPLOYMENT = obj(
    "ModelDeployment", "One model, rendered by kserve-cmp into a KServe InferenceService (docs/reference.md).",
    string("apiVersion", required=True, const=API_VERSION),
    string("kind", required=True, const="ModelDeployment"),
    obj("metadata", "Name, namespace, labels and annotations of the InferenceService.",
        string("name", "The InferenceService's name (an RFC 1035 label).", required=True, check="dns1035",
               max_length=63),
        string("namespace", "Namespace of everything rendered for this model.", check="dns1123",
               max_length=63),
        LABELS, ANNOTATIONS, required=True),
    obj("spec", "What to serve and how.",
        string("kind", "What the model renders: InferenceService (default) or LLMInferenceService (KServe's "
                       "LLM path, docs/llm.md).", enum=RENDER_KINDS),
        string("runtime", "The base runtime (a ServingRuntime or ClusterServingRuntime among the inputs, else "
                          "a built-in one; see kserve-cmp runtimes). Unset: auto-selected from the format.",
               check="dns1123", max_length=63),
        DEPLOYMENT_MODE,
        MODEL,
        SCALING,
        PATCHES,
        PATCHES.named("runtimePatches", "RFC 6902 operations applied to the derived ServingRuntime."),
        POD,
        MULTI_NODE, STORAGE_INITIALIZER, TRANSFORMER, ROUTING, PREFILL,
        required=True))


# ---------------------------------------------------------------- ClusterProfile

#: Knative's feature flags that admit PodSpec fields (cmp/spec/profile.py reads them).
KNATIVE_POD_FEATURES = ("kubernetes.podspec-affinity", "kubernetes.podspec-nodeselector",
                        "kubernetes.podspec-tolerations", "kubernetes.podspec-priorityclassname")
FEATURE_VALUES = ("Enabled", "Allowed", "Disabled")
_ANY_CASE_FEATURE = "^(" + "|".join("".join(f"[{c.upper()}{c.lower()}]" for c in v) for v in FEATURE_VALUES) + ")$"

LLM_PROFILE = obj(
    "llm", "What the cluster runs for LLMInferenceServices (docs/llm.md).",
    obj("wva", "The Workload Variant Autoscaler is installed.",
        string("actuator", "Its actuator: hpa (needs a Prometheus Adapter) or keda.", required=True,
               enum=("hpa", "keda")),
        string("variantCost", "Cost per replica (a decimal string, default \"10.0\").", pattern=r"^\d+(\.\d+)?$")),
    Field("enableTLS", "boolean", "The cluster sets enableLLMInferenceServiceTLS."),
    section=True)

CLUSTER_PROFILE = obj(
    "ClusterProfile", "What the target cluster is like; read by kserve-cmp, never applied (docs/reference.md).",
    string("apiVersion", required=True, const=API_VERSION),
    string("kind", required=True, const="ClusterProfile"),
    obj("metadata", "Name of the profile.",
        string("name", "Profile name."),
        Field("namespace", "any", "Not used."),
        Field("labels", "any", "Not used."),
        Field("annotations", "any", "Not used.")),
    obj("spec", "The cluster.",
        DEPLOYMENT_MODE.named("deploymentMode", "Mode of models that set none. Unset: Knative."),
        obj("kserve", "The cluster's KServe installation.",
            string("version", "The KServe release (vMAJOR.MINOR[.PATCH]; a shipped release's minor): selects "
                              "the catalog of runtimes, CRD schemas and rules.", check="kserveVersion"),
            Field("clusterRuntimes", "list", "ClusterServingRuntimes installed on the cluster, owned by the app "
                                             "that holds this profile.",
                  item=string("", check="dns1123", max_length=253), unique=True)),
        obj("knative", "The cluster's Knative Serving configuration.",
            STRING_MAP.named("configAutoscaler", "The data of the config-autoscaler ConfigMap, verbatim "
                                                 "(kebab-case keys, string values)."),
            STRING_MAP.named("configFeatures", "The data of the config-features ConfigMap, verbatim: which pod "
                                               "fields Knative admits (Enabled, Allowed or Disabled, any case).",
                             rules=(("properties", {key: {"pattern": _ANY_CASE_FEATURE} for key in KNATIVE_POD_FEATURES}),))),
        STORAGE_DEFAULTS, LLM_PROFILE,
        required=True))

KINDS: dict[str, Field] = {"ModelDeployment": MODEL_DEPLOYMENT, "ClusterProfile": CLUSTER_PROFILE}


def at(root: Field, *path: str) -> Field:
    """The field at ``path`` below ``root`` (objects only)."""
    out = root
    for name in path:
        out = out[name]
    return out


def field_names(root: Field, *path: str) -> tuple[str, ...]:
    return at(root, *path).names()

