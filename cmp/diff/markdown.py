"""``--format markdown``: one pull-request comment, always well formed and within a size budget.

Layout: a hidden marker (so a bot can find and update its comment), a title naming the two
sides, counts by kind and action, then one ``<details>`` per changed app with its render
errors, its models' serving summaries and one diff fence per object. Text that comes from the
manifests is escaped (HTML in summaries, backtick runs in code spans and fences) and never
holds a line break or a control character: CR, LF, NEL, U+2028/2029, C0/C1 controls and bidi
overrides are shown as escapes (:func:`cmp.safetext.visible`) in code spans, code blocks,
headings, tables and summaries alike. A CR in an arg value would otherwise end the Markdown
line, and a ``<!--`` after it would hide every later change from the reviewer.

The budget counts what GitHub counts (UTF-16 code units; a comment may hold 65,536). When the
whole report does not fit, it is split into numbered parts (one comment each): blocks (an
error, the model summaries, one object's diff) are never split between parts, every
``<details>`` is closed at the end of a part and reopened in the next. Only a block larger than a
whole part is cut at a line boundary with its fence closed; past :data:`MAX_PARTS` parts the rest
is left out with a notice.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..safetext import visible
from .result import ACTIONS, UNCHANGED, AppDiff, DiffReport, ModelDiff, ObjectDiff
from .unified import diff_lines, line_counts

MAX_SIZE = 65536
MARKER = "kserve-cmp-diff"
#: Above this many changed apps, each app's section starts collapsed.
OPEN_APPS = 5
#: Room kept for the truncation notice and the closing of the app being cut.
RESERVE = 600
#: Most comments one diff is split into; past it, the last is cut with a notice.
MAX_PARTS = 10
#: Stands for the number of parts until it is known (as wide as any number it becomes).
_TOTAL = "\x00N\x00"
#: Longest list of unchanged app names; a longer one is replaced by their number.
FOOTER_NAMES = 2000
_ICONS = {"added": "➕", "removed": "➖", "changed": "✏️", "renamed": "🔀"}


def size(text: str) -> int:
    """Length as GitHub measures a comment: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def marker(key: str = "") -> str:
    """The hidden line that identifies this comment (one per key); also the first part's."""
    return f"<!-- {MARKER}{':' + key if key else ''} -->"


def part_marker(key: str, number: int) -> str:
    """The hidden line of part ``number`` (2 and up) of a comment split in parts."""
    return f"<!-- {MARKER}{':' + key if key else ''} part {number} -->" if number > 1 else marker(key)


@dataclass(frozen=True)
class Block:
    """Markdown that can be cut: ``head``, then ``lines`` (cut from the end), then ``tail``."""

    head: str
    lines: tuple[str, ...]
    tail: str
    cut_line: str          # replaces the lines left out; ``{n}`` is their number

    def text(self) -> str:
        return self.head + "".join(line + "\n" for line in self.lines) + self.tail

    def cut(self, room: int) -> str | None:
        """The block with as many leading lines as fit in ``room``, or None if not even its frame does."""
        frame = size(self.head) + size(self.tail) + size(self.cut_line.format(n=len(self.lines))) + 1
        if frame > room:
            return None
        kept, used = [], frame
        for line in self.lines:
            used += size(line) + 1
            if used > room:
                break
            kept.append(line)
        note = self.cut_line.format(n=len(self.lines) - len(kept))
        return self.head + "".join(line + "\n" for line in kept) + note + "\n" + self.tail


def render_markdown(report: DiffReport, max_size: int = MAX_SIZE, key: str = "") -> str:
    """The comment body, or its parts one after another; each part within ``max_size``."""
    return "".join(render_markdown_parts(report, max_size, key))


