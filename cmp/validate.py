"""Structural validation of KServe objects against their CRD schemas.

The schemas in ``cmp/schema/`` are the ``openAPIV3Schema`` of the served
version of each KServe CRD of each shipped release (see ``cmp/schema/PROVENANCE.md``;
``cmp.catalog`` says which file a release uses). Each is loaded
on first use and compiled into a tree of small checking closures, each property
when an object first reaches it (so only the parts in use are ever compiled, once);
validating an object is then a walk of the object that never looks schema keywords up.

Kubernetes semantics that matter here:

* Unknown fields are an error. The API server silently prunes fields that the
  structural schema does not declare (unless ``x-kubernetes-preserve-unknown-fields``),
  so a typo would otherwise vanish; strict field validation rejects them.
* A ``null`` field is pruned before validation unless the schema says
  ``nullable``: it is accepted, but a required field set to null is missing.
* ``x-kubernetes-int-or-string`` accepts integers and strings (not booleans or
  fractions: YAML ``true`` and ``0.5`` are not quantities).
* ``x-kubernetes-list-type: map`` / ``set`` lists must not repeat an entry.
* ``metadata`` is checked loosely: string name/namespace, string-to-string
  labels and annotations, and only ObjectMeta field names.

Paths look like ``spec.predictor.containers[0].name``; map entries whose key
is not a plain word are written ``metadata.annotations[serving.kserve.io/x]``.
"""

from __future__ import annotations

import datetime
import json
import marshal
import os
import re
from functools import cache
from typing import Any, Callable

from .lazydataclass import dataclass

def schema_files(release: Any = None) -> dict[tuple[str, str], str]:
    """(apiVersion, kind) -> schema file in ``cmp/schema/`` of a release (default: the default one)."""
    from . import catalog

    chosen = release if release is not None else catalog.resolve(None)
    return {(entry["apiVersion"], kind): entry["file"] for kind, entry in chosen.schemas.items()}


OBJECT_META_FIELDS = frozenset(
    {
        "annotations",
        "creationTimestamp",
        "deletionGracePeriodSeconds",
        "deletionTimestamp",
        "finalizers",
        "generateName",
        "generation",
        "labels",
        "managedFields",
        "name",
        "namespace",
        "ownerReferences",
        "resourceVersion",
        "selfLink",
        "uid",
    }
)
"""Field names of Kubernetes ObjectMeta."""

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")
PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
MISSING = object()


