"""JSON Schemas (draft 2020-12) of ``ModelDeployment`` and ``ClusterProfile``, from :mod:`cmp.spec.fields`.

``kserve-cmp schema`` prints them and ``schemas/`` holds them (``tests/spec/test_jsonschema.py``
checks the files are current). They are for editors (yaml-language-server) and kubeconform: a
document the parser accepts validates, and a document the parser refuses for its shape (an
unknown field, a wrong type, a value out of range or not among the choices) does not; the rules
that need the catalog or the rendered objects (does the runtime exist, does it serve the format)
are the render's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .. import catalog
from .fields import API_GROUP, API_VERSION, KINDS, Field  # noqa: F401  (KINDS: the kinds with a schema)
from .profile import MIN_KSERVE_VERSION
from .reader import DNS1035_LABEL, DNS1123_LABEL

DRAFT = "https://json-schema.org/draft/2020-12/schema"
VERSION = API_VERSION.split("/", 1)[1]


def file_name(kind: str) -> str:
    """kubeconform's ``{kind}-{group}-{version}`` naming: ``modeldeployment-kserve-cmp-v1alpha1.json``."""
    return f"{kind.lower()}-{API_GROUP.split('.')[0]}-{VERSION}.json"


def schema_id(kind: str) -> str:
    return f"https://{API_GROUP}/schemas/{file_name(kind)}"


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``kind`` (``ModelDeployment`` or ``ClusterProfile``)."""
    root = KINDS[kind]
    defs: dict[str, dict] = {}
    body = _schema(root, defs)
    body.pop("description", None)
    out: dict[str, Any] = {"$schema": DRAFT, "$id": schema_id(kind), "title": f"{kind} ({API_VERSION})",
                           "description": root.doc}
    out.update(body)
    if defs:
        out["$defs"] = dict(sorted(defs.items()))
    return out


def to_json(kind: str) -> str:
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


def _schema(f: Field, defs: dict[str, dict]) -> dict[str, Any]:
    """The schema of one field; a shared shape (``ref``) goes to ``defs`` once and is referenced."""
    if f.ref is None:
        body = _body(f, defs)
    else:
        shape = _body(f, defs)
        known = defs.setdefault(f.ref, shape)
        if known != shape:
            raise AssertionError(f"two shapes named {f.ref!r} in cmp/spec/fields.py")
        body = {"$ref": f"#/$defs/{f.ref}"}
    return ({"description": f.doc} if f.doc else {}) | body


def _body(f: Field, defs: dict[str, dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.kind == "object":
        out["type"] = "object"
        if f.children:
            out["properties"] = {c.name: _schema(c, defs) for c in f.children}
        if f.required_names():
            out["required"] = list(f.required_names())
        if not f.open:
            out["additionalProperties"] = False
    elif f.kind == "map":
        out["type"] = "object"
        out["additionalProperties"] = _schema(f.item, defs) if f.item else True
    elif f.kind == "list":
        out["type"] = "array"
        if f.item is not None:
            out["items"] = _schema(f.item, defs)
        if f.unique:
            out["uniqueItems"] = True
    elif f.kind in ("string", "integer", "boolean"):
        out["type"] = f.kind
    elif f.kind == "quantity":
        out["type"] = ["string", "number"]
    elif f.kind == "oneOf":
        out["oneOf"] = [_schema(form, defs) for form in f.forms]
    elif f.kind != "any":
        raise AssertionError(f"unknown field kind {f.kind!r}")
    if f.const is not None:
        out["const"] = f.const
    if f.enum:
        out["enum"] = list(f.enum) + [legacy for legacy, _ in f.aliases]
    if f.minimum is not None:
        out["minimum"] = f.minimum
    if f.max_length is not None:
        out["maxLength"] = f.max_length
    if f.check == "podAffinity":
        out.update(_crd_affinity())
    pattern = f.pattern or (None if f.check == "podAffinity" else _check_pattern(f.check))
    if pattern:
        out["pattern"] = pattern
    out.update(dict(f.rules))
    return out


def _crd_affinity() -> dict[str, Any]:
    """``affinity`` as the newest shipped InferenceService CRD declares it (cmp/schema), unknown fields
    refused as the parser refuses them (the API server would prune them: the affinity would not apply)."""
    from ..validate import load_schema, schema_files

    crd = load_schema(schema_files(catalog.resolve(None))[("serving.kserve.io/v1beta1", "InferenceService")])
    return _strict(crd["properties"]["spec"]["properties"]["predictor"]["properties"]["affinity"])


def _strict(node: Any) -> Any:
    """A CRD's OpenAPI schema as plain JSON Schema: objects with properties close, x-kubernetes-* go."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items() if not key.startswith("x-kubernetes-")}
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def _check_pattern(check: str | None) -> str | None:
    """The pattern of a named rule, from the regular expression the parser uses."""
    if check is None:
        return None
    if check == "dns1035":
        return _anchored(DNS1035_LABEL)
    if check == "dns1123":
        return _anchored(DNS1123_LABEL)
    if check == "kserveVersion":
        keys = [catalog.version_key(tag) for tag in catalog.shipped()]
        minors = sorted({key[:2] for key in keys if key[:2] >= MIN_KSERVE_VERSION})
        alternatives = "|".join(f"{major}\\.{minor}" for major, minor in minors)
        return f"^v?({alternatives})(\\.\\d+)?([-+][0-9A-Za-z.+-]*)?$"
    raise AssertionError(f"unknown check {check!r}")


def _anchored(regex: re.Pattern) -> str:
    """A Python ``...\\Z`` full-match pattern as an anchored ECMA-262 one."""
    text = regex.pattern
    return "^" + (text[:-2] if text.endswith("\\Z") else text) + "$"
