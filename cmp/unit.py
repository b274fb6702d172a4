"""The units a render works on: one per model (its InferenceService and what belongs with it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .problems import Problem, Problems
from .provenance import Provenance
from .settings import Settings
from .source.yamlio import Doc
from .spec.deployment import ModelDeployment


@dataclass
class Unit:
    """One model being rendered.

    ``isvc`` is the InferenceService that will be emitted; ``base_runtime`` the (Cluster)ServingRuntime
    it builds on (a copy: from the inputs or the built-in catalog); ``runtime`` the derived
    namespaced ServingRuntime when one is emitted; ``extra`` any further objects that belong to
    this model (ClusterStorageContainer, ...). ``deployment`` is None for a raw InferenceService
    that came in as-is.
    """

    isvc: dict
    source: Doc
    deployment: ModelDeployment | None = None
    base_runtime: dict | None = None
    base_from: str = ""          # "inputs", "catalog" or "" (not known: installed on the cluster)
    runtime: dict | None = None
    extra: list[dict] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)   # computed values for explain (GPUs, replicas...)
    release: catalog.Release | None = None   # the KServe release rendered for (None: the default one)
    broken: bool = False         # an input problem left it malformed: later transforms skip it

    @property
    def kserve(self) -> catalog.Release:
        """The KServe release this unit is rendered for."""
        return self.release or catalog.resolve(None)

    @property
    def name(self) -> str:
        return self.isvc["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.isvc["metadata"].get("namespace")

    @property
    def predictor(self) -> dict:
        return self.isvc.setdefault("spec", {}).setdefault("predictor", {})

    def objects(self) -> list[dict]:
        return [o for o in (self.runtime, self.isvc, *self.extra) if o is not None]

    def problem(self, path: tuple, message: str, rule: str | None = None, level: str = "error") -> Problem:
        """A problem located in this unit's input document."""
        return self.source.problem(path, message, rule=rule, level=level)

    def where(self, path: tuple) -> str:
        """``file:line`` of a field of the input, for provenance."""
        return self.source.where(path)


@dataclass
class RenderContext:
    """What every transform may read (settings, profile, runtimes) and write (problems, provenance)."""

    settings: Settings
    problems: Problems = field(default_factory=Problems)
    provenance: Provenance = field(default_factory=Provenance)
    runtimes: dict[tuple[str, str | None], dict] = field(default_factory=dict)   # (name, ns|None) -> runtime
    profile: Any = None
    inputs: list[Doc] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)   # values derived once per render from the inputs
    release: catalog.Release = field(default_factory=lambda: catalog.resolve(None))  # the target KServe release

    def add(self, problem: Problem) -> None:
        self.problems.add(problem)

    def runtime_in_inputs(self, name: str, namespace: str | None) -> dict | None:
        """A ServingRuntime of that namespace first, then a ClusterServingRuntime (KServe's lookup order)."""
        return self.runtimes.get((name, namespace)) or self.runtimes.get((name, None))
