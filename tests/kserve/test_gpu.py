"""GPU resource names: KServe's list per release (read from KServe's own source), the annotation, near misses."""

from __future__ import annotations

import re

import pytest

from cmp import catalog
from cmp.kserve import gpu
from helpers import SHARED

RELEASES = SHARED / "kserve" / "releases"
KNOWN = catalog.resolve(None).gpu_resource_types


def _kserve_list(tag: str) -> tuple[str, ...]:
    """``DefaultGPUResourceTypeList`` of one release, resolved through its constants."""
    text = (RELEASES / tag / "pkg" / "constants" / "constants.go").read_text()
    consts = dict(re.findall(r"^\s*(\w+)\s*=\s*\"([^\"]*)\"", text, re.M))
    body = re.search(r"DefaultGPUResourceTypeList = \[\]string\{(.*?)\}", text, re.S).group(1)
    return tuple(consts[name] for name in re.findall(r"\w+", body))


@pytest.mark.parametrize("tag", catalog.shipped())
def test_each_releases_list_is_kserves(tag: str) -> None:
    """The catalog's GPU names of each release are that release's ``DefaultGPUResourceTypeList``."""
    if not (RELEASES / tag).is_dir():
        pytest.skip(f"KServe {tag} sources not available")
    assert catalog.release(tag).gpu_resource_types == _kserve_list(tag)


def test_mig_prefix_is_kserves() -> None:
    text = (RELEASES / "v0.20.0" / "pkg" / "constants" / "constants.go").read_text()
    prefix = re.search(r"NvidiaMigGPUResourceTypePrefix\s*=\s*\"([^\"]+)\"", text).group(1)
    assert gpu.MIG_PREFIX.startswith(prefix)
    assert gpu.is_known("nvidia.com/mig-1g.5gb", KNOWN)


@pytest.mark.parametrize("text, names, bad", [
    (None, [], False),
    ('["example.com/fpga"]', ["example.com/fpga"], False),
    ('["a.io/x", "b.io/y"]', ["a.io/x", "b.io/y"], False),
    ("[]", [], True),              # KServe: an empty array is invalid
    ('[""]', [], True),            # so is an empty name
    ("[1]", [], True),             # and a non-string
    ("example.com/fpga", [], True),  # not JSON
    ('{"a": 1}', [], True),
])
def test_annotation(text: str | None, names: list[str], bad: bool) -> None:
    found, problem = gpu.annotation_types({gpu.ANNOTATION: text} if text is not None else {})
    assert found == names
    assert (problem is not None) == bad
    if bad:
        assert "must be a valid JSON array" in problem


@pytest.mark.parametrize("name, guess", [
    ("nvidia.com/gpus", "nvidia.com/gpu"),
    ("nvidia.com/GPU", "nvidia.com/gpu"),
    ("nvidia/gpu", "nvidia.com/gpu"),
    ("nvida.com/gpu", "nvidia.com/gpu"),
    ("amd.com/gpus", "amd.com/gpu"),
    ("habana.ai/gaudii", "habana.ai/gaudi"),
    # real resources of other device plugins are not near misses
    ("nvidia.com/gpu.shared", None),
    ("gpu.intel.com/i915", None),
    ("rdma/ib", None),
    ("google.com/tpu", None),
    ("aws.amazon.com/neuron", None),
])
def test_misspelling_of(name: str, guess: str | None) -> None:
    assert gpu.misspelling_of(name, KNOWN) == guess


@pytest.mark.parametrize("name, native", [
    ("cpu", True), ("memory", True), ("ephemeral-storage", True), ("hugepages-2Mi", True),
    ("example.kubernetes.io/x", True), ("kubernetes.io/x", True),
    ("nvidia.com/gpu", False), ("rdma/ib", False),
])
def test_is_native(name: str, native: bool) -> None:
    assert gpu.is_native(name) is native
