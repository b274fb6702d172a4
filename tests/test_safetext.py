"""cmp.safetext: what is shown escaped, what is left alone, and the reporters built on it."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmp.problems import Problem
from cmp.report import github, github_property, text
from cmp.safetext import HIDDEN, is_safe, visible


@pytest.mark.parametrize(("raw", "shown"), [
    ("plain text", "plain text"),
    ("a\rb\nc\td", "a\\rb\\nc\\td"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),                 # CSI
    ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),                      # OSC, BEL
    ("\x9b31m", "\\x9b31m"),                                          # C1 CSI
    ("\x85 \u2028 \u2029", "\\x85 \\u2028 \\u2029"),                  # NEL, line and paragraph separators
    ("\u202egnp.exe \u2066x\u2069", "\\u202egnp.exe \\u2066x\\u2069"),  # bidi override, isolate
    ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
    ("\x00\x7f", "\\x00\\x7f"),
    ("\U000e0041", "\\U000e0041"),                                    # a tag character
    ("é → 😀 ✏️ 中文 \\x", "é → 😀 ✏️ 中文 \\x"),                       # printable text and backslashes stay
])
def test_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@given(st.text())
def test_visible_output_is_safe_and_idempotent(raw: str) -> None:
    shown = visible(raw)
    assert all(unicodedata.category(c) not in HIDDEN for c in shown)
    assert is_safe(shown) and visible(shown) == shown
    assert len(shown.splitlines()) <= 1


def test_a_problem_is_one_safe_line() -> None:
    problem = Problem("bad value '\x1b]0;x\x07'\nnext", file="apps/a\rb/model.yaml", line=3, path="spec.\u202ex")
    assert problem.format() == "apps/a\\rb/model.yaml:3: spec.\\u202ex: bad value '\\x1b]0;x\\x07'\\nnext"
    assert text([problem]).count("\n") == 1


def test_github_workflow_commands_are_escaped_as_specified() -> None:
    problems = [Problem("50% done\r\nnext \x1b[2J::error::forged", file="a:b,c.yaml", line=7, path="spec.x"),
                Problem("no file", level="warning")]
    assert github(problems) == ("::error file=a%3Ab%2Cc.yaml,line=7::spec.x: 50%25 done%0D%0Anext \\x1b[2J"
                                "::error::forged\n::warning::no file\n")
    assert github_property("%:,\n") == "%25%3A%2C%0A"
