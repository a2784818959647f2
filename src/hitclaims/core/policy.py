"""Payer policies: what one payer decides about a per-diem claim (SPEC "Payer policy").

Every way payers disagree (what a day is, line format, modifiers, quantity basis, nursing) is a
setting here, never an `if payer == ...` in the engine. A setting left out takes the default.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from hitclaims.core.catalog import Catalog
from hitclaims.core.records import Day, Money, Problem, X12Text, _no_float

Factor = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, ge=0, le=1)]
Severity = Literal["error", "warning"]

# SBR09 values the 837P guide allows (pyx12 map, 2000B SBR09).
ClaimFilingIndicator = Literal[
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "AM",
    "BL",
    "CH",
    "CI",
    "DS",
    "FI",
    "HM",
    "LM",
    "MA",
    "MB",
    "MC",
    "OF",
    "TV",
    "VA",
    "WC",
    "ZZ",
]

# Rules a policy may not soften or harden: a refused S-code claim, an unusable NDC and an 837
# that breaks the implementation guide are facts about the claim, not payer preferences.
FIXED_SEVERITY_RULES = frozenset({"payer.no_s_codes", "ndc.invalid", "claim.x12_invalid"})


class _Setting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EffectiveRange(_Setting):
    from_: Annotated[Day, Field(alias="from")]
    to: Day | None = None

    def covers(self, day: date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class NursingPolicy(_Setting):
    billed_by_provider: bool = True
    extra_minutes: Annotated[int, Field(ge=1, le=60)] = 31
    max_hours_per_day: Annotated[int, Field(ge=2, le=24)] | None = 4
    max_hours_per_week: Annotated[int, Field(ge=2, le=168)] | None = None
    sd_modifier: bool = False


class PayerPolicy(_Setting):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
    name: Annotated[X12Text, StringConstraints(min_length=1, max_length=100)]
    payer_kind: Literal["commercial", "medicaid", "medicare", "medicare_advantage", "tricare", "workers_comp"]
    x12_payer_id: Annotated[X12Text, StringConstraints(min_length=2, max_length=80)]
    claim_filing_indicator: ClaimFilingIndicator
    effective: EffectiveRange = EffectiveRange(from_=date(2000, 1, 1))
    source: str | None = None
    pain_code: Literal["specific", "nonspecific"] = "specific"
    billable_day: Literal["access", "infusion", "elapsed_24h"] = "access"
    continuity_gap_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 120
    bill_admission_day: bool = True
    bill_discharge_day: bool = True
    line_format: Literal["daily", "span", "calendar_month"] = "span"
    max_span_days: Annotated[int, Field(ge=1, le=31)] | None = None
    concurrent_primary: Literal["highest_rate", "first_started"] = "highest_rate"
    # A modifier of the catalog added beside the second and third concurrent per diems.
    concurrent_extra_modifier: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{2}$")] | None = None
    concurrent_payment_factors: Annotated[list[Factor], Field(min_length=1, max_length=5)] = [
        Decimal("1.0"),
        Decimal("0.5"),
        Decimal("0.0"),
    ]
    prior_authorization_required: bool = False
    unbundled_items: list[Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9]{4}$")]] = []
    drug_quantity_basis: Literal["dispensed", "administered"] = "dispensed"
    waste_modifiers: bool = False
    nursing: NursingPolicy = NursingPolicy()
    timely_filing_days: Annotated[int, Field(ge=1, le=3650)] = 180
    fee_schedule: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{5}$")], Money] = {}
    severity_overrides: dict[str, Severity] = {}

    @property
    def takes_s_codes(self) -> bool:
        # Medicare fee-for-service never pays S-codes (they are non-Medicare national codes).
        return self.payer_kind != "medicare"

    def severity(self, rule: str, default: Severity) -> Severity:
        if rule in FIXED_SEVERITY_RULES:
            return default
        return self.severity_overrides.get(rule, default)

    def payment_factor(self, rank: int) -> Decimal:
        """Expected-payment factor of the therapy ranked `rank` (0 = primary) on a shared day."""
        factors = self.concurrent_payment_factors
        return factors[min(rank, len(factors) - 1)]


def catalog_problems(policy: PayerPolicy, catalog: Catalog) -> list[Problem]:
    """Settings that name what the catalog does not have: checked when a policy is loaded."""
    extra = policy.concurrent_extra_modifier
    known = catalog.modifiers.get(extra) if extra else None
    if extra and (known is None or known.applies_to != "per_diem"):
        return [
            Problem(
                policy.id, "concurrent_extra_modifier", f"{extra} is not a per-diem modifier of the catalog"
            )
        ]
    return []
