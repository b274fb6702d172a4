"""Command-line flag model: parse argument lists, find duplicates, merge runtime + overlay.

Parsing rules (argparse-like, decided without knowing the target program's parser):

* ``--k=v`` is one token, key ``k``;
* ``--k v`` consumes ``v`` when ``v`` does not start with ``-`` or is a negative number;
* a bare ``--k`` is a boolean; a bare ``--no-k`` is key ``k`` with ``negated`` set (argparse
  ``BooleanOptionalAction``) and never consumes a value (``--no-k=v`` stays key ``no-k``);
* short options keep their dash: ``-p 8080`` and ``-p=8080`` are key ``-p``; ``-p8080`` (one
  letter followed by a number) is key ``-p`` with value ``8080``; any other single-dash word
  (``-verbose``, ``-model=x``) is keyed by the whole word;
* ``--`` and everything after it are positional, like argparse; other tokens are positional
  and stay where they are.

Keys are canonical: leading dashes of long options are stripped and, for parsers that accept
both spellings (vLLM, KServe's huggingfaceserver), ``_`` becomes ``-``. Placeholders in keys
are resolved against the InferenceService metadata before comparison; emitted tokens keep
their original text.

The merge is the product rule (it mirrors kserve#6178): the runtime's args minus every
non-repeatable flag the overlay sets, then the overlay's args in overlay order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import field
from typing import TYPE_CHECKING

import yaml

from cmp.kserve.placeholders import resolve
from cmp.lazydataclass import dataclass

if TYPE_CHECKING:
    from cmp.kserve.parsers import ServerParser

SERVER_TYPE_ANNOTATION = "serving.kserve.io/server-type"
RUNTIME = "runtime"
OVERLAY = "overlay"

_NEGATIVE_NUMBER = re.compile(r"^-\d+\Z|^-\d*\.\d+\Z")
_ATTACHED_SHORT = re.compile(r"^-([A-Za-z])(\d+(?:\.\d+)?)\Z")


class FlagError(ValueError):
    """An overlay value that cannot be turned into command-line tokens."""


@dataclass(frozen=True)
class Arg:
    """One parsed argument: a flag (with its value tokens) or a positional token."""

    key: str | None
    tokens: tuple[str, ...]
    value: str | None
    negated: bool
    index: int
    repeatable: bool = False


@dataclass(frozen=True)
class Origin:
    """Where an output token came from: a runtime token index or an overlay item."""

    source: str
    index: int
    key: str | None = None


@dataclass(frozen=True)
class Removal:
    """A runtime flag dropped by the merge, and the overlay item that replaced it."""

    arg: Arg
    by: Origin


@dataclass(frozen=True)
class MergeResult:
    """Effective argument list with one origin per token, and the dropped runtime flags."""

    args: list[str]
    origins: list[Origin]
    removed: list[Removal]


@dataclass(frozen=True)
class FlagRules:
    """How a runtime's program parses flags: underscore normalisation and repeatable keys."""

    normalize_underscores: bool = False
    repeatable: frozenset[str] = field(default_factory=frozenset)
    #: The server's own parser when the catalog has it: keys are then the server's dests.
    parser: ServerParser | None = None

    def with_repeatable(self, extra: Iterable[str]) -> FlagRules:
        """A copy whose repeatable set also holds ``extra``."""
        return FlagRules(self.normalize_underscores, self.repeatable | frozenset(extra), self.parser)


_VLLM_RULES = FlagRules(
    normalize_underscores=True,
    repeatable=frozenset(
        {
            "--allowed-headers",
            "--allowed-methods",
            "--allowed-origins",
            "--lora-modules",
            "--middleware",
        }
    ),
)
_TRITON_RULES = FlagRules(
    repeatable=frozenset(
        {"--backend-config", "--load-model", "--model-repository", "--model-store"}
    ),
)

