"""Hostile text in values, keys and paths: every output format shows it, escaped, and hides nothing.

The PR comment is rendered by a CommonMark parser (markdown-it-py, with GitHub's tables) and
every change the JSON report lists, and every line of every object diff the text report shows,
must be readable in the HTML, outside any comment, with no tag the content wrote. The terminal
formats and stderr never carry a control sequence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from cmp.safetext import HIDDEN, visible

from .conftest import LIMIT_SECONDS, MODEL

#: Values that broke or could break a reader: a CR or LF then an HTML comment opener, closing
#: tags, HTML, table pipes, long backtick runs, Unicode line breaks, ANSI/OSC sequences, bidi.
HOSTILE = [
    "2\r<!--",
    "3\n<!-- hidden",
    "`" * 40,
    "`` x ``",
    "</details></summary><!--",
    "<img src=x onerror=alert(1)>",
    "a|b|c",
    "x\u2028y\u2029z\x85w",
    "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07",
    "\x1b[2J\x1b[Hclear",
    "\x9b31mc1",
    "\u202egnp.exe\u2066",
    "50% \x00 end",
    " padded ",
]
TAGS = {"h2", "h4", "p", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "b", "strong", "em",
        "ul", "li", "code", "pre", "blockquote"}


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KSERVE_CMP_", "ARGOCD_"))}
    return subprocess.run([sys.executable, "-m", "cmp", *args], cwd=cwd, env=env, capture_output=True,
                          timeout=LIMIT_SECONDS, stdin=subprocess.DEVNULL)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text)


def _write_sides(root: Path) -> None:
    configmap = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: models}\ndata:\n"
    base = MODEL.replace('  model: {format: sklearn, storageUri: "gs://bucket/iris"}\n',
                         "  model:\n    format: sklearn\n    storageUri: gs://bucket/iris\n"
                         "    args: [--workers=1]\n    env: [{name: A, value: '1'}]\n")
    args = "".join(f"      - {_quoted(f'--h{i}={value}')}\n" for i, value in enumerate(HOSTILE))
    env = "".join(f"      - {{name: E{i}, value: {_quoted(value)}}}\n" for i, value in enumerate(HOSTILE))
    head = MODEL.replace('  model: {format: sklearn, storageUri: "gs://bucket/iris"}\n',
                         f"  model:\n    format: sklearn\n    storageUri: {_quoted('gs://bucket/' + HOSTILE[0])}\n"
                         f"    args:\n      - {_quoted('--workers=' + HOSTILE[0])}\n{args}    env:\n{env}")
    data = "".join(f"  k{i}: {_quoted(value)}\n" for i, value in enumerate(HOSTILE))
    invented = ",".join(f"--h{i}" for i in range(len(HOSTILE)))   # no server declares them: not checked
    base, head = (m.replace("metadata: {name: iris, namespace: models}\n",
                            "metadata:\n  name: iris\n  namespace: models\n"
                            f"  annotations: {{kserve-cmp.io/unchecked-flags: '{invented}'}}\n") for m in (base, head))
    for side, model, cm in (("base", base, configmap + "  k0: plain\n"), ("head", head, configmap + data)):
        (root / side / "app").mkdir(parents=True)
        (root / side / "app" / "model.yaml").write_text(model + cm, encoding="utf-8")


class _Visible(HTMLParser):
    """The text a browser shows (comments left out), the comments and the tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.comments: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        # ours: <details open>, table alignment, a fence's language; content writes no attribute
        assert {name for name, _ in attrs} <= {"open", "style", "class"}, (tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


@pytest.fixture
def sides(tmp_path: Path) -> Path:
    _write_sides(tmp_path)
    return tmp_path


def _assert_terminal_safe(output: bytes) -> None:
    text = output.decode("utf-8")
    bad = sorted({c for c in text if unicodedata.category(c) in HIDDEN and c != "\n"})
    assert not bad, bad


def test_every_change_is_visible_in_the_rendered_comment(sides: Path) -> None:
    proc = _run(sides, "diff", "base", "head", "--format", "markdown")
    assert proc.returncode == 1, proc.stderr
    markdown = proc.stdout.decode("utf-8")
    _assert_terminal_safe(proc.stdout)
    page = _Visible()
    page.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    shown = "".join(page.text)
    assert page.comments == [" kserve-cmp-diff "]
    assert page.tags <= TAGS, page.tags - TAGS

    report = json.loads(_run(sides, "diff", "base", "head", "--format", "json").stdout)
    changes = [c for app in report["apps"] for m in app["models"] for c in m["changes"]]
    assert {c["field"] for c in changes} >= {"--workers", "storage URI"} | {f"--h{i}" for i in range(len(HOSTILE))}
    for change in changes:
        for value in (change["old"], change["new"]):
            if value is not None:
                assert visible(value) in shown, value

    text = _run(sides, "diff", "base", "head", "--format", "text", "--color", "never").stdout.decode("utf-8")
    diff_lines = [line for line in text.splitlines() if line[:1] in "+-@" and not line.startswith("+++")]
    assert len(diff_lines) > 3 * len(HOSTILE)
    for line in diff_lines:
        assert line in shown, line
    for value in HOSTILE:       # the data values reach the HTML as YAML shows them, never raw
        assert value.strip() not in shown or visible(value) == value


@pytest.mark.parametrize("colour", ["never", "always"])
def test_diff_text_writes_no_control_sequence(sides: Path, colour: str) -> None:
    proc = _run(sides, "diff", "base", "head", "--format", "text", "--color", colour)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout.decode("utf-8")
    if colour == "always":      # our own colours, nothing else
        out = out.replace("\x1b[0m", "").replace("\x1b[1m", "")
        for code in (31, 32, 36):
            out = out.replace(f"\x1b[{code}m", "")
    _assert_terminal_safe(out.encode())
    assert "--h0=2\\r<!--" in out and "\\x1b]8;;http://evil.example\\x07link" in out


def test_explain_text_writes_no_control_sequence(sides: Path) -> None:
    proc = _run(sides, "explain", "head/app")
    assert proc.returncode == 0, proc.stderr
    _assert_terminal_safe(proc.stdout)
    _assert_terminal_safe(proc.stderr)
    out = proc.stdout.decode("utf-8")
    assert "--h9=\\x1b[2J\\x1b[Hclear" in out and "--h11=\\u202egnp.exe\\u2066" in out


HOSTILE_KEY = "50%\r\x1b]0;pwned\x07\u202e\n::error file=x::forged"


@pytest.fixture
def broken_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "model.yaml").write_text(MODEL.replace("  runtime:", f"  {_quoted(HOSTILE_KEY)}: 1\n  runtime:"),
                                    encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", [["render", "app"], ["validate", "app"], ["explain", "app"],
                                     ["diff", "--all", "app", "app"]])
def test_error_messages_on_stderr_are_escaped(broken_app: Path, command: list[str]) -> None:
    proc = _run(broken_app, *command)
    # diff: the app is broken on both sides, which is listed but not the change's fault (exit 0)
    assert proc.returncode in ((0,) if command[0] == "diff" else (1, 2)), proc.stderr
    assert proc.stdout == b"" or command[0] in ("validate", "diff")   # those two print a report
    _assert_terminal_safe(proc.stderr)
    _assert_terminal_safe(proc.stdout)
    assert "50%\\r\\x1b]0;pwned\\x07\\u202e\\n::error file=x::forged" in (proc.stdout + proc.stderr).decode()


def test_validate_github_annotations_are_one_escaped_command(broken_app: Path) -> None:
    proc = _run(broken_app, "validate", "app", "--format", "github")
    assert proc.returncode == 1, proc.stderr
    _assert_terminal_safe(proc.stdout)
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error file=app/model.yaml,line=5::")
    assert "50%25%0D\\x1b]0;pwned\\x07\\u202e%0A::error file=x::forged" in lines[0]
