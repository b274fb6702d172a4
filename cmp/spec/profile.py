"""The ``ClusterProfile`` document (``kserve-cmp.io/v1alpha1``): what the target cluster is like.

A profile is read from the inputs or from the file named by the ``cluster-profile`` setting;
it is consumed, never emitted. ``spec.knative.configAutoscaler`` is the ``data`` map of the
cluster's Knative ``config-autoscaler`` ConfigMap, copied verbatim (kebab-case keys, string
values); keys it does not set take Knative's defaults. ``spec.kserve.version`` names the KServe
release, which selects the catalog a render uses (:func:`cmp.catalog.resolve`: runtimes, CRD
schemas, URI schemes, admission rules; default the newest shipped); ``spec.kserve.clusterRuntimes``
names ClusterServingRuntimes installed on the cluster that only the app holding the profile owns
(other apps may carry their definition to reference it, and never emit it); ``spec.deploymentMode``
is the mode a model gets when it asks for none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from .. import catalog
from ..kserve.autoscaling import KNATIVE_DEFAULTS, AutoscalerConfig, parse_config
from ..problems import Problem, UsageError
from ..source.read import read_file
from ..source.yamlio import Doc, ambiguous_scalars
from . import fields
from .fields import API_VERSION
from .reader import Reader, type_name, unknown_field_message

KIND = "ClusterProfile"
TREE = fields.CLUSTER_PROFILE
METADATA_FIELDS = TREE["metadata"].names()
SPEC_FIELDS = TREE["spec"].names(sections=False)   # sections (storageInitializerDefaults) are the transforms'
KSERVE_FIELDS = TREE["spec"]["kserve"].names()
KNATIVE_FIELDS = TREE["spec"]["knative"].names()
AUTOSCALER_PATH = ("spec", "knative", "configAutoscaler")
FEATURES_PATH = ("spec", "knative", "configFeatures")
#: Knative's feature flags that gate PodSpec fields kserve-cmp writes, and their default (``defaultFeaturesConfig``,
#: ``pkg/apis/config/features.go``, knative/serving knative-v1.21.1: every one "Disabled").
POD_FEATURES = fields.KNATIVE_POD_FEATURES
FEATURE_VALUES = fields.FEATURE_VALUES

#: The first KServe release whose webhook knows the mode names Knative and Standard.
MIN_KSERVE_VERSION = (0, 17)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(\.\d+)?([-+][0-9A-Za-z.+-]*)?\Z")


@dataclass
class ClusterProfile:
    """A parsed profile; ``doc`` is None for the built-in one (Knative defaults, no profile given)."""

    name: str | None = None
    deployment_mode: str | None = None
    kserve_version: str | None = None
    cluster_runtimes: tuple[str, ...] = ()   # ClusterServingRuntimes installed on the cluster, not owned by apps
    autoscaler_data: dict[str, str] = field(default_factory=dict)
    autoscaler: AutoscalerConfig = field(default_factory=AutoscalerConfig)
    doc: Doc | None = None
    features: dict[str, str] = field(default_factory=dict)   # Knative's config-features data, verbatim

    def describe(self) -> str:
        """``cluster profile file:line``, or that there is none."""
        if self.doc is None:
            return "no cluster profile"
        return f"cluster profile {self.doc.where(())}"

    def where(self, key: str) -> str:
        """Where the value of a ``config-autoscaler`` key comes from, for messages and explain."""
        if self.doc is None:
            return f"Knative default {key}: {KNATIVE_DEFAULTS[key]} (no cluster profile)"
        if key in self.autoscaler_data:
            return f"{key}: {self.autoscaler_data[key]} at {self.doc.where(AUTOSCALER_PATH + (key,))}"
        return f"Knative default {key}: {KNATIVE_DEFAULTS[key]} ({self.describe()} does not set it)"

    def feature_on(self, key: str) -> bool:
        """Whether a Knative feature flag lets a field through: "Enabled" or "Allowed" (any case), as
        Knative's ``PodSpecMask`` reads it (``pkg/apis/serving/fieldmask.go``, knative-v1.21.1)."""
        return self.features.get(key, "Disabled").lower() != "disabled"

    def where_feature(self, key: str) -> str:
        """Where the value of a ``config-features`` key comes from, for messages."""
        if self.doc is not None and key in self.features:
            return f"{key}: {self.features[key]} at {self.doc.where(FEATURES_PATH + (key,))}"
        return f"Knative default {key}: Disabled ({self.describe()}{' does not set it' if self.doc else ''})"

    def where_mode(self) -> str:
        """Where the default deployment mode comes from."""
        if self.doc is None or self.deployment_mode is None:
            return "KServe default (Knative)"
        return self.doc.where(("spec", "deploymentMode"))


DEFAULT = ClusterProfile()


