"""Normalisation: noise dropped, named lists keyed, args compared as flags."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cmp.diff.normalize import align, args_as_flags, flatten, list_key, normalize


def test_noise_fields_are_dropped() -> None:
    obj = {"kind": "ConfigMap", "status": {"x": 1},
           "metadata": {"name": "a", "uid": "u", "resourceVersion": "7", "generation": 2,
                        "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [{"manager": "m"}]}}
    assert normalize(obj) == {"kind": "ConfigMap", "metadata": {"name": "a"}}
    assert "status" in obj  # the input is left alone


def test_named_lists_are_sorted_and_keyed_by_name() -> None:
    obj = {"spec": {"containers": [{"name": "b", "image": "x"}, {"name": "a", "image": "y"}]}}
    assert [c["name"] for c in normalize(obj)["spec"]["containers"]] == ["a", "b"]
    assert flatten(obj) == {"spec.containers[a].image": "y", "spec.containers[a].name": "a",
                            "spec.containers[b].image": "x", "spec.containers[b].name": "b"}


def test_ports_fall_back_to_container_port_and_duplicates_stay_positional() -> None:
    assert list_key("ports", [{"containerPort": 8080}, {"containerPort": 9000}]) == "containerPort"
    assert list_key("env", [{"name": "A"}, {"name": "A"}]) is None
    assert list_key("args", [{"name": "A"}]) is None


def test_args_are_read_as_flags() -> None:
    assert args_as_flags(["--a=1", "--b", "--c", "x", "--no-d", "pos"]) == {
        "--a": "1", "--b": True, "--c": "x", "--d": False, "0": "pos"}
    assert args_as_flags(["--x=1", "--x=2"]) == {"--x": ["1", "2"]}
    assert flatten({"args": ["--a", "1"]}) == flatten({"args": ["--a=1"]}) == {"args[--a]": "1"}


def test_align_keeps_the_old_order_of_equal_args_only() -> None:
    old = {"containers": [{"name": "c", "args": ["--a=1", "--b"]}]}
    moved = {"containers": [{"name": "c", "args": ["--b", "--a", "1"]}]}
    changed = {"containers": [{"name": "c", "args": ["--b", "--a=2"]}]}
    assert align(old, moved) == old
    assert align(old, changed) == changed


def test_empty_containers_are_leaves() -> None:
    assert flatten({"a": {}, "b": []}) == {"a": {}, "b": []}


_flags = st.lists(st.tuples(st.sampled_from(["--a", "--b", "--c", "--d"]), st.integers(0, 9)), unique_by=lambda t: t[0])


@given(_flags, st.randoms())
def test_reordering_distinct_flags_is_no_change(flags, rnd) -> None:
    tokens = [f"{k}={v}" for k, v in flags]
    shuffled = list(tokens)
    rnd.shuffle(shuffled)
    assert flatten({"args": tokens}) == flatten({"args": shuffled})
