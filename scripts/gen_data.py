#!/usr/bin/env python3
"""Generate the built-in runtime catalog and the CRD schemas shipped in ``cmp/``.

Input is a directory of KServe reference files (``crds/``, ``runtimes/`` and
``SOURCE.md``, see ``--kserve-dir``). Output, below ``--out`` (the repository
root by default):

* ``cmp/catalog/runtimes.json``: the official ClusterServingRuntimes of one
  pinned KServe release, keyed by runtime name, with real image tags;
* ``cmp/schema/<kind>.json``: the served version's ``openAPIV3Schema`` of each
  KServe CRD, ``description`` keywords removed;
* ``cmp/catalog/PROVENANCE.md`` and ``cmp/schema/PROVENANCE.md``.

The output is a pure function of the input files: running the script twice
gives identical bytes. Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

RELEASE = "v0.20.0"
"""KServe release whose runtimes make up the catalog."""

UPSTREAM_REPO = "kserve/kserve"

THIRD_PARTY_PINS: dict[str, tuple[str, str]] = {
    "vllm/vllm-openai": (
        "v0.20.0",
        "vLLM version built into KServe's own huggingfaceserver image: "
        "`VLLM_VERSION` in `python/huggingface_server.Dockerfile` (raised to 0.20.0 by kserve/kserve#5206)",
    ),
}
"""Tags for third-party images that the release itself only references as ``latest``."""

EXCLUDED_RUNTIMES: dict[str, str] = {
    "kserve-openvino.yaml": (
        "not listed in `config/runtimes/kustomization.yaml`, so a default install does not ship it; its "
        "image is the placeholder `openvino/model_server:replace`, for which the release pins no tag "
        "(the kustomization's `images:` has no entry for it and the rendered runtimes of the Helm chart "
        "`charts/kserve-runtime-configs` that could be consulted do not include it); it also carries Helm release annotations and an unversioned `huggingface` format "
        "that would take part in auto-selection"
    ),
}
"""Runtime files deliberately left out of the catalog, with the reason."""

SCHEMA_KINDS: tuple[tuple[str, str], ...] = (
    ("InferenceService", "serving.kserve.io_inferenceservices.yaml"),
    ("ServingRuntime", "serving.kserve.io_servingruntimes.yaml"),
    ("ClusterServingRuntime", "serving.kserve.io_clusterservingruntimes.yaml"),
    ("InferenceGraph", "serving.kserve.io_inferencegraphs.yaml"),
    ("ClusterStorageContainer", "serving.kserve.io_clusterstoragecontainers.yaml"),
)
"""(kind, CRD file in ``crds/``) for every schema written."""

SCHEMA_CHILD_MAPS = ("properties", "patternProperties", "definitions")
SCHEMA_CHILD_LISTS = ("allOf", "anyOf", "oneOf")
SCHEMA_CHILD_NODES = ("additionalProperties", "items", "not", "additionalItems")


def load_documents(path: Path) -> list[Any]:
    """Return the non-empty YAML documents of ``path``."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.load_all(handle, Loader=yaml.CSafeLoader) if doc is not None]


def load_document(path: Path) -> Any:
    """Return the single YAML document of ``path``."""
    docs = load_documents(path)
    if len(docs) != 1:
        raise ValueError(f"{path.name}: expected one YAML document, found {len(docs)}")
    return docs[0]


# --- images -----------------------------------------------------------------


def split_image(image: str) -> tuple[str, str | None]:
    """Split ``image`` into (name, tag); digests are kept with the name, tag is then None."""
    if "@" in image:
        return image, None
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, None


def pinned_tag(new_name: str, new_tag: str) -> tuple[str, str]:
    """Return (tag, reason) replacing a floating ``latest*`` tag of the release's kustomization."""
    if not new_tag.startswith("latest"):
        return new_tag, "as in `config/runtimes/kustomization.yaml`"
    if new_name.startswith("kserve/"):
        return RELEASE + new_tag[len("latest") :], f"KServe's own image: `{new_tag}` -> release tag"
    if new_name in THIRD_PARTY_PINS:
        return THIRD_PARTY_PINS[new_name]
    raise ValueError(f"no pinned tag known for third-party image {new_name}:{new_tag}")


