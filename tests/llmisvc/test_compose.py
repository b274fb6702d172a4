"""Golden compositions: one case per shipped preset and release (tests/llmisvc/cases/<release>-<shape>/).

Each case holds ``service.yaml`` (an LLMInferenceService) and ``expected.yaml``: the presets with their
reasons, the problems, the composed and templated spec, the source of every part of it (a path whose leaves
all share one source is listed once), the vLLM command line of each pod with the source of each token, the
flags the preset owns and the child object names. ``KSERVE_CMP_UPDATE_GOLDEN=1`` rewrites the expected files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from cmp import catalog
from cmp.llmisvc import child_names, compose, preset_owned_flags, vllm_argv
from cmp.llmisvc.argv import POD_PATHS, main_container
from cmp.llmisvc.compose import dotted

CASES = Path(__file__).resolve().parent / "cases"
UPDATE = os.environ.get("KSERVE_CMP_UPDATE_GOLDEN") == "1"


def collapsed(origins: dict[tuple, str]) -> dict[str, str]:
    """Origins with every subtree whose leaves share one source folded into its root."""
    sources: dict[tuple, set[str]] = {}
    for path, source in origins.items():
        for depth in range(len(path) + 1):
            sources.setdefault(path[:depth], set()).add(source)
    out: dict[str, str] = {}
    for path, source in sorted(origins.items(), key=lambda item: [str(p) for p in item[0]]):
        top = next(path[:d] for d in range(len(path) + 1) if len(sources[path[:d]]) == 1)
        out[dotted(top) or "."] = source
    return out


def result(case: Path) -> dict[str, Any]:
    service = yaml.safe_load((case / "service.yaml").read_text())
    release = case.name.split("-", 1)[0]
    composition = compose(service, release)
    pods = [pod for pod in POD_PATHS if main_container(composition, pod)]
    return {
        "presets": [{"name": p.name, "reason": p.reason, "file": p.file, "shipped": p.shipped}
                    for p in composition.presets],
        "problems": [p.format() for p in composition.problems],
        "argv": {pod: [f"{token}  <- {source}" for token, source in vllm_argv(composition, pod)] for pod in pods},
        "presetOwnedFlags": {pod: preset_owned_flags(composition, pod) for pod in pods},
        "childNames": child_names(service, composition),
        "origins": collapsed(composition.origins),
        "spec": composition.spec,
    }


@pytest.mark.parametrize("case", sorted(p for p in CASES.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_composition(case: Path) -> None:
    got = yaml.safe_dump(result(case), sort_keys=False, width=120, allow_unicode=True)
    expected = case / "expected.yaml"
    if UPDATE:
        expected.write_text(got)
    assert got == expected.read_text()


def test_every_shipped_preset_of_every_release_has_a_golden_case() -> None:
    covered = {(case.name.split("-", 1)[0], p["name"])
               for case in CASES.iterdir() if case.is_dir()
               for p in yaml.load((case / "expected.yaml").read_text(), Loader=yaml.CSafeLoader)["presets"]}
    for tag in catalog.shipped():
        for name in catalog.llmisvc_presets(tag):
            assert (tag, name) in covered, (tag, name)
