"""``cmp explain`` for an LLMInferenceService: what KServe's LLM path will run for the model.

Built on the offline composition (:mod:`cmp.llmisvc`, the one the render's checks used, kept in
``unit.facts["llm"]["composition"]``): which presets apply and why; the composed spec with the
source of every leaf (``preset:<name>@<release>``, the input's ``file:line`` for what the service
sets, ``controller``, ``webhook``, ``crd-default``); the effective vLLM command line of every pod,
each word with its source and the preset-owned flags marked with the field that controls them;
and the names of the objects the controller creates. The view is a plain mapping (JSON-ready).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import llmisvc
from .provenance import Provenance, object_key
from .source.yamlio import format_path
from .unit import Unit

FACT = "llm"
SERVICE = "service"


def describe(unit: Unit, provenance: Provenance | None = None) -> dict:
    """The LLM view of one unit."""
    composed = (unit.facts.get(FACT) or {}).get("composition")
    if not isinstance(composed, llmisvc.Composition):
        composed = llmisvc.compose(unit.isvc, unit.kserve.tag)
    spec = composed.spec
    model = spec.get("model") if isinstance(spec.get("model"), dict) else {}
    out: dict = {"release": composed.release, "model": {"name": model.get("name"), "uri": model.get("uri")},
                 "presets": [{"name": p.name, "reason": p.reason, "shipped": p.shipped} for p in composed.presets],
                 "workloads": {}, "argv": {}, "spec": [], "children": llmisvc.child_names(unit.isvc, composed)}
    for key, block in (("decode" if isinstance(spec.get("prefill"), dict) else "main", spec),
                       ("prefill", spec.get("prefill"))):
        if isinstance(block, dict):
            out["workloads"][key] = workload(block)
    for key, path in llmisvc.POD_PATHS.items():
        if isinstance(_get(spec, path), dict):
            out["argv"][key] = _argv(unit, provenance, composed, key, path)
    for path, source in sorted(composed.origins.items(), key=lambda kv: [(isinstance(p, str), p) for p in kv[0]]):
        out["spec"].append({"path": format_path(("spec",) + path), "value": _get(spec, path),
                            "source": _source(unit, provenance, source, path)})
    return out


def _argv(unit: Unit, provenance: Provenance | None, composed: llmisvc.Composition, key: str,
          path: tuple) -> list[dict]:
    """The pod's vLLM words; the k-th word from the service traced to the k-th arg's input line."""
    owned = llmisvc.preset_owned_flags(composed, key)
    words, k = [], 0
    for word, source in llmisvc.vllm_argv(composed, key):
        where = path + ("containers", 0, "args", k) if source == SERVICE else None
        k += source == SERVICE
        flag = word.split("=", 1)[0]
        words.append({"word": word, "source": _source(unit, provenance, source, where),
                      **({"presetOwned": owned[flag]} if flag in owned else {})})
    return words


def workload(block: Mapping) -> dict:
    """Replicas or scaling range, parallelism and topology of one workload (main/decode or prefill)."""
    found: dict = {"topology": "LeaderWorkerSet (leader + workers)" if isinstance(block.get("worker"), dict)
                   else "Deployment"}
    for key in ("replicas", "scaling", "parallelism"):
        if block.get(key) is not None:
            found[key] = block[key]
    return found


def _source(unit: Unit, provenance: Provenance | None, source: str, path: tuple | None) -> str:
    """A composition source, with what the service sets traced to the input line that set it."""
    if source != SERVICE or path is None:
        return source
    if unit.deployment is None:
        return unit.where(("spec",) + path)
    key = object_key(unit.isvc)
    parts = ("spec",) + path
    while provenance is not None and parts:
        record = provenance.latest(key, format_path(parts))
        if record is not None:
            return record.source
        parts = parts[:-1]
    return unit.where(())


def _get(obj: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(obj, Mapping):
            obj = obj.get(part)
        elif isinstance(obj, list) and isinstance(part, int) and part < len(obj):
            obj = obj[part]
        else:
            return None
    return obj


def text_lines(info: Mapping) -> list[str]:
    """The view as indented text lines (without the model's heading)."""
    model = info.get("model") or {}
    lines = [f"  kind: LLMInferenceService, composed as KServe {info.get('release')}'s controller composes it",
             f"  model: {model.get('name')}  ({model.get('uri')})", "  presets (in merge order):"]
    for preset in info.get("presets") or []:
        missing = "" if preset["shipped"] else "  NOT SHIPPED: reconcile stops with ConfigNotFound"
        lines.append(f"    {preset['name']}  ({preset['reason']}){missing}")
    for key, found in (info.get("workloads") or {}).items():
        lines.append(f"  {key} workload: {found['topology']}")
        for field in ("replicas", "scaling", "parallelism"):
            if field in found:
                lines.append(f"    {field}: {_compact(found[field])}")
    for key, words in (info.get("argv") or {}).items():
        lines.append(f"  vLLM command line, {key} pod:")
        width = max((len(w["word"]) for w in words if "\n" not in w["word"]), default=0)
        for word in words:
            field = word.get("presetOwned")
            owned = "" if field is None else f"  [preset-owned, {field.removeprefix('none: ')}]" \
                if field.startswith("none: ") else f"  [preset-owned: set {field}]"
            lines.append(f"    {word['word'].ljust(width)}  <- {word['source']}{owned}")
    lines.append("  objects the controller creates:")
    lines += [f"    {kind}: {name}" for kind, name in sorted((info.get("children") or {}).items())]
    lines.append("  composed spec (each leaf and its source):")
    for leaf in info.get("spec") or []:
        lines.append(f"    {leaf['path']} = {_short(leaf['value'])}  <- {leaf['source']}")
    return lines


def _short(value: object) -> str:
    """A leaf on one line: a script as its first line and its length."""
    text = _compact(value)
    if isinstance(value, str) and "\n" in value:
        first = value.split("\n", 1)[0]
        return f"{json.dumps(first)} ... ({value.count(chr(10)) + 1} lines)"
    return text


def _compact(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
