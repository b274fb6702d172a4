"""cmp.emit: JSON output is what ``kubectl -o json`` prints, byte for byte (the real kubectl)."""

from __future__ import annotations

import json

import pytest

from cmp.emit import as_text
from cmp.problems import CmpError
from cmp.source.yamlio import dump_stream
from kube_decode import json_objects, labelled_json, with_label

#: Text and numbers where Go's encoder and Python's json differ by default.
TRICKY = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "html", "namespace": "ns"},
     "data": {"a": "<b> & 'c' \"d\"", "ctl": "\b\f\x01\x7f\t\n\r", "u": "é ünï 漢 \u2028\u2029 \U0001f600",
              "empty": ""}},
    {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "numbers"},
     "spec": {"f": [1.0, 0.5, -2.25, 1e20, 1e21, 1.5e-7, 1e-6, 123456789.125, -0.0, 3.0e-5],
              "i": [0, -7, 2**53, 9007199254740993], "b": [True, False, None], "m": {}, "l": [],
              "nested": {"z": 1, "a": {"y": [{"k": "v"}]}, "B": 2, "_": 3}}},
]


@pytest.mark.parametrize("index", range(len(TRICKY)))
def test_one_object_is_printed_as_kubectl_prints_it(index: int) -> None:
    obj = TRICKY[index]
    assert as_text([with_label(obj)], "json") == labelled_json(dump_stream([obj]))


def test_several_objects_are_a_list_whose_items_kubectl_prints_alike() -> None:
    """The List's items are the objects, each formatted as kubectl formats it (one level deeper)."""
    labelled = [with_label(o) for o in TRICKY]
    ours = as_text(labelled, "json")
    listed = json.loads(ours)
    assert list(listed) == ["apiVersion", "items", "kind", "metadata"]
    assert (listed["apiVersion"], listed["kind"], listed["metadata"]) == ("v1", "List", {"resourceVersion": ""})
    theirs = labelled_json(dump_stream(TRICKY))
    assert listed["items"] == json_objects(theirs)
    for obj in labelled:
        one = as_text([obj], "json").rstrip("\n")
        assert one in theirs
        assert ("\n" + one).replace("\n", "\n        ") in ours   # the same text, indented as an item


def test_json_is_one_document_even_without_objects() -> None:
    assert json.loads(as_text([], "json")) == {"apiVersion": "v1", "items": [], "kind": "List",
                                                "metadata": {"resourceVersion": ""}}


def test_yaml_is_the_stream() -> None:
    assert as_text(TRICKY, "yaml") == dump_stream(TRICKY)


def test_a_number_json_cannot_hold_is_an_error() -> None:
    with pytest.raises(CmpError, match="NaN or infinity"):
        as_text([{"apiVersion": "v1", "kind": "X", "metadata": {"name": "n"}, "v": float("nan")}], "json")
