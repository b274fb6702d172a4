"""``kserve-cmp init``: a commented starter app (a ModelDeployment; with ``--kustomize`` base/dev/prod).

The name, format and runtime are checked before anything is written: the name as an RFC 1035
label (the InferenceService's rule), the format and runtime against the built-in catalog of the
default KServe release with a did-you-mean, and a runtime not given is the one KServe's
auto-selection picks for the format (else the first runtime that lists it). The ModelDeployment
is rendered in memory through the real pipeline, so an app ``init`` writes renders (its
warnings are shown). The directory must not exist or be empty: nothing is ever overwritten.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from . import catalog
from .kserve import select
from .pipeline import render_docs
from .problems import Problem, UsageError
from .settings import Settings
from .source.yamlio import load_stream
from .spec import jsonschema
from .spec.reader import DNS1035_LABEL

#: Formats of large language models: sized for one GPU.
LLM_FORMATS = ("huggingface", "vLLM")
MODEL_FILE = "model.yaml"
KUSTOMIZATION = "kustomization.yaml"
PATCH_FILE = "patch.yaml"


@dataclass(frozen=True)
class Request:
    directory: str
    format: str
    storage_uri: str
    runtime: str | None = None
    kustomize: bool = False
    schema_location: str | None = None   # URL, or a path relative to the working directory


@dataclass(frozen=True)
class Plan:
    """What ``init`` writes: relative path -> text, and how the runtime was chosen."""

    name: str
    runtime: str
    runtime_reason: str
    files: dict[str, str]


def plan(request: Request) -> Plan:
    """Check the request and lay out the files (nothing is written)."""
    name = os.path.basename(os.path.normpath(request.directory))
    if len(name) > 63 or not DNS1035_LABEL.fullmatch(name):
        raise UsageError(f"{name!r} is not a valid model name: the directory's last part names the "
                         "InferenceService, an RFC 1035 label (at most 63 characters, lower-case letters, digits "
                         "and '-', starting with a letter and ending with a letter or digit)")
    if not request.storage_uri.strip():
        raise UsageError("--storage-uri must not be empty")
    release = catalog.resolve(None)
    fmt = _check_format(release, request.format)
    runtime, reason = _runtime(release, fmt, request.runtime)
    model_path = os.path.join("base", MODEL_FILE) if request.kustomize else MODEL_FILE
    model = _model_text(name, fmt, request.storage_uri, runtime, reason,
                        _modeline(request, os.path.join(request.directory, model_path)))
    files = {model_path: model}
    if request.kustomize:
        files.update(_kustomize_files(name, fmt))
    return Plan(name, runtime, reason, files)


def check_renders(plan_: Plan) -> list[Problem]:
    """Render the planned ModelDeployment in memory; its warnings (errors raise CmpError)."""
    path, text = next((p, t) for p, t in plan_.files.items() if p.endswith(MODEL_FILE))
    result = render_docs(load_stream(text, path), Settings())
    return result.warnings


def refuse_existing(directory: str) -> None:
    """UsageError unless ``directory`` is absent or an empty directory."""
    if os.path.exists(directory) and (not os.path.isdir(directory) or os.listdir(directory)):
        raise UsageError(f"{directory}: exists and is not an empty directory; init never overwrites")


def write(directory: str, plan_: Plan) -> list[str]:
    """Write the planned files under ``directory`` (absent or empty); the paths written."""
    refuse_existing(directory)
    written = []
    for rel, text in plan_.files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
        written.append(path)
    return written


# ---------------------------------------------------------------- choices


def _check_format(release: catalog.Release, wanted: str) -> str:
    formats = sorted({f for rt in release.runtimes.values() for f in select.format_names(rt.get("spec") or {})},
                     key=str.lower)
    if wanted in formats:
        return wanted
    guess = select.closest(wanted, formats)
    hint = f" (did you mean {guess!r}? format names are case-sensitive)" if guess else ""
    raise UsageError(f"--format: no built-in runtime of KServe {release.tag} serves model format {wanted!r}{hint}; "
                     f"formats: {', '.join(formats)}")


def _runtime(release: catalog.Release, fmt: str, wanted: str | None) -> tuple[str, str]:
    """(runtime name, why it is the one) for ``fmt``."""
    single = [n for n in release.runtime_names() if not _multi_node(release.runtimes[n])]
    serving = [n for n in single if fmt in select.format_names(release.runtimes[n].get("spec") or {})]
    if wanted is not None:
        if wanted not in release.runtimes:
            guess = select.closest(wanted, release.runtime_names())
            hint = f" (did you mean {guess!r}?)" if guess else ""
            raise UsageError(f"--runtime: unknown runtime {wanted!r}{hint}; runtimes of KServe {release.tag}: "
                             f"{', '.join(release.runtime_names())}")
        if wanted not in single:
            raise UsageError(f"--runtime: {wanted} is a multi-node runtime (it needs spec.multiNode, see "
                             "docs/multinode.md); init writes single-node apps")
        if wanted not in serving:
            formats = select.format_names(release.runtimes[wanted].get("spec") or {})
            raise UsageError(f"--runtime: {wanted} does not serve model format {fmt!r}; it serves: "
                             f"{', '.join(formats)}; runtimes that serve {fmt}: {', '.join(serving)}")
        return wanted, "Named with --runtime."
    isvc = {"spec": {"predictor": {"model": {"modelFormat": {"name": fmt}}}}}
    chosen = select.select_runtime(isvc, [], [release.runtimes[n] for n in single])
    if chosen is not None:
        return chosen["metadata"]["name"], f"The one KServe {release.tag} auto-selects for {fmt}."
    if not serving:
        raise UsageError(f"--format: only multi-node runtimes serve {fmt!r}; init writes single-node apps")
    return serving[0], f"No runtime auto-selects {fmt}; the first that serves it."


def _multi_node(runtime: dict) -> bool:
    return (runtime.get("spec") or {}).get("workerSpec") is not None


def _modeline(request: Request, model_file: str) -> str:
    location = request.schema_location or jsonschema.schema_id("ModelDeployment")
    if "://" not in location:
        location = os.path.relpath(os.path.abspath(location), os.path.dirname(os.path.abspath(model_file)))
        location = location.replace(os.sep, "/")
    return f"# yaml-language-server: $schema={location}\n"


# ---------------------------------------------------------------- text


def _resources(fmt: str) -> tuple[str, str]:
    """(requests, limits) flow mappings for the base."""
    if fmt in LLM_FORMATS:
        return '{cpu: "4", memory: 16Gi, nvidia.com/gpu: "1"}', '{cpu: "8", memory: 24Gi, nvidia.com/gpu: "1"}'
    return '{cpu: 500m, memory: 1Gi}', '{cpu: "1", memory: 2Gi}'


def _model_text(name: str, fmt: str, uri: str, runtime: str, reason: str, modeline: str) -> str:
    requests, limits = _resources(fmt)
    return modeline + f"""\
