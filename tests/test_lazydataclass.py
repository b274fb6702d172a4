"""cmp.lazydataclass: ``dataclass`` applied at the first instance; instances behave as
``dataclasses.dataclass`` makes them."""

from __future__ import annotations

import dataclasses
from dataclasses import field

import pytest

from cmp.lazydataclass import dataclass


def _pair(**options):
    """The same class made by dataclasses.dataclass and by the deferred decorator."""
    def body(ns: dict) -> None:
        ns["__annotations__"] = {"name": "str", "tags": "list", "level": "int"}
        ns["tags"] = field(default_factory=list)
        ns["level"] = 1
    eager = dataclasses.dataclass(**options)(type("Eager", (), _ns(body)))
    lazy = dataclass(**options)(type("Lazy", (), _ns(body)))
    return eager, lazy


def _ns(body) -> dict:
    ns: dict = {"__module__": __name__}
    body(ns)
    return ns


@pytest.mark.parametrize("options", [{}, {"frozen": True}, {"order": True}])
def test_instances_behave_as_with_dataclasses(options: dict) -> None:
    eager, lazy = _pair(**options)
    assert not dataclasses.is_dataclass(lazy)  # nothing generated yet
    a, b = eager("x"), lazy("x")
    assert dataclasses.is_dataclass(lazy) and dataclasses.is_dataclass(b)
    assert [f.name for f in dataclasses.fields(b)] == [f.name for f in dataclasses.fields(a)] == ["name", "tags",
                                                                                                "level"]
    assert repr(b).replace("Lazy", "Eager") == repr(a)
    assert b == lazy("x", [], 1) and b != lazy("y") and b.tags == [] and b.tags is not lazy("x").tags
    assert dataclasses.asdict(b) == dataclasses.asdict(a)
    assert dataclasses.replace(b, level=2).level == 2
    assert (type(b).__hash__ is None) == (type(a).__hash__ is None)
    if options.get("frozen"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            b.name = "z"
    if options.get("order"):
        assert lazy("a") < lazy("b")
    with pytest.raises(TypeError):
        lazy()  # the generated __init__'s own check


def test_a_deferred_base_is_processed_before_its_subclass() -> None:
    @dataclass(frozen=True)
    class Base:
        a: int

    @dataclass(frozen=True)
    class Child(Base):
        b: int = 2

    child = Child(1)
    assert (child.a, child.b) == (1, 2) and Base(1) == Base(1) and dataclasses.is_dataclass(Base)
    assert hash(Child(1)) == hash(Child(1, 2)) and Child(1) != Child(1, 3)


def test_a_class_with_its_own_init_is_processed_at_once() -> None:
    @dataclass
    class Own:
        a: int = 0

        def __init__(self) -> None:
            self.a = 5

    assert dataclasses.is_dataclass(Own) and Own().a == 5