def is_cluster_profile(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == KIND and obj.get("apiVersion") == API_VERSION


def parse(doc: Doc, sections: frozenset[str] = frozenset()) -> tuple[ClusterProfile | None, list[Problem]]:
    """Parse one ClusterProfile document; (profile or None when it has errors, every problem).

    ``sections`` are further ``spec`` fields that other modules read from ``doc`` and check themselves.
    """
    r = Reader(doc)
    obj = r.mapping((), doc.obj, TREE.names(), required=TREE.required_names())
    meta = r.mapping(("metadata",), obj.get("metadata"), METADATA_FIELDS)
    name = r.string(("metadata", "name"), meta.get("name"))
    spec = r.mapping(("spec",), obj.get("spec"), SPEC_FIELDS + tuple(sorted(sections)))
    mode = r.scalar(("spec", "deploymentMode"), spec.get("deploymentMode"), TREE["spec"]["deploymentMode"])
    kserve = r.mapping(("spec", "kserve"), spec.get("kserve"), KSERVE_FIELDS)
    version = _version(r, ("spec", "kserve", "version"), kserve.get("version"))
    cluster_runtimes = _names(r, ("spec", "kserve", "clusterRuntimes"), kserve.get("clusterRuntimes"))
    knative = r.mapping(("spec", "knative"), spec.get("knative"), KNATIVE_FIELDS)
    data = r.string_map(AUTOSCALER_PATH, knative.get("configAutoscaler"))
    for key in sorted(data):
        if key not in KNATIVE_DEFAULTS and not key.startswith("_"):
            r.warn(AUTOSCALER_PATH + (key,), unknown_field_message(key, KNATIVE_DEFAULTS).replace(
                "unknown field", "unknown config-autoscaler key", 1) + " (Knative ignores it)")
    config, errors = parse_config(data)
    for key, message in errors:
        r.error(AUTOSCALER_PATH + (key,), message)
    features = r.string_map(FEATURES_PATH, knative.get("configFeatures"))
    for key in sorted(set(features) & set(POD_FEATURES)):
        if features[key].lower() not in (v.lower() for v in FEATURE_VALUES):
            r.error(FEATURES_PATH + (key,), f"expected one of {', '.join(FEATURE_VALUES)}, got {features[key]!r} "
                                            "(Knative ignores any other value and keeps the feature disabled)")
    if any(p.level == "error" for p in r.problems):
        return None, r.problems
    return ClusterProfile(name, mode, version, cluster_runtimes, data, config, doc, features), r.problems


def _version(r: Reader, path: tuple, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        r.error(path, f"expected a string such as \"v0.20.0\", got {type_name(value)} (quote it)")
        return None
    match = _VERSION.match(value)
    if match is None:
        r.error(path, f"{value!r} is not a KServe version (expected vMAJOR.MINOR[.PATCH], e.g. v0.20.0)")
        return None
    if (int(match.group(1)), int(match.group(2))) < MIN_KSERVE_VERSION:
        r.error(path, f"KServe {value} is not supported: kserve-cmp renders deploymentMode Knative/Standard, "
                      "which KServe knows from v0.17.0 on, and LLMInferenceService as serving.kserve.io/v1alpha2, "
                      "which KServe serves from v0.17.0 on (v0.16 has only v1alpha1)")
        return None
    try:
        catalog.resolve(value)
    except catalog.UnknownRelease as exc:
        r.error(path, str(exc))
        return None
    return value


def _names(r: Reader, path: tuple, value: Any) -> tuple[str, ...]:
    """A list of distinct runtime names."""
    if value is None:
        return ()
    if not isinstance(value, list):
        r.error(path, f"expected a list of runtime names, got {type_name(value)}")
        return ()
    names: list[str] = []
    for i, item in enumerate(value):
        name = r.dns_name(path + (i,), item, max_len=253)
        if name is None:
            continue
        if name in names:
            r.error(path + (i,), f"{name!r} is listed twice")
        names.append(name)
    return tuple(names)


def resolve(docs: list[Doc], setting: str, max_size: int, sections: frozenset[str] = frozenset()
            ) -> tuple[ClusterProfile | None, list[Problem]]:
    """The profile of a render: from the ``cluster-profile`` file or the inputs (one at most), else None."""
    problems: list[Problem] = []
    candidates = list(docs)
    if setting:
        candidates = _read(setting, max_size) + candidates
    if not candidates:
        return None, problems
    first, *rest = candidates
    for extra in rest:
        origin = f"the cluster-profile setting ({setting})" if setting else first.where(())
        problems.append(extra.problem((), f"a second ClusterProfile (one is given by {origin}); a render "
                                          "targets one cluster", rule="profile"))
    profile, found = parse(first, sections)
    return profile, problems + ambiguous_scalars(first, lambda path: path[-2:-1] == ("args",)) + found


def _read(path: str, max_size: int) -> list[Doc]:
    """The one ClusterProfile document of the file named by the setting."""
    if not os.path.isfile(path):
        raise UsageError(f"cluster-profile: {path}: no such file")
    root = os.path.dirname(os.path.realpath(path))
    docs = read_file(path, path, root, max_size)
    if len(docs) != 1 or not is_cluster_profile(docs[0].obj):
        raise UsageError(f"cluster-profile: {path}: expected exactly one {KIND} document ({API_VERSION})")
    return docs
