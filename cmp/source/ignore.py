"""Which directories app discovery skips: ``.kserve-cmp-ignore`` and ``--exclude`` patterns.

The file sits at the root of the repository (or of the tree given to ``cmp diff DIR_A DIR_B``)
and uses gitignore's pattern syntax (git's ``Documentation/gitignore.txt``): one pattern a line,
``#`` comments, ``!`` re-includes, a trailing ``/`` matches directories only (discovery only
looks at directories, so it changes nothing here), a pattern with a ``/`` at its start or in
its middle is anchored at the root, any other pattern matches a name at any depth; ``*`` and
``?`` never match ``/``, ``[...]`` is a character class, ``**`` spans directories. The last
pattern that matches decides, and a directory that is excluded takes everything below it along
(as in git, a path below it cannot be re-included).

The file is repository content, so it is bounded (size, line count, pattern length) and every
pattern runs on RE2, whose time is linear in the path whatever the pattern.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import re2

from ..problems import CmpError, Problem

IGNORE_FILE = ".kserve-cmp-ignore"
MAX_BYTES = 64 * 1024
MAX_PATTERNS = 1000
MAX_PATTERN_LENGTH = 1024
RULE = "ignore"


@dataclass(frozen=True)
class Pattern:
    text: str
    negated: bool
    regex: object           # a compiled re2 pattern, full-matched against a root-relative path


def _translate(glob: str) -> str:
    """The gitignore ``glob`` (no ``!``, no trailing ``/``) as an RE2 expression for a relative path."""
    anchored = "/" in glob.rstrip("/")
    glob = glob.lstrip("/")
    out = [] if anchored else ["(?:.*/)?"]
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**/", i) and (i == 0 or glob[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i) and (i == 0 or glob[i - 1] == "/") and i + 2 == n:
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2 if glob.startswith("[!", i) or glob.startswith("[^", i) else i + 1)
            if end == -1:
                out.append(re2.escape(c))
                i += 1
                continue
            body = glob[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            body = "".join("\\" + ch if ch in "\\]^[" else ch for ch in body)
            out.append(f"[^/{body}]" if negate else f"[{body}]")
            i = end + 1
        elif c == "\\" and i + 1 < n:
            out.append(re2.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re2.escape(c))
            i += 1
    return "".join(out)


def parse(lines: list[str], source: str) -> list[Pattern]:
    """Patterns of gitignore ``lines``; ``source`` names them in messages (a file, or ``--exclude``)."""
    patterns: list[Pattern] = []
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\n").rstrip("\r")
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        if not line or line.startswith("#"):
            continue
        where = dict(file=source, line=number) if source != "--exclude" else dict(file=None)
        if len(line) > MAX_PATTERN_LENGTH:
            raise CmpError(Problem(f"pattern longer than {MAX_PATTERN_LENGTH} characters", rule=RULE, **where))
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in line):
            raise CmpError(Problem(f"pattern {line!r} holds a control character", rule=RULE, **where))
        negated = line.startswith("!")
        glob = line[1:] if negated else line
        if glob.startswith("\\#") or glob.startswith("\\!"):
            glob = glob[1:]
        glob = glob.rstrip("/") or "/"
        if glob == "/":
            continue
        try:
            regex = re2.compile(_translate(glob))
        except re2.error as exc:
            raise CmpError(Problem(f"pattern {line!r} is not valid: {exc}", rule=RULE, **where)) from None
        patterns.append(Pattern(line, negated, regex))
        if len(patterns) > MAX_PATTERNS:
            raise CmpError(Problem(f"more than {MAX_PATTERNS} patterns", rule=RULE, **where))
    return patterns


def load(root: str, excludes: tuple[str, ...] = (), shown_root: str = "") -> "Ignore":
    """The rules of ``root``'s ignore file (if any) followed by the ``--exclude`` patterns."""
    patterns: list[Pattern] = []
    path = os.path.join(root, IGNORE_FILE)
    shown = os.path.join(shown_root, IGNORE_FILE) if shown_root else IGNORE_FILE
    if os.path.isfile(path) and not os.path.islink(path):
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise CmpError(Problem(f"file is {size} bytes, over the limit of {MAX_BYTES}", file=shown, rule=RULE))
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CmpError(Problem(f"not UTF-8 text (byte {exc.start})", file=shown, rule=RULE)) from None
        patterns += parse(text.splitlines(), shown)
    elif os.path.islink(path):
        raise CmpError(Problem("must be a regular file, not a symbolic link", file=shown, rule=RULE))
    patterns += parse(list(excludes), "--exclude")
    return Ignore(tuple(patterns))


@dataclass(frozen=True)
class Ignore:
    patterns: tuple[Pattern, ...] = ()

    def excluded(self, relative: str) -> bool:
        """True when the root-relative directory ``relative`` (``/``-separated) or a parent is excluded."""
        parts = [p for p in relative.replace(os.sep, "/").split("/") if p and p != "."]
        for depth in range(1, len(parts) + 1):
            if self._decide("/".join(parts[:depth])):
                return True
        return False

    def _decide(self, path: str) -> bool:
        """The last matching pattern's verdict for directory ``path``, which git probes as ``path/``
        too (so ``docs/**``, everything inside docs, takes docs itself along, as in git)."""
        verdict = False
        for pattern in self.patterns:
            if pattern.regex.fullmatch(path) or pattern.regex.fullmatch(path + "/"):
                verdict = not pattern.negated
        return verdict
