#!/usr/bin/env python3
"""Generate the built-in runtime catalog and the CRD schemas shipped in ``cmp/``.

Input is a directory of KServe reference files (``SOURCE.md`` with its table of
releases, and ``releases/<tag>/`` holding each release's files under their
upstream paths; see ``--kserve-dir``). Output, below ``--out`` (the repository
root by default):

* ``cmp/catalog/releases/<tag>.json``: per shipped KServe release, the official
  ClusterServingRuntimes keyed by name with real image tags, the storage URI
  prefixes, the default ClusterStorageContainer, ConfigMap defaults, blocked env
  vars, GPU resource types and the names of its schema files;
* ``cmp/catalog/releases/index.json``: the releases and the default (the newest);
* ``cmp/schema/<kind>.<tag>.json``: the served version's ``openAPIV3Schema`` of
  each KServe CRD, ``description`` keywords removed, stored once under the first
  release that has it;
* ``cmp/schema/<kind>.<tag>.marshal``: the same schema pre-built for loading (Python's
  ``marshal``, every repeated subtree stored once: some 20 KB and 0.3 ms to load instead of
  600 KB and 10 ms of JSON for the InferenceService schema; ``cmp.validate.load_schema``);
* ``cmp/catalog/PROVENANCE.md`` and ``cmp/schema/PROVENANCE.md``.

The output is a pure function of the input files: running the script twice
gives identical bytes. Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import argparse
import copy
import json
import marshal
import re
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_llmisvc  # noqa: E402 (a sibling script, not a package)

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


def pinned_tag(new_name: str, new_tag: str, release: str,
               third_party: dict[str, tuple[str, str]] | None = None) -> tuple[str, str]:
    """Return (tag, reason) replacing a floating ``latest*`` tag of the release's kustomization."""
    if not new_tag.startswith("latest"):
        return new_tag, "as in `config/runtimes/kustomization.yaml`"
    if new_name.startswith("kserve/"):
        return release + new_tag[len("latest") :], f"KServe's own image: `{new_tag}` -> release tag"
    pins = third_party or {}
    if new_name in pins:
        return pins[new_name]
    raise ValueError(f"no pinned tag known for third-party image {new_name}:{new_tag}")


def image_table(kustomization: dict[str, Any], release: str,
                third_party: dict[str, tuple[str, str]] | None = None) -> dict[str, tuple[str, str, str]]:
    """Map placeholder image names to (new name, pinned tag, reason) from ``images:``."""
    table = {}
    for entry in kustomization.get("images", []):
        new_name = entry.get("newName", entry["name"])
        tag, reason = pinned_tag(new_name, str(entry["newTag"]), release, third_party)
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


def build_catalog(runtimes_dir: Path, table: dict[str, tuple[str, str, str]]) -> dict[str, dict[str, Any]]:
    """Return one release's catalog: runtime name -> ServingRuntime document with pinned images."""
    kustomization = load_document(runtimes_dir / "kustomization.yaml")
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
    """Return the served version entry of a CRD: the only one, or the storage version when several are
    served (the LLMInferenceService CRDs serve v1alpha1 and v1alpha2, v1alpha2 stored)."""
    served = [v for v in crd["spec"]["versions"] if v.get("served")]
    if len(served) > 1:
        served = [v for v in served if v.get("storage")]
    if len(served) != 1:
        raise ValueError(f"{crd['metadata']['name']}: expected one served (storage) version, found {len(served)}")
    return served[0]


def older_served_versions(crd: dict[str, Any]) -> list[str]:
    """apiVersions a CRD still serves besides the one whose schema is shipped (converted by a webhook)."""
    chosen = served_version(crd)["name"]
    return [f"{crd['spec']['group']}/{v['name']}" for v in crd["spec"]["versions"]
            if v.get("served") and v["name"] != chosen]