#: Flag rules of the official runtimes, by server type annotation and by runtime name.
RUNTIME_FLAG_RULES: dict[str, FlagRules] = {
    "huggingfaceserver": _VLLM_RULES,
    "kserve-huggingfaceserver": _VLLM_RULES,
    "kserve-huggingfaceserver-multinode": _VLLM_RULES,
    "kserve-tritonserver": _TRITON_RULES,
    "kserve-vllmserver": _VLLM_RULES,
    "tritonserver": _TRITON_RULES,
    "vllmserver": _VLLM_RULES,
}


def server_type(runtime_obj: Mapping) -> str:
    """The runtime's server type annotation, falling back to its name (as KServe does)."""
    metadata = runtime_obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    return annotations.get(SERVER_TYPE_ANNOTATION) or metadata.get("name") or ""


def flag_rules_for(
    runtime_obj: Mapping, rules: Mapping[str, FlagRules] = RUNTIME_FLAG_RULES
) -> FlagRules:
    """Flag rules for a (Cluster)ServingRuntime: by server type, then name, else defaults."""
    name = (runtime_obj.get("metadata") or {}).get("name") or ""
    return rules.get(server_type(runtime_obj)) or rules.get(name) or FlagRules()


def canonical_key(raw: str, *, normalize_underscores: bool) -> str:
    """Canonical form of a flag name: long options lose their dashes, ``_`` may become ``-``."""
    key = raw.lstrip("-") if raw.startswith("--") else raw
    return key.replace("_", "-") if normalize_underscores else key


def is_value_token(token: str) -> bool:
    """True when ``token`` can be the value of a preceding ``--k`` (not an option)."""
    return not token.startswith("-") or bool(_NEGATIVE_NUMBER.match(token))


def parse_args(
    tokens: list[str],
    *,
    normalize_underscores: bool,
    repeatable: frozenset[str],
    meta: dict | None = None,
    parser: ServerParser | None = None,
) -> list[Arg]:
    """Split ``tokens`` into flags and positionals (see the module docstring for the rules).

    With the server's ``parser``, a flag it declares is keyed by its dest, takes a value only when
    it declares one (``store_true`` and ``--x/--no-x`` flags never consume the next token, ``nargs``
    flags consume every following value) and is repeatable when declared ``append``.
    """
    repeat_keys = _canonical_set(repeatable, normalize_underscores, parser)
    args: list[Arg] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            args.extend(_positional(t, i) for i, t in enumerate(tokens[index:], index))
            break
        arg = _parse_one(tokens, index, normalize_underscores, meta, parser)
        args.append(_with_repeatable(arg, repeat_keys))
        index += len(arg.tokens)
    return args


def find_duplicates(
    tokens: list[str],
    *,
    normalize_underscores: bool,
    repeatable: frozenset[str],
    meta: dict | None = None,
    parser: ServerParser | None = None,
) -> list[tuple[Arg, Arg]]:
    """Pairs (first, later) of the same non-repeatable flag set twice within ``tokens``."""
    first: dict[str, Arg] = {}
    pairs: list[tuple[Arg, Arg]] = []
    parsed = parse_args(
        tokens, normalize_underscores=normalize_underscores, repeatable=repeatable, meta=meta, parser=parser
    )
    for arg in parsed:
        if arg.key is None or arg.repeatable:
            continue
        if arg.key in first:
            pairs.append((first[arg.key], arg))
        else:
            first[arg.key] = arg
    return pairs


def merge_args(
    runtime: list[str],
    overlay: list[str] | Mapping,
    *,
    normalize_underscores: bool,
    repeatable: frozenset[str],
    meta: dict | None,
    parser: ServerParser | None = None,
) -> MergeResult:
    """Runtime args minus the non-repeatable flags the overlay sets, then the overlay's args.

    ``overlay`` is a token list or an ordered mapping ``{flag: value}`` (see
    :func:`overlay_map_tokens`). A mapping value of ``false``/``null`` only removes the
    runtime's flag.
    """
    options = {"normalize_underscores": normalize_underscores, "repeatable": repeatable, "parser": parser}
    items = _overlay_items(overlay, normalize_underscores, meta, parser)
    setters = _setters(items, normalize_underscores, repeatable, meta, parser)
    kept: list[tuple[str, Origin]] = []
    removed: list[Removal] = []
    for arg in parse_args(runtime, meta=meta, **options):
        if arg.key in setters and not arg.repeatable:
            removed.append(Removal(arg, setters[arg.key]))
            continue
        kept.extend((t, Origin(RUNTIME, arg.index + i)) for i, t in enumerate(arg.tokens))
    added = [(token, origin) for origin, _, tokens in items for token in tokens]
    merged = kept + added
    return MergeResult([t for t, _ in merged], [o for _, o in merged], removed)