@dataclass(frozen=True)
class SchemaError:
    """One violation: where in the object (dotted path) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


Check = Callable[[Any, str, list[SchemaError]], None]
"""A compiled schema node: ``check(value, path, errors)`` appends what is wrong."""

TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def type_name(value: Any) -> str:
    """Return the JSON type name of a YAML/JSON value."""
    return TYPE_NAMES.get(type(value), type(value).__name__)


def is_string(value: Any) -> bool:
    """True for strings; YAML timestamps count, since kubectl sends them as strings."""
    return type(value) is str or isinstance(value, datetime.date)


def is_integer(value: Any) -> bool:
    """True for integers and integral floats (JSON has one number type); never for booleans."""
    return type(value) is int or (type(value) is float and value.is_integer())


def is_number(value: Any) -> bool:
    """True for integers and floats, not booleans."""
    return type(value) is int or type(value) is float


def is_boolean(value: Any) -> bool:
    """True for booleans only."""
    return type(value) is bool


def is_int_or_string(value: Any) -> bool:
    """True for what ``x-kubernetes-int-or-string`` accepts."""
    return is_string(value) or is_integer(value)


TYPE_TESTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (is_string, "string"),
    "integer": (is_integer, "integer"),
    "number": (is_number, "number"),
    "boolean": (is_boolean, "boolean"),
}
"""Scalar types; objects and arrays are checked structurally."""


def map_path(path: str, key: Any) -> str:
    """Path of a map entry: ``a.b.key`` for plain keys, ``a.b[some/key]`` otherwise."""
    key = str(key)
    if PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key}]"


def field_prefix(path: str) -> str:
    """Prefix that child field names are appended to."""
    return path + "." if path else ""


def quoted(value: Any) -> str:
    """Render a value for a message, JSON style."""
    try:
        return json.dumps(value, default=str)
    except ValueError:
        return repr(value)


# --- value constraints ------------------------------------------------------------------


def enum_check(values: list[Any]) -> Check:
    """Value must be one of ``values`` (compared with their JSON type)."""
    allowed = {(type_name(v), quoted(v)) for v in values}
    listing = ", ".join(quoted(v) for v in values)

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if (type_name(value), quoted(value)) not in allowed:
            errors.append(SchemaError(path, f"unsupported value {quoted(value)}: supported values: {listing}"))

    return check


def go_regex(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern; a final ``$`` means end of text, as in Go."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def pattern_check(pattern: str) -> Check:
    """Strings must contain a match of ``pattern``; other types are not concerned."""
    regex = go_regex(pattern)

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if type(value) is str and regex.search(value) is None:
            errors.append(SchemaError(path, f"{quoted(value)} does not match pattern {quoted(pattern)}"))

    return check


def length_check(minimum: int | None, maximum: int | None) -> Check:
    """String length (in characters) must lie within the bounds."""

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if type(value) is not str:
            return
        if minimum is not None and len(value) < minimum:
            errors.append(SchemaError(path, f"must be at least {minimum} characters long"))
        if maximum is not None and len(value) > maximum:
            errors.append(SchemaError(path, f"must be at most {maximum} characters long"))

    return check


def range_check(schema: dict[str, Any]) -> Check | None:
    """Numbers must respect minimum/maximum (optionally exclusive) and integer formats."""
    low, high = INT_RANGES.get(schema.get("format"), (None, None)) if schema.get("type") == "integer" else (None, None)
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    excl_min, excl_max = schema.get("exclusiveMinimum", False), schema.get("exclusiveMaximum", False)
    if minimum is None and maximum is None and low is None:
        return None
    fmt = schema.get("format")

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if not is_number(value):
            return
        if low is not None and not low <= value <= high:
            errors.append(SchemaError(path, f"{quoted(value)} is out of range for {fmt}"))
        if minimum is not None and (value < minimum or (excl_min and value == minimum)):
            errors.append(SchemaError(path, f"must be {'greater than' if excl_min else 'at least'} {minimum}"))
        if maximum is not None and (value > maximum or (excl_max and value == maximum)):
            errors.append(SchemaError(path, f"must be {'less than' if excl_max else 'at most'} {maximum}"))

    return check


def date_time_check(value: Any, path: str, errors: list[SchemaError]) -> None:
    """``format: date-time``: RFC 3339 timestamps."""
    if type(value) is str and DATE_TIME.match(value) is None:
        errors.append(SchemaError(path, f"{quoted(value)} is not an RFC 3339 date-time"))


def items_count_check(minimum: int | None, maximum: int | None) -> Check:
    """Array length must lie within the bounds."""

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if minimum is not None and len(value) < minimum:
            errors.append(SchemaError(path, f"must have at least {minimum} items"))
        if maximum is not None and len(value) > maximum:
            errors.append(SchemaError(path, f"must have at most {maximum} items"))

    return check


def list_map_check(keys: list[str], defaults: dict[str, Any]) -> Check:
    """``x-kubernetes-list-type: map``: no two entries may share the key fields."""

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if len(value) < 2:
            return
        seen = set()
        for index, item in enumerate(value):
            if type(item) is not dict:
                continue
            key = tuple(quoted(item.get(k, defaults.get(k))) for k in keys)
            if key in seen:
                described = ", ".join(f"{k}={v}" for k, v in zip(keys, key))
                errors.append(SchemaError(f"{path}[{index}]", f"duplicate entry with {described}"))
            seen.add(key)

    return check


def list_set_check(value: Any, path: str, errors: list[SchemaError]) -> None:
    """``x-kubernetes-list-type: set``: no value may appear twice."""
    if len(value) < 2:
        return
    seen = set()
    for index, item in enumerate(value):
        key = quoted(item)
        if key in seen:
            errors.append(SchemaError(f"{path}[{index}]", f"duplicate value {key}"))
        seen.add(key)


# --- combinators ------------------------------------------------------------------------


def all_of_check(branches: list[Check]) -> Check:
    """Every branch must hold."""

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        for branch in branches:
            branch(value, path, errors)

    return check


def any_of_check(branches: list[Check], exactly_one: bool) -> Check:
    """At least one (``anyOf``) or exactly one (``oneOf``) branch must hold."""
    word = "exactly one" if exactly_one else "any"

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        first: list[SchemaError] = []
        passed = 0
        for branch in branches:
            found: list[SchemaError] = []
            branch(value, path, found)
            if not found:
                passed += 1
                if not exactly_one:
                    return
            elif not first:
                first = found
        if passed == 1 and exactly_one:
            return
        detail = f" (first: {first[0].message})" if first else ""
        errors.append(SchemaError(path, f"must match {word} of the allowed schemas{detail}"))

    return check


def not_check(branch: Check) -> Check:
    """The branch must not hold."""

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        found: list[SchemaError] = []
        branch(value, path, found)
        if not found:
            errors.append(SchemaError(path, "must not match the excluded schema"))

    return check


def only_restates_int_or_string(branches: list[Any]) -> bool:
    """True for the ``anyOf: [{type: integer}, {type: string}]`` that accompanies int-or-string."""
    return all(isinstance(b, dict) and set(b) == {"type"} and b["type"] in ("integer", "string") for b in branches)


# --- metadata ---------------------------------------------------------------------------


def string_map_check(value: Any, path: str, errors: list[SchemaError]) -> None:
    """A map of strings to strings (labels, annotations)."""
    if type(value) is not dict:
        errors.append(SchemaError(path, f"expected object, got {type_name(value)}"))
        return
    for key, item in value.items():
        if type(key) is not str:
            errors.append(SchemaError(map_path(path, key), f"key must be a string, got {type_name(key)}"))
        elif type(item) is not str:
            errors.append(SchemaError(map_path(path, key), f"expected string, got {type_name(item)}"))


def did_you_mean(key: object, known: Any) -> str:
    """`` (did you mean 'x'?)`` for the known field name closest to ``key`` (case first), or empty."""
    if type(key) is not str or not known:
        return ""
    names = sorted(str(name) for name in known)
    folded = [name for name in names if name.lower() == key.lower()]
    import difflib  # a suggestion for a typo only

    close = folded or difflib.get_close_matches(key, names, n=1, cutoff=0.75)
    return f" (did you mean {quoted(close[0])}?)" if close else ""


def metadata_check(value: Any, path: str, errors: list[SchemaError]) -> None:
    """Loose ObjectMeta validation: names are strings, labels/annotations map strings to strings."""
    if type(value) is not dict:
        errors.append(SchemaError(path, f"expected object, got {type_name(value)}"))
        return
    prefix = field_prefix(path)
    for key, item in value.items():
        if key not in OBJECT_META_FIELDS:
            errors.append(SchemaError(prefix + str(key),
                                      f"unknown field {quoted(key)}{did_you_mean(key, OBJECT_META_FIELDS)}"))
        elif item is None:
            continue
        elif key in ("labels", "annotations"):
            string_map_check(item, prefix + key, errors)
        elif key in ("name", "namespace", "generateName") and type(item) is not str:
            errors.append(SchemaError(prefix + key, f"expected string, got {type_name(item)}"))


def embedded_resource_check(value: Any, path: str, errors: list[SchemaError]) -> None:
    """``x-kubernetes-embedded-resource``: a nested object with apiVersion, kind and metadata."""
    prefix = field_prefix(path)
    for key in ("apiVersion", "kind"):
        if not value.get(key):
            errors.append(SchemaError(prefix + key, f"missing required field {quoted(key)}"))


# --- structure --------------------------------------------------------------------------


def compile_on_first_use(props: dict[str, Check], name: str, schema: dict[str, Any], branch: bool) -> Check:
    """A stand-in for property ``name`` that compiles its schema when first needed.

    The compiled check replaces the stand-in in ``props``, so each property is compiled at
    most once and later calls go straight to it. A large CRD (the InferenceService schema
    has thousands of nodes) then costs only the parts that objects actually use.
    """

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        compiled = props[name] = compile_node(schema, branch)
        compiled(value, path, errors)

    return check


def object_check(
    schema: dict[str, Any], branch: bool, overrides: dict[str, Check], extra: list[Check]
) -> Check:
    """Check a mapping: known properties, unknown fields, required fields, then ``extra``."""
    typed = schema.get("type") == "object"
    props: dict[str, Check] = {}
    for name, sub in schema.get("properties", {}).items():
        props[name] = compile_node(sub, branch) if _eager else compile_on_first_use(props, name, sub, branch)
    props.update(overrides)
    nullable = frozenset(name for name, sub in schema.get("properties", {}).items() if sub.get("nullable"))
    # A null field is accepted when nullable and pruned otherwise: either way there is nothing to check.
    required = tuple(schema.get("required", ()))
    additional = schema.get("additionalProperties")
    rest = compile_node(additional, branch) if isinstance(additional, dict) else None
    allow_unknown = (
        branch or additional is True or bool(schema.get("x-kubernetes-preserve-unknown-fields")) or not typed
    )
    props_get = props.get

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if type(value) is not dict:
            if typed:
                errors.append(SchemaError(path, f"expected object, got {type_name(value)}"))
            return
        prefix = path + "." if path else ""
        for key, item in value.items():
            sub = props_get(key)
            if sub is not None:
                if item is not None:
                    sub(item, prefix + key, errors)
            elif rest is not None:
                if type(key) is not str:
                    errors.append(SchemaError(map_path(path, key), f"key must be a string, got {type_name(key)}"))
                elif item is not None:
                    rest(item, map_path(path, key), errors)
            elif not allow_unknown:
                errors.append(SchemaError(prefix + str(key), f"unknown field {quoted(key)}{did_you_mean(key, props)}"))
        for name in required:
            item = value.get(name, MISSING)
            if item is MISSING or (item is None and name not in nullable):
                errors.append(SchemaError(prefix + name, f"missing required field {quoted(name)}"))
        for more in extra:
            more(value, path, errors)

    return check


def array_check(schema: dict[str, Any], branch: bool, extra: list[Check]) -> Check:
    """Check a sequence: each item, then ``extra`` (counts, uniqueness)."""
    typed = schema.get("type") == "array"
    items = schema.get("items")
    item_check = compile_node(items, branch) if isinstance(items, dict) else None
    skip_null = isinstance(items, dict) and bool(items.get("nullable"))

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if type(value) is not list:
            if typed:
                errors.append(SchemaError(path, f"expected array, got {type_name(value)}"))
            return
        if item_check is not None:
            for index, item in enumerate(value):
                if item is None and skip_null:
                    continue
                item_check(item, f"{path}[{index}]", errors)
        for more in extra:
            more(value, path, errors)

    return check


def scalar_check(test: Callable[[Any], bool], expected: str, extra: list[Check]) -> Check:
    """Check a value's type with ``test``, then the ``extra`` constraints."""
    if not extra:

        def plain(value: Any, path: str, errors: list[SchemaError]) -> None:
            if not test(value):
                errors.append(SchemaError(path, f"expected {expected}, got {type_name(value)}"))

        return plain

    def check(value: Any, path: str, errors: list[SchemaError]) -> None:
        if not test(value):
            errors.append(SchemaError(path, f"expected {expected}, got {type_name(value)}"))
            return
        for more in extra:
            more(value, path, errors)

    return check


