"""The subset of Go's ``text/template`` that the shipped LLMInferenceService presets use, evaluated as
the controller evaluates it.

After merging the layers, the controller marshals the whole merged config to JSON and executes that
text as one Go template with ``missingkey=error`` (``ReplaceVariables`` in
``pkg/controller/v1alpha2/llmisvc/config_merge.go``, every shipped release). The data is the
*unmerged* LLMInferenceService (Go structs: ``.ObjectMeta.*``, ``.Spec.*``) plus ``.GlobalConfig``;
the functions are ``ChildName`` (knative's ``kmeta.ChildName``), ``kvTransferConfig`` and
``shutdownTimeout`` (v0.19+) next to Go's builtins.

:func:`render_string` executes one JSON string of that text: actions see the JSON-escaped string
(so ``{{-`` trims the spaces after an escaped ``\\n`` but not the line break itself, as in the
controller) and the result is JSON-decoded again. Supported: text, ``{{ pipeline }}``, ``{{ if }}``
/ ``{{ else }}`` / ``{{ else if }}`` / ``{{ end }}``, trim markers, comments, field chains, ``nil``,
numbers, raw and quoted strings, ``and``, ``or``, ``not`` and the three functions above. Anything else
Go knows (``range``, ``with``, ``printf``, variables, ...) is :class:`Unsupported`; names Go does not
know fail as Go's parser fails (:class:`TemplateError`). Go semantics kept: struct fields (not map
keys) are looked up, so an unset pointer field prints ``<nil>`` and evaluating a field through it
fails ("nil pointer evaluating"); a non-nil pointer is true even if it points at 0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

from ..gojsonenc import go_escape
from ..kserve.resources import QuantityError, parse_quantity
from .names import child_name


class TemplateError(ValueError):
    """The controller's template pass fails on this text (parse or execution error)."""


class Unsupported(TemplateError):
    """Valid Go template syntax outside the subset kserve-cmp evaluates."""


GO_BUILTINS = frozenset({"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
                         "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"})
GO_KEYWORDS = frozenset({"range", "with", "define", "template", "block", "break", "continue"})
FUNCTIONS = frozenset({"ChildName", "kvTransferConfig", "shutdownTimeout"})
"""The controller's own template functions (``ReplaceVariables``), all releases together."""

SINCE: dict[str, tuple[int, int, int]] = {
    "ChildName": (0, 17, 0), "shutdownTimeout": (0, 19, 0), "kvTransferConfig": (0, 20, 0),
    "SystemNamespace": (0, 17, 0), "IngressGatewayName": (0, 17, 0), "IngressGatewayNamespace": (0, 17, 0),
    "EnableTLS": (0, 18, 0), "ModelBasedRoutingHeaderName": (0, 19, 0), "InferencePoolNamespacedName": (0, 20, 0),
}
"""The first release whose controller offers a function or a ``.GlobalConfig`` field (``ReplaceVariables`` and
``templateGlobalConfig`` in config_merge.go of each release): before it, a template using it fails."""


def functions_for(release: tuple[int, int, int]) -> frozenset[str]:
    """The controller's template functions in the release ``(0, 20, 0)``."""
    return frozenset(name for name in FUNCTIONS if SINCE[name] <= release)

# ----------------------------------------------------------------------------- Go values

