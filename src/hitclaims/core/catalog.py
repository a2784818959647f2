"""Code catalogs: per-diem S-codes, drugs, modifiers and ICD-10-CM pain codes.

The catalogs are versioned YAML data files with effective dates and a source line per entry; this
module only types them and answers questions about them. `inputs.catalog_files` reads the files
once; the engine receives the loaded `Catalog` and never opens a file itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from hitclaims.core.errors import InputError
from hitclaims.core.vocabulary import Holds, ModifierUse, NursingUse, PerDiemKind, Severity

PER_DIEM_FILE = "per_diem_codes.yaml"
MODIFIER_FILE = "modifiers.yaml"
NURSING_FILE = "nursing_codes.yaml"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Effective(_Data):
    from_: Annotated[date, Field(alias="from")]
    to: date | None = None

    def covers(self, day: date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class PerDiemCode(_Data):
    code: str
    therapy: str
    kind: PerDiemKind
    description: str
    excludes: list[str] = []
    effective: Effective
    source: str


class Drug(_Data):
    key: str
    name: str
    hcpcs: str
    # None for a drug with no specific code: billed as J3490, one unit a line.
    unit_size: Decimal | None
    unit: Literal["mg", "mcg"]
    single_dose: bool
    # The code a Medicare DME MAC claim takes when it is not `hcpcs` (J7799 for a drug with no
    # specific code): named in the refusal of an S-code claim to Medicare.
    medicare_hcpcs: str | None = None
    effective: Effective
    source: str

    @property
    def unclassified(self) -> bool:
        return self.unit_size is None


class Modifier(_Data):
    code: str
    description: str
    applies_to: Literal["per_diem", "drug", "nursing"]
    use: ModifierUse
    effective: Effective
    source: str


class NursingCode(_Data):
    code: str
    use: NursingUse
    description: str
    effective: Effective
    source: str


class DiagnosisCode(_Data):
    code: str
    billable: bool
    supports_pain: bool
    requires_neoplasm: bool = False
    valid: Effective
    source: str


class CodeRange(_Data):
    first: str
    last: str
    source: str

    def contains(self, code: str) -> bool:
        category = code[:3]
        return self.first <= category <= self.last


class Rule(_Data):
    holds: Holds
    severity: Severity
    source: str
    summary: str
    # The finding's sentence when it is the same for every claim but for named `{fields}`.
    message: str | None = None


class RuleFile(_Data):
    version: str
    rules: dict[str, Rule]


class PerDiemFile(_Data):
    version: str
    source: str
    codes: list[PerDiemCode]


class DrugFile(_Data):
    version: str
    source: str
    drugs: list[Drug]


class ModifierFile(_Data):
    version: str
    source: str
    modifiers: list[Modifier]


class NursingFile(_Data):
    version: str
    source: str
    codes: list[NursingCode]


class DiagnosisFile(_Data):
    version: str
    source: str
    codes: list[DiagnosisCode]
    neoplasm_ranges: list[CodeRange]


class Catalog(_Data):
    per_diem: dict[str, PerDiemCode]
    drugs: dict[str, Drug]
    modifiers: dict[str, Modifier]
    nursing: dict[str, NursingCode]
    diagnoses: dict[str, DiagnosisCode]
    neoplasm_ranges: list[CodeRange]
    rules: dict[str, Rule]
    versions: dict[str, str]

    def drug(self, key: str) -> Drug:
        return self.drugs[key]

    def per_diem_code(self, therapy: str, kind: PerDiemKind) -> str:
        """The one per-diem code of a therapy for a kind of day (continuous, implanted...)."""
        found = sorted(c.code for c in self.per_diem.values() if c.therapy == therapy and c.kind == kind)
        if len(found) != 1:
            problem = (
                f"{len(found)} {kind} per-diem codes for {therapy} ({', '.join(found) or 'none'}): need one"
            )
            raise InputError(PER_DIEM_FILE, therapy, "kind", problem)
        return found[0]

    def exclusions(self, codes: Iterable[str]) -> list[tuple[str, str]]:
        """Pairs of the codes that their `excludes` forbid on one claim (first excludes second)."""
        present = sorted(set(codes))
        return [
            (code, other)
            for code in present
            for other in present
            if code in self.per_diem and other in self.per_diem[code].excludes
        ]

    def modifier(self, use: ModifierUse) -> str:
        """The modifier the catalog names for a use (the second concurrent therapy, a JW waste...)."""
        found = [m.code for m in self.modifiers.values() if m.use == use]
        return _the_one(found, MODIFIER_FILE, use, "modifiers")

    def nursing_code(self, use: NursingUse) -> str:
        """The nursing code the catalog names for a use (the visit, each additional hour)."""
        found = [c.code for c in self.nursing.values() if c.use == use]
        return _the_one(found, NURSING_FILE, use, "nursing codes")

    def is_neoplasm(self, code: str) -> bool:
        return any(r.contains(code) for r in self.neoplasm_ranges)


def _the_one(found: list[str], file: str, use: str, what: str) -> str:
    """The one code a catalog file names for a use; none or two is the file's error."""
    if len(found) != 1:
        codes = ", ".join(sorted(found)) or "none"
        raise InputError(file, use, "use", f"{len(found)} {what} for {use} ({codes}): need one")
    return found[0]
