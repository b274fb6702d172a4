"""Rendered objects as text: a YAML stream, or one JSON document as ``kubectl -o json`` prints it.

JSON follows kubectl's printer (``staging/src/k8s.io/cli-runtime/pkg/printers/json.go``, Kubernetes
v1.37: Go's ``json.MarshalIndent`` with four spaces, then a newline) and ``kubectl get``'s rule for
several objects (``staging/src/k8s.io/kubectl/pkg/cmd/get/get.go``): one object is printed as
itself; zero or several are the ``items`` of a ``v1`` ``List`` whose metadata holds an empty
``resourceVersion``. Go's encoder decides the text: keys sorted, ``<``, ``>``, ``&``, U+2028 and
U+2029 escaped as ``\\u003c``..., other non-ASCII text as it is, and numbers as Go prints a float64
(``1.0`` is ``1``, ``1e21`` and up and below ``1e-6`` in exponent form). ``tests/test_emit.py``
compares the text with the real kubectl's, byte for byte.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

from .gojsonenc import go_escape
from .problems import CmpError, Problem
from .source.yamlio import dump_stream

FORMATS = ("yaml", "json")
_INDENT = "    "


def as_text(objects: list[dict], fmt: str) -> str:
    """``objects`` (already in output order) as ``fmt``: ``yaml`` or ``json``."""
    if fmt == "yaml":
        return dump_stream(objects)
    if len(objects) == 1:
        value: object = objects[0]
    else:
        value = {"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}}
    out: list[str] = []
    _encode(value, "", out)
    return "".join(out) + "\n"


def _string(text: str) -> str:
    return go_escape(json.dumps(text, ensure_ascii=False))


def _number(value: float) -> str:
    """A float64 as Go's encoding/json writes it (``floatEncoder``: shortest digits, ``%f`` form
    between 1e-6 and 1e21, else ``%e`` form with a one-digit negative exponent unpadded)."""
    if not math.isfinite(value):
        raise CmpError(Problem(f"{value} cannot be written as JSON (Kubernetes' JSON has no NaN or "
                               "infinity)", rule="output"))
    if value == 0:   # -0.0 too: YAML's -0.0 reaches kubectl's JSON as the integer 0
        return "0"
    shortest = repr(value)
    if 1e-6 <= abs(value) < 1e21:
        text = format(Decimal(shortest), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, _, exponent = shortest.partition("e")
    sign, digits = exponent[0], exponent[1:].lstrip("0")
    return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits}"


def _key(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _encode(value: object, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + _INDENT
        items = sorted(((_key(k), v) for k, v in value.items()), key=lambda kv: kv[0])
        out.append("{\n")
        for i, (key, item) in enumerate(items):
            out.append((",\n" if i else "") + inner + _string(key) + ": ")
            _encode(item, inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = indent + _INDENT
        out.append("[\n")
        for i, item in enumerate(value):
            out.append((",\n" if i else "") + inner)
            _encode(item, inner, out)
        out.append("\n" + indent + "]")
    elif isinstance(value, str):
        out.append(_string(value))
    elif value is None or isinstance(value, bool):
        out.append(json.dumps(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    else:  # the loader builds nothing else
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
