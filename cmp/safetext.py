"""Text from manifests made safe to show: no character that a terminal or a Markdown reader acts on.

Values in a repository can hold anything YAML can spell: ESC (``\\x1b``, which starts ANSI
CSI/OSC sequences that recolour, retitle or rewrite a terminal), other C0/C1 controls, CR
(which overwrites a terminal line and ends a Markdown line), LF, NEL, the Unicode line and
paragraph separators, bidirectional overrides (which reorder what a reader sees) and other
invisible format characters. :func:`visible` writes each of them as an escape (``\\r``,
``\\x1b``, ``\\u202e``) so the text stays on one line and shows what it holds. Every text
reporter (terminal text, Markdown, GitHub annotations, messages on stderr) passes content
through it; JSON output escapes on its own.

The rule is by Unicode category, so it needs no list to keep current: Cc (controls), Cf
(format characters: bidi controls, zero-width characters, the BOM), Zl/Zp (line and paragraph
separators) and Cs (lone surrogates, which cannot even be encoded to UTF-8). A backslash
itself is left as it is: the output is for reading, not for parsing back.
"""

from __future__ import annotations

import re
import unicodedata

#: Categories never written as they are.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
#: Printable ASCII is never hidden; everything else is looked up.
_CANDIDATE = re.compile(r"[^\x20-\x7e]")


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    point = ord(char)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def _replace(match: re.Match[str]) -> str:
    char = match.group()
    return _escape(char) if unicodedata.category(char) in HIDDEN else char


def visible(text: str) -> str:
    """``text`` on one line, every control, separator and format character written as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return _CANDIDATE.sub(_replace, text)


def is_safe(text: str) -> bool:
    """True when :func:`visible` would leave ``text`` as it is."""
    return visible(text) == text
