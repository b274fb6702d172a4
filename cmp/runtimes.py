"""``cmp runtimes``: the built-in runtimes of one shipped KServe release, as text or JSON.

Each runtime is listed with its model formats exactly as KServe matches them (``name`` is compared
case-sensitively by the controller, so ``vLLM`` is not ``vllm``), whether a format takes part in
auto-selection and with which priority, the protocols, the container images (worker images of
multi-node runtimes too) and whether it is multi-node. The data is the release's catalog
(:mod:`cmp.catalog`), the same a render with ``spec.kserve.version`` set to that release uses.
"""

from __future__ import annotations

import json
from typing import Any

from .catalog import Release


def describe(release: Release) -> dict[str, Any]:
    """The listing as plain data (the JSON form)."""
    return {"kserveVersion": release.tag, "default": False, "runtimes": [
        _runtime(name, release.runtimes[name]) for name in release.runtime_names()]}


def _runtime(name: str, doc: dict) -> dict[str, Any]:
    spec = doc.get("spec") or {}
    worker = spec.get("workerSpec")
    formats = []
    for fmt in spec.get("supportedModelFormats") or []:
        entry: dict[str, Any] = {"name": fmt.get("name")}
        if fmt.get("version"):
            entry["version"] = str(fmt["version"])
        entry["autoSelect"] = bool(fmt.get("autoSelect"))
        if fmt.get("priority") is not None:
            entry["priority"] = fmt["priority"]
        formats.append(entry)
    containers = list(spec.get("containers") or []) + list((worker or {}).get("containers") or [])
    return {
        "name": name,
        "kind": doc.get("kind"),
        "formats": formats,
        "protocols": list(spec.get("protocolVersions") or []),
        "images": [c.get("image") for c in containers if isinstance(c, dict) and c.get("image")],
        "multiNode": worker is not None,
    }


def to_json(release: Release, default_tag: str) -> str:
    data = describe(release)
    data["default"] = release.tag == default_tag
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def to_text(release: Release, default_tag: str) -> str:
    data = describe(release)
    suffix = " (the default)" if release.tag == default_tag else ""
    lines = [f"KServe {release.tag}{suffix}: {len(data['runtimes'])} built-in runtimes", ""]
    for rt in data["runtimes"]:
        lines.append(rt["name"] + ("  (multi-node)" if rt["multiNode"] else ""))
        lines.append("  formats:   " + ", ".join(_format_text(f) for f in rt["formats"]))
        lines.append("  protocols: " + (", ".join(rt["protocols"]) or "(none listed: v1)"))
        images = list(dict.fromkeys(rt["images"]))
        lines.append("  images:    " + ", ".join(images))
        lines.append("")
    lines.append("Formats match case-sensitively; 'auto' formats take part in auto-selection (highest "
                 "priority wins), the others only when spec.runtime names the runtime.")
    return "\n".join(lines) + "\n"


def _format_text(fmt: dict) -> str:
    text = fmt["name"] + (f":{fmt['version']}" if fmt.get("version") else "")
    if fmt["autoSelect"]:
        text += f" (auto, priority {fmt['priority']})" if "priority" in fmt else " (auto)"
    return text
