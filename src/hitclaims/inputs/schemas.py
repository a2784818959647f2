"""JSON Schemas of the public documents, generated from the models (committed under schemas/)."""

from __future__ import annotations

import json

from pydantic import BaseModel

from hitclaims.core.claim import Result
from hitclaims.core.records import Episode

DOCUMENTS: dict[str, type[BaseModel]] = {"episode": Episode, "result": Result}


def schema_text(name: str) -> str:
    model = DOCUMENTS[name]
    schema = model.model_json_schema(
        by_alias=True, mode="validation" if name == "episode" else "serialization"
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://hitclaims.example/schemas/{name}.v1.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
