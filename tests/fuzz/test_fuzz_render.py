"""Fuzzing the whole render: valid ModelDeployments render correctly, mutated YAML fails cleanly.

Examples per property come from ``KSERVE_CMP_FUZZ_EXAMPLES`` (default 100: a few seconds in CI).
A longer local run: ``KSERVE_CMP_FUZZ_EXAMPLES=5000 python -m pytest tests/fuzz -q``.
"""

from __future__ import annotations

import os
import random
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmp import catalog
from cmp.kserve.flags import find_duplicates, flag_rules_for, parse_args
from cmp.kserve.merge import assemble_predictor_container
from cmp.pipeline import render, render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import dump_stream, load_stream
from cmp.validate import validate_object

EXAMPLES = int(os.environ.get("KSERVE_CMP_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: (runtime, model format) pairs of the built-in catalog a model may name.
RUNTIMES = [("kserve-sklearnserver", "sklearn"), ("kserve-xgbserver", "xgboost"), ("kserve-lgbserver", "lightgbm"),
            ("kserve-huggingfaceserver", "huggingface"), ("kserve-vllmserver", "vLLM")]
#: Flags an LLM runtime understands and that its default args may already set.
LLM_FLAGS = ["--max-model-len", "--dtype", "--seed", "--gpu-memory-utilization"]

names = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True)
flag_names = st.from_regex(r"--x-[a-z][a-z0-9]{0,8}", fullmatch=True)
words = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/:=-]{0,15}", fullmatch=True)
flag_values = st.one_of(st.just(True), st.integers(0, 100_000), words)
env_values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


def _token(flag: str, value: object) -> str:
    return flag if value is True else f"{flag}={value}"


@st.composite
def model_deployments(draw) -> dict:
    """A valid ModelDeployment on a catalog runtime, args as a list or a map."""
    runtime, fmt = draw(st.sampled_from(RUNTIMES))
    flag_pool = flag_names if fmt not in ("huggingface", "vLLM") else st.one_of(flag_names, st.sampled_from(LLM_FLAGS))
    flags = draw(st.dictionaries(flag_pool, flag_values, max_size=5))
    # the LLM flags take a value in the servers' parsers (a bare one makes argparse exit)
    flags = {k: (draw(st.integers(1, 100_000)) if v is True and k in LLM_FLAGS else v) for k, v in flags.items()}
    as_list = draw(st.booleans())
    args = [_token(k, v) for k, v in flags.items()] if as_list else flags
    cpu = draw(st.integers(1, 4000))
    memory = draw(st.integers(64, 16_384))
    mode = draw(st.sampled_from([None, "Knative", "Standard"]))
    low = draw(st.integers(1 if mode == "Standard" else 0, 3))
    model: dict = {"format": fmt, "storageUri": f"gs://bucket/{draw(names)}",
                   "resources": {"requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"},
                                 "limits": {"cpu": f"{cpu * draw(st.integers(1, 4))}m",
                                            "memory": f"{memory * draw(st.integers(1, 2))}Mi"}}}
    if args:
        model["args"] = args
    env = draw(st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), env_values, max_size=3))
    if env:
        model["env"] = env
    spec: dict = {"model": model, "scaling": {"minReplicas": low, "maxReplicas": low + draw(st.integers(1, 5))}}
    if draw(st.booleans()):
        spec["runtime"] = runtime
    if mode:
        spec["deploymentMode"] = mode
    meta = {"name": draw(names)}
    invented = sorted(k for k in flags if k.startswith("--x-"))
    if invented:   # flags no server declares: opted out of the check against the server's parser
        meta["annotations"] = {"kserve-cmp.io/unchecked-flags": ",".join(invented)}
    if draw(st.booleans()):
        meta["namespace"] = draw(names)
    return {"apiVersion": "kserve-cmp.io/v1alpha1", "kind": "ModelDeployment", "metadata": meta, "spec": spec}


