"""Malformed storage URIs of the schemes KServe knows: each is refused with the fix; good ones pass."""

from __future__ import annotations

import re

import pytest

from cmp.kserve import uri
from helpers import SHARED


@pytest.mark.parametrize("value, part", [
    ("s3:/bucket/m", "did you mean 's3://bucket/m'?"),
    ("s3:bucket/m", "did you mean 's3://bucket/m'?"),
    ("gs:/bucket/m", "did you mean 'gs://bucket/m'?"),
    ("S3:/bucket/m", "did you mean 's3://bucket/m'?"),
    ("hf:/owner/model", "did you mean 'hf://owner/model'?"),
    ("pvc:/claim/path", "did you mean 'pvc://claim/path'?"),
    ("file:/mnt/models", "did you mean 'file:///mnt/models'?"),
    ("https:/host/m.zip", "did you mean 'https://host/m.zip'?"),
    ("oci+native:/reg/repo:tag", "did you mean 'oci+native://reg/repo:tag'?"),
    ("s3:///m", "the bucket is missing"),
    ("gs:///m", "the bucket is missing"),
    ("pvc:///models", "the claim name is missing"),
    ("hf://gpt2", "hf://<owner>/<model>"),
    ("hf://owner/model/", "hf://<owner>/<model>"),
    ("hf://a/b/c", "hf://<owner>/<model>"),
    ("pvc://Models_Claim/x", "is not a PersistentVolumeClaim name"),
    ("https://example.com", "names no file"),
    ("https://example.com/", "names no file"),
    (" s3://bucket/m", "whitespace"),
    ("s3://bucket/m\n", "whitespace"),
])
def test_malformed(value: str, part: str) -> None:
    found = uri.problem(value)
    assert found is not None and part in found


@pytest.mark.parametrize("value", [
    "s3://bucket/m", "s3://bucket", "gs://bucket/path/to/model", "hf://meta-llama/Llama-3.1-8B-Instruct",
    "hf://owner/model:main", "pvc://models/llama", "pvc://my.claim/a/b", "file:///mnt/models", "/mnt/models",
    "models/iris", "oci://registry.example/models/llama:1", "https://example.com/model.zip",
    "https://acct.blob.core.windows.net/container/model", "hdfs://namenode/user/model",
    "webhdfs://namenode/user/model", "modelscope://qwen/Qwen2.5",
    "custom:/whatever",   # a scheme KServe does not know: not ours to judge (the storage check is)
    "S3://bucket/m",      # an unsupported scheme: the storage check reports it
])
def test_well_formed_or_not_ours(value: str) -> None:
    assert uri.problem(value) is None


def test_schemes_cover_kserves_prefixes() -> None:
    """Every prefix the v0.20.0 controller accepts is a scheme checked here."""
    text = (SHARED / "kserve" / "releases" / "v0.20.0" / "pkg" / "controller" / "v1beta1" / "inferenceservice"
            / "utils" / "utils.go").read_text()
    listed = re.search(r"SupportedStorageURIPrefixList = \[\]string\{(.*?)\}", text, re.S).group(1)
    prefixes = re.findall(r"\"([^\"]+)://\"", listed)
    assert prefixes and set(prefixes) <= set(uri.SCHEMES)


def test_hf_form_is_the_storage_initializers() -> None:
    """KServe's initializer splits what follows hf:// on '/' and wants exactly two parts."""
    text = (SHARED / "kserve" / "releases" / "v0.20.0" / "python" / "storage" / "kserve_storage"
            / "kserve_storage.py").read_text()
    assert re.search(r"uri\[len\(_HF_PREFIX\) :\]\.split\(\"/\"\)", text)
    assert "if len(components) != 2" in text
