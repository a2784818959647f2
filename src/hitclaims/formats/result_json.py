"""The result document (SPEC "Result") as JSON text, and back."""

from __future__ import annotations

from hitclaims.core.claim import Result


def render_json(result: Result) -> str:
    return result.model_dump_json(by_alias=True, indent=2) + "\n"


def read_json(text: str) -> Result:
    return Result.model_validate_json(text)
