"""The storage transform: URI check, per-model and per-cluster storage containers, policy, annotations."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cmp.expand import expand
from cmp.pipeline import render_docs
from cmp.problems import CmpError
from cmp.settings import Settings
from cmp.source.yamlio import load_stream
from cmp.spec import deployment
from cmp.transforms import SUPPORTED_SECTIONS, storage
from cmp.unit import RenderContext, Unit
from cmp.validate import validate_object

HEAD = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ModelDeployment
metadata: {name: bert, namespace: nlp}
spec:
  runtime: kserve-huggingfaceserver
"""

PROFILE = """\
apiVersion: kserve-cmp.io/v1alpha1
kind: ClusterProfile
metadata: {name: prod}
spec:
  storageInitializerDefaults:
    image: mirror/storage-initializer:v0.20.0
    resources:
      limits: {memory: 4Gi}
    securityContext: {runAsNonRoot: true}
    minMemory: 2Gi
"""


def profile(version: str = "v0.20.0", text: str | None = PROFILE) -> SimpleNamespace:
    """What the transform reads from a cluster profile: the KServe version and the profile document."""
    doc = load_stream(text, "profile.yaml")[0] if text else None
    return SimpleNamespace(kserve_version=version, doc=doc)


def run(spec: str, *, prof=None, extra: str = "") -> tuple[Unit, RenderContext]:
    docs = load_stream(HEAD + spec + extra, "model.yaml")
    md, problems = deployment.parse(docs[0], SUPPORTED_SECTIONS)
    assert md is not None, problems
    ctx = RenderContext(settings=Settings(), inputs=docs, profile=prof)
    unit = expand(md, ctx)
    storage.apply(unit, ctx)
    return unit, ctx


def messages(ctx: RenderContext, level: str = "error") -> list[str]:
    return [p.format() for p in ctx.problems.items if p.level == level]


