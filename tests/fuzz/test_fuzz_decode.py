"""Fuzzed renders decode, in Kubernetes' own decoder, to exactly the objects we rendered.

Each example is a batch of random ModelDeployments (the generator of ``test_fuzz_render``, with
annotations and env values drawn from strings resolvers like to retype) rendered together and
sent to kubectl as one stream: one call per example keeps the ~50 ms per call affordable.
Examples: a tenth of ``KSERVE_CMP_FUZZ_EXAMPLES`` (at least 5).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kube_decode import kube_decode, same
from fuzz.test_fuzz_render import model_deployments

from cmp.pipeline import render_docs
from cmp.settings import Settings
from cmp.source.yamlio import dump_stream, load_stream

BATCHES = max(5, int(os.environ.get("KSERVE_CMP_FUZZ_EXAMPLES", "100")) // 10)
FUZZ = settings(max_examples=BATCHES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Scalars built from the characters that decide a resolver's type: numbers, booleans, nulls.
typed_looking = st.one_of(
    st.text("0123456789eExXoObB.-+_:~yYnN", max_size=6),
    st.sampled_from(["y", "N", "yes", "Off", "ON", "null", "~", "1e3", "0o17", "08", "-.5", "12:30", "0x1F"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@st.composite
def hostile_model_deployments(draw) -> dict:
    md = draw(model_deployments())
    annotations = draw(st.dictionaries(st.from_regex(r"example\.com/[a-z]{1,8}", fullmatch=True), typed_looking,
                                       max_size=4))
    md["metadata"].setdefault("annotations", {}).update(annotations)
    if not md["metadata"]["annotations"]:
        del md["metadata"]["annotations"]
    env = draw(st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True), typed_looking, max_size=4))
    if env:
        md["spec"]["model"]["env"] = env
    return md


@FUZZ
@given(batch=st.lists(hostile_model_deployments(), min_size=1, max_size=12,
                      unique_by=lambda md: (md["metadata"]["name"], md["metadata"].get("namespace"))))
def test_rendered_batches_decode_to_our_objects(batch: list[dict]) -> None:
    result = render_docs(load_stream(dump_stream(batch), "fuzz.yaml"), Settings(namespace="default"))
    decoded = kube_decode(result.text)
    assert len(decoded) == len(result.objects)
    diffs = [d for ours, theirs in zip(result.objects, decoded) for d in same(ours, theirs)]
    assert diffs == []