def overlay_map_tokens(key: str, value: object) -> list[str]:
    """Tokens for one overlay mapping entry.

    ``true`` -> bare ``--k``; ``false``/``null`` -> nothing; a list -> one ``--k=v`` per item;
    strings -> ``--k=v``; numbers as YAML prints them. Keys may omit the leading ``--``.
    """
    flag = key if key.startswith("-") else f"--{key}"
    if value is True:
        return [flag]
    if value is None or value is False:
        return []
    if isinstance(value, list):
        return [token for item in value for token in overlay_map_tokens(flag, item)]
    return [f"{flag}={_scalar_text(value, flag)}"]


def _overlay_items(
    overlay: list[str] | Mapping, normalize_underscores: bool, meta: dict | None, parser: ServerParser | None = None
) -> list[tuple[Origin, str | None, list[str]]]:
    """Overlay entries as (origin, key the entry sets or None, tokens it contributes)."""
    if isinstance(overlay, Mapping):
        return [
            (
                Origin(OVERLAY, i, str(k)),
                _map_key(str(k), normalize_underscores, meta, parser),
                overlay_map_tokens(str(k), v),
            )
            for i, (k, v) in enumerate(overlay.items())
        ]
    return [(Origin(OVERLAY, i), None, [t]) for i, t in enumerate(overlay)]


def _setters(
    items: list[tuple[Origin, str | None, list[str]]],
    normalize_underscores: bool,
    repeatable: frozenset[str],
    meta: dict | None,
    parser: ServerParser | None = None,
) -> dict[str, Origin]:
    """Map each non-repeatable key the overlay sets to the first overlay item setting it."""
    repeat_keys = _canonical_set(repeatable, normalize_underscores, parser)
    setters: dict[str, Origin] = {}
    tokens = [token for _, _, item_tokens in items for token in item_tokens]
    owners = [origin for origin, _, item_tokens in items for _ in item_tokens]
    parsed = parse_args(
        tokens, normalize_underscores=normalize_underscores, repeatable=repeatable, meta=meta, parser=parser
    )
    for arg in parsed:
        if arg.key is not None and not arg.repeatable:
            setters.setdefault(arg.key, owners[arg.index])
    for origin, key, _ in items:
        if key is not None and key not in repeat_keys and not _appends(parser, key):
            setters.setdefault(key, origin)
    return setters


def _map_key(key: str, normalize_underscores: bool, meta: dict | None, parser: ServerParser | None = None) -> str:
    """Canonical key of an overlay mapping key (with or without leading dashes)."""
    flag = key if key.startswith("-") else f"--{key}"
    parsed = _parse_one([flag], 0, normalize_underscores, meta, parser)
    return parsed.key or flag


def _parse_one(tokens: list[str], index: int, normalize: bool, meta: dict | None,
               parser: ServerParser | None = None) -> Arg:
    """Parse the argument starting at ``tokens[index]``."""
    token = tokens[index]
    if parser is not None and token.startswith("-") and not _NEGATIVE_NUMBER.match(token):
        declared = _declared_arg(tokens, index, meta, parser)
        if declared is not None:
            return declared
    if token.startswith("--") and len(token) > 2:
        return _parse_long(tokens, index, normalize, meta)
    if token.startswith("-") and len(token) > 1 and not _NEGATIVE_NUMBER.match(token):
        return _parse_short(tokens, index, normalize, meta)
    return _positional(token, index)


