"""fen ↔ yuan: exact both ways, and strict about what is an amount."""

from decimal import Decimal

import pytest

from tunee.money import fen_to_yuan, yuan_to_fen


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [(0, "0.00"), (1, "0.01"), (10, "0.10"), (1990, "19.90"), (19900, "199.00"), (123456789, "1234567.89")],
)
def test_both_ways_are_exact(fen, yuan):
    assert fen_to_yuan(fen) == Decimal(yuan)
    assert str(fen_to_yuan(fen)) == yuan
    assert yuan_to_fen(yuan) == fen
    assert yuan_to_fen(Decimal(yuan)) == fen


def test_one_decimal_and_none_are_amounts():
    assert yuan_to_fen("19.9") == 1990  # int(19.9 * 100) would be 1989
    assert yuan_to_fen(" 19 ") == 1900
    assert yuan_to_fen(Decimal("19.9")) == 1990


@pytest.mark.parametrize(
    "bad",
    ["19.901", "19.900", "abc", "", "-1.00", "+1", "1e3", "NaN", "Infinity", "1e400", "1.", ".5", "1,000.00", "9" * 16],
)
def test_what_is_not_an_amount_is_refused(bad):
    with pytest.raises(ValueError):
        yuan_to_fen(bad)


@pytest.mark.parametrize("bad", [19.9, 1990.0, None, Decimal("NaN"), Decimal("-1"), Decimal("0.001")])
def test_floats_and_odd_decimals_are_refused(bad):
    with pytest.raises(ValueError):
        yuan_to_fen(bad)


@pytest.mark.parametrize("bad", [19.9, -1, True, "1990", Decimal("1990")])
def test_fen_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError):
        fen_to_yuan(bad)