def accept_any(value: Any, path: str, errors: list[SchemaError]) -> None:
    """A schema with nothing to check."""


def value_constraints(schema: dict[str, Any]) -> list[Check]:
    """Compile the keywords that constrain a value beyond its type and structure."""
    checks: list[Check] = []
    if "enum" in schema:
        checks.append(enum_check(schema["enum"]))
    if "pattern" in schema:
        checks.append(pattern_check(schema["pattern"]))
    if "minLength" in schema or "maxLength" in schema:
        checks.append(length_check(schema.get("minLength"), schema.get("maxLength")))
    if schema.get("format") == "date-time":
        checks.append(date_time_check)
    numeric = range_check(schema)
    if numeric is not None:
        checks.append(numeric)
    if "allOf" in schema:
        checks.append(all_of_check([compile_node(s, True) for s in schema["allOf"]]))
    for keyword in ("anyOf", "oneOf"):
        branches = schema.get(keyword)
        if branches and not (schema.get("x-kubernetes-int-or-string") and only_restates_int_or_string(branches)):
            checks.append(any_of_check([compile_node(s, True) for s in branches], keyword == "oneOf"))
    if isinstance(schema.get("not"), dict):
        checks.append(not_check(compile_node(schema["not"], True)))
    return checks


def array_constraints(schema: dict[str, Any]) -> list[Check]:
    """Compile item counts and list-type uniqueness."""
    checks: list[Check] = []
    if "minItems" in schema or "maxItems" in schema:
        checks.append(items_count_check(schema.get("minItems"), schema.get("maxItems")))
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        checks.append(list_set_check)
    elif list_type == "map" and schema.get("x-kubernetes-list-map-keys"):
        item_props = (schema.get("items") or {}).get("properties", {})
        keys = list(schema["x-kubernetes-list-map-keys"])
        checks.append(list_map_check(keys, {k: item_props.get(k, {}).get("default") for k in keys}))
    return checks


