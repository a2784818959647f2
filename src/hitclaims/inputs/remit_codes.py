"""Reading the CARC/RARC catalog (`catalog/data/carc_rarc.yaml`): what each adjustment and remark
code means in our words, what the biller does next, and which of our audit rules it matches."""

from __future__ import annotations

import functools
from datetime import date
from importlib import resources
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hitclaims.core.vocabulary import NextAction


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Effective(_Entry):
    from_: Annotated[date, Field(alias="from")]
    to: date | None = None

    def covers(self, day: date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class RemitCode(_Entry):
    description: Annotated[str, Field(min_length=5, max_length=200)]
    next_action: NextAction
    rule: str | None = None
    rules: list[str] = []
    effective: Effective
    start_checked: bool = True

    @model_validator(mode="after")
    def _one_way_to_name_rules(self) -> RemitCode:
        if self.rule and self.rules:
            raise ValueError("give either `rule` or `rules`, not both")
        return self

    @property
    def our_rules(self) -> tuple[str, ...]:
        """The audit rules that should have caught this denial before the claim was sent."""
        return (self.rule,) if self.rule else tuple(self.rules)


class Sources(_Entry):
    carc: str
    rarc: str


class RemitCodes(_Entry):
    version: str
    source: Sources
    carc: dict[str, RemitCode]
    rarc: dict[str, RemitCode]

    def reason(self, code: str) -> RemitCode | None:
        """A CARC, by its code alone (CO-45 and PR-45 share the reason 45)."""
        return self.carc.get(code)

    def remark(self, code: str) -> RemitCode | None:
        return self.rarc.get(code)


@functools.cache
def load_remit_codes() -> RemitCodes:
    text = resources.files("hitclaims").joinpath("catalog", "data", "carc_rarc.yaml").read_text("utf-8")
    return RemitCodes.model_validate(yaml.safe_load(text))
