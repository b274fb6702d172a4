#!/usr/bin/env python3
"""Generate ``cmp/source/namereference.yaml``: kustomize name-reference rules for the kinds kustomize does not know.

kustomize rewrites a reference to a renamed object (a ``secretGenerator``'s ``hf-token`` becomes
``hf-token-<hash>``) only in the fields its ``nameReference`` configuration lists, and it lists them
for built-in kinds only. This script writes the same kind of configuration (kustomize's
``configurations:`` file format) for:

* ``ModelDeployment`` (``kserve-cmp.io``): the fields of our own format that name a Secret or a
  ConfigMap (``env`` ``valueFrom`` of the model, transformer and multi-node workers; the storage
  initializer's ``imagePullSecrets``), and the same shapes inside ``patches``/``runtimePatches``
  values where the shape alone says what is named (an EnvVar, an EnvFromSource, a Volume);
* ``InferenceService``, ``InferenceGraph``, ``ServingRuntime`` and ``ClusterServingRuntime``
  (``serving.kserve.io``): every path of their CRD schemas (``cmp/schema/<kind>.<release>.json``,
  all shipped releases) that ends the
  way a Pod's reference paths end in kustomize's own configuration for Pods
  (``api/internal/konfig/builtinpluginconsts/namereference.go`` in kubernetes-sigs/kustomize):
  ``.../env/valueFrom/secretKeyRef/name``, ``.../volumes/secret/secretName``,
  ``.../serviceAccountName`` and so on.

The output is a pure function of the schemas: running the script twice gives identical bytes;
``tests/source/test_namereference.py`` checks that the shipped file is current.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path("cmp") / "source" / "namereference.yaml"

#: Referenced kind -> path endings (field names, lists traversed) that name one, as kustomize's
#: configuration for Pods has them (pod-relative; container paths without ``containers/``).
POD_REFERENCES: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("Secret", "v1"): (
        ("env", "valueFrom", "secretKeyRef", "name"),
        ("envFrom", "secretRef", "name"),
        ("imagePullSecrets", "name"),
        ("volumes", "projected", "sources", "secret", "name"),
        ("volumes", "secret", "secretName"),
    ),
    ("ConfigMap", "v1"): (
        ("env", "valueFrom", "configMapKeyRef", "name"),
        ("envFrom", "configMapRef", "name"),
        ("volumes", "configMap", "name"),
        ("volumes", "projected", "sources", "configMap", "name"),
    ),
    ("ServiceAccount", "v1"): (("serviceAccountName",),),
    ("PersistentVolumeClaim", "v1"): (("volumes", "persistentVolumeClaim", "claimName"),),
}

#: KServe kinds: (group, kind, schema file prefix; one file per distinct release schema).
KSERVE_KINDS = (
    ("serving.kserve.io", "ClusterServingRuntime", "clusterservingruntime"),
    ("serving.kserve.io", "InferenceGraph", "inferencegraph"),
    ("serving.kserve.io", "InferenceService", "inferenceservice"),
    ("serving.kserve.io", "ServingRuntime", "servingruntime"),
)

OUR_GROUP = "kserve-cmp.io"
OUR_KIND = "ModelDeployment"
#: Where our format holds containers' env, and the storage initializer's pull secrets (a list of names).
OUR_ENV = ("spec/model/env", "spec/transformer/env", "spec/multiNode/env")
OUR_PULL_SECRETS = "spec/storageInitializer/imagePullSecrets"
#: Where our format holds a component's pod fields (``spec.pod``, ``spec.transformer.pod``).
OUR_PODS = ("spec/pod", "spec/transformer/pod")
#: Value shapes inside a JSON-patch operation's ``value`` that say what they name by themselves:
#: an EnvVar (or list of them), an EnvVarSource, an EnvFromSource, a Volume (or list of them).
PATCH_VALUE_SHAPES: dict[str, tuple[str, ...]] = {
    "Secret": ("valueFrom/secretKeyRef/name", "secretKeyRef/name", "secretRef/name", "secret/secretName",
               "projected/sources/secret/name"),
    "ConfigMap": ("valueFrom/configMapKeyRef/name", "configMapKeyRef/name", "configMapRef/name",
                  "configMap/name", "projected/sources/configMap/name"),
    "PersistentVolumeClaim": ("persistentVolumeClaim/claimName",),
}
PATCH_LISTS = ("spec/patches/value", "spec/runtimePatches/value")


def schema_paths(schema: dict, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field path of an OpenAPI schema (array items traversed, as kustomize traverses lists)."""
    while schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema = schema["items"]
    found = []
    for name, sub in sorted((schema.get("properties") or {}).items()):
        if isinstance(sub, dict):
            found.append(prefix + (name,))
            found.extend(schema_paths(sub, prefix + (name,)))
    return found