#: Go struct type -> field -> (json key, field type). Types: "string", "bool", "int" (non-pointer);
#: "*int", "*string" (pointers); "map", "slice"; a struct name (non-pointer) or "*" + struct name.
#: From ``pkg/apis/serving/v1alpha2/llm_inference_service_types.go``; a field of another struct
#: (a PodSpec's, say) is looked up by its lowerCamel JSON name and treated as a pointer.
TYPES: dict[str, dict[str, tuple[str, str]]] = {
    "Root": {"ObjectMeta": ("metadata", "ObjectMeta"), "Spec": ("spec", "Spec"),
             "GlobalConfig": ("GlobalConfig", "GlobalConfig")},
    "ObjectMeta": {"Name": ("name", "string"), "Namespace": ("namespace", "string"),
                   "Labels": ("labels", "map"), "Annotations": ("annotations", "map"),
                   "GenerateName": ("generateName", "string"), "UID": ("uid", "string")},
    "Spec": {"Model": ("model", "Model"), "StorageInitializer": ("storageInitializer", "*any"),
             "Router": ("router", "*any"), "Prefill": ("prefill", "*Workload"), "Tracing": ("tracing", "*any"),
             "BaseRefs": ("baseRefs", "slice"), "WorkloadSpec": ("", "Workload")},
    "Workload": {"Replicas": ("replicas", "*int"), "Scaling": ("scaling", "*any"),
                 "Parallelism": ("parallelism", "*Parallelism"), "Labels": ("labels", "map"),
                 "Annotations": ("annotations", "map"), "Template": ("template", "*PodSpec"),
                 "Worker": ("worker", "*PodSpec"), "KVCacheOffloading": ("kvCacheOffloading", "*KVCacheOffloading")},
    "Parallelism": {"Tensor": ("tensor", "*int"), "Pipeline": ("pipeline", "*int"), "Data": ("data", "*int"),
                    "DataLocal": ("dataLocal", "*int"), "DataRPCPort": ("dataRPCPort", "*int"),
                    "Expert": ("expert", "bool")},
    "Model": {"URI": ("uri", "string"), "Name": ("name", "*string"), "LoRA": ("lora", "*any"),
              "Confidential": ("confidential", "*any")},
    "GlobalConfig": {"SystemNamespace": ("SystemNamespace", "string"),
                     "IngressGatewayName": ("IngressGatewayName", "string"),
                     "IngressGatewayNamespace": ("IngressGatewayNamespace", "string"),
                     "EnableTLS": ("EnableTLS", "bool"),
                     "ModelBasedRoutingHeaderName": ("ModelBasedRoutingHeaderName", "string"),
                     "InferencePoolNamespacedName": ("InferencePoolNamespacedName", "string")},
}
TYPES["Spec"].update(TYPES["Workload"])   # WorkloadSpec is embedded in the spec: its fields are promoted


@dataclass(frozen=True)
class Value:
    """A Go value: ``type`` (see :data:`TYPES`; ``"nil"`` for the untyped nil), ``data`` (the JSON value, None
    for a nil pointer), ``pointer``."""

    type: str
    data: Any
    pointer: bool = False

    def truth(self) -> bool:
        """Go's ``truth``: nil and zero values are false, a non-nil pointer and any struct are true."""
        if self.type == "nil":
            return False
        if self.pointer:
            return self.data is not None
        if self.type in TYPES or self.type in ("any", "PodSpec", "KVCacheOffloading"):
            return True
        return bool(self.data)

    def text(self) -> str:
        """How ``{{ value }}`` prints it (``fmt.Fprint`` after one pointer indirection)."""
        if self.pointer and self.data is None:
            return "<nil>"
        if self.type in ("string", "int"):
            return str(self.data)
        if self.type == "bool":
            return "true" if self.data else "false"
        raise Unsupported(f"printing a Go {self.type} value is outside the evaluated template subset")


def _field_type(owner: str, name: str) -> tuple[str, str] | None:
    if owner in TYPES:
        return TYPES[owner].get(name)
    if owner in ("any", "PodSpec", "KVCacheOffloading"):   # other structs: their JSON names, as pointers
        return name[0].lower() + name[1:], "*any"
    return None


