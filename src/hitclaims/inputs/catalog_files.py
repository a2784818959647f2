"""Reading the bundled code catalogs (versioned YAML under `hitclaims/catalog/data`) once."""

from __future__ import annotations

import functools
from importlib import resources

import yaml

from hitclaims.core.catalog import (
    Catalog,
    DiagnosisFile,
    DrugFile,
    ModifierFile,
    NursingFile,
    PerDiemFile,
    RuleFile,
)


def _read(name: str) -> object:
    text = resources.files("hitclaims").joinpath("catalog", "data", name).read_text("utf-8")
    return yaml.safe_load(text)


@functools.cache
def load_catalog() -> Catalog:
    per_diem = PerDiemFile.model_validate(_read("per_diem_codes.yaml"))
    drugs = DrugFile.model_validate(_read("drugs.yaml"))
    modifiers = ModifierFile.model_validate(_read("modifiers.yaml"))
    nursing = NursingFile.model_validate(_read("nursing_codes.yaml"))
    dx = DiagnosisFile.model_validate(_read("icd10_pain.yaml"))
    rules = RuleFile.model_validate(_read("rules.yaml"))
    return Catalog(
        per_diem={c.code: c for c in per_diem.codes},
        drugs={d.key: d for d in drugs.drugs},
        modifiers={m.code: m for m in modifiers.modifiers},
        nursing={c.code: c for c in nursing.codes},
        diagnoses={c.code: c for c in dx.codes},
        neoplasm_ranges=dx.neoplasm_ranges,
        rules=rules.rules,
        versions={
            "per_diem_codes": per_diem.version,
            "drugs": drugs.version,
            "modifiers": modifiers.version,
            "nursing_codes": nursing.version,
            "icd10_pain": dx.version,
            "rules": rules.version,
        },
    )
