"""Secrets are masked: changed or not, and sizes, never values."""

from __future__ import annotations

import base64

from cmp.diff.secrets import LAST_APPLIED, mask_pair, secret_values


def _secret(data=None, string_data=None, annotations=None) -> dict:
    meta = {"name": "s", **({"annotations": annotations} if annotations else {})}
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": meta}
    if data:
        obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data:
        obj["stringData"] = string_data
    return obj


def test_string_data_folds_over_data() -> None:
    assert secret_values(_secret({"a": "xx", "b": "y"}, {"a": "zzz"})) == {"a": b"zzz", "b": b"y"}


def test_values_never_appear_and_changes_are_marked() -> None:
    old, new = mask_pair(_secret({"same": "s3cret", "changed": "abc"}), _secret({"same": "s3cret", "changed": "abd",
                                                                                   "new": "n"}))
    assert old["data"] == {"changed": "*** (3 bytes, before)", "same": "*** (6 bytes)"}
    assert new["data"] == {"changed": "*** (3 bytes, after)", "new": "*** (1 bytes)", "same": "*** (6 bytes)"}
    assert "s3cret" not in repr((old, new))


def test_last_applied_annotation_is_masked_and_other_kinds_pass() -> None:
    old, _ = mask_pair(_secret({"a": "v"}, annotations={LAST_APPLIED: '{"data":{"a":"dg=="}}'}), None)
    assert old["metadata"]["annotations"][LAST_APPLIED] == "*** (21 bytes)"
    config = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "visible"}}
    assert mask_pair(config, config) == (config, config)


def test_a_malformed_secret_is_masked_whole_instead_of_crashing() -> None:
    """``data``/``stringData`` that are not mappings (a broken input) are masked as one value each."""
    broken = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": ["c2VjcmV0"],
              "stringData": "hunter2"}
    old, new = mask_pair(broken, _secret({"a": "v"}))
    assert old["data"] == {"(data: not a mapping)": "*** (12 bytes)", "(stringData: not a mapping)": "*** (7 bytes)"}
    assert "hunter2" not in repr(old) and "c2VjcmV0" not in repr(old)
    assert new["data"] == {"a": "*** (1 bytes)"}