def field(value: Value, name: str) -> Value:
    """``value.Name`` as Go's template executes it."""
    if value.pointer and value.data is None:
        raise TemplateError(f"nil pointer evaluating *{value.type}.{name}")
    if value.type == "map":   # a map key, where missingkey=error applies
        if not isinstance(value.data, dict) or name not in value.data:
            raise TemplateError(f'map has no entry for key "{name}"')
        return Value("string", str(value.data[name]))
    found = _field_type(value.type, name)
    if value.type == "GlobalConfig" and isinstance(value.data, dict) and name not in value.data:
        found = None   # a field this release's templateGlobalConfig does not have
    if found is None:
        raise TemplateError(f"can't evaluate field {name} in type {value.type}")
    key, kind = found
    data = value.data if key == "" else (value.data or {}).get(key) if isinstance(value.data, dict) else None
    if kind.startswith("*"):
        base = kind[1:]
        if base == "int":
            return Value("int", data, pointer=True)
        if base == "string":
            return Value("string", data, pointer=True)
        return Value(base, data if isinstance(data, dict) else None, pointer=True)
    if kind in TYPES:
        return Value(kind, data if isinstance(data, dict) else {})
    zero = {"string": "", "bool": False, "int": 0, "map": {}, "slice": []}[kind]
    return Value(kind, zero if data is None else data)


# ----------------------------------------------------------------------------- functions


def _go_int(value: Value) -> int:
    if value.type == "int" and value.data is not None:
        return int(value.data)
    raise TemplateError(f"wrong type for value; expected int64; got {value.type}")


def _child_name(parent: Value, suffix: Value) -> Value:
    if parent.type != "string" or parent.pointer or suffix.type != "string" or suffix.pointer:
        raise TemplateError("wrong type for value; expected string")
    return Value("string", child_name(parent.data, suffix.data))


def _shutdown_timeout(spec: Value, pre_stop: Value) -> Value:
    """``shutdownTimeout``: the pod's terminationGracePeriodSeconds (60 when the pod spec or the field is
    unset) minus the preStop sleep minus min(5, grace), never below 0 (config_merge.go, v0.19+)."""
    grace = 60
    if spec.type != "nil" and isinstance(spec.data, dict) and spec.data.get("terminationGracePeriodSeconds") is not None:
        grace = spec.data["terminationGracePeriodSeconds"]
        if isinstance(grace, bool) or not isinstance(grace, int):
            raise TemplateError(f"terminationGracePeriodSeconds {grace!r} is not an integer")
    return Value("int", max(0, grace - _go_int(pre_stop) - min(5, grace)))


