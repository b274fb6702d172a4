"""The servers' own parsers from cmp/catalog/flags.json, matched as argparse matches them."""

from __future__ import annotations

from cmp import catalog
from cmp.explain import flags_checked
from cmp.kserve import parsers


def _hf(release: str = "v0.20.0") -> parsers.ServerParser:
    parser = parsers.kserve_parser("huggingfaceserver", release)
    assert parser is not None
    return parser


def test_spellings_are_per_flag_in_huggingfaceserver() -> None:
    hf = _hf()
    assert hf.resolve("--model_name").how == "exact"
    assert hf.resolve("--model-name").how == "unknown"             # parse_known_args: no `_`/`-` conversion
    assert hf.resolve("--gpu-memory-utilization").how == "exact"
    assert hf.resolve("--gpu_memory_utilization").candidates == ("--gpu-memory-utilization",)
    assert hf.key("--max_model_len") == hf.key("--max-model-len") == hf.key("--max_length") == "max-model-len"


def test_abbreviations_resolve_or_are_ambiguous() -> None:
    hf = _hf()
    assert (hf.resolve("--max-model").how, hf.resolve("--max-model").option) == ("abbreviation", "--max-model-len")
    assert hf.resolve("--max-num").how == "ambiguous"


def test_boolean_optional_flags_have_a_no_form() -> None:
    hf = _hf()
    assert hf.negated("--no-enforce-eager") and hf.key("--no-enforce-eager") == "enforce-eager"
    assert hf.resolve("--no-trust_remote_code").how == "unknown"    # store_true has no --no- form


def test_vllm_server_converts_underscores() -> None:
    vllm = parsers.vllm_parser("0.20.0")
    assert vllm is not None and vllm.resolve("--gpu_memory_utilization").how == "normalized"
    assert not vllm.ignores_unknown


def test_releases_differ() -> None:
    assert _hf("v0.17.1").resolve("--return_offsets_mapping").how == "unknown"
    assert _hf("v0.20.0").resolve("--return_offsets_mapping").how == "exact"
    assert (_hf("v0.17.1").vllm, _hf("v0.20.0").vllm) == ("0.15.1", "0.24.0")


def test_runtime_selects_the_parser_of_its_image() -> None:
    runtime = catalog.get_runtime("kserve-huggingfaceserver")
    assert parsers.parser_for(runtime, None)[0] == _hf("v0.20.0")
    assert parsers.parser_for(runtime, None, "v0.18.1")[0] == _hf("v0.18.1")
    assert parsers.release_for("v0.19.3") == "v0.19.0" and parsers.release_for("v0.16.0") is None


def test_runtimes_without_a_parser_are_not_checked() -> None:
    triton = catalog.get_runtime("kserve-tritonserver")
    assert parsers.parser_for(triton, None)[0] is None
    assert flags_checked(triton, {}).startswith("not checked (runtime kserve-tritonserver:")


def test_unchecked_annotation() -> None:
    model = {"metadata": {"annotations": {parsers.UNCHECKED_ANNOTATION: "--x, stop"}}}
    assert parsers.unchecked(None, model) == frozenset({"--x", "--stop"})


def test_huggingfaceserver_first_parse_ambiguity_exits_even_for_a_vllm_flag():
    # --model is exact in the second parse (vLLM), but the first parse, without vLLM's flags, sees
    # --model_name, --model_dir, --model_id, --model_revision: argparse exits there.
    found = _hf().resolve("--model")
    assert found.how == "ambiguous-early" and "--model_dir" in found.candidates
    assert _hf().resolve("--max-model-len").how == "exact"
    assert parsers.vllm_parser("0.24.0").resolve("--model").how == "exact"
