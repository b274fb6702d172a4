"""``dataclass``, applied when the class's first instance is made instead of when it is defined.

``dataclasses.dataclass`` writes each generated method (``__init__``, ``__repr__``, ``__eq__`` and,
for a frozen class, ``__setattr__``, ``__delattr__`` and ``__hash__``) as source text and compiles
it with its own ``exec``: 0.4 to 0.7 ms per class on Python 3.11. A render imports some fifty
dataclasses and a plain app's render makes instances of about half of them; with this decorator
the others cost nothing. It applies ``dataclasses.dataclass`` with the same options, in place, to
the class (and to any deferred base first) when ``__init__`` is first called.

For classes used through their instances only: a class that defines its own ``__init__`` or asks
for ``slots`` (a new class) is processed at once; ``dataclasses.fields()`` and ``is_dataclass()``
on the class itself, and a field default read from the class, see the plain class until a first
instance exists. ``tests/test_lazydataclass.py`` checks instances behave as ``dataclass`` makes them.
"""

from __future__ import annotations

import _thread
import dataclasses
from typing import Any, Callable, TypeVar, dataclass_transform

C = TypeVar("C", bound=type)
_LOCK = _thread.allocate_lock()


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls: C | None = None, /, **options: Any) -> Any:
    """``@dataclass`` / ``@dataclass(frozen=True, ...)``, deferred (see the module's docstring)."""

    def wrap(cls: C) -> C:
        if "__init__" in cls.__dict__ or options.get("slots"):
            return dataclasses.dataclass(cls, **options)

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            _process(cls)
            cls.__init__(self, *args, **kwargs)

        __init__.deferred_options = options  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[misc]
        _DEFERRED.append(cls)
        return cls

    return wrap if cls is None else wrap(cls)


#: Every class defined with this decorator, processed or not.
_DEFERRED: list[type] = []


def process_all() -> None:
    """Process every deferred class now: the warm render server, before it forks its children."""
    for cls in list(_DEFERRED):
        _process(cls)


def _process(cls: type) -> None:
    """Apply ``dataclasses.dataclass`` to ``cls`` and its deferred bases, each once."""
    with _LOCK:
        for each in reversed(cls.__mro__):
            placeholder: Callable | None = each.__dict__.get("__init__")
            options = getattr(placeholder, "deferred_options", None)
            if options is not None:
                del each.__init__
                dataclasses.dataclass(each, **options)
