"""National Drug Codes as the 837P wants them: 11 digits, 5-4-2, no hyphens (DOMAIN §5).

A 10-digit NDC is only convertible when its hyphens say which segment is short; without them
it is ambiguous and refused rather than guessed.
"""

from __future__ import annotations

import re


class NdcError(ValueError):
    """The NDC cannot be turned into a billable 11-digit code."""


_PADDING = {
    (4, 4, 2): lambda a, b, c: ("0" + a, b, c),
    (5, 3, 2): lambda a, b, c: (a, "0" + b, c),
    (5, 4, 1): lambda a, b, c: (a, b, "0" + c),
    (5, 4, 2): lambda a, b, c: (a, b, c),
}


def normalise_ndc(text: str) -> str:
    """'0409-1234-01' -> '00409123401'; raises NdcError with a plain reason."""
    raw = text.strip()
    if re.fullmatch(r"\d{11}", raw):
        return raw
    if re.fullmatch(r"\d{10}", raw):
        raise NdcError(
            f"{raw!r} has 10 digits and no hyphens, so it is ambiguous (4-4-2, 5-3-2 or 5-4-1):"
            " give it with its hyphens or as 11 digits"
        )
    parts = raw.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        pad = _PADDING.get((len(parts[0]), len(parts[1]), len(parts[2])))
        if pad is not None:
            return "".join(pad(*parts))
    raise NdcError(f"{raw!r} is not an NDC (5-4-2, 4-4-2, 5-3-2 or 5-4-1 digits)")
