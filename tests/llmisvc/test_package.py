"""cmp.llmisvc loads its modules on the first use of its API: a render without an
LLMInferenceService never imports them, and the API is the same whichever module loads first."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO

_CHECK = """
import os, sys
{first}
from cmp.pipeline import render
from cmp.settings import Settings
{render}
loaded = sorted(m for m in sys.modules if m.startswith("cmp.llmisvc."))
import cmp.llmisvc as package
from cmp.llmisvc import compose
print(" ".join(loaded), callable(compose), compose is package.compose, type(package.Composition).__name__)
"""


def _run(first: str = "", app: str = "") -> list[str]:
    render = f"render({app!r}, Settings())" if app else ""
    done = subprocess.run([sys.executable, "-c", _CHECK.format(first=first, render=render)], capture_output=True,
                          text=True, check=True, cwd=REPO)
    return done.stdout.split()


def test_a_render_without_an_llm_service_loads_none_of_it() -> None:
    assert _run(app="overlays/vllm-standard") == ["True", "True", "type"]


def test_an_llm_render_loads_it() -> None:
    out = _run(app="overlays/llm-d-qwen/dev")
    assert "cmp.llmisvc.compose" in out and out[-3:] == ["True", "True", "type"]


def test_compose_is_the_function_even_when_its_module_was_imported_first() -> None:
    out = _run(first="import cmp.llmisvc.compose\nfrom cmp.llmisvc.compose import dotted")
    assert out[-3:] == ["True", "True", "type"]