def _declared_arg(tokens: list[str], index: int, meta: dict | None, parser: ServerParser) -> Arg | None:
    """A flag the server's parser declares, keyed by dest and taking values as declared; else None."""
    token = tokens[index]
    raw, eq, value = token.partition("=")
    found = parser.resolve(_resolved(raw, meta))
    if found.declared is None:
        return None
    key = found.declared.dest.replace("_", "-")
    negated = parser.negated(found.option or raw)
    appends = found.declared.kind == "append"
    if eq or found.declared.kind in ("switch", "bool"):
        return Arg(key, (token,), value if eq else None, negated, index, appends)
    taken = 0
    limit = len(tokens) if found.declared.kind == "multi" else index + 2
    while index + 1 + taken < min(limit, len(tokens)) and is_value_token(tokens[index + 1 + taken]):
        taken += 1
    values = tokens[index + 1:index + 1 + taken]
    return Arg(key, tuple(tokens[index:index + 1 + taken]), values[-1] if values else None, negated, index,
               appends)


def _appends(parser: ServerParser | None, key: str) -> bool:
    """True when the server declares the flag keyed ``key`` with ``action="append"`` (repeatable)."""
    if parser is None:
        return False
    found = parser.resolve("--" + key)
    return found.declared is not None and found.declared.kind == "append"


def _parse_long(tokens: list[str], index: int, normalize: bool, meta: dict | None) -> Arg:
    """Parse ``--k=v``, ``--k v``, ``--k`` or ``--no-k``."""
    raw = tokens[index].partition("=")[0]
    key = canonical_key(_resolved(raw, meta), normalize_underscores=normalize)
    if raw == tokens[index] and key.startswith("no-") and len(key) > 3:
        return Arg(key[3:], (tokens[index],), None, True, index)
    return _keyed(tokens, index, key)


def _parse_short(tokens: list[str], index: int, normalize: bool, meta: dict | None) -> Arg:
    """Parse ``-p 8080``, ``-p=8080``, ``-p8080`` or a single-dash word such as ``-verbose``."""
    attached = _ATTACHED_SHORT.match(tokens[index])
    if attached:
        return Arg(f"-{attached.group(1)}", (tokens[index],), attached.group(2), False, index)
    raw = tokens[index].partition("=")[0]
    key = canonical_key(_resolved(raw, meta), normalize_underscores=normalize)
    return _keyed(tokens, index, key)


def _keyed(tokens: list[str], index: int, key: str) -> Arg:
    """The flag ``key`` at ``index``: ``=value`` attached, a consumed next token, or bare."""
    token = tokens[index]
    _, eq, value = token.partition("=")
    if eq:
        return Arg(key, (token,), value, False, index)
    nxt = tokens[index + 1] if index + 1 < len(tokens) else None
    if nxt is not None and is_value_token(nxt):
        return Arg(key, (token, nxt), nxt, False, index)
    return Arg(key, (token,), None, False, index)


def _positional(token: str, index: int) -> Arg:
    """A positional token, kept in place by every merge."""
    return Arg(None, (token,), token, False, index)


def _with_repeatable(arg: Arg, repeat_keys: frozenset[str]) -> Arg:
    """``arg`` marked repeatable when its key is in ``repeat_keys``."""
    if arg.key is None or arg.key not in repeat_keys:
        return arg
    return Arg(arg.key, arg.tokens, arg.value, arg.negated, arg.index, True)


def _canonical_set(keys: Iterable[str], normalize: bool, parser: ServerParser | None = None) -> frozenset[str]:
    """Canonical keys of configured flag names (given with or without leading dashes)."""
    out = set()
    for k in keys:
        flag = k if k.startswith("-") else f"--{k}"
        out.add((parser.key(flag) if parser is not None else None)
                or canonical_key(flag, normalize_underscores=normalize))
    return frozenset(out)


def _resolved(raw_key: str, meta: dict | None) -> str:
    """The flag name with KServe placeholders resolved when metadata is known."""
    return raw_key if meta is None else resolve(raw_key, meta)


def _scalar_text(value: object, flag: str) -> str:
    """A scalar as YAML would print it (``8192``, ``0.9``, strings unchanged)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return yaml.dump(value, Dumper=yaml.CSafeDumper).splitlines()[0]
    raise FlagError(f"{flag}: unsupported value type {type(value).__name__}")