def render_markdown_parts(report: DiffReport, max_size: int = MAX_SIZE, key: str = "",
                          max_parts: int = MAX_PARTS) -> list[str]:
    """The comment as numbered parts, each never longer than ``max_size`` (at least
    :data:`RESERVE` * 2): one part when everything fits, else as many as it takes, up to
    ``max_parts``. An object's diff is never split between parts (only one larger than a whole
    part is cut, with a note); an app continued in the next part says so. Past ``max_parts``,
    the last part is cut and a notice at its top says what was left out."""
    header, footer = _header(report, key), _footer(report, min(FOOTER_NAMES, max_size // 4))
    # changed apps first; apps broken on both sides after them, listed with their messages
    apps = [a for a in report.apps if a.changed] + report.still_broken
    body, shown, complete = _fit(apps, max_size - size(header) - size(footer) - RESERVE)
    if complete or max_parts <= 1:
        total = sum(len(_blocks(a)) for a in apps)
        notice = "" if complete else _notice(max_size, shown, total)
        return [header + notice + body + footer]
    return _split(report, apps, header, footer, max_size, key, max_parts)


def _continued_header(key: str, number: int) -> str:
    return f"{part_marker(key, number)}\n## kserve-cmp diff, part {number} of {_TOTAL}\n\n"


def _split(report: DiffReport, apps: list[AppDiff], header: str, footer: str, max_size: int, key: str,
           max_parts: int) -> list[str]:
    """Parts of at most ``max_size``: whole blocks only, each app's ``<details>`` closed at the end
    of a part and reopened (marked continued) at the start of the next."""
    expanded = len(apps) <= OPEN_APPS
    room_of = max_size - RESERVE
    first = header.replace(f"## kserve-cmp diff\n", f"## kserve-cmp diff, part 1 of {_TOTAL}\n", 1)
    parts: list[str] = []
    current, room = [first], room_of - size(first)
    left_out = 0
    for app in apps:
        opening, closing = _app_frame(app, expanded)
        is_open = False          # the app's <details> is open in the current part
        shown_any = False        # some block of the app went into an earlier part
        for block in _blocks(app):
            text = block.text()
            piece = text if is_open else opening + text
            if size(piece) + size(closing) > room and len(current) > 1:
                if len(parts) + 1 >= max_parts:
                    left_out += 1
                    continue
                if is_open:
                    current.append(closing)
                parts.append("".join(current))
                head = _continued_header(key, len(parts) + 1)
                current, room = [head], room_of - size(head)
                opening = _app_frame(app, expanded, continued=shown_any)[0]
                is_open = False
                piece = opening + text
            if size(piece) + size(closing) > room:       # one block larger than a whole part
                frame = "" if is_open else opening
                piece = frame + (block.cut(room - size(frame) - size(closing)) or "")
            current.append(piece)
            room -= size(piece)
            is_open = shown_any = True
        if is_open:
            current.append(closing)
            room -= size(closing)
    if left_out:
        current.insert(1, f"> [!WARNING]\n> {left_out} more sections did not fit in {max_parts} comments. "
                          "Run `cmp diff` locally for the whole diff.\n\n")
    if size(footer) <= room:
        current.append(footer)
    parts.append("".join(current))
    total = str(len(parts))
    return [part.replace(_TOTAL, total, 1) for part in parts]


def _fit(apps: list[AppDiff], room: int) -> tuple[str, int, bool]:
    """As many apps and blocks as fit in ``room``: the text, the number of whole blocks, and
    whether everything fitted."""
    out: list[str] = []
    shown = 0
    for app in apps:
        opening, closing = _app_frame(app, len(apps) <= OPEN_APPS)
        if size(opening) + size(closing) > room:
            return "".join(out), shown, False
        room -= size(opening) + size(closing)
        out.append(opening)
        for block in _blocks(app):
            text = block.text()
            if size(text) > room:
                out += [block.cut(room) or "", closing]
                return "".join(out), shown, False
            out.append(text)
            room -= size(text)
            shown += 1
        out.append(closing)
    return "".join(out), shown, True


def _header(report: DiffReport, key: str) -> str:
    lines = [marker(key), "## kserve-cmp diff", "",
             f"{code(report.base)} → {code(report.head)}: {_outcome(report)}", ""]
    counts = report.counts()
    if counts:
        lines += ["| Kind | " + " | ".join(a.capitalize() for a in ACTIONS) + " |",
                  "|---|" + "---:|" * len(ACTIONS)]
        lines += [f"| {escape_text(kind)} | " + " | ".join(str(per.get(a, 0)) for a in ACTIONS) + " |"
                  for kind, per in counts.items()]
        lines.append("")
    return "\n".join(lines) + "\n"


def _outcome(report: DiffReport) -> str:
    changed = sum(1 for a in report.apps if a.changed)
    broke = [a for a in report.apps if a.head_failed()]
    total = len(report.apps) + report.skipped
    apps = f"{total} app{'s' if total != 1 else ''}"
    text = f"**no changes** in {apps}" if not changed else f"**{changed} of {apps} changed**"
    if broke:
        text += f", **{len(broke)} failed to render** ❌"
    if report.still_broken:
        text += f", {len(report.still_broken)} broken before this change too"
    if report.skipped:
        text += f" ({report.skipped} not rendered: the change touches none of their inputs)"
    return text + "."


def _notice(max_size: int, shown: int, total: int) -> str:
    return (f"> [!WARNING]\n> This diff is longer than {max_size:,} characters and was cut: {shown} of {total} "
            f"sections are shown whole. Run `cmp diff` locally for the whole diff.\n\n")


def _footer(report: DiffReport, longest: int) -> str:
    """The apps without changes: named while that takes at most ``longest``, else counted."""
    unchanged = [a.path for a in report.apps if not a.changed and not a.still_broken()]
    if not unchanged:
        return ""
    names = f"Unchanged: {', '.join(code(p) for p in unchanged)}\n"
    return names if size(names) <= longest else f"Unchanged: {len(unchanged)} apps.\n"


def _app_frame(app: AppDiff, expanded: bool, continued: bool = False) -> tuple[str, str]:
    changed = [o for o in app.objects if o.action != UNCHANGED]
    what = "does not render" if app.head_failed() else "renders on neither side" if app.still_broken() else \
        "base does not render" if app.errors else \
        f"{len(changed)} object{'s' if len(changed) != 1 else ''}"
    summary = f"<b>{html.escape(visible(app.path))}</b>: {what}{' (continued)' if continued else ''}"
    return f"<details{' open' if expanded else ''}>\n<summary>{summary}</summary>\n\n", "</details>\n\n"


def _blocks(app: AppDiff) -> list[Block]:
    blocks = [_error_block(e.side, e.messages) for e in app.errors]
    models = [m for m in app.models if m.action != UNCHANGED]
    if models:
        lines = tuple(line for m in models for line in model_lines(m))
        blocks.append(Block("**Models**\n\n", lines, "\n", "- … {n} more lines"))
    blocks += [_object_block(o) for o in app.objects if o.action != UNCHANGED]
    return blocks


def _error_block(side: str, messages: tuple[str, ...]) -> Block:
    messages = tuple(visible(m) for m in messages)
    fence = fence_for(messages)
    return Block(f"❌ **{side} does not render:**\n\n{fence}text\n", messages, f"{fence}\n\n", "… {n} more lines")


def model_lines(model: ModelDiff) -> list[str]:
    """A list item per model, a sub-item per changed fact: ``--max-model-len``: ``4096`` → ``8192``."""
    state = f"renamed from {code(model.old_name)}" if model.old_name else model.action
    head = f"- {code(model.name)} ({state}): runtime {code(model.runtime)}, image {code(model.image)}"
    return [head] + [f"  - {code(row.label)}: {code(row.old)} → {code(row.new)}" for row in model.rows] + \
        [f"  - ⚠️ **refused on update**: {warning}" for warning in model.warnings]


def _object_block(item: ObjectDiff) -> Block:
    lines = tuple(visible(line) for line in diff_lines(item))
    added, removed = line_counts(lines)
    fence = fence_for(lines)
    head = (f"#### {_ICONS[item.action]} {escape_text(item.title())} ({item.action}, +{added} −{removed})\n\n"
            f"{fence}diff\n")
    return Block(head, lines, f"{fence}\n\n", "… {n} more lines cut")


def fence_for(lines: tuple[str, ...] | list[str]) -> str:
    """A backtick fence longer than any backtick run in ``lines`` (so they cannot close it)."""
    return "`" * max(3, max((_longest_run(line) for line in lines), default=0) + 1)


def _longest_run(text: str) -> int:
    best = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        best = max(best, run)
    return best


def code(text: str) -> str:
    """An inline code span that shows ``text`` as it is, whatever backticks or spaces it holds,
    on one line (line breaks and controls escaped)."""
    text = visible(text)
    if not text:
        return "*none*"
    ticks = "`" * (_longest_run(text) + 1)
    # CommonMark strips one space from each end when both ends have one (and it is not all spaces),
    # and needs one between a backtick at an end and the fence.
    both_spaces = text.startswith(" ") and text.endswith(" ") and text.strip(" ")
    pad = " " if text.startswith("`") or text.endswith("`") or both_spaces else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def escape_text(text: str) -> str:
    """Plain Markdown text from a manifest, on one line: no HTML, no emphasis, links or strike-through."""
    out = html.escape(visible(text), quote=False)
    for char in "\\`*_[]|~":
        out = out.replace(char, "\\" + char)
    return out
