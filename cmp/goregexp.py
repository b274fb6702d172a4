"""Regular expressions written by content, matched in linear time with RE2.

kustomize (patch ``target`` names, namespaces, kinds...) and KServe (a ClusterStorageContainer's
``supportedUriFormats[].regex``) match their patterns with Go's ``regexp``: RE2 syntax, linear
time, no backreferences or lookaround, ``$`` only at the end of the text. Python's ``re``
backtracks: ``(a|aa)+b`` against sixty ``a`` never finishes. Every pattern that content chose
goes through here instead: RE2 (``google-re2``) has Go's syntax and semantics and the same time
bound. A pattern RE2 refuses raises :class:`PatternError`, which callers report at its line;
``\\C`` (any byte), which RE2 accepts and Go does not, is refused too.
"""

from __future__ import annotations

import functools

#: Longer patterns are refused before compiling (RE2's time is linear in pattern and text, and its
#: memory bounded by ``max_mem``; a limit keeps both small).
MAX_PATTERN = 4096


@functools.cache
def _re2() -> tuple:
    """``(re2, options)``, imported on the first pattern: most renders compile none (~3 ms saved)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own line on stderr
    return re2, options


class PatternError(ValueError):
    """A pattern Go's regexp (and RE2) would not compile: ``str()`` names the pattern, ``reason`` why."""

    def __init__(self, pattern: str, reason: str):
        super().__init__(f"invalid regular expression {pattern!r}: {reason}")
        self.reason = reason


@functools.lru_cache(maxsize=512)
def compile_go(pattern: str) -> "re2._Regexp":
    """``pattern`` compiled with RE2, or :class:`PatternError`."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(pattern[:40] + "...", f"{len(pattern)} characters long, over the limit of {MAX_PATTERN}")
    if _has_any_byte(pattern):
        raise PatternError(pattern, "\\C is not supported by Go's regexp")
    re2, options = _re2()
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) \
            else str(exc)
        raise PatternError(pattern, reason) from None


def _has_any_byte(pattern: str) -> bool:
    i = 0
    while i < len(pattern) - 1:
        if pattern[i] == "\\":
            if pattern[i + 1] == "C":
                return True
            i += 2
        else:
            i += 1
    return False


def search(pattern: str, text: str) -> bool:
    """Go's ``regexp.MatchString(pattern, text)``: anywhere in ``text``."""
    return compile_go(pattern).search(text) is not None


def anchored(pattern: str) -> str:
    """kustomize's anchoring of a selector pattern (api/types/selector.go ``anchorRegex``, v5.8.1)."""
    return "^(?:" + pattern + ")$" if pattern else pattern


def selector_match(pattern: str, text: str) -> bool:
    """A kustomize selector field: empty matches everything, else the whole text must match."""
    return not pattern or search(anchored(pattern), text)
