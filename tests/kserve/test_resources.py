"""Quantities and the requests <= limits check of a merged container."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmp.kserve.resources import Conflict, QuantityError, conflicts, merged_resources, parse_quantity


@pytest.mark.parametrize("text, value", [
    ("1", 1), ("500m", Fraction(1, 2)), ("1.5", Fraction(3, 2)), ("2Gi", 2 * 2**30), ("1k", 1000),
    ("1e3", 1000), (".5", Fraction(1, 2)), (2, 2), ("16Mi", 16 * 2**20), ("100n", Fraction(1, 10**7)),
])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("bad", ["", "1 Gi", "Gi", "1GB", True, None, [1]])
def test_parse_quantity_rejects(bad):
    with pytest.raises(QuantityError):
        parse_quantity(bad)


@given(st.integers(min_value=0, max_value=10**6))
def test_binary_and_decimal_suffixes_order(n):
    assert parse_quantity(f"{n}Mi") >= parse_quantity(f"{n}M")
    assert parse_quantity(f"{n}m") * 1000 == parse_quantity(str(n))


def test_merge_is_per_key_and_conflicts_are_found():
    merged = merged_resources({"limits": {"cpu": "1", "memory": "2Gi"}, "requests": {"cpu": "1"}},
                              {"requests": {"memory": "16Gi"}, "limits": {"cpu": "500m"}})
    assert merged == {"requests": {"cpu": "1", "memory": "16Gi"}, "limits": {"cpu": "500m", "memory": "2Gi"}}
    assert conflicts(merged) == [Conflict("cpu", "1", "500m"), Conflict("memory", "16Gi", "2Gi")]
    assert conflicts({"requests": {"cpu": "x"}, "limits": {"cpu": "1"}}) == []


@pytest.mark.parametrize("text, value", [("1Gi", 2**30), ("100Mi", 100 * 2**20), ("100m", Fraction(1, 10)),
                                         ("2", 2), ("1.5G", 1_500_000_000), ("1e3", 1000), (3, 3), ("0.5", Fraction(1, 2))])
def test_quantities_exact(text, value) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1GB", "ten", "1.2.3", True, None, "Gi"])
def test_not_quantities_at_all(text) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)
