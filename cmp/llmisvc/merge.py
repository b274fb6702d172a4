"""Strategic merge of LLMInferenceService spec layers, as the controller merges them, with the source of
every leaf.

The controller merges layer after layer (``MergeSpecs``/``mergeSpecs`` in
``pkg/controller/v1alpha2/llmisvc/config_merge.go``, every shipped release): the later layer is first
turned into a patch with ``strategicpatch.CreateTwoWayMergePatch(zero spec, layer)`` and then applied
with ``strategicpatch.StrategicMergePatch`` (k8s.io/apimachinery ``pkg/util/strategicpatch/patch.go``),
both with ``LLMInferenceServiceSpec`` as the schema. Since the "before" of the patch is the zero spec,
the patch is the layer itself as Go serialises it, and applying it:

* merges maps (structs and string maps alike) key by key; a scalar, or a value of another JSON type,
  replaces what was there; nothing is ever deleted (Go drops unset fields, so the patch holds no null);
* merges the lists whose Go field carries ``patchStrategy:"merge"`` by their ``patchMergeKey`` (table
  :data:`MERGE_KEYS`, from ``k8s.io/api/core/v1/types.go``): an item with a known key is merged into it,
  a new one is added; the result lists the patch's items in the patch's order with the earlier layer's
  other items interleaved by their earlier position (``normalizeElementOrder``/``mergeSortedSlice``);
* replaces every other list whole (atomic): ``args``, ``command``, ``tolerations``, ``envFrom``, the
  HTTPRoute's ``rules``/``parentRefs`` (Gateway API types carry no patch tags), the InferencePool's lists,
  ``model.lora.adapters``, ``baseRefs``, ``router.gateway.refs``, ...;
* fails on a key both layers set inside a free-form value (``router.scheduler.config.inline``, a
  ``runtime.RawExtension``): the patch code finds no Go field to look the key up in.

Go serialisation quirks kept (``pkg/apis/serving/v1alpha2/llm_inference_service_types.go``): the
non-pointer ``parallelism.expert`` is dropped when false (``omitempty``), so a later layer cannot turn it
off; a merge-list item without its key gets Go's zero key (``""``, ``0``); and ``SetDefaults``
(``llm_inference_service_defaults.go``) gives a later layer's pod spec without ``containers`` an empty
list, which keeps the earlier containers: ``template``, ``worker`` and ``prefill``'s in every release,
``router.scheduler.template`` only from v0.20.0 (before, the null list deletes the earlier containers).
"""

from __future__ import annotations

import copy
from typing import Any

from ..catalog import version_key

Path = tuple
Origins = dict

MERGE_KEYS: dict[str, dict[str, tuple[str, str]]] = {
    # Go type -> field -> (merge key, element type); from the patchStrategy/patchMergeKey tags of k8s.io/api core/v1.
    "PodSpec": {"volumes": ("name", "Struct"), "initContainers": ("name", "Container"),
                "containers": ("name", "Container"), "ephemeralContainers": ("name", "Container"),
                "imagePullSecrets": ("name", "Struct"), "hostAliases": ("ip", "Struct"),
                "topologySpreadConstraints": ("topologyKey", "Struct"), "resourceClaims": ("name", "Struct"),
                "schedulingGates": ("name", "Struct")},
    "Container": {"ports": ("containerPort", "Struct"), "env": ("name", "Struct"),
                  "volumeMounts": ("mountPath", "Struct"), "volumeDevices": ("devicePath", "Struct")},
}
"""Lists merged by key. Any list not named here is atomic (replaced whole by the later layer)."""

CHILD_TYPES: dict[str, dict[str, str]] = {
    "Spec": {"template": "PodSpec", "worker": "PodSpec", "prefill": "Spec", "router": "Router"},
    "Router": {"scheduler": "Scheduler"},
    "Scheduler": {"template": "PodSpec", "config": "SchedulerConfig"},
    "SchedulerConfig": {"inline": "Raw"},
    "Raw": {},
}
"""The Go types under the spec that matter for merging (``prefill`` is a WorkloadSpec, typed like the spec here)."""

