"""YAML in and out: a bounded, line-tracking loader and a deterministic dumper.

The loader builds plain Python values from libyaml's event stream (no recursion, so deep
nesting cannot overflow the stack) and records the line of every mapping key and sequence
item, so later stages can report ``file:line`` for any field path. It refuses what Kubernetes
tooling would never produce and what could hurt the process: non-standard tags (including
Python object tags), documents that expand past a node budget through aliases, and nesting
beyond a depth limit. Plain scalars resolve as Kubernetes' decoder resolves them
(:func:`kube_resolve`); timestamps stay strings, as they do in Kubernetes' YAML-to-JSON path.

Budgets hold per render, not per document: inside :func:`render_budget` every document of every
stream loaded shares one :class:`Budget` (nodes, aliases expanded included; bytes read, scalars
an alias repeats included), so five alias bombs just under the limit in one file, or spread over
many files, fail like one. Outside it (a single load), each call gets a budget of its own.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from ..problems import CmpError, Problem

try:  # libyaml bindings: an order of magnitude faster; pure Python only as a fallback
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 100
MAX_NODES = 1_000_000
#: A render reads and prints at most this many times the ``max-file-size`` setting.
RENDER_BYTES_FACTOR = 4


class Budget:
    """What one render may still load: YAML nodes (after alias expansion) and input bytes."""

    def __init__(self, max_bytes: int | None = None, max_nodes: int = MAX_NODES):
        self.max_nodes = max_nodes
        self.max_bytes = max_bytes
        self.nodes = 0
        self.bytes = 0

    def charge_bytes(self, n: int, file: str | None, line: int | None = None) -> None:
        self.bytes += n
        if self.max_bytes is not None and self.bytes > self.max_bytes:
            raise CmpError(Problem(f"the render's YAML input (files read and text aliases repeat) exceeds "
                                   f"{self.max_bytes} bytes ({RENDER_BYTES_FACTOR} x setting max-file-size)",
                                   file=file, line=line, rule="yaml"))


_BUDGET: ContextVar[Budget | None] = ContextVar("kserve_cmp_yaml_budget", default=None)


@contextmanager
def render_budget(max_file_size: int | None) -> Iterator[Budget]:
    """One budget for every YAML stream loaded inside the block (one render)."""
    budget = Budget(None if max_file_size is None else RENDER_BYTES_FACTOR * max_file_size)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


@contextmanager
def unbudgeted() -> Iterator[None]:
    """Loads inside the block are not charged to the render (re-reading a source for line numbers)."""
    token = _BUDGET.set(None)
    try:
        yield
    finally:
        _BUDGET.reset(token)

Path = tuple  # of str keys and int indexes

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_MERGE = "tag:yaml.org,2002:merge"


@dataclass
class Doc:
    """One YAML document with where it came from and the line of every field path."""

    obj: Any
    file: str | None = None
    line: int | None = None
    marks: dict = field(default_factory=dict)
    moved: dict = field(default_factory=dict)   # path -> file, for fields an overlay's patch wrote
    generated_by: str | None = None  # the kustomize generator that made it (``SecretGenerator``...)
    #: path -> (written text, "ambiguous" or "number") of plain scalars resolvers disagree on
    #: (:func:`plain_ambiguity`) and of plain numbers whose text is not how the number prints.
    plain: dict = field(default_factory=dict)

    def location(self, path: Path) -> tuple[str | None, int | None]:
        """(file, line) of ``path``, or of its nearest ancestor that has one, or of the document."""
        path = tuple(path)
        while path:
            line = self.marks.get(path)
            if line is not None:
                return self.moved.get(path, self.file), line
            path = path[:-1]
        return self.file, self.line

    def line_of(self, path: Path) -> int | None:
        return self.location(path)[1]

    def where(self, path: Path) -> str:
        """``file:line`` of ``path`` (see :meth:`location`), for provenance and messages."""
        file, line = self.location(path)
        return f"{file}:{line}" if line else (file or "")

    def problem(self, path: Path, message: str, rule: str | None = None, level: str = "error") -> Problem:
        """A problem located at ``path`` of this document."""
        file, line = self.location(path)
        return Problem(message, file=file, line=line, path=format_path(path) or None, rule=rule, level=level)


def format_path(path: Path) -> str:
    """``('spec', 'model', 'args', 1)`` -> ``spec.model.args[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


#: Plain scalars whose type or value differs between YAML 1.1 (PyYAML), YAML 1.2 (core schema)
#: and Kubernetes' decoder (go-yaml v2): a leading zero (``0755``: 493 or 755; ``08``: a string
#: or 8.0), ``0o``/``0b`` prefixes, sexagesimal (``12:30``: 750 or a string), an exponent without
#: a dot (``1e3``: a string or 1000), digit groups (``1_000``: 1000 or a string), a signed
#: fraction without a leading digit (``-.5``: a string or -0.5).
_AMBIGUOUS = re.compile(r"[-+]?0[0-9_]+(\.[0-9_]*)?([eE][-+]?[0-9]+)?"
                        r"|[-+]?0[oObB][0-9a-fA-F_]*"
                        r"|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
                        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
                        r"|[-+]?[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?"
                        r"|[-+]?[0-9]+\.[0-9]*_[0-9_]*"
                        r"|[-+]\.[0-9]+([eE][-+]?[0-9]+)?")
#: Words YAML 1.1 and go-yaml v2 read as booleans and YAML 1.2 as strings (any case: ``yEs`` is
#: a string everywhere, but surely not meant as one).
_AMBIGUOUS_WORDS = frozenset({"y", "n", "yes", "no", "on", "off"})


def plain_ambiguity(text: str, value: Any) -> tuple[str, str] | None:
    """``(text, "ambiguous")`` for a plain scalar resolvers read differently, ``(text, "number")``
    for a plain number that does not print back as written (``3.10`` is 3.1), else None."""
    if text.lower() in _AMBIGUOUS_WORDS or _AMBIGUOUS.fullmatch(text):
        return text, "ambiguous"
    if type(value) is int and str(value) != text or type(value) is float and repr(value) != text:
        return text, "number"
    return None


def ambiguous_scalars(doc: Doc, number_paths: Any = None) -> list[Problem]:
    """Errors for the plain scalars of ``doc`` whose meaning depends on the resolver, and for plain
    numbers that would not read back as written where ``number_paths(path)`` says a number becomes
    a string (args values)."""
    problems = []
    for path, (text, kind) in doc.plain.items():
        if any(path[:i] in doc.moved for i in range(len(path) + 1)) or not _holds(doc.obj, path):
            continue  # written or removed by a patch: no longer the text the user wrote there
        if kind == "ambiguous" or (number_paths is not None and number_paths(path)):
            problems.append(doc.problem(path, f"ambiguous YAML scalar `{text}`: quote it", rule="yaml"))
    return problems


def _holds(obj: Any, path: Path) -> bool:
    for part in path:
        if isinstance(obj, dict) and part in obj or isinstance(obj, list) and isinstance(part, int) \
                and part < len(obj):
            obj = obj[part]
        else:
            return False
    return True


#: go-yaml v2's resolver (resolve.go, v2.4, which sigs.k8s.io/yaml and so Kubernetes, kubectl
#: and Argo CD decode with), for plain scalars: these words, then, for a digit or sign first,
#: Go's ParseInt with base prefixes (underscores dropped), ParseUint, a float of this form;
#: for ``.`` first, a float. Everything else, timestamps included, is a string.
_KUBE_WORDS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
}
_KUBE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_KUBE_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_KUBE_INT = re.compile(r"(?P<sign>[-+]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|0[oO](?P<oct>[0-7]+)|0[bB](?P<bin>[01]+)"
                       r"|0(?P<zoct>[0-7]+)|(?P<dec>[0-9]+))")