def compile_node(schema: dict[str, Any], branch: bool = False, overrides: dict[str, Check] | None = None) -> Check:
    """Compile one schema node (and, recursively, its children) into a check.

    ``branch`` marks nodes inside ``anyOf``/``allOf``/``oneOf``/``not``: they
    constrain values but never declare fields, so they do not report unknown ones.
    """
    kind = schema.get("type")
    constraints = value_constraints(schema)
    if schema.get("x-kubernetes-int-or-string"):
        return scalar_check(is_int_or_string, "integer or string", constraints)
    if kind == "array" or (kind is None and "items" in schema):
        return array_check(schema, branch, array_constraints(schema) + constraints)
    structural = "properties" in schema or "additionalProperties" in schema
    if kind == "object" or (kind is None and structural):
        if schema.get("x-kubernetes-embedded-resource"):
            constraints = [embedded_resource_check, *constraints]
            overrides = {"metadata": metadata_check, **(overrides or {})}
        return object_check(schema, branch, overrides or {}, constraints)
    if kind in TYPE_TESTS:
        test, expected = TYPE_TESTS[kind]
        return scalar_check(test, expected, constraints)
    if not constraints:
        return accept_any
    return scalar_check(lambda value: True, "any value", constraints)


# --- public API ---------------------------------------------------------------------------