def test_per_model_block_renders_a_pinned_storage_container() -> None:
    unit, ctx = run("""\
  model: {storageUri: s3://models/bert}
  storageInitializer:
    image: mirror/storage-initializer@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    resources: {limits: {memory: 8Gi}}
    imagePullSecrets: [regcred, {name: other}, regcred]
""")
    assert messages(ctx) == []
    [csc] = unit.extra
    name = csc["metadata"]["name"]
    assert name == storage.storage_container_name("nlp", "bert")
    assert unit.predictor["storageContainerName"] == name
    assert csc["spec"]["supportedUriFormats"] == [{"prefix": "s3://models/bert"}]
    assert csc["spec"]["workloadType"] == "initContainer"
    assert csc["spec"]["container"] == {
        "name": "storage-initializer",
        "image": "mirror/storage-initializer@sha256:" + "0123456789abcdef" * 4,
        "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "8Gi"}}}
    assert unit.predictor["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]
    assert validate_object(csc) == [] and validate_object(unit.isvc) == []


def test_missing_image_is_the_release_image_of_the_cluster_version() -> None:
    unit, _ = run("  model: {storageUri: s3://m/b}\n  storageInitializer: {resources: {limits: {memory: 2Gi}}}\n",
                  prof=profile("v0.20.1", None))
    assert unit.extra[0]["spec"]["container"]["image"] == "kserve/storage-initializer:v0.20.1"


def test_profile_defaults_fill_what_the_block_leaves_out() -> None:
    unit, ctx = run("  model: {storageUri: s3://m/b}\n  storageInitializer: {resources: {requests: {cpu: 500m}}}\n",
                    prof=profile())
    assert messages(ctx) == []
    assert unit.extra[0]["spec"]["container"] == {
        "name": "storage-initializer", "image": "mirror/storage-initializer:v0.20.0",
        "resources": {"requests": {"cpu": "500m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "4Gi"}},
        "securityContext": {"runAsNonRoot": True}}


def test_names_are_deterministic_and_do_not_collide() -> None:
    assert storage.storage_container_name("a-b", "c") != storage.storage_container_name("a", "b-c")
    assert storage.storage_container_name("nlp", "bert") == storage.storage_container_name("nlp", "bert")
    long = storage.storage_container_name("n" * 63, "m" * 63)
    assert len(long) <= 63


@pytest.mark.parametrize("block, expected", [
    ("{image: kserve/storage-initializer:latest}", "model.yaml:7: spec.storageInitializer.image: image "
     "'kserve/storage-initializer:latest' uses the tag 'latest'"),
    ("{image: mirror/si}", "model.yaml:7: spec.storageInitializer.image: image 'mirror/si' has no tag"),
    ("{resources: {requests: {memory: 2Gi}}}", "model.yaml:7: spec.storageInitializer.resources.requests.memory: "
     "requests.memory 2Gi is above limits.memory 1Gi (a default: set resources.limits.memory)"),
    ("{resources: {requests: {cpu: '3'}, limits: {cpu: '2'}}}", "requests.cpu 3 is above limits.cpu 2"),
    ("{resources: {limits: {memory: lots}}}", "spec.storageInitializer.resources.limits.memory: expected a quantity"),
    ("{imagePullSecret: [x]}", "unknown field 'imagePullSecret' (did you mean 'imagePullSecrets'?)"),
    ("{minMemory: 1Gi}", "unknown field 'minMemory'"),
])
def test_policy_violations_name_the_field(block: str, expected: str) -> None:
    _, ctx = run(f"  model: {{storageUri: s3://m/b}}\n  storageInitializer: {block}\n")
    assert any(expected in m for m in messages(ctx)), messages(ctx)


def test_memory_below_the_profile_minimum() -> None:
    _, ctx = run("  model: {storageUri: s3://m/b}\n  storageInitializer: {resources: {limits: {memory: 1Gi}}}\n",
                 prof=profile())
    assert messages(ctx) == ["model.yaml:7: spec.storageInitializer.resources.limits.memory: limits.memory 1Gi is "
                             "below the cluster minimum 2Gi for storage initializers "
                             "(storageInitializerDefaults.minMemory)"]


def test_older_kserve_cannot_pin_a_storage_container() -> None:
    unit, ctx = run("  model: {storageUri: s3://m/b}\n  storageInitializer: {}\n", prof=profile("v0.19.1", None))
    assert "need KServe >= v0.20.0 (the cluster profile says v0.19.1)" in messages(ctx)[0]
    assert unit.extra == [] and "storageContainerName" not in unit.predictor


@pytest.mark.parametrize("uri", ["pvc://claim/llama", "oci://repo/llama:1"])
def test_no_init_container_no_block(uri: str) -> None:
    _, ctx = run(f"  model: {{storageUri: '{uri}'}}\n  storageInitializer: {{}}\n")
    assert "get no storage-initializer init container" in messages(ctx)[0]


def test_namespace_is_required_for_a_cluster_wide_name() -> None:
    docs = load_stream(HEAD.replace(", namespace: nlp", "") + "  model: {storageUri: s3://m/b}\n"
                       "  storageInitializer: {}\n", "model.yaml")
    with pytest.raises(CmpError, match="set metadata.namespace or --namespace"):
        render_docs(docs, Settings())


def test_unknown_scheme_lists_the_supported_ones() -> None:
    unit, ctx = run("  model: {storageUri: 'foo://bucket/m'}\n")
    [message] = messages(ctx)
    assert message.startswith("model.yaml:6: spec.model.storageUri: unsupported storage URI 'foo://bucket/m' on "
                              "KServe v0.20.0 (foo:// is not in any shipped KServe release (v0.17.1, v0.18.1, "
                              "v0.19.0, v0.20.0)): must start with one of gs://, s3://, pvc://")
    assert "oci+fetch://" not in message


def test_modelscope_is_in_no_shipped_release() -> None:
    """KServe #5330 (master only): neither the controller's list, the default storage container nor the
    storage initializer of v0.17.1 ... v0.20.0 knows modelscope://."""
    _, ctx = run("  model: {storageUri: 'modelscope://org/m'}\n")
    assert "not in any shipped KServe release" in messages(ctx)[0]
    _, ctx = run("  model: {storageUri: 'modelscope://org/m'}\n", prof=profile())
    assert "not in any shipped KServe release" in messages(ctx)[0]
    _, ctx = run("  model: {storageUri: 'modelscope://org/m'}\n  storageInitializer: {}\n")
    assert "not in any shipped KServe release" in messages(ctx)[0]
    _, ctx = run("  model: {storageUri: 'foo://org/m'}\n  storageInitializer: {}\n")
    assert "unsupported storage URI" in messages(ctx)[0]


def test_custom_scheme_covered_by_a_storage_container_in_the_inputs() -> None:
    extra = """\
---
apiVersion: serving.kserve.io/v1alpha1
kind: ClusterStorageContainer
metadata: {name: custom}
spec:
  container: {name: storage-initializer, image: mine/fetcher:1.0}
  supportedUriFormats: [{prefix: 'foo://'}]
"""
    _, ctx = run("  model: {storageUri: 'foo://bucket/m'}\n", extra=extra)
    assert messages(ctx) == []


def test_internal_annotations_are_dropped_with_a_warning() -> None:
    docs = load_stream(HEAD.replace("namespace: nlp}", "namespace: nlp, annotations: "
                                    "{internal.serving.kserve.io/storage-initializer-sourceuri: gs://x, keep: 'y'}}")
                       + "  model: {storageUri: s3://m/b}\n", "model.yaml")
    result = render_docs(docs, Settings())
    isvc = result.objects[0]
    assert "keep" in isvc["metadata"]["annotations"]
    assert not any(k.startswith("internal.") for k in isvc["metadata"]["annotations"])
    assert [w.format() for w in result.warnings] == [
        "model.yaml:3: metadata.annotations.internal.serving.kserve.io/storage-initializer-sourceuri: warning: "
        "dropped: internal.serving.kserve.io/* annotations belong to the KServe controller, which sets or ignores them"]


def test_raw_inference_service_annotations_and_uri() -> None:
    raw = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: raw, namespace: ns}
spec:
  predictor:
    annotations: {internal.serving.kserve.io/storage-container-name: x}
    model: {modelFormat: {name: sklearn}, storageUri: 'gcs://bucket/m'}
"""
    with pytest.raises(CmpError) as err:
        render_docs(load_stream(raw, "raw.yaml"), Settings())
    assert [p.format() for p in err.value.problems] == [
        "raw.yaml:7: spec.predictor.model.storageUri: unsupported storage URI 'gcs://bucket/m' on KServe v0.20.0 "
        "(gcs:// is not in any shipped KServe release (v0.17.1, v0.18.1, v0.19.0, v0.20.0)): must start with "
        "one of gs://, s3://, pvc://, file://, https://, http://, hdfs://, webhdfs://, oci://, oci+native://, "
        "hf:// (or a prefix that a ClusterStorageContainer in the inputs or the cluster profile supports), "
        "or be a local path"]
    assert "spec.predictor.annotations" in err.value.warnings[0].format()


@pytest.mark.parametrize("implementation", ["sklearn", "pytorch", "huggingface", "tensorflow"])
def test_raw_inference_service_framework_predictor_uri(implementation: str) -> None:
    raw = f"""\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {{name: raw, namespace: ns}}
spec:
  predictor:
    {implementation}: {{storageUri: 'gcs://bucket/m'}}
"""
    with pytest.raises(CmpError) as err:
        render_docs(load_stream(raw, "raw.yaml"), Settings())
    assert [p.format().split(": must")[0] for p in err.value.problems] == [
        f"raw.yaml:6: spec.predictor.{implementation}.storageUri: unsupported storage URI 'gcs://bucket/m' on "
        f"KServe v0.20.0 (gcs:// is not in any shipped KServe release (v0.17.1, v0.18.1, v0.19.0, v0.20.0))"]


def test_cluster_objects_render_the_default_storage_container() -> None:
    prof = profile()
    ctx = RenderContext(settings=Settings(), profile=prof, inputs=[prof.doc])
    [(csc, doc)] = storage.cluster_objects(ctx)
    assert doc.file == "profile.yaml"
    assert csc["metadata"] == {"name": "default"}
    assert csc["spec"]["supportsMultiModelDownload"] is True
    assert csc["spec"]["supportedUriFormats"][:5] == [{"prefix": p} for p in
                                                      ("gs://", "s3://", "hdfs://", "hf://", "webhdfs://")]
    assert csc["spec"]["container"]["resources"] == {"requests": {"cpu": "100m", "memory": "100Mi"},
                                                     "limits": {"cpu": "1", "memory": "4Gi"}}
    assert validate_object(csc) == []
    assert ctx.problems.items == []


def test_cluster_objects_policy_and_no_profile() -> None:
    assert storage.cluster_objects(RenderContext(settings=Settings())) == []
    assert storage.cluster_objects(RenderContext(settings=Settings(), profile=profile(text=None))) == []
    assert storage.cluster_objects(RenderContext(settings=Settings(), profile=profile())) == [], \
        "a profile named by the setting, not among the inputs, renders nothing"
    bad = profile(text=PROFILE.replace("v0.20.0", "latest").replace("4Gi", "1Gi"))
    ctx = RenderContext(settings=Settings(), profile=bad, inputs=[bad.doc])
    storage.cluster_objects(ctx)
    storage.cluster_objects(ctx)
    assert [p.format() for p in ctx.problems.items] == [
        "profile.yaml:6: spec.storageInitializerDefaults.image: image 'mirror/storage-initializer:latest' uses the "
        "tag 'latest': pin a version tag or a digest",
        "profile.yaml:8: spec.storageInitializerDefaults.resources.limits.memory: limits.memory 1Gi is below the "
        "cluster minimum 2Gi for storage initializers (storageInitializerDefaults.minMemory)"]


@pytest.mark.parametrize("image, problem", [
    ("repo/img:1.2.3", None), ("mirror:5000/repo/img:v1", None), ("img@sha256:" + "a" * 64, None),
    ("mirror:5000/repo/img", "has no tag"), ("img:latest", "tag 'latest'"), ("img", "has no tag"),
    ("img:", "has no tag"), ("img@sha256:abc", "has no tag"),
])
def test_image_pinning(image: str, problem: str | None) -> None:
    found = storage.image_problem(image)
    assert (found is None) if problem is None else (problem in found)


def test_the_cluster_profile_carries_what_the_transform_reads() -> None:
    from cmp.spec import profile as cluster_profile
    from cmp.transforms import PROFILE_SECTIONS

    text = PROFILE.replace("spec:\n", "spec:\n  kserve: {version: v0.20.1}\n", 1)
    parsed, problems = cluster_profile.parse(load_stream(text, "profile.yaml")[0], PROFILE_SECTIONS)
    assert problems == [] and parsed is not None
    ctx = RenderContext(settings=Settings(), profile=parsed)
    assert storage.kserve_version_text(ctx) == "v0.20.1"
    assert storage.profile_defaults(ctx).min_memory == "2Gi"


def test_first_release_accepting_names_the_release_or_none() -> None:
    assert storage.first_release_accepting("oci+native://r/m:1") == "first in KServe v0.20.0"
    for uri in ("oci+fetch://r/m:1", "modelscope://o/m"):   # master only (KServe #5739, #5330)
        assert storage.first_release_accepting(uri) == (
            "not in any shipped KServe release (v0.17.1, v0.18.1, v0.19.0, v0.20.0)")