def _quantity_value(text: Any) -> int:
    """``resource.Quantity.Value()``: the value rounded up to an integer."""
    try:
        exact = parse_quantity(text if text is not None else 0)
    except QuantityError as exc:
        raise TemplateError(str(exc)) from exc
    return -((-exact.numerator) // exact.denominator) if isinstance(exact, Fraction) else int(exact)


def _kv_transfer_config(spec: Value) -> Value:
    """``kvTransferConfig``: the vLLM ``--kv-transfer-config`` flag for ``kvCacheOffloading`` ("" when unset),
    its JSON's quotes escaped twice so that they survive the JSON decode and the bash assignment
    (config_merge.go, v0.20.0)."""
    kv = spec.data if spec.type == "KVCacheOffloading" and isinstance(spec.data, dict) else None
    if kv is None:
        return Value("string", "")
    extra: dict[str, Any] = {"spec_name": "TieringOffloadingSpec", "cpu_bytes_to_use": _quantity_value(kv.get("cpu"))}
    if kv.get("evictionPolicy"):
        extra["eviction_policy"] = kv["evictionPolicy"]
    tiers = [{"root_dir": f"/mnt/kv-cache-{i}", "type": "fs"}
             for i, tier in enumerate(kv.get("secondary") or []) if isinstance(tier, dict) and tier.get("fileSystem")]
    if tiers:
        extra["secondary_tiers"] = tiers
    config = {"kv_connector": "OffloadingConnector", "kv_connector_extra_config": extra, "kv_role": "kv_both"}
    text = _go_json(config)
    return Value("string", "--kv-transfer-config '" + text.replace('"', '\\\\\\"') + "'")


def _go_json(value: Any) -> str:
    """``json.Marshal`` of maps (sorted keys), lists, strings and integers, Go's HTML escaping included."""
    return go_escape(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


FUNCS: dict[str, Callable[..., Value]] = {"ChildName": _child_name, "shutdownTimeout": _shutdown_timeout,
                                          "kvTransferConfig": _kv_transfer_config}


# ----------------------------------------------------------------------------- lexing and parsing

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(r"\s*(?:(?P<raw>`[^`]*`)|(?P<str>\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+)|(?P<field>(?:\.[A-Za-z_]\w*)+|\.)"
                    r"|(?P<word>[A-Za-z_]\w*)|(?P<var>\$\w*)|(?P<other>\S))")


@dataclass
class Node:
    """A parsed template: ``kind`` is text / action / if; ``branches`` [(condition, body)], ``otherwise``."""

    kind: str
    text: str = ""
    command: list | None = None
    branches: list | None = None
    otherwise: list | None = None


def _tokens(source: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
    if source[pos:].strip():
        raise TemplateError(f"unexpected {source[pos:].strip()!r} in command")
    return out


def _parse_command(tokens: list[tuple[str, str]], functions: frozenset[str]) -> list:
    if not tokens:
        raise TemplateError("missing value for command")
    for kind, text in tokens:
        if kind == "var":
            raise Unsupported(f"template variable {text} is outside the evaluated template subset")
        if kind == "other" and text in "()|,=:":
            raise Unsupported(f"{text!r} (a pipeline, parenthesised argument or assignment) is outside the "
                              "evaluated template subset")
        if kind == "other":
            raise TemplateError(f"unexpected {text!r} in command")
        if kind == "word" and text not in ("nil", "true", "false", "and", "or", "not") and text not in functions:
            if text in GO_BUILTINS:
                raise Unsupported(f"template function {text} is outside the evaluated template subset")
            raise TemplateError(f'function "{text}" not defined')
    return tokens


def parse(source: str, functions: frozenset[str] = FUNCTIONS) -> list[Node]:
    """Parse ``source`` into nodes; TemplateError as Go's parser would fail (a function the release's controller
    does not define included), Unsupported outside the subset."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    for match in _ACTION.finditer(source):
        text = source[pos:match.start()]
        if match.group(1):
            text = text.rstrip(" \t\r\n")
        if pieces and pieces[-1][0] == "trim-next":
            pieces.pop()
            text = text.lstrip(" \t\r\n")
        pieces.append(("text", text))
        pieces.append(("action", match.group(2)))
        if match.group(3):
            pieces.append(("trim-next", ""))
        pos = match.end()
    rest = source[pos:]
    if pieces and pieces[-1][0] == "trim-next":
        pieces.pop()
        rest = rest.lstrip(" \t\r\n")
    if "{{" in rest:
        raise TemplateError("unclosed action")
    pieces.append(("text", rest))
    nodes, index = _parse_list(pieces, 0, True, functions)
    return nodes


def _parse_list(pieces: list[tuple[str, str]], index: int, top: bool,
                functions: frozenset[str]) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    while index < len(pieces):
        kind, text = pieces[index]
        if kind == "text":
            if text:
                nodes.append(Node("text", text=text))
            index += 1
            continue
        body = text.strip()
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise TemplateError("unclosed comment")
            index += 1
            continue
        tokens = _tokens(body)
        head = tokens[0][1] if tokens else ""
        if head in ("end", "else"):
            if top:
                raise TemplateError(f"unexpected {{{{{head}}}}}")
            return nodes, index
        if head in GO_KEYWORDS:
            raise Unsupported(f"{{{{{head}}}}} is outside the evaluated template subset")
        if head == "if":
            node, index = _parse_if(pieces, index, tokens[1:], functions)
            nodes.append(node)
            continue
        nodes.append(Node("action", command=_parse_command(tokens, functions)))
        index += 1
    if not top:
        raise TemplateError("unexpected EOF")
    return nodes, index


def _parse_if(pieces: list[tuple[str, str]], index: int, condition: list,
              functions: frozenset[str]) -> tuple[Node, int]:
    node = Node("if", branches=[], otherwise=None)
    current = _parse_command(condition, functions)
    index += 1
    while True:
        body, index = _parse_list(pieces, index, False, functions)
        node.branches.append((current, body))
        tokens = _tokens(pieces[index][1].strip())
        if tokens[0][1] == "end":
            if len(tokens) > 1:
                raise TemplateError("unexpected tokens after end")
            return node, index + 1
        # else / else if
        if len(tokens) > 1 and tokens[1][1] == "if":
            current = _parse_command(tokens[2:], functions)
            index += 1
            continue
        if len(tokens) > 1:
            raise TemplateError("unexpected tokens after else")
        node.otherwise, index = _parse_list(pieces, index + 1, False, functions)
        tokens = _tokens(pieces[index][1].strip())
        if tokens[0][1] != "end":
            raise TemplateError("expected end; found else")
        return node, index + 1


# ----------------------------------------------------------------------------- execution


def _argument(token: tuple[str, str], data: Value) -> Value:
    kind, text = token
    if kind == "raw":
        return Value("string", text[1:-1])
    if kind == "str":
        return Value("string", json.loads(text))
    if kind == "num":
        return Value("int", int(text))
    if kind == "field":
        value = data
        for part in text.split(".")[1:]:
            if part:
                value = field(value, part)
        return value
    if text == "nil":
        return Value("nil", None)
    if text in ("true", "false"):
        return Value("bool", text == "true")
    raise TemplateError(f"can't give argument to non-function {text}")


def _call(tokens: list, data: Value) -> Value:
    kind, head = tokens[0]
    if kind != "word" or head in ("nil", "true", "false"):
        if len(tokens) > 1:
            raise TemplateError(f"can't give argument to non-function {head}")
        return _argument(tokens[0], data)
    args = tokens[1:]
    if head in ("and", "or"):
        if not args:
            raise TemplateError(f"wrong number of args for {head}: want at least 1 got 0")
        value = Value("nil", None)
        for token in args:   # Go >= 1.18 stops at the first argument that decides
            value = _argument(token, data)
            if value.truth() != (head == "and"):
                return value
        return value
    if head == "not":
        if len(args) != 1:
            raise TemplateError(f"wrong number of args for not: want 1 got {len(args)}")
        return Value("bool", not _argument(args[0], data).truth())
    function = FUNCS[head]
    want = function.__code__.co_argcount
    if len(args) != want:
        raise TemplateError(f"wrong number of args for {head}: want {want} got {len(args)}")
    return function(*(_argument(token, data) for token in args))


def execute(nodes: list[Node], data: Value) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "action":
            out.append(_call(node.command, data).text())
        else:
            for condition, body in node.branches:
                if _call(condition, data).truth():
                    out.append(execute(body, data))
                    break
            else:
                if node.otherwise is not None:
                    out.append(execute(node.otherwise, data))
    return "".join(out)


def root(service: dict, global_config: dict, release: tuple[int, int, int] = (0, 20, 0)) -> Value:
    """The template's data: the (unmerged, webhook-defaulted) service and the GlobalConfig values the
    controller of ``release`` exposes."""
    fields = {k: v for k, v in global_config.items() if k in SINCE and SINCE[k] <= release}
    return Value("Root", {"metadata": service.get("metadata") or {}, "spec": service.get("spec") or {},
                          "GlobalConfig": fields})


def actions(text: str) -> list[str]:
    """Every ``{{ ... }}`` action of ``text``, as written."""
    return [m.group(0) for m in _ACTION.finditer(text)]


def render_string(value: str, data: Value, functions: frozenset[str] = FUNCTIONS) -> str:
    """Execute one JSON string of the merged config as the controller does: on its JSON-escaped form,
    JSON-decoding the result; TemplateError when the controller's pass would fail."""
    escaped = go_escape(json.dumps(value, ensure_ascii=False))[1:-1]
    if "{{" not in escaped:
        return value
    output = execute(parse(escaped, functions), data)
    try:
        decoded = json.loads('"' + output + '"')
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the templated text is no longer a JSON string ({exc.msg}): {output!r}") from exc
    return decoded
