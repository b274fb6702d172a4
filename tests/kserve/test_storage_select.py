"""KServe's storage URI check and storage-container selection, and what the init container becomes."""

from __future__ import annotations


import pytest

from cmp.kserve import storage as ks
from cmp.pipeline import render_docs
from cmp.settings import Settings
from cmp.source.yamlio import load_stream



def csc(name: str, formats: list[dict], container: dict | None = None, *, disabled: bool = False,
        workload: str | None = None) -> dict:
    obj: dict = {"apiVersion": ks.API_VERSION, "kind": ks.KIND, "metadata": {"name": name},
                 "spec": {"container": container or {"name": ks.INIT_CONTAINER_NAME}, "supportedUriFormats": formats}}
    if disabled:
        obj["disabled"] = True
    if workload:
        obj["spec"]["workloadType"] = workload
    return obj


#: v0.20.0's SupportedStorageURIPrefixList and default storage container's formats (pkg/controller/v1beta1/
#: inferenceservice/utils/utils.go, config/storagecontainers/default.yaml); cmp.catalog reads them per release.
V20 = ("gs://", "s3://", "pvc://", "file://", "https://", "http://", "hdfs://", "webhdfs://", "oci://", "oci+native://",
       "hf://")
V19 = tuple(p for p in V20 if p != "oci+native://")
DEFAULT_FORMATS = [{"prefix": p} for p in ("gs://", "s3://", "hdfs://", "hf://", "webhdfs://")] + [
    {"regex": "https://(.+?).blob.core.windows.net/(.+)"}, {"regex": "https://(.+?).file.core.windows.net/(.+)"},
    {"regex": "https?://(.+)/(.+)"}]
SHIPPED_DEFAULT = csc("default", DEFAULT_FORMATS, {
    "name": ks.INIT_CONTAINER_NAME, "image": "kserve/storage-initializer:latest",
    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}})


@pytest.mark.parametrize("uri", [
    "s3://bucket/model", "gs://b/m", "pvc://claim/path", "hf://org/model", "oci://repo/image:1",
    "https://host/file.bin", "http://host/m", "file:///mnt/x", "hdfs://nn/m", "webhdfs://nn/m",
    "/mnt/models/local", "relative/dir",
])
def test_builtin_and_local_uris_are_accepted(uri: str) -> None:
    assert ks.uri_accepted(uri, [], V20)


@pytest.mark.parametrize("uri", ["foo://x", "modelscope://org/m", "gcs://bucket/m", "S3://bucket/m"])
def test_other_schemes_need_a_storage_container(uri: str) -> None:
    assert not ks.uri_accepted(uri, [], V20)


def test_a_storage_container_covers_its_uris_unless_disabled() -> None:
    modelscope = csc("modelscope", [{"prefix": "modelscope://"}], {"name": ks.INIT_CONTAINER_NAME})
    assert not ks.uri_accepted("modelscope://org/m", [SHIPPED_DEFAULT], V20)   # v0.20.0's default lacks it
    assert ks.uri_accepted("modelscope://org/m", [modelscope], V20)
    off = dict(modelscope, disabled=True)
    assert not ks.uri_accepted("modelscope://org/m", [off], V20)


def test_oci_native_needs_a_release_that_lists_it() -> None:
    assert ks.uri_accepted("oci+native://repo/m:1", [], V20)
    assert not ks.uri_accepted("oci+native://repo/m:1", [], V19)


def test_kserve_initializer_images() -> None:
    assert ks.is_kserve_initializer(None) and ks.is_kserve_initializer("kserve/storage-initializer:v0.20.0")
    assert ks.is_kserve_initializer("docker.io/kserve/storage-initializer@sha256:" + "a" * 64)
    assert not ks.is_kserve_initializer("registry.example.com/ml/modelscope-initializer:1.4.2")


def test_regex_formats_are_unanchored_searches() -> None:
    assert ks.format_matches({"regex": "blob.core.windows.net/(.+)"}, "https://acc.blob.core.windows.net/c/m")
    assert not ks.format_matches({"regex": "^s3://"}, "gs://b")
    assert not ks.format_matches({"regex": "("}, "anything")
    assert not ks.format_matches({}, "s3://b")


@pytest.mark.parametrize("uri, needed", [("pvc://c/p", False), ("oci://r/i:1", False),
                                         ("oci+native://r/i:1", False), ("s3://b/m", True), ("hf://o/m", True)])