POD_SPECS = (("template",), ("worker",), ("prefill", "template"), ("prefill", "worker"),
             ("router", "scheduler", "template"))
ZERO_KEYS = {"name": "", "containerPort": 0, "mountPath": "", "devicePath": "", "ip": "", "topologyKey": ""}


class MergeError(ValueError):
    """The controller's merge fails here (``path``): reconcile stops with ``CombineBaseError``."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


def _child_type(gotype: str, key: str) -> str:
    if gotype == "Raw":
        return "Raw"
    return CHILD_TYPES.get(gotype, {}).get(key, "Struct")


def go_layer(spec: dict, release: str) -> dict:
    """A layer as Go serialises it before the patch: nulls dropped, ``parallelism.expert: false`` dropped,
    merge keys filled with Go's zero value, ``SetDefaults``' empty container lists."""
    out = _drop_nulls(copy.deepcopy(spec), "Spec")
    for workload in (out, out.get("prefill")):
        if isinstance(workload, dict) and isinstance(workload.get("parallelism"), dict) \
                and workload["parallelism"].get("expert") is False:
            del workload["parallelism"]["expert"]
    defaults = POD_SPECS if version_key(release) >= (0, 20, 0) else POD_SPECS[:4]
    for path in POD_SPECS:
        pod = _get(out, path)
        if isinstance(pod, dict) and "containers" not in pod:
            pod["containers"] = [] if path in defaults else None   # None: Go's null list, a deletion in the patch
    return out


def _drop_nulls(node: Any, gotype: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if value is None:
                continue
            child = _child_type(gotype, key)
            if isinstance(value, list) and key in MERGE_KEYS.get(gotype, {}):
                merge_key, elem = MERGE_KEYS[gotype][key]
                value = [({merge_key: ZERO_KEYS[merge_key], **item} if isinstance(item, dict) else item)
                         for item in value if item is not None]
                out[key] = [_drop_nulls(item, elem) for item in value]
            else:
                out[key] = _drop_nulls(value, child)
        return out
    if isinstance(node, list):
        return [_drop_nulls(item, gotype) for item in node]
    return node


def _get(node: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def tag(value: Any, source: str) -> Any:
    """The origin tree of a value written by one layer: same shape, ``source`` at every leaf."""
    if isinstance(value, dict) and value:
        return {k: tag(v, source) for k, v in value.items()}
    if isinstance(value, list) and value:
        return [tag(v, source) for v in value]
    return source


def _sub(source: Any, key: Any) -> Any:
    """The source of ``key`` inside a layer whose source is a label or a (origin tree, fallback label) pair."""
    if isinstance(source, str):
        return source
    tree, fallback = source
    if isinstance(tree, dict):
        child = tree.get(key)
    elif isinstance(tree, list) and isinstance(key, int) and key < len(tree):
        child = tree[key]
    else:
        child = None
    if child is None:
        return fallback
    return child if isinstance(child, str) else (child, fallback)


def _tag(value: Any, source: Any) -> Any:
    if isinstance(source, str):
        return tag(value, source)
    if isinstance(value, dict) and value:
        return {k: _tag(v, _sub(source, k)) for k, v in value.items()}
    if isinstance(value, list) and value:
        return [_tag(v, _sub(source, i)) for i, v in enumerate(value)]
    return source[1]


def _same_json_type(a: Any, b: Any) -> bool:
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"   # JSON numbers decode to float64 in Go
        return type(v).__name__
    return kind(a) == kind(b)


def merge_layer(base: dict, base_origin: Any, layer: dict, source: Any, release: str) -> tuple[dict, Any]:
    """Apply ``layer`` (a spec) over ``base`` as ``mergeSpecs`` does; returns (merged spec, merged origin tree).
    ``source`` labels the layer's leaves: one label, or (an origin tree of the layer, the label elsewhere)."""
    patch = go_layer(layer, release)
    merged, origin = _merge_map(copy.deepcopy(base), copy.deepcopy(base_origin) if isinstance(base_origin, dict)
                                else {}, patch, source, "Spec", ())
    return merged, origin


