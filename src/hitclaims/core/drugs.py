"""Drug units (DOMAIN §5): HCPCS units from the dispensed (or administered) amount.

units = max(1, ceil(amount / unit size)), in Decimal, after converting g/mg/mcg to the code's
unit. A drug with no specific code is J3490: one unit a line, the NDC quantity carries the amount.
The waste modifiers (a discarded part, nothing discarded) come from the modifier catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import NamedTuple

from hitclaims.core.catalog import Catalog, Drug
from hitclaims.core.policy import PayerPolicy
from hitclaims.core.records import Dispense

_TO_MCG = {"g": Decimal(1_000_000), "mg": Decimal(1000), "mcg": Decimal(1)}


def convert(amount: Decimal, unit: str, to: str) -> Decimal:
    return amount * _TO_MCG[unit] / _TO_MCG[to]


def hcpcs_units(amount: Decimal, amount_unit: str, drug: Drug) -> int:
    if drug.unit_size is None:
        return 1
    in_code_unit = convert(amount, amount_unit, drug.unit)
    units = (in_code_unit / drug.unit_size).to_integral_value(rounding=ROUND_CEILING)
    return max(1, int(units))


@dataclass(frozen=True)
class DrugPart:
    """One drug line's worth: the administered part, or the discarded part (JW)."""

    units: int
    ndc_quantity: Decimal
    modifiers: tuple[str, ...]
    basis: str  # how the amount was chosen, for the line's trace


def _scaled_quantity(dispense: Dispense, amount: Decimal) -> Decimal:
    if amount == dispense.amount:
        return dispense.quantity
    share = dispense.quantity * amount / dispense.amount
    return share.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP).normalize()


class WasteModifiers(NamedTuple):
    """The catalog's modifiers for a single-dose container: part discarded, nothing discarded."""

    discarded: str
    nothing_discarded: str

    @classmethod
    def of(cls, catalog: Catalog) -> WasteModifiers:
        return cls(catalog.modifier("drug_discarded"), catalog.modifier("nothing_discarded"))


def drug_parts(
    dispense: Dispense, drug: Drug, policy: PayerPolicy, waste: WasteModifiers
) -> list[DrugPart] | None:
    """The line(s) a dispense bills, or None when the amount this payer needs is not on record."""
    single_dose = drug.single_dose if dispense.single_dose is None else dispense.single_dose
    administered = dispense.administered_amount
    waste_rules = policy.waste_modifiers and single_dose
    if (policy.drug_quantity_basis == "administered" or waste_rules) and administered is None:
        return None
    if waste_rules:
        assert administered is not None
        return _waste_parts(dispense, drug, administered, waste)
    if policy.drug_quantity_basis == "administered":
        assert administered is not None
        if administered == 0:
            return []
        return [
            DrugPart(
                hcpcs_units(administered, dispense.amount_unit, drug),
                _scaled_quantity(dispense, administered),
                (),
                "administered amount (drug_quantity_basis: administered)",
            )
        ]
    return [
        DrugPart(
            hcpcs_units(dispense.amount, dispense.amount_unit, drug),
            dispense.quantity,
            (),
            "dispensed amount (drug_quantity_basis: dispensed)",
        )
    ]


def _waste_parts(
    dispense: Dispense, drug: Drug, administered: Decimal, waste: WasteModifiers
) -> list[DrugPart]:
    """A single-dose container: the administered part, and the discarded part on its own line."""
    unit = dispense.amount_unit
    discarded = dispense.amount - administered
    if discarded == 0:
        units = hcpcs_units(administered, unit, drug)
        code = waste.nothing_discarded
        return [DrugPart(units, dispense.quantity, (code,), f"administered, nothing discarded ({code})")]
    parts: list[DrugPart] = []
    given_units = 0
    if administered > 0:
        given_units = hcpcs_units(administered, unit, drug)
        parts.append(
            DrugPart(given_units, _scaled_quantity(dispense, administered), (), "administered amount")
        )
    total_units = hcpcs_units(dispense.amount, unit, drug)
    waste_units = max(total_units - given_units, 1 if drug.unit_size is None else 0)
    if waste_units > 0:
        parts.append(
            DrugPart(
                waste_units,
                _scaled_quantity(dispense, discarded),
                (waste.discarded,),
                f"discarded amount of a single-dose container ({waste.discarded})",
            )
        )
    return parts
