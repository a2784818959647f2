"""Work on files, without the store: bill episode files for a period, render the result in any
format, check an X12 file, convert between episode JSON and FHIR, print a schema, run the demo.

The command line calls these; each reads what it needs (heavy libraries only when used) and
raises typed errors for unusable input.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from hitclaims.core.claim import Result
from hitclaims.core.errors import InputError
from hitclaims.core.records import Episode
from hitclaims.formats import outputs
from hitclaims.formats.report import WIDTH, report
from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    MAX_INPUT_BYTES,
    bundled_examples,
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
    parse_episode,
    read_episode,
    read_text,
)
from hitclaims.inputs.schemas import DOCUMENTS, schema_text
from hitclaims.services.billing import FilesBilled, Setup, bill_one

__all__ = [
    "DOCUMENTS",
    "FORMATS",
    "MAX_INPUT_BYTES",
    "REPORT_WIDTH",
    "FilesBilled",
    "Setup",
    "bill_demo",
    "episode_as_fhir",
    "fhir_as_episode",
    "render",
    "report",
    "schema_text",
    "setup_from_files",
    "validate_file",
    "write_all",
]

FORMATS = tuple(outputs.FORMATS)
REPORT_WIDTH = WIDTH


def setup_from_files(policies: Path | None, provider: Path | None) -> Setup:
    """The catalogs, the payer policies (a folder, or the bundled ones) and the provider file (or
    the bundled example pharmacy)."""
    catalog = load_catalog()
    folders: Sequence[Path | Traversable] = [policies] if policies else bundled_policy_folders()
    return Setup(catalog, load_policies(folders, catalog), load_provider(provider or bundled_provider_file()))


def render(result: Result, fmt: str, setup: Setup, as_of: date) -> bytes | None:
    """One format of the result (None: an 837 with no ready claim to put in it)."""
    return outputs.FORMATS[fmt].render(result, setup.provider, as_of)


def write_all(result: Result, setup: Setup, as_of: date, folder: Path) -> list[Path]:
    return outputs.write_all(result, setup.provider, as_of, folder)


def bill_demo() -> tuple[FilesBilled, Setup, date]:
    """The bundled examples, each billed for the period its expectation names."""
    setup = setup_from_files(None, None)
    billed = FilesBilled()
    for example in bundled_examples():
        try:
            episode = parse_episode(example.name, example.text, setup.catalog)
            billed.claims.extend(bill_one(example.name, episode, setup, example.period, example.as_of))
        except InputError as exc:
            billed.errors.append(exc)
    last_as_of = max((e.as_of for e in bundled_examples()), default=date.min)
    return billed, setup, last_as_of


def validate_file(path: Path) -> Any:
    from hitclaims.formats.x12.validate import validate_x12  # pyx12: imported when used

    return validate_x12(read_text(path))


def fhir_as_episode(path: Path) -> tuple[Episode, list[str]]:
    from hitclaims.formats.fhir.episode_in import bundle_to_episode  # fhir.resources: when used

    return bundle_to_episode(str(path), read_text(path), load_catalog())


def episode_as_fhir(path: Path) -> dict[str, Any]:
    from hitclaims.formats.fhir.episode_out import episode_to_bundle

    return episode_to_bundle(read_episode(path, load_catalog()))
