"""Go regexp semantics with RE2: linear time, Go's anchors, refused patterns."""

from __future__ import annotations

import time

import pytest

from cmp import goregexp


def test_backtracking_pattern_is_linear() -> None:
    start = time.monotonic()
    assert not goregexp.selector_match("(a|aa)+b", "a" * 60)
    assert not goregexp.search("(a|aa)+b", "a" * 100_000)
    assert time.monotonic() - start < 1


def test_go_semantics() -> None:
    assert goregexp.selector_match("iris|bert", "bert")  # anchored as ^(?:iris|bert)$
    assert not goregexp.selector_match("iri", "iris")
    assert goregexp.selector_match("", "anything")
    assert not goregexp.search("a$", "a\n")  # Go's $ is the end of the text; Python's re would match
    assert goregexp.search(r"\pL+", "é")


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?=x)", "(?<!x)a", "[", "a{1001}", r"\C", "x" * 5000])
def test_refused_patterns(pattern: str) -> None:
    with pytest.raises(goregexp.PatternError):
        goregexp.compile_go(pattern)
