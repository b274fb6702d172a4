"""KServe's placeholder pass over containers, re-implemented for plain strings.

KServe marshals the merged container to JSON, runs the JSON text through Go ``text/template``
with the InferenceService ``ObjectMeta`` as data, and unmarshals the result. This module
models that pass for one string value of the container:

* ``{{.Name}}``, ``{{.Namespace}}``, ``{{.Labels.key}}``, ``{{.Annotations.key}}`` are
  replaced (a missing map key renders ``<no value>``, a missing namespace renders empty);
* a raw-string action such as ``{{`{{`}}`` renders its content (the escape for a literal
  ``{{``);
* trim markers (``{{- `` and `` -}}``) remove adjacent spaces, as Go does;
* everything else inside ``{{ }}`` raises :class:`PlaceholderError` — either KServe would fail
  (unknown field, key not an identifier, quotes, which JSON escapes to ``\\"``, unterminated
  action) or the value is unknown at render time (``.UID``, ``.Generation``...).

``meta`` is an ObjectMeta-like mapping: ``name``, ``namespace``, ``labels``, ``annotations``.
"""

from __future__ import annotations

import re

NO_VALUE = "<no value>"
ESCAPED_OPEN = "{{`{{`}}"

_OPEN = "{{"
_CLOSE = "}}"
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_FIELD_CHAIN = re.compile(rf"(?:\.{_IDENT})+")
_SUPPORTED = re.compile(
    rf"\{{\{{(?:- )? *\.(?:Name|Namespace|(?:Labels|Annotations)\.{_IDENT}) *(?: -)?\}}\}}"
)
_SCALAR_FIELDS = {"Name": "name", "Namespace": "namespace"}
_MAP_FIELDS = {"Labels": "labels", "Annotations": "annotations"}
_RENDER_TIME_UNKNOWN = frozenset(
    {
        "GenerateName",
        "UID",
        "ResourceVersion",
        "Generation",
        "CreationTimestamp",
        "DeletionTimestamp",
        "DeletionGracePeriodSeconds",
        "OwnerReferences",
        "Finalizers",
        "ManagedFields",
        "SelfLink",
    }
)
_JSON_UNSAFE = re.compile(r'["\\\x00-\x1f]')


class PlaceholderError(ValueError):
    """A ``{{ }}`` action KServe would reject, or whose value is unknown at render time."""


class UnknownAtRenderTime(PlaceholderError):
    """A metadata field KServe can fill (``{{.UID}}``...) whose value is only known on the cluster."""


def resolve(text: str, meta: dict) -> str:
    """Render ``text`` the way KServe's template pass renders one container string."""
    out: list[str] = []
    pos = 0
    while (start := text.find(_OPEN, pos)) >= 0:
        out.append(text[pos:start])
        value, trim_left, trim_right, pos = _parse_action(text, start, meta)
        if trim_left:
            out[-1] = out[-1].rstrip(" ")
        out.append(value)
        if trim_right:
            pos = _skip_spaces(text, pos)
    out.append(text[pos:])
    return "".join(out)


def escape_literal_braces(text: str) -> str:
    """Escape every ``{{`` that is not a supported placeholder, so KServe renders it literally.

    Supported placeholders are kept verbatim; a single ``{`` directly before a placeholder is
    escaped too (Go would otherwise start the action one character early).
    """
    out: list[str] = []
    pos = 0
    for match in _SUPPORTED.finditer(text):
        out.append(_escape_segment(text[pos : match.start()], before_action=True))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_segment(text[pos:], before_action=False))
    return "".join(out)


def _escape_segment(segment: str, *, before_action: bool) -> str:
    """Escape the literal ``{{`` pairs of a segment (and a trailing ``{`` before an action)."""
    escaped = segment.replace(_OPEN, ESCAPED_OPEN)
    if before_action and escaped.endswith("{"):
        return escaped[:-1] + "{{`{`}}"
    return escaped