def kube_resolve(text: str) -> Any:
    """The value Kubernetes' decoder gives the plain scalar ``text``."""
    if text in _KUBE_WORDS:
        return _KUBE_WORDS[text]
    first = text[0]
    if first == ".":
        return float(text) if _KUBE_DOT_FLOAT.fullmatch(text) else text
    if first not in "+-0123456789":
        return text
    plain = text.replace("_", "")
    match = _KUBE_INT.fullmatch(plain)
    if match:
        for group, base in (("hex", 16), ("oct", 8), ("bin", 2), ("zoct", 8), ("dec", 10)):
            if match.group(group) is not None:
                if len(match.group(group).lstrip("0")) > 64:  # past 2**64 in any base: never an integer
                    break
                number = int(match.group(group), base) * (-1 if match.group("sign") == "-" else 1)
                if -(1 << 63) <= number < (1 << 63):
                    return number
                if not match.group("sign") and number < (1 << 64):
                    return float(number)  # a uint64 reaches JSON as a float
    if _KUBE_FLOAT.fullmatch(plain):
        number = float(plain)
        if number not in (float("inf"), float("-inf")):  # Go: a range error, so a string
            return number
    return text


class _Builder:
    """Turns parser events into values; a frame per open collection, no recursion."""

    def __init__(self, loader: Any, file: str | None, budget: Budget):
        self.loader = loader
        self.file = file
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # value, nodes, scalar bytes
        self.budget = budget

    def fail(self, mark: Any, message: str) -> CmpError:
        line = mark.line + 1 if mark is not None else None
        return CmpError(Problem(message, file=self.file, line=line, rule="yaml"))

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            if tag == "!" or event.style:  # quoted or non-specific: a string
                return event.value
            if event.value == "<<":
                raise self.fail(event.start_mark, "YAML merge keys (<<) are not supported")
            value = kube_resolve(event.value)
            if type(value) is str and _KUBE_INT.fullmatch(value.replace("_", "")):
                # An integer too large even for a float: Kubernetes would take it as text.
                shown = value if len(value) <= 40 else value[:40] + "…"
                raise self.fail(event.start_mark, f"{shown!r} is not a valid !!int (out of the range of "
                                                  f"Kubernetes' numbers): quote it if it is text")
            return value
        if tag == _STR or tag == "tag:yaml.org,2002:timestamp":
            return event.value
        if tag == _MERGE:
            raise self.fail(event.start_mark, "YAML merge keys (<<) are not supported")
        if tag not in _SCALAR_TAGS:
            raise self.fail(event.start_mark, f"YAML tag {tag!r} is not allowed")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, KeyError, TypeError, OverflowError):  # an explicit tag on a wrong value: !!int abc
            shown = event.value if len(event.value) <= 40 else event.value[:40] + "…"
            raise self.fail(event.start_mark, f"{shown!r} is not a valid !!{tag.rsplit(':', 1)[-1]}") from None

    def count(self, n: int, mark: Any) -> None:
        budget = self.budget
        budget.nodes += n
        if budget.nodes > budget.max_nodes:
            raise self.fail(mark, f"YAML expands to more than {budget.max_nodes} nodes in one render "
                                  f"(YAML alias bomb?)")

    def document(self, start: Any) -> Doc:
        """Build one document; the parser is positioned after DocumentStartEvent."""
        loader = self.loader
        marks: dict = {}
        plain: dict = {}
        # frame: [container, path, pending_key, size, anchor, key_mark, scalar bytes]
        stack: list[list] = []
        root: Any = None
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is yaml.DocumentEndEvent:
                return Doc(root, self.file, start.start_mark.line + 1, marks, plain=plain)
            if kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
                container, _, _, size, anchor, _, nbytes = stack.pop()
                if anchor:
                    self.anchors[anchor] = (container, size, nbytes)
                value, size, mark = container, size, None
                placed = False
                flag = None
            else:
                placed = True
                flag = None
                mark = event.start_mark
                if kind is yaml.ScalarEvent:
                    value, size, nbytes = self.scalar(event), 1, len(event.value)
                    if not event.style and event.tag is None:
                        flag = plain_ambiguity(event.value, value)
                    if event.anchor:
                        self.anchors[event.anchor] = (value, 1, nbytes)
                elif kind is yaml.AliasEvent:
                    if event.anchor not in self.anchors:
                        raise self.fail(mark, f"unknown YAML alias {event.anchor!r}")
                    value, size, nbytes = self.anchors[event.anchor]
                    self.budget.charge_bytes(nbytes, self.file, mark.line + 1)
                elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                    if event.tag not in _COLLECTION_TAGS:
                        raise self.fail(mark, f"YAML tag {event.tag!r} is not allowed")
                    if len(stack) >= MAX_DEPTH:
                        raise self.fail(mark, f"YAML nesting deeper than {MAX_DEPTH} levels")
                    path = self._child_path(stack)
                    self._mark(stack, marks, path, mark)
                    container = {} if kind is yaml.MappingStartEvent else []
                    stack.append([container, path, None, 1, event.anchor, None, 0])
                    self.count(1, mark)
                    continue
                else:  # pragma: no cover - libyaml emits nothing else inside a document
                    raise self.fail(mark, f"unexpected YAML event {kind.__name__}")
            self.count(size if placed else 0, mark)
            if not stack:
                root = value
                if flag:
                    plain[()] = flag
                continue
            frame = stack[-1]
            frame[3] += size
            frame[6] += nbytes
            container = frame[0]
            if type(container) is list:
                if mark is not None:
                    marks[frame[1] + (len(container),)] = mark.line + 1
                if flag:
                    plain[frame[1] + (len(container),)] = flag
                container.append(value)
            elif frame[2] is None:
                self._key(frame, value, mark or event.start_mark)
                if flag:
                    plain[frame[1] + (frame[2],)] = flag
            else:
                key = frame[2]
                frame[2] = None
                if key in container:
                    raise self.fail(frame[5], f"duplicate key {key!r}")
                if placed:
                    marks[frame[1] + (key,)] = frame[5].line + 1
                if flag:
                    plain[frame[1] + (key,)] = flag
                container[key] = value

    def _key(self, frame: list, value: Any, mark: Any) -> None:
        if isinstance(value, (dict, list)):
            raise self.fail(mark, "mapping keys must be scalars")
        if value is None:
            value = "null"
        elif isinstance(value, bool):
            value = str(value).lower()
        frame[2] = value
        frame[5] = mark

    @staticmethod
    def _child_path(stack: list[list]) -> Path:
        if not stack:
            return ()
        frame = stack[-1]
        if type(frame[0]) is list:
            return frame[1] + (len(frame[0]),)
        return frame[1] + (frame[2],)

    def _mark(self, stack: list[list], marks: dict, path: Path, mark: Any) -> None:
        if stack:
            frame = stack[-1]
            if type(frame[0]) is list:
                marks[path] = mark.line + 1
            elif frame[2] is None:  # a collection where a mapping key belongs
                raise self.fail(mark, "mapping keys must be scalars")
            else:
                marks[path] = frame[5].line + 1