class Validator:
    """A compiled schema for one (apiVersion, kind)."""

    def __init__(self, api_version: str, kind: str, schema: dict[str, Any]) -> None:
        self.api_version = api_version
        self.kind = kind
        self._check = compile_node(schema, overrides={"metadata": metadata_check})

    def validate(self, obj: Any) -> list[SchemaError]:
        """Return every violation in ``obj`` ([] when it is valid)."""
        errors: list[SchemaError] = []
        self._check(obj, "", errors)
        return errors

    def __repr__(self) -> str:
        return f"Validator({self.api_version!r}, {self.kind!r})"


def load_schema(file_name: str) -> dict[str, Any]:
    """One schema shipped in ``cmp/schema/``: its pre-built ``.marshal`` copy (``scripts/gen_data.py``;
    about 0.3 ms for the InferenceService schema, against 10 ms to parse its JSON), else the JSON
    file itself (a Python whose ``marshal`` cannot read the copy). ``tests/test_validate.py``
    checks that both hold the same schema."""
    path = os.path.join(os.path.dirname(__file__), "schema", file_name)
    try:
        with open(path.removesuffix(".json") + ".marshal", "rb") as handle:
            schema = marshal.loads(handle.read())
        if type(schema) is dict:
            return schema
    except (OSError, EOFError, ValueError, TypeError):
        pass
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return json.loads(text)