# {name}: a {fmt} model on KServe's {runtime} runtime. kserve-cmp renders this file into an
# InferenceService (kserve-cmp render DIR); every field: docs/reference.md, or kserve-cmp schema.
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  # The InferenceService's name: an RFC 1035 label (lower-case letters, digits and '-').
  name: {name}
  # Unset namespace: the Argo CD Application's destination namespace (the namespace setting).
  # namespace: models
spec:
  # The base runtime. {reason} kserve-cmp runtimes lists them all.
  runtime: {runtime}
  # Knative (revisions, scale to zero) or Standard (a Deployment and an HPA).
  # Unset: the cluster profile's default, else Knative.
  # deploymentMode: Standard
  model:
    # The model format, exactly as the runtime lists it (names are case-sensitive).
    format: {fmt}
    # Where the model is: gs://, s3://, hf://, pvc://, oci://, https://...
    storageUri: {json.dumps(uri)}
    # Server flags, overriding the runtime's own: a list, or a mapping of flag to value
    # (true: a bare flag; null: remove the runtime's flag).
    # args: {{--flag: value}}
    # Environment: a mapping of name to value, or a list of EnvVar (valueFrom for secrets).
    # env: {{NAME: value}}
    # Requests and limits, merged into the runtime's per resource as KServe does.
    resources:
      requests: {requests}
      limits: {limits}
  # Replicas and autoscaling (docs/scaling.md). minReplicas 0 lets a Knative model scale to zero.
  scaling:
    minReplicas: 1
    maxReplicas: 3
    scaleMetric: concurrency
    scaleTarget: 10
"""


def _kustomize_files(name: str, fmt: str) -> dict[str, str]:
    _, limits = _resources(fmt)
    base = f"""\
# The base app: the ModelDeployment all environments share. Environments patch it: ../dev, ../prod.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {MODEL_FILE}
"""
    out = {os.path.join("base", KUSTOMIZATION): base}
    for env, what, body in (
        ("dev", "one replica that scales to zero when idle", """\
  scaling:
    minReplicas: 0
    maxReplicas: 1
"""),
        ("prod", "at least two replicas, requests raised to the limits", f"""\
  model:
    resources:
      requests: {limits}
  scaling:
    minReplicas: 2
    maxReplicas: 6
"""),
    ):
        out[os.path.join(env, KUSTOMIZATION)] = f"""\
# {env}: {what}. kserve-cmp render renders this directory.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# namespace: {name}-{env}
resources:
  - ../base
patches:
  - path: {PATCH_FILE}
"""
        out[os.path.join(env, PATCH_FILE)] = f"""\
# A strategic-merge patch of ../base/{MODEL_FILE}: mappings merge, lists are replaced whole.
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata:
  name: {name}
spec:
{body}"""
    return out
