"""KServe's template pass over container strings, and escaping of literal braces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmp.kserve.placeholders import (
    ESCAPED_OPEN,
    NO_VALUE,
    PlaceholderError,
    escape_literal_braces,
    resolve,
)

META = {
    "name": "llama",
    "namespace": "ml",
    "labels": {"modelClass": "mlserver_sklearn.SKLearnModel", "team_1": "x"},
    "annotations": {"modelFormat": "sklearn"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--served-model-name={{.Name}}", "--served-model-name=llama"),
        ("{{.Namespace}}/{{.Name}}", "ml/llama"),
        ("{{.Labels.modelClass}}", "mlserver_sklearn.SKLearnModel"),
        ("{{.Labels.team_1}}", "x"),
        ("{{.Annotations.modelFormat}}", "sklearn"),
        ("{{ .Name }}", "llama"),
        ("a {{- .Name -}} b", "allamab"),
        ("--x={{.Labels.missing}}", f"--x={NO_VALUE}"),
        ("{{.Annotations.missing}}", NO_VALUE),
        ("no braces } here }}", "no braces } here }}"),
        ("", ""),
    ],
)
def test_resolve_supported_placeholders(text, expected):
    assert resolve(text, META) == expected


def test_resolve_escape_renders_literal_braces():
    assert resolve(ESCAPED_OPEN, META) == "{{"
    assert resolve("--chat-template={{`{{`}} m.content }}", META) == "--chat-template={{ m.content }}"
    assert resolve("{{`}}`}}", META) == "}}"


def test_resolve_missing_namespace_and_maps():
    assert resolve("[{{.Namespace}}]{{.Labels.a}}", {"name": "n"}) == f"[]{NO_VALUE}"


@pytest.mark.parametrize(
    "text",
    [
        "{{ m.content }}",  # a Jinja template: KServe fails on it
        "{{.Labels.app-name}}",  # key not an identifier
        '{{index .Labels "a/b"}}',  # quotes are JSON-escaped before templating
        "{{.Name",  # unterminated action
        "{{`{{}}",  # unterminated raw string
        "{{.Foo}}",  # unknown field
        "{{.Labels}}",  # whole map
        "{{.Name.x}}",
        "{{.UID}}",  # unknown at render time
        "{{.Labels.1a}}",
        "{{/* comment */}}",
    ],
)
def test_resolve_rejects_what_kserve_cannot_render(text):
    with pytest.raises(PlaceholderError):
        resolve(text, META)


@pytest.mark.parametrize("value", ['say "hi"', "a\\b", "line\nbreak"])
def test_resolve_rejects_values_that_break_the_json_round_trip(value):
    with pytest.raises(PlaceholderError):
        resolve("{{.Annotations.note}}", {"name": "n", "annotations": {"note": value}})


def test_escape_keeps_placeholders_and_escapes_the_rest():
    text = "--chat-template={{ m.content }} --name={{.Name}}"
    escaped = escape_literal_braces(text)
    assert escaped == "--chat-template={{`{{`}} m.content }} --name={{.Name}}"
    assert resolve(escaped, META) == "--chat-template={{ m.content }} --name=llama"


def test_escape_case4_chat_template_round_trip():
    arg = "--chat-template={{ m.content }}"
    assert escape_literal_braces(arg) == "--chat-template={{`{{`}} m.content }}"
    assert resolve(escape_literal_braces(arg), META) == arg


def test_escape_single_brace_before_placeholder():
    escaped = escape_literal_braces("{{{.Name}}")
    assert resolve(escaped, META) == "{llama"


def test_escape_escapes_existing_escapes_as_literal_text():
    assert resolve(escape_literal_braces(ESCAPED_OPEN), META) == ESCAPED_OPEN


def test_escape_without_braces_is_identity():
    assert escape_literal_braces("--port=8080") == "--port=8080"


PLACEHOLDERS = ["{{.Name}}", "{{.Namespace}}", "{{.Labels.team_1}}", "{{ .Annotations.modelFormat }}"]
EXPANSIONS = dict(zip(PLACEHOLDERS, ["llama", "ml", "x", "sklearn"]))
# No alphabet letter can spell a supported field name, so generated literals never hold one.
LITERAL = st.text(alphabet=st.sampled_from(list("{}`-. aZ_\n\"\\|")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(LITERAL)
def test_escape_round_trips_literal_text(text):
    assert resolve(escape_literal_braces(text), META) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(LITERAL, st.sampled_from(PLACEHOLDERS)), max_size=6))
def test_escape_keeps_placeholders_working(parts):
    text = "".join(parts)
    expected = "".join(EXPANSIONS.get(p, p) for p in parts)
    assert resolve(escape_literal_braces(text), META) == expected
