"""The LLMInferenceService presets of each shipped KServe release, as data (called by ``scripts/gen_data.py``).

Per release, ``config/llmisvcconfig/`` holds the well-known ``LLMInferenceServiceConfig`` documents
the controller merges under every ``LLMInferenceService`` (listed by that directory's
``kustomization.yaml``). This module turns them into ``cmp/catalog/llmisvc/<tag>.json``:
``{"release", "commit", "presets": {name: {"file", "spec"}}}`` with ``description`` keys removed
(the presets have none today; the rule keeps the data free of prose) and YAML comments dropped,
plus ``cmp/catalog/llmisvc/PROVENANCE.md`` naming the source file and release of every preset.

Only data is read: the preset YAML files and the kustomization listing them. No code is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

PRESET_DIR = "config/llmisvcconfig"
"""Where a release keeps its well-known LLMInferenceServiceConfig presets (upstream path)."""

CRD_PATHS: dict[str, str] = {
    "LLMInferenceService": "config/crd/full/llmisvc/serving.kserve.io_llminferenceservices.yaml",
    "LLMInferenceServiceConfig": "config/crd/full/llmisvc/serving.kserve.io_llminferenceserviceconfigs.yaml",
}
"""kind -> CRD file of a release; both CRDs serve v1alpha1 and v1alpha2 (storage) from v0.17."""


def build_presets(release_dir: Path, load_documents: Callable[[Path], list[Any]],
                  strip_key: Callable[[Any, str], Any]) -> dict[str, dict[str, Any]]:
    """name -> {"file": upstream path, "spec": spec} for every preset the release's kustomization lists."""
    directory = release_dir / PRESET_DIR
    [kustomization] = load_documents(directory / "kustomization.yaml")
    listed = list(kustomization["resources"])
    present = sorted(p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml")
    if sorted(listed) != present:
        raise ValueError(f"{PRESET_DIR}: files {present} differ from the kustomization's resources {sorted(listed)}")
    presets: dict[str, dict[str, Any]] = {}
    for file_name in sorted(listed):
        for doc in load_documents(directory / file_name):
            if doc.get("kind") != "LLMInferenceServiceConfig":
                raise ValueError(f"{file_name}: expected an LLMInferenceServiceConfig, found {doc.get('kind')}")
            name = doc["metadata"]["name"]
            if name in presets:
                raise ValueError(f"{file_name}: preset {name} defined twice")
            presets[name] = {"file": f"{PRESET_DIR}/{file_name}", "spec": strip_key(doc.get("spec") or {}, "description")}
    return presets


def render(kserve_dir: Path, rows: list[dict[str, str]], load_documents: Callable[[Path], list[Any]],
           strip_key: Callable[[Any, str], Any], markdown_table: Callable[..., list[str]],
           regenerate: list[str]) -> dict[str, str]:
    """Every generated file of the LLMInferenceService presets: repository-relative path -> text."""
    outputs: dict[str, str] = {}
    table: list[tuple[str, ...]] = []
    for row in rows:
        presets = build_presets(kserve_dir / "releases" / row["tag"], load_documents, strip_key)
        data = {"release": row["tag"], "commit": row["commit"], "presets": presets}
        outputs[f"cmp/catalog/llmisvc/{row['tag']}.json"] = json.dumps(data, indent=1, sort_keys=True,
                                                                       ensure_ascii=False) + "\n"
        table.extend((f"`{row['tag']}`", f"`{name}`", f"`{entry['file']}`") for name, entry in sorted(presets.items()))
    lines = [
        "# Provenance of the LLMInferenceService presets",
        "",
        "`llmisvc/<tag>.json` holds, per shipped KServe release, the well-known `LLMInferenceServiceConfig`",
        "presets the controller merges under every `LLMInferenceService` (selected by the service's shape),",
        f"read from `{PRESET_DIR}/` at the release's tag (commits: `PROVENANCE.md` next to this file). `cmp.llmisvc`",
        "composes a service from them offline. Each entry keeps the preset's `spec` as published and the",
        "upstream file it came from.",
        "",
        "- Upstream repository: https://github.com/kserve/kserve",
        "",
        *markdown_table(("release", "preset", "upstream file"), table),
        "",
        "## Changes to the upstream documents",
        "",
        "- Only `metadata.name` and `spec` are kept (the kustomization puts every preset in namespace `kserve`).",
        "- `description` keys are removed (the presets of the shipped releases have none).",
        "- YAML comments are not kept (JSON). Go template actions (`{{ ... }}`) are kept verbatim: the",
        "  controller evaluates them after merging, and so does `cmp.llmisvc`.",
        "- The pipeline-parallel presets (`...-worker-pipeline-parallel`) are named by the controller but not",
        "  shipped by any release; `cmp.llmisvc` reports a service that needs one.",
        "",
        *regenerate,
    ]
    outputs["cmp/catalog/llmisvc/PROVENANCE.md"] = "\n".join(lines)
    return outputs
