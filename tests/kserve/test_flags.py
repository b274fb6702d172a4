"""Flag parsing, duplicate detection and the runtime + overlay merge rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmp.kserve.flags import (
    OVERLAY,
    RUNTIME,
    Arg,
    FlagError,
    FlagRules,
    Origin,
    find_duplicates,
    flag_rules_for,
    merge_args,
    overlay_map_tokens,
    parse_args,
)
from cmp.kserve.merge import merge_runtime_container
from cmp.kserve.placeholders import PlaceholderError

VLLM = {"normalize_underscores": True, "repeatable": frozenset({"--lora-modules", "middleware"})}
PLAIN = {"normalize_underscores": False, "repeatable": frozenset()}
META = {"name": "llama", "namespace": "ml", "labels": {"team": "a"}}


def keys(args: list[Arg]) -> list[str | None]:
    """Canonical keys of parsed args, in order."""
    return [a.key for a in args]


# --- parse_args ---------------------------------------------------------------------------


def test_parse_equals_space_and_bare_forms():
    args = parse_args(["--port=8080", "--host", "0.0.0.0", "--trust-remote-code"], **PLAIN)
    assert args == [
        Arg("port", ("--port=8080",), "8080", False, 0),
        Arg("host", ("--host", "0.0.0.0"), "0.0.0.0", False, 1),
        Arg("trust-remote-code", ("--trust-remote-code",), None, False, 3),
    ]


def test_parse_negative_number_is_a_value_but_option_is_not():
    args = parse_args(["--seed", "-1", "--verbose", "--level", "-0.5"], **PLAIN)
    assert [(a.key, a.value) for a in args] == [("seed", "-1"), ("verbose", None), ("level", "-0.5")]
    assert parse_args(["--a", "--b"], **PLAIN)[0].tokens == ("--a",)


def test_parse_negated_boolean():
    (arg,) = parse_args(["--no-enable-prefix-caching"], **VLLM)
    assert (arg.key, arg.negated, arg.value) == ("enable-prefix-caching", True, None)
    assert parse_args(["--no_enable_x"], **VLLM)[0].key == "enable-x"
    assert parse_args(["--no-"], **PLAIN)[0].key == "no-"
    assert parse_args(["--no-x", "positional"], **PLAIN)[1].key is None


def test_parse_short_options():
    assert [(a.key, a.value, len(a.tokens)) for a in parse_args(["-p", "8080"], **PLAIN)] == [
        ("-p", "8080", 2)
    ]
    assert [(a.key, a.value) for a in parse_args(["-p8080", "-p=1", "-v"], **PLAIN)] == [
        ("-p", "8080"),
        ("-p", "1"),
        ("-v", None),
    ]
    assert parse_args(["-model_name=x"], **PLAIN)[0].key == "-model_name"


def test_parse_positionals_kept_in_place():
    args = parse_args(["tritonserver", "--model-store=/mnt/models", "-", "--", "--x"], **PLAIN)
    assert keys(args) == [None, "model-store", None, None, None]
    assert [a.index for a in args] == [0, 1, 2, 3, 4]


def test_parse_underscore_normalisation_only_when_enabled():
    assert parse_args(["--max_model_len=1"], **VLLM)[0].key == "max-model-len"
    assert parse_args(["--max_model_len=1"], **PLAIN)[0].key == "max_model_len"


def test_parse_resolves_placeholders_in_keys_only():
    (arg,) = parse_args(["--{{.Labels.team}}-opt={{.Name}}"], meta=META, **PLAIN)
    assert arg.key == "a-opt"
    assert arg.tokens == ("--{{.Labels.team}}-opt={{.Name}}",)
    assert arg.value == "{{.Name}}"


def test_parse_marks_repeatable():
    args = parse_args(["--lora_modules", "a=b", "--middleware=m", "--port=1"], **VLLM)
    assert [a.repeatable for a in args] == [True, True, False]


# --- find_duplicates ----------------------------------------------------------------------


def test_duplicates_across_spellings_and_forms():
    tokens = ["--port=8080", "--max_model_len", "10", "--port", "9000", "--max-model-len=5"]
    pairs = find_duplicates(tokens, **VLLM)
    assert [(a.index, b.index) for a, b in pairs] == [(0, 3), (1, 5)]


def test_duplicates_ignore_repeatable_and_positionals():
    tokens = ["x", "--lora-modules=a", "--lora-modules=b", "x"]
    assert find_duplicates(tokens, **VLLM) == []


def test_negated_and_plain_flag_conflict():
    pairs = find_duplicates(["--enable-x", "--no-enable-x"], **VLLM)
    assert [(a.negated, b.negated) for a, b in pairs] == [(False, True)]


# --- merge_args: kserve.md section 1(d) cases ---------------------------------------------


def test_case1_vllm_port_override():
    result = merge_args(
        ["--port=8080", "--served-model-name={{.Name}}", "--model=/mnt/models"],
        ["--port=9000", "--max-model-len=4096"],
        meta=META,
        **VLLM,
    )
    assert result.args == [
        "--served-model-name={{.Name}}",
        "--model=/mnt/models",
        "--port=9000",
        "--max-model-len=4096",
    ]
    assert result.origins == [
        Origin(RUNTIME, 1),
        Origin(RUNTIME, 2),
        Origin(OVERLAY, 0),
        Origin(OVERLAY, 1),
    ]
    assert [(r.arg.tokens, r.by) for r in result.removed] == [(("--port=8080",), Origin(OVERLAY, 0))]


def test_case2_space_separated_runtime_flag_removed_with_its_value():
    result = merge_args(["--port", "8080", "--num-shard=1"], ["--port=3000"], meta=META, **PLAIN)
    assert result.args == ["--num-shard=1", "--port=3000"]
    assert result.removed[0].arg.tokens == ("--port", "8080")


def test_case3_placeholder_value_conflicts_with_overlay_value():
    result = merge_args(
        ["--model_name={{.Name}}"],
        ["--model_name=fbopt", "--model_id=facebook/opt-125m"],
        meta=META,
        **VLLM,
    )
    assert result.args == ["--model_name=fbopt", "--model_id=facebook/opt-125m"]


def test_overlay_space_form_replaces_runtime_equals_form():
    result = merge_args(["--http_port=8080", "--workers=1"], ["--http_port", "5000"], meta=None, **PLAIN)
    assert result.args == ["--workers=1", "--http_port", "5000"]
    assert result.origins[1:] == [Origin(OVERLAY, 0), Origin(OVERLAY, 1)]


def test_spelling_variants_collide_only_when_normalised():
    vllm = merge_args(["--max_model_len=1"], ["--max-model-len=2"], meta=None, **VLLM)
    plain = merge_args(["--max_model_len=1"], ["--max-model-len=2"], meta=None, **PLAIN)
    assert vllm.args == ["--max-model-len=2"]
    assert plain.args == ["--max_model_len=1", "--max-model-len=2"]


def test_placeholder_in_runtime_key_is_resolved_before_comparing():
    result = merge_args(["--{{.Labels.team}}=1", "--b=2"], ["--a=3"], meta=META, **PLAIN)
    assert result.args == ["--b=2", "--a=3"]


def test_short_port_flag():
    result = merge_args(["-p", "8080", "serve"], ["-p=9000"], meta=None, **PLAIN)
    assert result.args == ["serve", "-p=9000"]


def test_negative_value_pair_is_removed_whole():
    result = merge_args(["--seed", "-1", "--x=1"], ["--seed=7"], meta=None, **PLAIN)
    assert result.args == ["--x=1", "--seed=7"]


def test_negation_replaces_plain_flag_and_vice_versa():
    off = merge_args(["--enable-prefix-caching", "--x=1"], ["--no-enable-prefix-caching"], meta=None, **VLLM)
    on = merge_args(["--no-enable-prefix-caching"], ["--enable-prefix-caching"], meta=None, **VLLM)
    assert off.args == ["--x=1", "--no-enable-prefix-caching"]
    assert on.args == ["--enable-prefix-caching"]


def test_repeatable_flags_are_never_collapsed():
    result = merge_args(
        ["--lora-modules", "a=/a", "--middleware=m1"],
        ["--lora_modules=b=/b", "--middleware=m2"],
        meta=None,
        **VLLM,
    )
    assert result.args == [
        "--lora-modules",
        "a=/a",
        "--middleware=m1",
        "--lora_modules=b=/b",
        "--middleware=m2",
    ]
    assert result.removed == []


def test_positionals_stay_in_place():
    result = merge_args(
        ["tritonserver", "--model-store=/mnt/models", "--http-port=8080", "--allow-http=true"],
        ["--http-port=9000"],
        meta=None,
        **PLAIN,
    )
    assert result.args == ["tritonserver", "--model-store=/mnt/models", "--allow-http=true", "--http-port=9000"]


def test_overlay_duplicates_are_kept_for_the_caller_to_report():
    overlay = ["--port=1", "--port=2"]
    result = merge_args(["--port=0"], overlay, meta=None, **PLAIN)
    assert result.args == ["--port=1", "--port=2"]
    assert len(find_duplicates(overlay, **PLAIN)) == 1


# --- merge_args: overlay mapping form -----------------------------------------------------


def test_map_form_renders_values_like_yaml():
    overlay = {"max_model_len": 8192, "--gpu-memory-utilization": 0.9, "dtype": "half", "enforce-eager": True}
    result = merge_args(["--dtype=auto", "--model=/mnt/models"], overlay, meta=None, **VLLM)
    assert result.args == [
        "--model=/mnt/models",
        "--max_model_len=8192",
        "--gpu-memory-utilization=0.9",
        "--dtype=half",
        "--enforce-eager",
    ]
    assert result.origins[1:] == [
        Origin(OVERLAY, 0, "max_model_len"),
        Origin(OVERLAY, 1, "--gpu-memory-utilization"),
        Origin(OVERLAY, 2, "dtype"),
        Origin(OVERLAY, 3, "enforce-eager"),
    ]


@pytest.mark.parametrize("value", [False, None])
def test_map_form_false_and_null_only_remove(value):
    overlay = {"enforce_eager": value, "port": value}
    result = merge_args(["--enforce-eager", "--port", "8080"], overlay, meta=None, **VLLM)
    assert result.args == []
    assert [r.by for r in result.removed] == [
        Origin(OVERLAY, 0, "enforce_eager"),
        Origin(OVERLAY, 1, "port"),
    ]


def test_map_form_negation_and_lists():
    result = merge_args(
        ["--enable-prefix-caching", "--lora-modules=a=/a"],
        {"no-enable-prefix-caching": True, "lora-modules": ["b=/b", "c=/c"]},
        meta=None,
        **VLLM,
    )
    assert result.args == [
        "--lora-modules=a=/a",
        "--no-enable-prefix-caching",
        "--lora-modules=b=/b",
        "--lora-modules=c=/c",
    ]


def test_map_tokens_for_scalars_and_bad_types():
    assert overlay_map_tokens("seed", -1) == ["--seed=-1"]
    assert overlay_map_tokens("-p", 9000) == ["-p=9000"]
    assert overlay_map_tokens("scale", 1e-5) == ["--scale=1.0e-05"]
    with pytest.raises(FlagError):
        overlay_map_tokens("x", {"a": 1})


def test_invalid_placeholder_in_key_is_reported():
    with pytest.raises(PlaceholderError):
        merge_args(["--{{.Labels.a-b}}=1"], ["--x=1"], meta=META, **PLAIN)


# --- per-runtime rules --------------------------------------------------------------------


def test_flag_rules_by_server_type_then_name():
    def typed(name: str, server: str) -> dict:
        return {"metadata": {"name": name, "annotations": {"serving.kserve.io/server-type": server}}}

    annotated = typed("custom", "vllmserver")
    by_name = {"metadata": {"name": "kserve-huggingfaceserver"}}
    other = typed("kserve-sklearnserver", "sklearnserver")
    assert flag_rules_for(annotated).normalize_underscores
    assert "--lora-modules" in flag_rules_for(by_name).repeatable
    assert flag_rules_for(other) == FlagRules()


def test_flag_rules_are_extensible():
    runtime = {"metadata": {"name": "kserve-vllmserver"}}
    rules = flag_rules_for(runtime).with_repeatable({"--api-key"})
    result = merge_args(
        ["--api-key=a"], ["--api-key=b"], meta=None, normalize_underscores=True, repeatable=rules.repeatable
    )
    assert result.args == ["--api-key=a", "--api-key=b"]
    custom = flag_rules_for({"metadata": {"name": "mine"}}, {"mine": FlagRules(True, frozenset({"x"}))})
    assert custom.repeatable == frozenset({"x"})


# --- properties ---------------------------------------------------------------------------

NAMES = st.sampled_from(["port", "model", "max-model-len", "max_model_len", "dtype", "seed", "lora-modules"])
VALUES = st.sampled_from(["1", "-1", "0.9", "/mnt/models", "{{.Name}}", "a=b", ""])


@st.composite
def flag_tokens(draw) -> list[str]:
    """One flag in one of the forms the parser accepts."""
    name = draw(NAMES)
    form = draw(st.sampled_from(["eq", "space", "bare", "neg"]))
    value = draw(VALUES)
    if form == "eq":
        return [f"--{name}={value}"]
    if form == "space":
        return [f"--{name}", value or "v"]
    return [f"--no-{name}" if form == "neg" else f"--{name}"]


def unique_flags(draw_list: list[list[str]]) -> list[str]:
    """Concatenate flags, keeping the first of each non-repeatable canonical key."""
    seen: set[str] = set()
    tokens: list[str] = []
    for flag in draw_list:
        (arg,) = parse_args(flag, **VLLM)
        if arg.key in seen and not arg.repeatable:
            continue
        seen.add(arg.key)
        tokens.extend(flag)
    return tokens


ARG_LISTS = st.lists(flag_tokens(), max_size=6).map(unique_flags)


@settings(max_examples=200, deadline=None)
@given(runtime=ARG_LISTS, overlay=ARG_LISTS)
def test_merge_properties(runtime, overlay):
    result = merge_args(runtime, overlay, meta=META, **VLLM)
    merged = parse_args(result.args, meta=META, **VLLM)
    overlay_args = parse_args(overlay, meta=META, **VLLM)
    assert len(result.origins) == len(result.args)
    # each non-repeatable key at most once
    assert find_duplicates(result.args, meta=META, **VLLM) == []
    # the overlay's value wins for every key it sets
    final = {a.key: (a.value, a.negated) for a in merged if not a.repeatable}
    for arg in overlay_args:
        if not arg.repeatable:
            assert final[arg.key] == (arg.value, arg.negated)
    # KServe's concatenation (runtime = merged, no ISVC args) leaves the list unchanged
    container = merge_runtime_container({"name": "kserve-container", "args": result.args}, {"args": []})
    assert container.get("args", []) == result.args
    # re-applying an overlay without repeatable flags changes nothing
    if not any(a.repeatable for a in overlay_args):
        assert merge_args(result.args, overlay, meta=META, **VLLM).args == result.args
    # every repeatable occurrence survives
    count = sum(a.repeatable for a in parse_args(runtime, **VLLM)) + sum(a.repeatable for a in overlay_args)
    assert sum(a.repeatable for a in merged) == count