def _merge_map(base: dict, origin: dict, patch: dict, layer_source: Any, gotype: str, path: Path) -> tuple[dict, dict]:
    for key, value in patch.items():
        where = path + (key,)
        source = _sub(layer_source, key)
        if value is None:   # Go's null list for a pod spec without containers before SetDefaults covered it
            base.pop(key, None)
            origin.pop(key, None)
            continue
        if key not in base or base[key] is None or not _same_json_type(base[key], value):
            base[key], origin[key] = copy.deepcopy(value), _tag(value, source)
            continue
        if gotype == "Raw":
            raise MergeError(where, "two layers set this key inside a free-form value: the controller's strategic "
                                    "merge has no Go field to look it up in and fails (CombineBaseError)")
        if isinstance(value, dict):
            sub_origin = origin.get(key) if isinstance(origin.get(key), dict) else {}
            base[key], origin[key] = _merge_map(base[key], sub_origin, value, source, _child_type(gotype, key), where)
        elif isinstance(value, list) and key in MERGE_KEYS.get(gotype, {}):
            sub_origin = origin.get(key) if isinstance(origin.get(key), list) else tag(base[key], "?")
            merge_key, elem = MERGE_KEYS[gotype][key]
            base[key], origin[key] = _merge_list(base[key], sub_origin, value, source, merge_key, elem, where)
        else:
            base[key], origin[key] = copy.deepcopy(value), _tag(value, source)
    return base, origin


def _merge_list(base: list, origin: list, patch: list, source: Any, merge_key: str, elem: str,
                path: Path) -> tuple[list, list]:
    """``mergeSlice`` for a list of maps with a merge key, order included."""
    if not base and not patch:
        return base, origin
    for index, item in enumerate(base + patch):
        if not isinstance(item, dict):
            raise MergeError(path + (index,), f"a list merged by {merge_key} holds a non-object item")
    pairs = list(zip(base, origin if len(origin) == len(base) else [tag(b, "?") for b in base]))
    server_keys = [item.get(merge_key) for item in base]
    for index, item in enumerate(patch):
        key = item[merge_key]
        found = next((i for i, (value, _) in enumerate(pairs) if value.get(merge_key) == key), None)
        if found is None:
            pairs.append((copy.deepcopy(item), _tag(item, _sub(source, index))))
        else:
            value, org = pairs[found]
            pairs[found] = _merge_map(value, org if isinstance(org, dict) else {}, item, _sub(source, index), elem,
                                      path + (found,))
    patch_keys = [item[merge_key] for item in patch]
    in_patch = [p for p in pairs if p[0].get(merge_key) in patch_keys]
    server_only = [p for p in pairs if p[0].get(merge_key) not in patch_keys]
    in_patch.sort(key=lambda p: patch_keys.index(p[0].get(merge_key)))
    server_only.sort(key=lambda p: server_keys.index(p[0].get(merge_key)))
    ordered: list = []
    i = j = 0
    while i < len(server_only) or j < len(in_patch):
        if i >= len(server_only):
            ordered.append(in_patch[j])
            j += 1
        elif j >= len(in_patch):
            ordered.append(server_only[i])
            i += 1
        else:
            left, right = server_only[i][0].get(merge_key), in_patch[j][0].get(merge_key)
            if left in server_keys and right in server_keys and server_keys.index(left) < server_keys.index(right):
                ordered.append(server_only[i])
                i += 1
            else:
                ordered.append(in_patch[j])
                j += 1
    return [p[0] for p in ordered], [p[1] for p in ordered]


def leaves(origin: Any, path: Path = ()) -> dict[Path, str]:
    """The origin tree flattened: leaf path -> source (an empty map or list is a leaf)."""
    if isinstance(origin, dict):
        out: dict[Path, str] = {}
        for key, child in origin.items():
            out.update(leaves(child, path + (key,)))
        return out
    if isinstance(origin, list):
        out = {}
        for index, child in enumerate(origin):
            out.update(leaves(child, path + (index,)))
        return out
    return {path: origin}
