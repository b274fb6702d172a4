"""Tests for cmp.runtimes (``cmp runtimes``): the built-in runtimes of a release, per release."""

from __future__ import annotations

import json

from cmp import catalog
from cmp.runtimes import describe, to_json, to_text
from helpers import run_cli


def by_name(tag: str) -> dict[str, dict]:
    return {r["name"]: r for r in describe(catalog.release(tag))["runtimes"]}


def test_vllm_runtime_exists_from_v0_20_with_its_exact_format_name() -> None:
    assert "kserve-vllmserver" not in by_name("v0.19.0")
    vllm = by_name("v0.20.0")["kserve-vllmserver"]
    assert vllm["formats"] == [{"name": "vLLM", "version": "1", "autoSelect": True, "priority": 1}]
    assert vllm["images"] == ["vllm/vllm-openai:v0.24.0"]


def test_images_follow_the_release() -> None:
    assert by_name("v0.17.1")["kserve-mlserver"]["images"] == ["docker.io/seldonio/mlserver:1.5.0"]
    assert by_name("v0.18.1")["kserve-sklearnserver"]["images"] == ["kserve/sklearnserver:v0.18.1"]
    multinode = by_name("v0.19.0")["kserve-huggingfaceserver-multinode"]
    assert multinode["multiNode"] is True
    assert multinode["images"] == ["kserve/huggingfaceserver:v0.19.0-gpu", "kserve/huggingfaceserver:v0.19.0-gpu"]


def test_a_format_outside_auto_selection_has_no_priority() -> None:
    triton = by_name("v0.20.0")["kserve-tritonserver"]
    assert {"name": "pytorch", "version": "1", "autoSelect": False} in triton["formats"]
    assert "pytorch:1," in to_text(catalog.release("v0.20.0"), "v0.20.0")


def test_json_marks_the_default_release() -> None:
    assert json.loads(to_json(catalog.release("v0.20.0"), "v0.20.0"))["default"] is True
    assert json.loads(to_json(catalog.release("v0.18.1"), "v0.20.0"))["default"] is False


def test_cli_selects_the_release_of_a_minor_and_refuses_an_unknown_one() -> None:
    result = run_cli(["runtimes", "--kserve-version", "v0.18.0"])
    assert result.exit_code == 0 and result.stdout.startswith("KServe v0.18.1: 12 built-in runtimes\n")
    result = run_cli(["runtimes", "--kserve-version", "v0.16.0", "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "knows v0.17.1, v0.18.1, v0.19.0, v0.20.0 (default v0.20.0)" in result.stderr