def build_schemas(crd_paths: dict[str, Path],
                  older: dict[str, list[str]] | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Return kind -> (apiVersion, stripped openAPIV3Schema) for every kind in ``crd_paths``; ``older``,
    when given, receives kind -> the other apiVersions the CRD serves (for kinds that have any)."""
    schemas = {}
    for kind in sorted(crd_paths):
        crd = load_document(crd_paths[kind])
        if crd["spec"]["names"]["kind"] != kind:
            raise ValueError(f"{crd_paths[kind].name}: defines {crd['spec']['names']['kind']}, expected {kind}")
        version = served_version(crd)
        api_version = f"{crd['spec']['group']}/{version['name']}"
        schemas[kind] = (api_version, strip_schema_descriptions(version["schema"]["openAPIV3Schema"]))
        if older is not None and older_served_versions(crd):
            older[kind] = older_served_versions(crd)
    return schemas


# --- provenance ---------------------------------------------------------------


def markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


REGENERATE = [
    "## Regenerate",
    "",
    "```sh",
    "python scripts/gen_data.py --kserve-dir <dir with SOURCE.md and releases/<tag>/>",
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


# --- releases ------------------------------------------------------------------

RELEASE_CRD_PATHS: dict[str, str] = {
    "InferenceService": "config/crd/full/serving.kserve.io_inferenceservices.yaml",
    "ServingRuntime": "config/crd/full/serving.kserve.io_servingruntimes.yaml",
    "ClusterServingRuntime": "config/crd/full/serving.kserve.io_clusterservingruntimes.yaml",
    "InferenceGraph": "config/crd/full/serving.kserve.io_inferencegraphs.yaml",
    "ClusterStorageContainer": "config/crd/full/clusterstoragecontainer/serving.kserve.io_clusterstoragecontainers.yaml",
    **gen_llmisvc.CRD_PATHS,
}
"""kind -> CRD file of a release (upstream path, as copied under ``releases/<tag>/``)."""

URI_PREFIXES_GO = "pkg/controller/v1beta1/inferenceservice/utils/utils.go"
ENV_POLICY_GO = "pkg/validation/env_policy.go"
CONSTANTS_GO = "pkg/constants/constants.go"
DOCKERFILE = "python/huggingface_server.Dockerfile"
STORAGE_PY = "python/storage/kserve_storage/kserve_storage.py"
CONFIGMAP = "config/configmap/inferenceservice.yaml"
STORAGE_CONTAINERS = "config/storagecontainers"


def release_table(kserve_dir: Path) -> list[dict[str, str]]:
    """The shipped releases from SOURCE.md's release table: [{tag, commit, vllm}], oldest first."""
    text = (kserve_dir / "SOURCE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (v\d+\.\d+\.\d+) \| ([0-9a-f]{40}) \| (\d+\.\d+\.\d+) \|$", text, flags=re.MULTILINE)
    found = [{"tag": t, "commit": c, "vllm": v} for t, c, v in rows if (kserve_dir / "releases" / t).is_dir()]
    if not found:
        raise ValueError("SOURCE.md: no release table rows with a releases/<tag>/ directory")
    return sorted(found, key=lambda r: version_key(r["tag"]))


def version_key(tag: str) -> tuple[int, ...]:
    """``v0.20.0`` -> ``(0, 20, 0)``."""
    return tuple(int(part) for part in tag.lstrip("v").split("."))


def go_string_list(text: str, name: str) -> list[str]:
    """The string literals of ``name = []string{...}`` in Go source (a fact read, not code copied)."""
    match = re.search(re.escape(name) + r"\s*=\s*\[\]string\{(.*?)\}", text, flags=re.DOTALL)
    if match is None:
        raise ValueError(f"{name}: not found")
    return re.findall(r'"([^"]*)"', match.group(1))


def go_identifier_list(text: str, name: str) -> list[str]:
    """``name = []string{A, B}`` where A and B are string constants of the same file: their values."""
    match = re.search(re.escape(name) + r"\s*=\s*\[\]string\{(.*?)\}", text, flags=re.DOTALL)
    if match is None:
        raise ValueError(f"{name}: not found")
    values = []
    for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", match.group(1)):
        const = re.search(r"^\s*" + ident + r"\s*=\s*\"([^\"]*)\"", text, flags=re.MULTILINE)
        if const is None:
            raise ValueError(f"{name}: constant {ident} not found")
        values.append(const.group(1))
    return values


def downloader_schemes(release_dir: Path) -> list[str]:
    """URI schemes the release's storage initializer downloads: its ``_X_PREFIX = "scheme://"`` constants,
    plus ``http://``/``https://`` when its catch-all URL pattern is ``https?://...``."""
    text = (release_dir / STORAGE_PY).read_text(encoding="utf-8")
    schemes = re.findall(r'^_[A-Z0-9]+_PREFIX = "([a-z0-9+]+://)"$', text, flags=re.MULTILINE)
    if re.search(r'^_URI_RE = "https\?://', text, flags=re.MULTILINE):
        schemes += ["http://", "https://"]
    if not schemes:
        raise ValueError(f"{STORAGE_PY}: no URI prefixes found")
    return sorted(set(schemes))


def vllm_pin(release_dir: Path) -> str:
    """The vLLM version a release builds into its huggingfaceserver image (``ARG VLLM_VERSION=``)."""
    match = re.search(r"^ARG VLLM_VERSION=(\S+)$", (release_dir / DOCKERFILE).read_text(encoding="utf-8"),
                      flags=re.MULTILINE)
    if match is None:
        raise ValueError(f"{DOCKERFILE}: no VLLM_VERSION")
    return match.group(1)


def default_storage_container(release_dir: Path, tag: str) -> tuple[dict[str, Any], str]:
    """The ``default`` ClusterStorageContainer of a release with its image pinned, and that image."""
    kustomization = load_document(release_dir / STORAGE_CONTAINERS / "kustomization.yaml")
    docs = [d for f in kustomization["resources"] for d in load_documents(release_dir / STORAGE_CONTAINERS / f)]
    default = [d for d in docs if d.get("kind") == "ClusterStorageContainer" and d["metadata"]["name"] == "default"]
    if len(default) != 1:
        raise ValueError(f"{tag}: expected one default ClusterStorageContainer")
    table = image_table(kustomization, tag)
    csc = copy.deepcopy(default[0])
    container = csc["spec"]["container"]
    container["image"] = resolve_image(container["image"], table)
    check_image(container["image"])
    return csc, container["image"]


def configmap_section(release_dir: Path, key: str) -> dict[str, Any]:
    """One JSON section of the release's ``inferenceservice-config`` ConfigMap."""
    doc = load_document(release_dir / CONFIGMAP)
    return json.loads(doc["data"][key])


def build_release(kserve_dir: Path, row: dict[str, str]) -> tuple[dict[str, Any], dict[str, tuple[str, dict]]]:
    """(release data, kind -> (apiVersion, schema)) of one shipped release."""
    tag = row["tag"]
    release_dir = kserve_dir / "releases" / tag
    runtimes_dir = release_dir / "config" / "runtimes"
    third_party = {"vllm/vllm-openai": (
        "v" + row["vllm"], "vLLM version built into KServe's own huggingfaceserver image of the release: "
                           f"`VLLM_VERSION` in `{DOCKERFILE}`")}
    table = image_table(load_document(runtimes_dir / "kustomization.yaml"), tag, third_party)
    runtimes = build_catalog(runtimes_dir, table)
    older: dict[str, list[str]] = {}
    schemas = build_schemas({k: release_dir / p for k, p in RELEASE_CRD_PATHS.items()}, older)
    csc, storage_image = default_storage_container(release_dir, tag)
    env_policy = release_dir / ENV_POLICY_GO
    blocked = go_string_list(env_policy.read_text(encoding="utf-8"), "DefaultBlockedEnvVars") \
        if env_policy.is_file() else []
    constants = (release_dir / CONSTANTS_GO).read_text(encoding="utf-8")
    initializer = configmap_section(release_dir, "storageInitializer")
    ingress = configmap_section(release_dir, "ingress")
    if vllm_pin(release_dir) != row["vllm"]:
        raise ValueError(f"{tag}: SOURCE.md's vLLM {row['vllm']} differs from {DOCKERFILE}")
    data = {
        "release": tag,
        "commit": row["commit"],
        "runtimes": runtimes,
        "images": {name: f"{new}:{t}" for name, (new, t, _) in sorted(table.items())},
        "storageUriPrefixes": go_string_list((release_dir / URI_PREFIXES_GO).read_text(encoding="utf-8"),
                                             "SupportedStorageURIPrefixList"),
        "defaultStorageContainer": csc,
        "storageInitializer": {k: initializer[k] for k in sorted(initializer)},
        "storageInitializerImage": storage_image,
        "storageInitializerSchemes": downloader_schemes(release_dir),
        "ingress": {k: ingress[k] for k in ("domainTemplate", "ingressDomain", "urlScheme") if k in ingress},
        "blockedEnvVars": blocked,
        "gpuResourceTypes": go_identifier_list(constants, "DefaultGPUResourceTypeList"),
        "vllmVersion": row["vllm"],
        "olderServedVersions": older,
    }
    return data, schemas


def release_schema_file(kind: str, tag: str) -> str:
    """``inferenceservice.v0.17.1.json``: a schema stored once, under the first release that has it."""
    return f"{kind.lower()}.{tag}.json"


def schema_marshal(text: str) -> bytes:
    """A schema file's JSON ``text`` as ``marshal`` bytes in which equal subtrees, keys and scalars
    are each one object (so marshal writes each once and refers back to it).

    Every value stays referenced from ``shared`` while it is dumped: marshal marks an object for
    back-references only when something else holds it too, so with every object held the bytes
    depend on the schema alone, not on which objects the JSON decoder happened to share.
    """
    shared: dict[tuple[str, str], Any] = {}

    def one(value: Any) -> Any:
        if isinstance(value, dict):
            value = {one(k): one(v) for k, v in value.items()}
        elif isinstance(value, list):
            value = [one(v) for v in value]
        key = (type(value).__name__, json.dumps(value, sort_keys=True, ensure_ascii=False))
        return shared.setdefault(key, value)

    return marshal.dumps(one(json.loads(text)), 4)


def build_releases(kserve_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[dict[str, str]]]:
    """(tag -> release data, schema file -> text, release rows): identical schemas are stored once."""
    rows = release_table(kserve_dir)
    releases: dict[str, dict[str, Any]] = {}
    schema_files: dict[str, str] = {}
    by_text: dict[str, str] = {}
    for row in rows:
        data, schemas = build_release(kserve_dir, row)
        files = {}
        for kind, (api_version, schema) in sorted(schemas.items()):
            text = json.dumps(schema, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"
            key = kind + "\0" + text
            if key not in by_text:
                by_text[key] = release_schema_file(kind, row["tag"])
                schema_files[by_text[key]] = text
            files[kind] = {"apiVersion": api_version, "file": by_text[key]}
        data["schemas"] = files
        releases[row["tag"]] = data
    return releases, schema_files, rows


MASTER_CRDS: dict[str, str] = {
    "InferenceService": "crds/serving.kserve.io_inferenceservices.yaml",
    "ServingRuntime": "crds/serving.kserve.io_servingruntimes.yaml",
    "ClusterServingRuntime": "crds/serving.kserve.io_clusterservingruntimes.yaml",
    "InferenceGraph": "crds/serving.kserve.io_inferencegraphs.yaml",
    "ClusterStorageContainer": "crds/serving.kserve.io_clusterstoragecontainers.yaml",
}
"""kind -> CRD of the KServe master snapshot (``crds/`` of ``--kserve-dir``, SOURCE.md's commit)."""


def property_paths(schema: Any, prefix: str = "") -> set[str]:
    """Dotted property paths of a schema (array items add no segment)."""
    out: set[str] = set()
    if not isinstance(schema, dict):
        return out
    for name, child in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        out.add(path)
        out |= property_paths(child, path)
    if isinstance(schema.get("items"), dict):
        out |= property_paths(schema["items"], prefix)
    return out


def unreleased_fields(kserve_dir: Path, releases: dict[str, dict[str, Any]],
                      schema_texts: dict[str, str]) -> dict[str, list[str]]:
    """kind -> fields of KServe master's CRD that no shipped release's CRD has (outermost paths only)."""
    out: dict[str, list[str]] = {}
    for kind, rel_path in sorted(MASTER_CRDS.items()):
        master = build_schemas({kind: kserve_dir / rel_path})[kind][1]
        shipped: set[str] = set()
        for data in releases.values():
            shipped |= property_paths(json.loads(schema_texts[data["schemas"][kind]["file"]]))
        new = property_paths(master) - shipped
        outer = sorted(p for p in new if not any(p.startswith(q + ".") for q in new))
        if outer:
            out[kind] = outer
    return out


def master_commit(kserve_dir: Path) -> str:
    """The commit of the master snapshot (``## kserve/kserve`` section of SOURCE.md)."""
    text = (kserve_dir / "SOURCE.md").read_text(encoding="utf-8")
    section = text.split("## kserve/kserve\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"- Commit: `([0-9a-f]{40})`", section)
    if match is None:
        raise ValueError("SOURCE.md: commit of the kserve/kserve master snapshot not found")
    return match.group(1)


def releases_provenance(releases: dict[str, dict[str, Any]], rows: list[dict[str, str]]) -> str:
    """Render ``cmp/catalog/PROVENANCE.md``."""
    newest = rows[-1]["tag"]
    lines = [
        "# Provenance of the release catalog",
        "",
        "`releases/<tag>.json` holds, per shipped KServe release, what kserve-cmp renders and checks against:",
        "the official ClusterServingRuntimes (keyed by `metadata.name`, images pinned), the image mapping,",
        "the storage URI prefixes the controller accepts, the `default` ClusterStorageContainer, the",
        "`storageInitializer` and `ingress` sections of the `inferenceservice-config` ConfigMap, the env vars",
        "the webhook blocks, the GPU resource types it knows and the CRD schema files of that release",
        f"(`cmp/schema/`). `releases/index.json` lists the releases; the default is the newest, `{newest}`.",
        "It also names the CRD fields of a KServe master snapshot (`crds/` with SOURCE.md's commit) that no",
        "shipped release has, so that an error can say a field is not released yet.",
        "",
        "- Upstream repository: https://github.com/kserve/kserve",
        "",
        *markdown_table(("release", "commit", "vLLM (huggingfaceserver image)", "runtimes"), [
            (f"`{r['tag']}`", f"`{r['commit']}`", r["vllm"], str(len(releases[r["tag"]]["runtimes"])))
            for r in rows]),
        "",
        "## Upstream files (per release tag)",
        "",
        *markdown_table(("fact", "upstream path"), [
            ("runtimes", "`config/runtimes/*.yaml` listed by `config/runtimes/kustomization.yaml`"),
            ("image mapping", "`images:` of `config/runtimes/kustomization.yaml`"),
            ("storage URI prefixes", f"`SupportedStorageURIPrefixList` in `{URI_PREFIXES_GO}`"),
            ("default storage container", f"`{STORAGE_CONTAINERS}/default.yaml` (+ its kustomization's image)"),
            ("ConfigMap sections", f"`{CONFIGMAP}` (`storageInitializer`, `ingress`)"),
            ("blocked env vars", f"`DefaultBlockedEnvVars` in `{ENV_POLICY_GO}` (absent before v0.18: none)"),
            ("GPU resource types", f"`DefaultGPUResourceTypeList` in `{CONSTANTS_GO}`"),
            ("vLLM version", f"`ARG VLLM_VERSION` in `{DOCKERFILE}`"),
            ("storage initializer schemes", f"`_*_PREFIX` constants and `_URI_RE` of `{STORAGE_PY}`"),
            ("CRD schemas", "`config/crd/full/...` (see `cmp/schema/PROVENANCE.md`)"),
            ("older served versions", "`spec.versions[].served` of a CRD serving several versions (the "
                                      "LLMInferenceService CRDs); only the storage version's schema is shipped"),
            ("LLMInferenceService presets", "`config/llmisvcconfig/` (see `cmp/catalog/llmisvc/PROVENANCE.md`)"),
        ]),
        "",
        "Go sources are read for the values of string lists and constants only; no code is copied.",
        "",
        "## Image pinning",
        "",
        "The runtime manifests name placeholder images (`<name>:replace`); each release maps them through the",
        "`images:` list of `config/runtimes/kustomization.yaml`. Floating tags are replaced: KServe's own",
        "`latest` / `latest-gpu` become the release tag (`v0.20.0` / `v0.20.0-gpu`), and `vllm/vllm-openai`",
        "(`latest` in the release) gets the vLLM version the release builds into its huggingfaceserver image.",
        "The controller rewrites vLLM images to the `-cpu` repository when no GPU is requested.",
        "",
    ]
    for row in rows:
        data = releases[row["tag"]]
        lines += [f"### `{row['tag']}`", "", *markdown_table(("runtime", "images"), [
            (f"`{name}`", ", ".join(f"`{i}`" for i in container_images(doc)))
            for name, doc in sorted(data["runtimes"].items())]), ""]
    lines += [
        "## Left out",
        "",
        *[f"- `config/runtimes/{f}`: {why}." for f, why in sorted(EXCLUDED_RUNTIMES.items())],
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


def release_schema_provenance(releases: dict[str, dict[str, Any]]) -> str:
    """Render ``cmp/schema/PROVENANCE.md``."""
    rows = []
    for tag, data in releases.items():
        for kind, entry in sorted(data["schemas"].items()):
            rows.append((f"`{tag}`", kind, entry["apiVersion"], f"`{entry['file']}`",
                         f"`{RELEASE_CRD_PATHS[kind]}`"))
    lines = [
        "# Provenance of the CRD schemas",
        "",
        "Each file holds the `openAPIV3Schema` of the served version of one KServe CRD (the \"full\" CRD",
        "variants) of a release, as compact JSON with sorted keys. A schema that is identical in several",
        "releases is stored once, named after the first release that has it.",
        "",
        "- Upstream repository: https://github.com/kserve/kserve (commits: `cmp/catalog/PROVENANCE.md`)",
        "",
        *markdown_table(("release", "kind", "apiVersion", "file", "upstream path"), rows),
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


def render_outputs(kserve_dir: Path) -> dict[str, str | bytes]:
    """Return every generated file as repository-relative path -> text (bytes for a marshal file)."""
    releases, schema_files, rows = build_releases(kserve_dir)
    index = {"default": rows[-1]["tag"], "releases": [r["tag"] for r in rows],
             "master": {"commit": master_commit(kserve_dir),
                        "unreleasedFields": unreleased_fields(kserve_dir, releases, schema_files)}}
    outputs = {
        "cmp/catalog/releases/index.json": json.dumps(index, indent=2, sort_keys=True) + "\n",
        "cmp/catalog/PROVENANCE.md": releases_provenance(releases, rows),
        "cmp/schema/PROVENANCE.md": release_schema_provenance(releases),
    }
    for tag, data in releases.items():
        outputs[f"cmp/catalog/releases/{tag}.json"] = json.dumps(data, indent=1, sort_keys=True,
                                                                 ensure_ascii=False) + "\n"
    for file_name, text in schema_files.items():
        outputs[f"cmp/schema/{file_name}"] = text
        outputs[f"cmp/schema/{file_name.removesuffix('.json')}.marshal"] = schema_marshal(text)
    outputs.update(gen_llmisvc.render(kserve_dir, rows, load_documents, strip_key, markdown_table, REGENERATE))
    return dict(sorted(outputs.items()))


def render_flag_outputs(kserve_dir: Path, wheel_dir: Path) -> dict[str, str]:
    """The flag catalog (``scripts/gen_flags.py``) from ``<kserve-dir>/releases`` and the vLLM wheels."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen_flags import render_flags  # noqa: PLC0415 (a sibling script, not a package)

    return render_flags(kserve_dir / "releases", wheel_dir, (kserve_dir / "SOURCE.md").read_text(encoding="utf-8"))


def write_outputs(outputs: dict[str, str | bytes], out_dir: Path) -> None:
    """Write ``outputs`` below ``out_dir``, creating directories as needed."""
    for rel_path, text in outputs.items():
        target = out_dir / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    repo_root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kserve-dir",
        type=Path,
        default=repo_root.parent / "shared" / "kserve",
        help="directory holding SOURCE.md and releases/<tag>/ (default: ../shared/kserve from the repo root)",
    )
    parser.add_argument("--out", type=Path, default=repo_root, help="output root (default: the repository root)")
    parser.add_argument(
        "--vllm-wheels",
        type=Path,
        default=None,
        help="directory of the vLLM wheels the releases pin (pip download --no-deps vllm==X); when given, "
        "cmp/catalog/flags.json is regenerated too (see scripts/gen_flags.py)",
    )
    args = parser.parse_args(argv)
    outputs = render_outputs(args.kserve_dir)
    if args.vllm_wheels is not None:
        outputs.update(render_flag_outputs(args.kserve_dir, args.vllm_wheels))
    write_outputs(outputs, args.out)
    for rel_path in outputs:
        print(rel_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
