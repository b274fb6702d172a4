"""Typed field reading for kserve-cmp input documents, with located problems.

A :class:`Reader` walks one document; every accessor checks a type, records a problem at the
field's file:line when the value is wrong, and returns a usable default so that one pass finds
every problem in the document.
"""

from __future__ import annotations

import re
from typing import Any

from ..problems import Problem
from ..source.yamlio import Doc, Path
from .fields import Field

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean", dict: "a mapping", list: "a list",
               float: "a number"}


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class Reader:
    """Field accessors over one document that collect problems instead of raising."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.problems: list[Problem] = []

    def error(self, path: Path, message: str, rule: str = "schema") -> None:
        self.problems.append(self.doc.problem(path, message, rule=rule))

    def warn(self, path: Path, message: str, rule: str = "schema") -> None:
        self.problems.append(self.doc.problem(path, message, rule=rule, level="warning"))

    def mapping(self, path: Path, value: Any, known: tuple[str, ...] | dict, *, required: tuple[str, ...] = ()
                ) -> dict:
        """A mapping whose keys must all be in ``known``; misspellings get a did-you-mean."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {type_name(value)}")
            return {}
        for key in value:
            if key not in known:
                self.error(path + (key,), unknown_field_message(key, known))
        for key in required:
            if value.get(key) is None:
                self.error(path + (key,) if key in value else path, f"missing required field {key!r}")
        return value

    def typed(self, path: Path, value: Any, kind: type | tuple, what: str | None = None) -> Any:
        """``value`` if it is of ``kind`` (bool is never an int), else a problem and None."""
        if value is None:
            return None
        ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind))
        if not ok:
            self.error(path, f"expected {what or _TYPE_NAMES.get(_as_tuple(kind)[0], 'a value')}, "
                             f"got {type_name(value)}")
            return None
        return value

    def string(self, path: Path, value: Any) -> str | None:
        return self.typed(path, value, str)

    def integer(self, path: Path, value: Any, *, minimum: int | None = None) -> int | None:
        value = self.typed(path, value, int)
        if value is not None and minimum is not None and value < minimum:
            self.error(path, f"must be >= {minimum}, got {value}")
            return None
        return value

    def choice(self, path: Path, value: Any, choices: tuple[str, ...], aliases: dict | None = None) -> str | None:
        value = self.string(path, value)
        if value is None:
            return None
        if aliases and value in aliases:
            return aliases[value]
        if value not in choices:
            self.error(path, f"must be one of {', '.join(choices)}; got {value!r}")
            return None
        return value

    def scalar(self, path: Path, value: Any, field: Field) -> Any:
        """A string, integer or boolean checked as ``field`` says (choices, minimum, name rule)."""
        if field.kind == "integer":
            return self.integer(path, value, minimum=field.minimum)
        if field.kind == "boolean":
            return self.typed(path, value, bool)
        if field.kind != "string":
            raise AssertionError(f"{field.name}: not a scalar field ({field.kind})")
        if field.enum:
            return self.choice(path, value, field.enum, field.legacy())
        if field.check in ("dns1035", "dns1123"):
            return self.dns_name(path, value, rfc=field.check[3:], max_len=field.max_length or 63)
        return self.string(path, value)

    def string_map(self, path: Path, value: Any) -> dict[str, str]:
        """A map of string to string (labels, annotations); numbers and booleans are refused."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping of strings, got {type_name(value)}")
            return {}
        out = {}
        for key, item in value.items():
            if not isinstance(item, str):
                self.error(path + (key,), f"expected a string, got {type_name(item)} (quote it)")
                continue
            out[str(key)] = item
        return out

    def dns_name(self, path: Path, value: Any, *, rfc: str = "1123", max_len: int = 63) -> str | None:
        value = self.string(path, value)
        if value is None:
            return None
        pattern = DNS1035_LABEL if rfc == "1035" else DNS1123_LABEL
        if len(value) > max_len or not pattern.fullmatch(value):
            start = "start with a lower-case letter" if rfc == "1035" else "start with a letter or digit"
            self.error(path, f"{value!r} is not a valid name (RFC {rfc} label: at most {max_len} characters, "
                             f"lower-case letters, digits and '-', {start} and end with a letter or digit)")
            return None
        return value


def unknown_field_message(key: Any, known) -> str:
    """``unknown field 'storageURI' (did you mean 'storageUri'?)``."""
    candidates = list(known)
    lowered = {c.lower(): c for c in candidates}
    guess = lowered.get(str(key).lower())
    if guess is None:
        import difflib  # a suggestion for a typo only

        close = difflib.get_close_matches(str(key), candidates, n=1, cutoff=0.6)
        guess = close[0] if close else None
    hint = f" (did you mean {guess!r}?)" if guess else f"; known fields: {', '.join(sorted(candidates))}"
    return f"unknown field {key!r}{hint}"


def _as_tuple(kind: type | tuple) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)