def kserve_specs(schema: dict) -> dict[tuple[str, str], list[str]]:
    """Referenced kind -> paths in one KServe kind's schema that reference it."""
    paths = [p for p in schema_paths(schema) if p and p[0] == "spec"]
    out: dict[tuple[str, str], list[str]] = {}
    for referenced, endings in POD_REFERENCES.items():
        hits = {"/".join(p) for p in paths for e in endings if p[-len(e):] == e and _scalar(schema, p)}
        out[referenced] = sorted(hits)
    return out


def _scalar(schema: dict, path: tuple[str, ...]) -> bool:
    """True when ``path`` ends at a string field."""
    node = schema
    for name in path:
        while node.get("type") == "array":
            node = node.get("items") or {}
        node = (node.get("properties") or {}).get(name) or {}
    return node.get("type") == "string"


def our_specs() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {k: [] for k in POD_REFERENCES}
    for env in OUR_ENV:
        out[("Secret", "v1")].append(f"{env}/valueFrom/secretKeyRef/name")
        out[("ConfigMap", "v1")].append(f"{env}/valueFrom/configMapKeyRef/name")
    out[("Secret", "v1")].append(OUR_PULL_SECRETS)
    for pod in OUR_PODS:
        out[("Secret", "v1")].append(f"{pod}/imagePullSecrets/name")
        out[("ServiceAccount", "v1")].append(f"{pod}/serviceAccountName")
    for kind, shapes in PATCH_VALUE_SHAPES.items():
        for base in PATCH_LISTS:
            out[(kind, "v1")].extend(f"{base}/{shape}" for shape in shapes)
    return {k: sorted(v) for k, v in out.items()}


def render(schema_dir: Path) -> str:
    per_kind: list[tuple[str, str, dict]] = [(OUR_GROUP, OUR_KIND, our_specs())]
    for group, kind, prefix in KSERVE_KINDS:
        files = sorted(schema_dir.glob(f"{prefix}.*.json"))
        if not files:
            raise SystemExit(f"no schema for {kind} ({prefix}.*.json) in {schema_dir}")
        union: dict[tuple[str, str], set[str]] = {}
        for path in files:  # a field of any shipped release
            for referenced, paths in kserve_specs(json.loads(path.read_text(encoding="utf-8"))).items():
                union.setdefault(referenced, set()).update(paths)
        per_kind.append((group, kind, {k: sorted(v) for k, v in union.items()}))
    lines = [
        "# Generated by scripts/gen_namereference.py from cmp/schema/*.json: do not edit.",
        "# kustomize name-reference rules (a `configurations:` file) for ModelDeployment and the KServe kinds,",
        "# added to every kustomize build so generated names reach the fields that reference them.",
        "nameReference:",
    ]
    for (referenced, version) in POD_REFERENCES:
        lines += [f"- kind: {referenced}", f"  version: {version}", "  fieldSpecs:"]
        for group, kind, specs in per_kind:
            for path in specs[(referenced, version)]:
                lines += [f"  - path: {path}", f"    group: {group}", f"    kind: {kind}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="repository root to write below")
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped file is not current")
    args = parser.parse_args(argv)
    text = render(ROOT / "cmp" / "schema")
    target = args.out / OUT
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        return 0 if current == text else 1
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