def _parse_action(text: str, start: int, meta: dict) -> tuple[str, bool, bool, int]:
    """Parse the action at ``start``: (rendered value, trim left, trim right, end position)."""
    pos = start + len(_OPEN)
    trim_left = text.startswith("- ", pos)
    pos = _skip_spaces(text, pos + 2 if trim_left else pos)
    if text.startswith("`", pos):
        end = text.find("`", pos + 1)
        if end < 0:
            raise PlaceholderError(f"unterminated raw string in {text[start:]!r}")
        value, pos = text[pos + 1 : end], end + 1
    else:
        chain = _FIELD_CHAIN.match(text, pos)
        if chain is None:
            raise PlaceholderError(f"unsupported template action in {_excerpt(text, start)!r}")
        value, pos = _lookup(chain.group(0), meta), chain.end()
    pos = _skip_spaces(text, pos)
    trim_right = text.startswith("-}}", pos) and text[pos - 1] == " "
    pos += 1 if trim_right else 0
    if not text.startswith(_CLOSE, pos):
        if text.find(_CLOSE, pos) < 0:
            raise PlaceholderError(f"unterminated action in {_excerpt(text, start)!r}")
        raise PlaceholderError(f"unsupported template action in {_excerpt(text, start)!r}")
    return value, trim_left, trim_right, pos + len(_CLOSE)


def _lookup(chain: str, meta: dict) -> str:
    """Value of a ``.Field`` / ``.Map.key`` chain against ObjectMeta-like ``meta``."""
    parts = chain[1:].split(".")
    head = parts[0]
    if head in _SCALAR_FIELDS and len(parts) == 1:
        return _checked(str(meta.get(_SCALAR_FIELDS[head]) or ""), chain)
    if head in _MAP_FIELDS and len(parts) == 2:
        value = (meta.get(_MAP_FIELDS[head]) or {}).get(parts[1])
        return NO_VALUE if value is None else _checked(str(value), chain)
    if head in _RENDER_TIME_UNKNOWN:
        raise UnknownAtRenderTime(f"{{{{{chain}}}}} is not known at render time")
    raise PlaceholderError(f"unsupported placeholder {{{{{chain}}}}}")


def _checked(value: str, chain: str) -> str:
    """Reject substituted values that would break or change KServe's JSON round trip."""
    if _JSON_UNSAFE.search(value):
        raise PlaceholderError(
            f"value of {{{{{chain}}}}} contains a quote, backslash or control character"
        )
    return value


def _skip_spaces(text: str, pos: int) -> int:
    """Index of the first non-space character at or after ``pos``."""
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos


def _excerpt(text: str, start: int) -> str:
    """The action text starting at ``start`` (up to its ``}}``, at most 60 characters)."""
    end = text.find(_CLOSE, start)
    stop = len(text) if end < 0 else end + len(_CLOSE)
    return text[start : min(stop, start + 60)]


def escape_strings(value: object) -> object:
    """A deep copy of ``value`` with :func:`escape_literal_braces` applied to every string.

    For user-written container fields (env, probes...): KServe's template pass runs over the
    whole merged container, so a literal ``{{`` anywhere in it must be escaped.
    """
    if isinstance(value, str):
        return escape_literal_braces(value)
    if isinstance(value, list):
        return [escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_strings(v) for k, v in value.items()}
    return value


def escape_all_braces(value: object) -> object:
    """A deep copy of ``value`` with every ``{{`` in every string escaped, placeholders included.

    For an LLMInferenceService: KServe runs its whole merged spec, marshalled to JSON, through Go
    ``text/template`` with the unmerged service as data (``ReplaceVariables`` in
    pkg/controller/v1alpha2/llmisvc/config_merge.go, v0.20.0), so any ``{{`` a user wrote (a chat
    template) would be parsed as an action. The raw-string form ``{{`{{`}}`` survives the JSON
    marshalling (a ``{{"{{"}}`` would not: JSON escapes its quotes).
    """
    if isinstance(value, str):
        return value.replace(_OPEN, ESCAPED_OPEN)
    if isinstance(value, list):
        return [escape_all_braces(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_all_braces(v) for k, v in value.items()}
    return value
