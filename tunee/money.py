"""Money: kept in integer fen everywhere (1 yuan = 100 fen); yuan only at the edges (the API's prices and amounts,
the payment gateways' amount strings, the admin). These are the only two conversions, both exact (never a float).
"""

from __future__ import annotations

import re
from decimal import Decimal

_AMOUNT = re.compile(r"^(\d{1,15})(?:\.(\d{1,2}))?$")


def fen_to_yuan(fen: int) -> Decimal:
    """1990 → Decimal("19.90") (two places; `str()` of it is the gateways' "19.90"). Only a non-negative int:
    a float or a negative amount is a bug upstream (ValueError)."""
    if not isinstance(fen, int) or isinstance(fen, bool) or fen < 0:
        raise ValueError(f"an amount in fen must be a non-negative integer, not {fen!r}")
    whole, cents = divmod(fen, 100)
    return Decimal(f"{whole}.{cents:02d}")


def yuan_to_fen(value: str | Decimal) -> int:
    """ "19.90", "19.9", "19" or Decimal("19.90") → 1990. Strict: no sign, no exponent, at most 2 decimals (19.901
    is refused, not rounded), no float (19.9 as a float is not exactly 19.9); ValueError otherwise. Surrounding
    blanks of a string are ignored."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not an amount in yuan: {value!r}")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(f"an amount in yuan must be a string or a Decimal, not {value!r}")
    match = _AMOUNT.match(text)
    if match is None:
        raise ValueError(f"not an amount in yuan with at most 2 decimals: {value!r}")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)
