"""References that kustomize left pointing at a generator's name instead of the generated one.

A ``secretGenerator``/``configMapGenerator`` named ``X`` renders ``X-<hash>``, and kustomize rewrites
references to ``X`` only in the fields its name-reference rules list (its own, and the ones
kserve-cmp adds for ModelDeployment and the KServe kinds: ``namereference.yaml``). A reference
still naming ``X`` when the app has no ``X`` but renders ``X-<hash>`` is the tell-tale of a field
nobody rewrote: the pod would fail with CreateContainerConfigError (or pull without credentials).
Each is an error naming both names.

References are found by shape, at any depth of every document: the fields of a Pod that name a
Secret or ConfigMap (``secretKeyRef``, ``secretRef``, a volume's ``secret.secretName``,
``imagePullSecrets``...), also inside JSON-patch operations, where the operation's ``path`` gives
the value its place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..problems import Problem
from .yamlio import Doc

#: kustomize's generator kinds (``configuredBy`` of a generated object's origin) and what they make.
GENERATORS = {"SecretGenerator": "Secret", "ConfigMapGenerator": "ConfigMap"}
#: ``<name>-<hash>``: the suffix kustomize appends to a generated name (ten characters).
_HASHED = re.compile(r"^(.+)-([a-z0-9]{10})\Z")

#: Field-path endings (list indices dropped) whose string names an object of that kind.
SHAPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "Secret": (("secretKeyRef", "name"), ("secretRef", "name"), ("secret", "secretName"),
               ("sources", "secret", "name"), ("imagePullSecrets", "name"), ("imagePullSecrets",)),
    "ConfigMap": (("configMapKeyRef", "name"), ("configMapRef", "name"), ("configMap", "name")),
}
_LONGEST = max(len(e) for endings in SHAPES.values() for e in endings)


def unrewritten(docs: list[Doc]) -> list[Problem]:
    """An error for each reference to ``X`` where the app has no ``X`` but generates ``X-<hash>``.

    Also when a ``namePrefix``/``nameSuffix`` made it ``<prefix>X<suffix>-<hash>``, provided nothing
    references that generated name (a plain name inside another is a weaker tell-tale).
    """
    generated: list[tuple[str, str, str, Doc]] = []   # kind, generated name, name without the hash, doc
    present: set[tuple[str, str]] = set()
    for doc in docs:
        kind, name = _kind_name(doc.obj)
        if kind is None:
            continue
        match = _HASHED.match(name)
        if getattr(doc, "generated_by", None) in GENERATORS and match:
            generated.append((kind, name, match.group(1), doc))
        else:
            present.add((kind, name))
    if not generated:
        return []
    refs = [(kind, value, doc, path) for doc in docs if getattr(doc, "generated_by", None) is None
            for kind, value, path in references(doc.obj)]
    referenced = {(kind, value) for kind, value, _, _ in refs}
    problems = []
    for kind, value, doc, path in refs:
        if (kind, value) in present:
            continue
        made = [g for g in generated if g[0] == kind and g[2] == value] or \
            [g for g in generated if g[0] == kind and value in g[2] and (kind, g[1]) not in referenced]
        if not made:
            continue
        _, name, _, source = made[0]
        others = "nothing references it" if (kind, name) not in referenced else "other fields reference it"
        problems.append(doc.problem(path, f"{kind} {value!r} is not in the app, which generates {name!r} "
                                          f"({source.file or 'a generator'}); {others}: kustomize did not "
                                          f"rewrite this field. {_fix(doc.obj, source.obj)}",
                                    rule="generated-name"))
    return problems


def _fix(referrer: Any, referral: Any) -> str:
    """The likely cause and its fix: different namespaces, else a field kustomize does not know."""
    mine, theirs = _namespace(referrer), _namespace(referral)
    if mine != theirs:
        return (f"kustomize rewrites a reference only within one namespace, and this object is in "
                f"{mine or 'no namespace'} while the generated object is in {theirs or 'no namespace'}: "
                f"set namespace: in the kustomization (or the same namespace on both)")
    return ("Reference it from a field kustomize rewrites (docs/inputs.md lists them), or set "
            "generatorOptions.disableNameSuffixHash: true for this generator")


def _namespace(obj: Any) -> str | None:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    value = meta.get("namespace") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def references(obj: Any) -> Iterator[tuple[str, str, tuple]]:
    """(kind, name, path) of every Secret or ConfigMap reference in ``obj``, by shape."""
    yield from _walk(obj, (), ())


def _walk(value: Any, path: tuple, shape: tuple) -> Iterator[tuple[str, str, tuple]]:
    if isinstance(value, str):
        for kind, endings in SHAPES.items():
            if any(shape[-len(e):] == e for e in endings):
                yield kind, value, path
                return
        return
    if isinstance(value, dict):
        pointer = value.get("path") if "op" in value and "value" in value else None
        for key, item in value.items():
            if key == "value" and isinstance(pointer, str):
                # the operation's path says where the value goes: /spec/predictor/imagePullSecrets/-
                place = tuple(p for p in pointer.split("/") if p and p != "-" and not p.isdigit())
                yield from _walk(item, path + (key,), place[-_LONGEST:])
            else:
                yield from _walk(item, path + (key,), (shape + (key,))[-_LONGEST:])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, path + (i,), shape)


def _kind_name(obj: Any) -> tuple[str | None, str]:
    if not isinstance(obj, dict) or obj.get("kind") not in ("Secret", "ConfigMap"):
        return None, ""
    name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
    return (obj["kind"], name) if isinstance(name, str) else (None, "")