def load_stream(text: str | bytes, file: str | None = None) -> list[Doc]:
    """Every non-empty document of a YAML (or JSON) stream, with line marks."""
    budget = _BUDGET.get() or Budget()
    budget.charge_bytes(len(text.encode("utf-8")) if isinstance(text, str) else len(text), file)
    loader = _Loader(text)
    builder = _Builder(loader, file, budget)
    docs: list[Doc] = []
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                builder.anchors = {}
                doc = builder.document(event)
                if doc.obj is not None:
                    docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context
        if problem and "nesting depth" in problem:
            # libyaml (bundled with PyYAML >= 6.0.4) scans flow collections ahead of the events
            # and refuses past its own, higher limit before our depth check sees them: the
            # nesting is then deeper than ours too, and the message stays ours.
            problem = f"YAML nesting deeper than {MAX_DEPTH} levels"
            raise CmpError(Problem(problem, file=file, line=line, rule="yaml"))
        column = mark.column + 1 if mark is not None else None
        raise CmpError(Problem(f"invalid YAML: {problem}", file=file, line=line, rule="yaml", column=column))
    except yaml.YAMLError as exc:
        raise CmpError(Problem(f"invalid YAML: {exc}", file=file, rule="yaml"))
    finally:
        loader.dispose()
    return docs