def _runtime_of(isvc: dict, objects: list[dict]) -> dict:
    """The runtime KServe will use: the emitted (derived) one the ISVC pins, else the catalog's."""
    name = isvc["spec"]["predictor"]["model"]["runtime"]
    emitted = [o for o in objects if o["kind"] == "ServingRuntime" and o["metadata"]["name"] == name]
    return emitted[0] if emitted else catalog.get_runtime(name)


def _wanted(args: list | dict) -> dict[str, str | None]:
    """Overlay flag -> the value the running container must see (None for a bare flag)."""
    pairs = args.items() if isinstance(args, dict) else [(t.split("=", 1)[0], t.split("=", 1)[1] if "=" in t else True)
                                                         for t in args]
    return {k: None if v is True else str(v) for k, v in pairs}


@FUZZ
@given(md=model_deployments())
def test_valid_model_deployments_render_to_valid_kserve_objects(md: dict) -> None:
    text = dump_stream([md])
    result = render_docs(load_stream(text, "fuzz.yaml"), Settings(namespace="default"))
    assert result.text == render_docs(load_stream(text, "fuzz.yaml"), Settings(namespace="default")).text
    for obj in result.objects:
        assert validate_object(obj) == [], obj
    isvc = next(o for o in result.objects if o["kind"] == "InferenceService")
    runtime = _runtime_of(isvc, result.objects)
    container = assemble_predictor_container(runtime, isvc)
    rules = flag_rules_for(runtime)
    options = {"normalize_underscores": rules.normalize_underscores, "repeatable": rules.repeatable,
               "meta": isvc["metadata"]}
    assert find_duplicates(container.get("args") or [], **options) == []
    effective = {a.key: a.value for a in parse_args(container.get("args") or [], **options) if a.key}
    for flag, value in _wanted(md["spec"]["model"].get("args") or []).items():
        key = flag.lstrip("-").replace("_", "-") if rules.normalize_underscores else flag.lstrip("-")
        assert effective[key] == value, (flag, container.get("args"))


MUTATIONS = ("delete", "insert", "duplicate-line", "swap-lines", "indent", "truncate")
NOISE = st.lists(st.sampled_from(list(" \t\n:-[]{}&*!|>'\"#%@`,?0aZ~") + ["<<", "---", "...", "!!python/"]),
                 min_size=1, max_size=6).map("".join)


def mutate(text: str, ops: list[tuple[str, float, str]]) -> str:
    """Apply (mutation, position in [0, 1), noise) operations to a YAML text."""
    for op, where, noise in ops:
        lines = text.split("\n")
        pos = int(where * len(text))
        line = int(where * len(lines))
        if op == "delete":
            text = text[:pos] + text[pos + len(noise):]
        elif op == "insert":
            text = text[:pos] + noise + text[pos:]
        elif op == "duplicate-line":
            text = "\n".join(lines[:line + 1] + lines[line:])
        elif op == "swap-lines" and line + 1 < len(lines):
            lines[line], lines[line + 1] = lines[line + 1], lines[line]
            text = "\n".join(lines)
        elif op == "indent":
            lines[line] = noise.replace("\n", " ")[:2] + lines[line]
            text = "\n".join(lines)
        elif op == "truncate":
            text = text[:pos]
    return text


@FUZZ
@given(md=model_deployments(),
       ops=st.lists(st.tuples(st.sampled_from(MUTATIONS), st.floats(0, 1, exclude_max=True), NOISE),
                    min_size=1, max_size=4))
def test_mutated_yaml_renders_or_fails_cleanly(md: dict, ops: list) -> None:
    text = mutate(dump_stream([md]), ops)
    try:
        with tempfile.TemporaryDirectory(prefix="kserve-cmp-fuzz-") as app:
            with open(os.path.join(app, "model.yaml"), "w", encoding="utf-8") as handle:
                handle.write(text)
            result = render(app, Settings(namespace="default"))
    except CmpError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    for obj in result.objects:
        assert validate_object(obj) == []


def test_mutations_change_the_text() -> None:
    rng = random.Random(7)
    text = dump_stream([{"a": {"b": [1, 2]}, "c": "d"}])
    for op in MUTATIONS:
        assert mutate(text, [(op, rng.random() * 0.5, "x:")]) != text or op == "swap-lines"