def image_table(kustomization: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Map placeholder image names to (new name, pinned tag, reason) from ``images:``."""
    table = {}
    for entry in kustomization.get("images", []):
        new_name = entry.get("newName", entry["name"])
        tag, reason = pinned_tag(new_name, str(entry["newTag"]))
        table[entry["name"]] = (new_name, tag, reason)
    return table


def resolve_image(image: str, table: dict[str, tuple[str, str, str]]) -> str:
    """Return the real, pinned image for a runtime's placeholder ``image``."""
    name, _ = split_image(image)
    if name not in table:
        raise ValueError(f"image {image!r} is not mapped by the kustomization")
    new_name, tag, _ = table[name]
    return f"{new_name}:{tag}"


def pin_images(node: Any, table: dict[str, tuple[str, str, str]]) -> Any:
    """Return ``node`` with the image of every (init)container resolved, at any depth."""
    if isinstance(node, list):
        return [pin_images(item, table) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("containers", "initContainers") and isinstance(value, list):
            value = [
                {**c, "image": resolve_image(c["image"], table)} if isinstance(c, dict) and "image" in c else c
                for c in value
            ]
        out[key] = pin_images(value, table)
    return out


def check_image(image: str) -> None:
    """Raise unless ``image`` carries a concrete tag (not ``latest``, not ``replace``)."""
    _, tag = split_image(image)
    if tag is None or tag.startswith("latest") or tag == "replace":
        raise ValueError(f"image {image!r} is not pinned to a release tag")


def container_images(node: Any) -> list[str]:
    """Return every container image found in ``node``, in document order."""
    if isinstance(node, list):
        return [image for item in node for image in container_images(item)]
    if not isinstance(node, dict):
        return []
    images = []
    for key, value in node.items():
        if key in ("containers", "initContainers") and isinstance(value, list):
            images.extend(c["image"] for c in value if isinstance(c, dict) and "image" in c)
        images.extend(container_images(value))
    return images


# --- catalog ----------------------------------------------------------------


def strip_key(node: Any, key: str) -> Any:
    """Return ``node`` without any mapping entry named ``key``, at any depth."""
    if isinstance(node, list):
        return [strip_key(item, key) for item in node]
    if isinstance(node, dict):
        return {k: strip_key(v, key) for k, v in node.items() if k != key}
    return node


def build_catalog(kserve_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the catalog: runtime name -> ServingRuntime document with pinned images."""
    runtimes_dir = kserve_dir / "runtimes"
    kustomization = load_document(runtimes_dir / "kustomization.yaml")
    table = image_table(kustomization)
    listed = set(kustomization["resources"])
    present = {p.name for p in runtimes_dir.glob("*.yaml")} - {"kustomization.yaml"}
    unexplained = present - listed - set(EXCLUDED_RUNTIMES)
    if unexplained:
        raise ValueError(f"runtime files neither listed nor excluded: {sorted(unexplained)}")
    catalog = {}
    for file_name in sorted(listed):
        for doc in load_documents(runtimes_dir / file_name):
            runtime = pin_images(strip_key(doc, "description"), table)
            for image in container_images(runtime):
                check_image(image)
            catalog[runtime["metadata"]["name"]] = runtime
    return catalog


# --- schemas ----------------------------------------------------------------


def strip_schema_descriptions(schema: Any) -> Any:
    """Return an OpenAPI schema without ``description`` keywords.

    Only schema nodes are touched, so a property that happens to be *named*
    ``description`` survives, as do ``default``/``enum``/``example`` values.
    """
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "description":
            continue
        if key in SCHEMA_CHILD_MAPS and isinstance(value, dict):
            value = {name: strip_schema_descriptions(child) for name, child in value.items()}
        elif key in SCHEMA_CHILD_LISTS and isinstance(value, list):
            value = [strip_schema_descriptions(child) for child in value]
        elif key in SCHEMA_CHILD_NODES:
            value = (
                [strip_schema_descriptions(child) for child in value]
                if isinstance(value, list)
                else strip_schema_descriptions(value)
            )
        out[key] = value
    return out


def served_version(crd: dict[str, Any]) -> dict[str, Any]:
    """Return the single served version entry of a CRD."""
    served = [v for v in crd["spec"]["versions"] if v.get("served")]
    if len(served) != 1:
        raise ValueError(f"{crd['metadata']['name']}: expected one served version, found {len(served)}")
    return served[0]


def build_schemas(kserve_dir: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Return kind -> (apiVersion, stripped openAPIV3Schema) for every kind in ``SCHEMA_KINDS``."""
    schemas = {}
    for kind, file_name in SCHEMA_KINDS:
        crd = load_document(kserve_dir / "crds" / file_name)
        if crd["spec"]["names"]["kind"] != kind:
            raise ValueError(f"{file_name}: defines {crd['spec']['names']['kind']}, expected {kind}")
        version = served_version(crd)
        api_version = f"{crd['spec']['group']}/{version['name']}"
        schemas[kind] = (api_version, strip_schema_descriptions(version["schema"]["openAPIV3Schema"]))
    return schemas


def schema_file_name(kind: str) -> str:
    """Return the file name a kind's schema is stored under."""
    return f"{kind.lower()}.json"


# --- provenance ---------------------------------------------------------------


def parse_source(kserve_dir: Path) -> dict[str, Any]:
    """Extract repository, commit and local->upstream paths of kserve/kserve from SOURCE.md."""
    text = (kserve_dir / "SOURCE.md").read_text(encoding="utf-8")
    section = text.split(f"## {UPSTREAM_REPO}\n", 1)[1].split("\n## ", 1)[0]
    repo = re.search(r"- Repository: (\S+)", section)
    commit = re.search(r"- Commit: `([0-9a-f]{40})`", section)
    if repo is None or commit is None:
        raise ValueError("SOURCE.md: repository or commit of kserve/kserve not found")
    paths = dict(re.findall(r"^\| kserve/(\S+) \| (\S+) \|$", section, flags=re.MULTILINE))
    return {"repository": repo.group(1), "commit": commit.group(1), "paths": paths}


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


REGENERATE = [
    "## Regenerate",
    "",
    "```sh",
    "python scripts/gen_data.py --kserve-dir <dir with crds/ runtimes/ SOURCE.md>",
    "```",
    "",
    "The default `--kserve-dir` is `../shared/kserve` relative to the repository root. The output is",
    "deterministic; `tests/scripts/test_gen_data.py` checks that regenerating reproduces the committed files.",
    "",
    "## Licence",
    "",
    "Derived from kserve/kserve, licensed under Apache-2.0. Only Kubernetes data (CRD schemas and",
    "ServingRuntime manifests) is used; no upstream code.",
    "",
]


def source_lines(source: dict[str, Any]) -> list[str]:
    """Render the upstream repository/commit paragraph."""
    return [
        f"- Upstream repository: {source['repository']}",
        f"- Commit: `{source['commit']}` (the reference snapshot). Its runtime manifests are identical to",
        f"  release `{RELEASE}`; only the ServingRuntime and ClusterServingRuntime CRDs differ from the release",
        "  (they add `spec.resourceClaims`).",
    ]


def catalog_provenance(catalog: dict[str, dict[str, Any]], kserve_dir: Path, source: dict[str, Any]) -> str:
    """Render ``cmp/catalog/PROVENANCE.md``."""
    kustomization = load_document(kserve_dir / "runtimes" / "kustomization.yaml")
    table = image_table(kustomization)
    files = ["runtimes/kustomization.yaml"] + [f"runtimes/{name}" for name in sorted(kustomization["resources"])]
    lines = [
        "# Provenance of `runtimes.json`",
        "",
        f"The official ClusterServingRuntimes of KServe `{RELEASE}`, keyed by `metadata.name`.",
        "",
        *source_lines(source),
        "",
        "## Upstream files",
        "",
        *markdown_table(("upstream path",), [(f"`{source['paths'].get(f, f)}`",) for f in files]),
        "",
        "## Image pinning",
        "",
        "The runtime manifests name placeholder images (`<name>:replace`); the release maps them through the",
        "`images:` list of `config/runtimes/kustomization.yaml`. That mapping is applied, with every floating",
        f"tag replaced: KServe's own `latest` / `latest-gpu` become `{RELEASE}` / `{RELEASE}-gpu`, and",
        "third-party `latest` images get the version the release pins elsewhere.",
        "",
        *markdown_table(
            ("placeholder", "image", "why this tag"),
            [(f"`{name}`", f"`{new}:{tag}`", reason) for name, (new, tag, reason) in sorted(table.items())],
        ),
        "",
        "`vllm/vllm-openai` is `latest` in both the kustomization and the Helm chart",
        "`charts/kserve-runtime-configs` of the release, so its tag comes from the vLLM version KServe builds",
        "into its huggingfaceserver image. That version was read from kserve/kserve#5206 (merged; approved",
        "2026-04-30, three months before the release), not from the Dockerfile at the release tag itself, so a",
        "later bump before the release cannot be ruled out; re-check it when moving to another release.",
        "Note that the controller rewrites vLLM images to the `-cpu` repository when no GPU is requested.",
        "",
        "## Runtimes",
        "",
        *markdown_table(
            ("runtime", "kind", "images"),
            [
                (f"`{name}`", doc["kind"], ", ".join(f"`{i}`" for i in container_images(doc)))
                for name, doc in sorted(catalog.items())
            ],
        ),
        "",
        "## Left out",
        "",
        *[f"- `{source['paths'].get('runtimes/' + f, f)}`: {why}." for f, why in sorted(EXCLUDED_RUNTIMES.items())],
        "",
        "## Changes to the upstream documents",
        "",
        "- Images resolved and pinned as above.",
        "- `description` keys removed (the release's runtime manifests have none).",
        "- YAML comments are not kept (JSON). Everything else (kind, metadata, supportedModelFormats,",
        "  protocolVersions, containers, workerSpec, volumes, ...) is unchanged in meaning.",
        "",
        *REGENERATE,
    ]
    return "\n".join(lines)


def schema_provenance(schemas: dict[str, tuple[str, dict[str, Any]]], source: dict[str, Any]) -> str:
    """Render ``cmp/schema/PROVENANCE.md``."""
    files = dict(SCHEMA_KINDS)
    lines = [
        "# Provenance of the CRD schemas",
        "",
        "Each file holds the `openAPIV3Schema` of the served version of one KServe CRD (the \"full\" CRD",
        "variants), as compact JSON with sorted keys.",
        "",
        *source_lines(source),
        "",
        *markdown_table(
            ("file", "kind", "apiVersion", "upstream path"),
            [
                (f"`{schema_file_name(kind)}`", kind, api_version, f"`{source['paths'].get('crds/' + files[kind])}`")
                for kind, (api_version, _) in sorted(schemas.items())
            ],
        ),
        "",
        "## Changes to the upstream schemas",
        "",
        "- Every `description` keyword is removed (schema nodes only; a property named `description` would",
        "  be kept). Nothing else is changed: types, formats, patterns, enums, defaults, `required` and the",
        "  `x-kubernetes-*` extensions are as published.",
        "- The CRD wrapper (names, printer columns, subresources, conversion) is not kept.",
        "",
        *REGENERATE,
    ]
    return "\n".join(lines)


# --- output -----------------------------------------------------------------


def render_outputs(kserve_dir: Path) -> dict[str, str]:
    """Return every generated file as repository-relative path -> text."""
    source = parse_source(kserve_dir)
    catalog = build_catalog(kserve_dir)
    schemas = build_schemas(kserve_dir)
    outputs = {
        "cmp/catalog/runtimes.json": json.dumps(catalog, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "cmp/catalog/PROVENANCE.md": catalog_provenance(catalog, kserve_dir, source),
        "cmp/schema/PROVENANCE.md": schema_provenance(schemas, source),
    }
    for kind, (_, schema) in schemas.items():
        text = json.dumps(schema, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        outputs[f"cmp/schema/{schema_file_name(kind)}"] = text + "\n"
    return dict(sorted(outputs.items()))


def write_outputs(outputs: dict[str, str], out_dir: Path) -> None:
    """Write ``outputs`` below ``out_dir``, creating directories as needed."""
    for rel_path, text in outputs.items():
        target = out_dir / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    repo_root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kserve-dir",
        type=Path,
        default=repo_root.parent / "shared" / "kserve",
        help="directory holding crds/, runtimes/ and SOURCE.md (default: ../shared/kserve from the repo root)",
    )
    parser.add_argument("--out", type=Path, default=repo_root, help="output root (default: the repository root)")
    args = parser.parse_args(argv)
    outputs = render_outputs(args.kserve_dir)
    write_outputs(outputs, args.out)
    for rel_path in outputs:
        print(rel_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
