"""The bounded, line-tracking YAML loader and the deterministic dumper."""

from __future__ import annotations

import pytest

from cmp.problems import CmpError
from cmp.source import yamlio
from cmp.source.yamlio import dump_stream, format_path, load_stream

TEXT = """\
a: 1
b:
  c: [1, 2]
  d:
    - x: 'y'
      z: 2024-01-01
    - k
---
---
e: &x {f: 1}
g: *x
"""


def test_values_and_lines() -> None:
    first, second = load_stream(TEXT, "f.yaml")
    assert first.obj == {"a": 1, "b": {"c": [1, 2], "d": [{"x": "y", "z": "2024-01-01"}, "k"]}}
    assert (first.file, first.line) == ("f.yaml", 1)
    assert first.line_of(("b", "d", 0, "z")) == 6
    assert first.line_of(("b", "d", 1)) == 7
    assert first.line_of(("b", "c", "missing", "deeper")) == 3
    assert second.obj == {"e": {"f": 1}, "g": {"f": 1}}


def test_problem_is_located() -> None:
    doc = load_stream(TEXT, "f.yaml")[0]
    problem = doc.problem(("b", "d", 0, "x"), "bad")
    assert problem.format() == "f.yaml:5: b.d[0].x: bad"


def test_format_path() -> None:
    assert format_path(("spec", "model", "args", 1)) == "spec.model.args[1]"
    assert format_path(()) == ""


@pytest.mark.parametrize("text,message", [
    ("a: !!python/object/apply:os.system [x]\n", "f.yaml:1: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' "
                                                 "is not allowed"),
    ("a: !custom x\n", "f.yaml:1: YAML tag '!custom' is not allowed"),
    ("a: 1\na: 2\n", "f.yaml:2: duplicate key 'a'"),
    ("a: [\n", "f.yaml:2:1: invalid YAML: did not find expected node content"),
    ("a: 1\n<<: {b: 2}\n", "f.yaml:2: YAML merge keys (<<) are not supported"),
    ("? [a]\n: 1\n", "f.yaml:1: mapping keys must be scalars"),
])
def test_refused_input(text: str, message: str) -> None:
    with pytest.raises(CmpError) as err:
        load_stream(text, "f.yaml")
    assert str(err.value) == message


def test_depth_limit() -> None:
    deep = "[" * (yamlio.MAX_DEPTH + 1) + "]" * (yamlio.MAX_DEPTH + 1)
    with pytest.raises(CmpError, match="nesting deeper than"):
        load_stream(deep, "f.yaml")
    ok = "[" * yamlio.MAX_DEPTH + "]" * yamlio.MAX_DEPTH
    assert load_stream(ok, "f.yaml")


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(CmpError, match="alias bomb"):
        load_stream("\n".join(lines) + "\n", "bomb.yaml")


def test_quoted_scalars_stay_strings() -> None:
    doc = load_stream("a: '1'\nb: \"true\"\nc: 1\nd: true\ne: null\nf: 1.5\n")[0]
    assert doc.obj == {"a": "1", "b": "true", "c": 1, "d": True, "e": None, "f": 1.5}


def test_dump_is_sorted_and_stable() -> None:
    objs = [{"kind": "B", "apiVersion": "v1", "data": {"z": "1", "a": "line1\nline2\n"}}, {"a": 1}]
    text = dump_stream(objs)
    assert text == ("apiVersion: v1\ndata:\n  a: |\n    line1\n    line2\n  z: '1'\nkind: B\n---\na: 1\n")
    assert [d.obj for d in load_stream(text)] == objs
    assert dump_stream([]) == ""
