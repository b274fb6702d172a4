"""KServe's SetRuntimeDefaults and the multi-node env, as explain applies them."""

from __future__ import annotations

from cmp import catalog
from cmp.kserve.defaults import defaults_server_type, multinode_env, runtime_defaults, set_env


def _isvc(fmt: str, **model) -> dict:
    return {"metadata": {"name": "m"}, "spec": {"predictor": {"model": {"modelFormat": {"name": fmt}, **model}}}}


def test_mlserver_with_storage_gets_name_uri_and_model_class():
    out, applied = runtime_defaults(_isvc("lightgbm", storageUri="gs://b/m"), catalog.get_runtime("kserve-mlserver"))
    model = out["spec"]["predictor"]["model"]
    assert model["protocolVersion"] == "v2"
    assert model["env"] == [{"name": "MLSERVER_MODEL_NAME", "value": "m"},
                            {"name": "MLSERVER_MODEL_URI", "value": "/mnt/models"}]
    assert out["metadata"]["labels"] == {"modelClass": "mlserver_lightgbm.LightGBMModel"}
    assert len(applied) == 4


def test_mlserver_keeps_the_models_own_env_and_loads_nothing_without_storage():
    own = [{"name": "MLSERVER_LOAD_MODELS_AT_STARTUP", "value": "true"}]
    out, _ = runtime_defaults(_isvc("sklearn", env=own), catalog.get_runtime("kserve-mlserver"))
    assert out["spec"]["predictor"]["model"]["env"] == own
    assert out["metadata"]["labels"]["modelClass"] == "mlserver_sklearn.SKLearnModel"


def test_triton_without_storage_loads_models_explicitly():
    out, _ = runtime_defaults(_isvc("onnx", args=["--x=1"]), catalog.get_runtime("kserve-tritonserver"))
    assert out["spec"]["predictor"]["model"]["args"] == ["--x=1", "--model-control-mode=explicit"]
    stored, _ = runtime_defaults(_isvc("onnx", storageUri="s3://b/m"), catalog.get_runtime("kserve-tritonserver"))
    assert "args" not in stored["spec"]["predictor"]["model"]


def test_torchserve_envelope_follows_the_protocol():
    out, _ = runtime_defaults(_isvc("pytorch", protocolVersion="v2"), catalog.get_runtime("kserve-torchserve"))
    assert out["metadata"]["labels"]["serviceEnvelope"] == "kservev2"
    assert out["spec"]["predictor"]["model"]["env"] == [{"name": "PROTOCOL_VERSION", "value": "v2"}]
    v1, _ = runtime_defaults(_isvc("pytorch"), catalog.get_runtime("kserve-torchserve"))
    assert v1["metadata"]["labels"]["serviceEnvelope"] == "kserve"


def test_server_type_annotation_present_but_empty_wins_over_the_name():
    runtime = {"metadata": {"name": "kserve-mlserver", "annotations": {"serving.kserve.io/server-type": ""}}}
    assert defaults_server_type(runtime) == ""
    assert defaults_server_type({"metadata": {"name": "kserve-mlserver"}}) == "mlserver"
    assert defaults_server_type({"metadata": {"name": "my-mlserver"}}) == ""
    out, applied = runtime_defaults(_isvc("sklearn"), {"metadata": {"name": "my-mlserver"}})
    assert applied == [] and "labels" not in out["metadata"]


def test_multinode_env_overwrites_and_appends():
    isvc = {"metadata": {"name": "llama"}, "spec": {"predictor": {"model": {"storageUri": "pvc://models/llama"}}}}
    facts = {"pipelineParallelSize": 2, "tensorParallelSize": 4, "nodes": 2, "headGpus": 4}
    container = {"env": [{"name": "MODEL_NAME", "value": "x"}]}
    set_env(container, multinode_env(isvc, facts))
    assert container["env"] == [{"name": "MODEL_NAME", "value": "llama"},
                                {"name": "PIPELINE_PARALLEL_SIZE", "value": "2"},
                                {"name": "TENSOR_PARALLEL_SIZE", "value": "4"},
                                {"name": "RAY_NODE_COUNT", "value": "2"},
                                {"name": "REQUEST_GPU_COUNT", "value": "4"},
                                {"name": "MODEL_DIR", "value": "/mnt/models"}]
    s3 = {"metadata": {"name": "l"}, "spec": {"predictor": {"model": {"storageUri": "s3://b/m"}}}}
    assert "MODEL_DIR" not in dict(multinode_env(s3, facts))
