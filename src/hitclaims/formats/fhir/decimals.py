"""Episode decimals as FHIR JSON numbers and back, with the digits the sender wrote.

A JSON number is read as a double by most FHIR receivers, so "2.50" would come back as 2.5; the
standard quantity-precision extension restates the places a number drops. The reader keeps
numbers as Decimal (json parse_float=Decimal) and restores those places.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension

from hitclaims.formats.fhir.systems import PRECISION


def number(value: Decimal) -> dict[str, Any]:
    """A decimal as a FHIR `value` (a JSON number), exact when read back with parse_float=Decimal.

    A whole number becomes an int ("250" stays 250), others a float whose repr has the same
    digits ("83.33" stays 83.33); trailing zeros a float drops ("2.50") are restated with the
    standard quantity-precision extension.
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return {"value": int(value)}
    as_float = float(value)
    if str(Decimal(repr(as_float))) == str(value) or not isinstance(exponent, int):
        return {"value": as_float}
    return {"value": as_float, "_value": {"extension": [{"url": PRECISION, "valueInteger": -exponent}]}}


def exact_number(text: str) -> bool:
    """Does this number's text come back unchanged through `number` and `decimal_text`?"""
    element = number(Decimal(text))
    # json.dumps writes a number's repr; the reader parses it back as a Decimal.
    back = Decimal(repr(element["value"]))
    places = element["_value"]["extension"][0]["valueInteger"] if "_value" in element else None
    return with_places(back, places) == text


def decimal_text(value: Decimal | None, ext: FHIRPrimitiveExtension | None) -> str | None:
    """A FHIR decimal as the episode's decimal string, trailing zeros restored from quantity-precision."""
    if value is None:
        return None
    precision = next((e for e in (ext.extension if ext else None) or [] if e.url == PRECISION), None)
    return with_places(value, precision.valueInteger if precision is not None else None)


def with_places(value: Decimal, places: int | None) -> str:
    """The decimal's text with `places` digits after the point, when it has room for them."""
    if places is None or places < 0:
        return str(value)
    try:
        return str(value.quantize(Decimal(1).scaleb(-places)))
    except InvalidOperation:  # more digits than Decimal's context holds: keep what was written
        return str(value)
