"""The billing provider: who sends the claim and what it charges (its charge list)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    field_validator,
)

from hitclaims.core.records import Address, Money, X12Text


def npi_is_valid(npi: str) -> bool:
    """The NPI check digit: Luhn over the 9 digits prefixed with the card issuer id 80840."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[X12Text, StringConstraints(min_length=1, max_length=60)]
    phone: Annotated[str, StringConstraints(pattern=r"^\d{10}$")]


class Receiver(BaseModel):
    """Where the 837 goes: the clearinghouse (or payer) named in ISA08/GS03 and loop 1000B."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[X12Text, StringConstraints(min_length=1, max_length=60)]
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,15}$")]


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[X12Text, StringConstraints(min_length=1, max_length=60)]
    npi: Annotated[str, StringConstraints(pattern=r"^\d{10}$")]
    tax_id: Annotated[str, StringConstraints(pattern=r"^\d{9}$")]
    taxonomy: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{9}X$")]
    address: Address
    contact: Contact
    # Interchange sender id (ISA06/GS02/1000A); the NPI when the clearinghouse has not assigned one.
    submitter_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,15}$")] | None = None
    receiver: Receiver
    # Price per HCPCS/CPT unit, by code.
    charges: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{5}$")], Money]
    # Price per NDC unit for drugs with no specific code (billed as J3490), by drug key.
    unclassified_drug_prices: dict[str, Money] = {}

    @field_validator("npi")
    @classmethod
    def _npi_check_digit(cls, value: str) -> str:
        if not npi_is_valid(value):
            raise ValueError("the NPI fails its check digit")
        return value

    @field_validator("address")
    @classmethod
    def _zip_plus_four(cls, value: Address) -> Address:
        if len(value.zip) != 9:
            raise ValueError("the billing provider's ZIP must have 9 digits (ZIP+4): the 837P requires it")
        return value

    @property
    def sender_id(self) -> str:
        return self.submitter_id or self.npi
