"""What KServe's controller adds to an InferenceService before it builds the predictor pod.

* :func:`runtime_defaults`: ``SetRuntimeDefaults`` (``pkg/apis/serving/v1beta1/
  inference_service_defaults.go``, the same in v0.17.1, v0.18.1, v0.19.0 and v0.20.0), called by
  the predictor reconciler (``reconcileModel`` in ``pkg/controller/v1beta1/inferenceservice/
  components/predictor.go``) for a named or an auto-selected runtime. The server type is the
  runtime's ``serving.kserve.io/server-type`` annotation when present, else the type of the
  official runtime name (``GetServerTypeFromRuntimeName``, ``pkg/constants/constants.go``):

  - ``mlserver``: protocol ``v2`` when unset; ``MLSERVER_MODEL_NAME`` (the InferenceService name)
    and ``MLSERVER_MODEL_URI=/mnt/models`` when the model has a storage URI, else
    ``MLSERVER_LOAD_MODELS_AT_STARTUP=false`` (each only when the model's env lacks it); the label
    ``modelClass`` from the model format (the runtime's ``{{.Labels.modelClass}}`` reads it);
  - ``tritonserver``: protocol ``v2`` when unset; ``--model-control-mode=explicit`` appended to the
    args when the model has no storage;
  - ``torchserve``: protocol ``v1`` when unset; label ``serviceEnvelope`` (``kservev2`` for v2 and
    grpc-v2, else ``kserve``); ``PROTOCOL_VERSION`` appended to the env.

* :func:`multinode_env`: the env the controller sets on the head's ``kserve-container`` of a
  multi-node model (``multiNodeProcess`` in the same ``predictor.go``; names in
  ``pkg/constants/constants.go``, v0.17.1 to v0.20.0), which the runtime's launch script reads.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from cmp.kserve.image import RUNTIME_NAME_SERVER_TYPES, SERVER_TYPE_ANNOTATION

SOURCE = "SetRuntimeDefaults, pkg/apis/serving/v1beta1/inference_service_defaults.go"
MULTINODE_SOURCE = "multiNodeProcess, pkg/controller/v1beta1/inferenceservice/components/predictor.go"
MODEL_MOUNT = "/mnt/models"
#: MLServer model classes by model format (``MLServerModelClass*``); sklearn otherwise.
MLSERVER_MODEL_CLASSES = {
    "xgboost": "mlserver_xgboost.XGBoostModel",
    "lightgbm": "mlserver_lightgbm.LightGBMModel",
    "mlflow": "mlserver_mlflow.MLflowRuntime",
}
MLSERVER_DEFAULT_CLASS = "mlserver_sklearn.SKLearnModel"


def defaults_server_type(runtime: Mapping) -> str:
    """The server type ``SetRuntimeDefaults`` switches on: a present annotation (even empty) wins."""
    metadata = runtime.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    if SERVER_TYPE_ANNOTATION in annotations:
        return str(annotations[SERVER_TYPE_ANNOTATION] or "")
    return RUNTIME_NAME_SERVER_TYPES.get(metadata.get("name") or "", "")


def runtime_defaults(isvc: Mapping, runtime: Mapping) -> tuple[dict, list[str]]:
    """(a copy of ``isvc`` with KServe's per-server defaults, one line per default applied)."""
    out = copy.deepcopy(dict(isvc))
    model = out.setdefault("spec", {}).setdefault("predictor", {}).setdefault("model", {})
    if not isinstance(model, dict):
        return out, []
    server = defaults_server_type(runtime)
    applied: list[str] = []
    if server == "mlserver":
        _protocol(model, "v2", applied)
        if _has_storage(model):
            _env_if_missing(model, "MLSERVER_MODEL_NAME", (out.get("metadata") or {}).get("name", ""), applied)
            _env_if_missing(model, "MLSERVER_MODEL_URI", MODEL_MOUNT, applied)
        else:
            _env_if_missing(model, "MLSERVER_LOAD_MODELS_AT_STARTUP", "false", applied)
        fmt = (model.get("modelFormat") or {}).get("name") if isinstance(model.get("modelFormat"), Mapping) else None
        _label(out, "modelClass", MLSERVER_MODEL_CLASSES.get(fmt or "", MLSERVER_DEFAULT_CLASS), applied)
    elif server == "tritonserver":
        _protocol(model, "v2", applied)
        if not _has_storage(model):
            model["args"] = [*(model.get("args") or []), "--model-control-mode=explicit"]
            applied.append("args += --model-control-mode=explicit (no storage: models are loaded explicitly)")
    elif server == "torchserve":
        _protocol(model, "v1", applied)
        envelope = "kservev2" if model.get("protocolVersion") in ("v2", "grpc-v2") else "kserve"
        _label(out, "serviceEnvelope", envelope, applied)
        model["env"] = [*(model.get("env") or []), {"name": "PROTOCOL_VERSION", "value": str(model["protocolVersion"])}]
        applied.append(f"env PROTOCOL_VERSION={model['protocolVersion']}")
    return out, [f"{line}  ({server}: {SOURCE})" for line in applied]


def multinode_env(isvc: Mapping, facts: Mapping) -> list[tuple[str, str]]:
    """The env KServe sets (or overwrites) on the head's ``kserve-container`` of a multi-node model."""
    model = ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}
    env = [
        ("PIPELINE_PARALLEL_SIZE", str(facts.get("pipelineParallelSize"))),
        ("TENSOR_PARALLEL_SIZE", str(facts.get("tensorParallelSize"))),
        ("RAY_NODE_COUNT", str(facts.get("nodes"))),
        ("REQUEST_GPU_COUNT", str(facts.get("headGpus"))),
        ("MODEL_NAME", str((isvc.get("metadata") or {}).get("name", ""))),
    ]
    uri = model.get("storageUri") if isinstance(model, Mapping) else None
    if isinstance(uri, str) and uri.split("://", 1)[0] in ("pvc", "oci"):
        env.append(("MODEL_DIR", MODEL_MOUNT))
    return env


def set_env(container: dict, pairs: list[tuple[str, str]]) -> None:
    """Set each pair in the container's env: overwrite the value of an existing name, else append."""
    env = list(container.get("env") or [])
    for name, value in pairs:
        for i, entry in enumerate(env):
            if isinstance(entry, Mapping) and entry.get("name") == name:
                env[i] = {**entry, "value": value}
                break
        else:
            env.append({"name": name, "value": value})
    container["env"] = env


def _has_storage(model: Mapping) -> bool:
    return model.get("storageUri") is not None or model.get("storage") is not None


def _protocol(model: dict, default: str, applied: list[str]) -> None:
    if model.get("protocolVersion") is None:
        model["protocolVersion"] = default
        applied.append(f"protocolVersion {default}")


def _env_if_missing(model: dict, name: str, value: str, applied: list[str]) -> None:
    env = model.get("env") or []
    if any(isinstance(e, Mapping) and e.get("name") == name for e in env):
        return
    model["env"] = [*env, {"name": name, "value": value}]
    applied.append(f"env {name}={value}")


def _label(isvc: dict, key: str, value: str, applied: list[str]) -> None:
    metadata = isvc.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), key: value}
    applied.append(f"label {key}={value}")