def test_which_uris_get_an_init_container(uri: str, needed: bool) -> None:
    assert ks.needs_init_container(uri) is needed


def test_named_container_wins_over_list_order() -> None:
    mine = csc("mine", [{"prefix": "s3://bucket/llama"}])
    chosen, error = ks.select_storage_container("s3://bucket/llama", [SHIPPED_DEFAULT, mine], "mine")
    assert error is None and chosen is mine


def test_without_a_name_the_first_enabled_init_container_match_wins() -> None:
    job = csc("job", [{"prefix": "s3://"}], workload="localModelDownloadJob")
    off = csc("off", [{"prefix": "s3://"}], disabled=True)
    mine = csc("mine", [{"prefix": "s3://bucket/llama"}])
    chosen, _ = ks.select_storage_container("s3://bucket/llama", [job, off, SHIPPED_DEFAULT, mine])
    assert chosen is SHIPPED_DEFAULT
    chosen, _ = ks.select_storage_container("s3://bucket/llama", [job, off, mine, SHIPPED_DEFAULT])
    assert chosen is mine
    assert ks.select_storage_container("foo://x", [SHIPPED_DEFAULT]) == (None, None)


@pytest.mark.parametrize("containers, message", [
    ([], "not found"),
    ([csc("mine", [{"prefix": "s3://"}], disabled=True)], "is disabled"),
    ([csc("mine", [{"prefix": "s3://"}], workload="localModelDownloadJob")], "not an initContainer"),
    ([csc("mine", [{"prefix": "gs://"}])], "does not support s3://b/m"),
])
def test_a_named_container_must_exist_be_enabled_and_match(containers: list, message: str) -> None:
    chosen, error = ks.select_storage_container("s3://b/m", containers, "mine")
    assert chosen is None and message in error


def test_init_container_from_configmap_when_nothing_matches() -> None:
    container = ks.init_container("s3://b/m", None)
    assert container == {
        "name": "storage-initializer", "image": "kserve/storage-initializer:latest", "args": ["s3://b/m", "/mnt/models"],
        "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}}


def test_storage_container_fields_win_per_resource_key() -> None:
    chosen = csc("mine", [{"prefix": "s3://"}], {"name": "", "image": "mirror/si:v1",
                                                 "resources": {"limits": {"memory": "8Gi"}}})
    container = ks.init_container("s3://b/m", chosen, dict(ks.CONFIGMAP_DEFAULTS, cpuLimit="2"))
    assert container["name"] == "storage-initializer"
    assert container["image"] == "mirror/si:v1"
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "100Mi"},
                                      "limits": {"cpu": "2", "memory": "8Gi"}}


@pytest.mark.parametrize("text, version", [("v0.20.0", (0, 20, 0)), ("0.19", (0, 19, 0)),
                                           ("v0.21.1-rc1", (0, 21, 1)), ("latest", None)])
def test_versions(text: str, version) -> None:
    assert ks.parse_version(text) == version


MODEL = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: llama, namespace: llm}
spec:
  runtime: kserve-huggingfaceserver
  model: {storageUri: s3://bucket/llama}
  storageInitializer:
    image: mirror/storage-initializer:v0.20.0
    resources:
      requests: {memory: 4Gi}
      limits: {memory: 8Gi, cpu: "2"}
"""


def test_rendered_model_gets_the_requested_init_container() -> None:
    """The rendered storage container, installed next to KServe's default one (listed first), is the
    one the webhook picks for this model, and the init container has the image and resources asked for."""
    result = render_docs(load_stream(MODEL, "model.yaml"), Settings())
    isvc = next(o for o in result.objects if o["kind"] == "InferenceService")
    rendered = next(o for o in result.objects if o["kind"] == ks.KIND)
    uri = isvc["spec"]["predictor"]["model"]["storageUri"]
    cluster = [SHIPPED_DEFAULT, rendered]

    chosen, error = ks.select_storage_container(uri, cluster, isvc["spec"]["predictor"]["storageContainerName"])
    assert error is None and chosen is rendered
    container = ks.init_container(uri, chosen)
    assert container["name"] == "storage-initializer"
    assert container["image"] == "mirror/storage-initializer:v0.20.0"
    assert container["args"] == ["s3://bucket/llama", "/mnt/models"]
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "4Gi"},
                                      "limits": {"cpu": "2", "memory": "8Gi"}}

    unpinned, _ = ks.select_storage_container(uri, cluster)
    assert unpinned is SHIPPED_DEFAULT, "without storageContainerName, list order would decide"