def load_json_or_yaml(text: str | bytes, file: str | None = None) -> list[Doc]:
    """JSON is YAML; kept as a named entry point for readers of ``*.json`` files."""
    return load_stream(text, file)


class _OutputDumper(_Dumper):  # type: ignore[misc, valid-type]
    """Block style; multi-line strings as literal blocks; no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


#: Strings that may be printed plain: read as strings by every resolver that may decode our output.
#: An allow-list: an ASCII letter or ``/`` first, or a ``-`` followed by a letter or another ``-``
#: (``--port=8080``), or a quantity-like word: digits, an optional fraction and letters to the end
#: (``2Gi``, ``500m``, ``0.5Gi``) but no ``0x``/``0o``/``0b`` prefix (``0xF`` is 15 to go-yaml).
#: YAML 1.1 and 1.2 numbers, timestamps and sexagesimals start with a digit, a sign followed by a
#: digit or ``.``, or ``.``, and end in a digit, ``.`` or one of the ``.inf``/``.nan`` words;
#: go-yaml v2 (what Argo CD and kubectl decode with, through sigs.k8s.io/yaml) tries numbers only
#: for a digit, ``+``, ``-`` or ``.`` first, and its exponent needs digits. Everything else that
#: starts with a letter and any resolver reads as another type is a word in :data:`_TYPED_WORDS`
#: (compared in any case, so ``yEs`` is quoted too). ``tests/security/test_type_stable_output.py``
#: checks the rule against the real decoder.
_PLAIN_SAFE = re.compile(r"[A-Za-z/]|-[A-Za-z-]|(?![0][xXoObB])[0-9]+(\.[0-9]+)?[A-Za-z]+\Z")
_TYPED_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def plain_is_safe(text: str) -> bool:
    """True when ``text`` printed as a plain scalar reads back as this string under YAML 1.1 and 1.2."""
    return bool(_PLAIN_SAFE.match(text)) and text.lower() not in _TYPED_WORDS


def _represent_str(dumper: Any, data: str) -> Any:
    if "\n" in data:
        return dumper.represent_scalar(_STR, data, style="|")
    # Single quotes where plain would be ambiguous (the emitter falls back to double quotes
    # for text single quotes cannot hold); otherwise the emitter picks the style.
    return dumper.represent_scalar(_STR, data, style=None if plain_is_safe(data) else "'")


_OutputDumper.add_representer(str, _represent_str)


def dump_stream(objs: list[Any]) -> str:
    """A deterministic YAML stream: sorted keys, ``---`` between documents (as kustomize prints it)."""
    if not objs:
        return ""
    return yaml.dump_all(objs, Dumper=_OutputDumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=1 << 30)


def canonical_json(obj: Any) -> str:
    """Stable JSON text of a value: for hashing and comparisons."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