@cache
def compiled_validator(api_version: str, kind: str, file_name: str | None = None) -> Validator:
    """Load and compile one schema file (once per file: releases that share a CRD share it)."""
    return Validator(api_version, kind, load_schema(file_name or schema_files()[(api_version, kind)]))


def schema_for(api_version: str, kind: str, release: Any = None) -> Validator | None:
    """Return the compiled validator for (apiVersion, kind) of a release, or None if no schema is known."""
    files = schema_files(release)
    if (api_version, kind) not in files:
        return None
    return compiled_validator(api_version, kind, files[(api_version, kind)])


def unserved_version_error(api_version: Any, kind: Any) -> SchemaError | None:
    """An error for a known KServe kind under a version its CRD does not serve."""
    from . import catalog

    older = catalog.resolve(None).data.get("olderServedVersions", {})
    for served_version, served_kind in schema_files():
        same_group = isinstance(api_version, str) and api_version.split("/")[0] == served_version.split("/")[0]
        if served_kind == kind and api_version in older.get(kind, ()):
            # KServe still serves it through a conversion webhook; only the storage version's schema is shipped.
            return SchemaError("apiVersion", f"{kind} {api_version} is an older version KServe converts; kserve-cmp "
                                             f"checks {kind} as {served_version}, the version KServe stores: use it")
        if served_kind == kind and same_group:
            return SchemaError("apiVersion", f"{kind} is not served as {api_version}; use {served_version}")
    return None


def validate_object(obj: Any, release: Any = None) -> list[SchemaError]:
    """Validate one Kubernetes object against the CRDs of ``release`` (a :class:`cmp.catalog.Release`;
    default: the default release); [] when it is valid or its kind has no known schema.

    A field the release's CRD does not declare, but a later shipped release's does, is reported with
    the first release that has it."""
    if not isinstance(obj, dict):
        return []
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return []
    validator = schema_for(api_version, kind, release)
    if validator is None:
        error = unserved_version_error(api_version, kind)
        return [] if error is None else [error]
    errors = validator.validate(obj)
    unknown = [e for e in errors if e.message.startswith("unknown field")]
    return [_with_release(e, obj, release) if e in unknown else e for e in errors] if unknown else errors


def _with_release(error: SchemaError, obj: dict, release: Any) -> SchemaError:
    """An unknown field that a shipped release's CRD declares: say which release first has it."""
    from . import catalog

    chosen = release if release is not None else catalog.resolve(None)
    for other in catalog.all_releases():
        if other.key <= chosen.key:
            continue
        validator = schema_for(obj["apiVersion"], obj["kind"], other)
        if validator is not None and error not in validator.validate(obj):
            return SchemaError(error.path, f"{error.message}: the field is first in KServe {other.tag} "
                                           f"(the target release is {chosen.tag})")
    if re.sub(r"\[[^]]*\]", "", error.path) in catalog.unreleased_fields(obj["kind"]):
        return SchemaError(error.path, f"{error.message}: the field is only in KServe's development branch, not in "
                                       f"any shipped release ({', '.join(catalog.shipped())}); the API server "
                                       f"would drop it")
    return error


#: Compile whole schemas at once instead of per property on first use (``preload_schemas``).
_eager = False


def preload_schemas() -> None:
    """Load and compile every schema in full now: the warm render server's start-up, so that
    none of its children (each a fresh fork) parses JSON or compiles a schema node."""
    global _eager
    _eager = True
    from . import catalog

    try:
        for release in catalog.all_releases():
            for (api_version, kind), file_name in schema_files(release).items():
                _eager = kind not in LAZY_KINDS
                compiled_validator(api_version, kind, file_name)
    finally:
        _eager = False


LAZY_KINDS = frozenset({"LLMInferenceService", "LLMInferenceServiceConfig"})
"""Kinds the warm server loads but compiles only as objects reach their properties: every release has its own
schemas of them (four PodSpecs each), and compiling all eight in full took the start-up from 0.2 s and 30 MB
to 1.2 s and 65 MB for kinds most apps do not use (an LLMInferenceService then compiles the parts it
reaches, in its render's child, a few ms)."""
