"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hitclaims.inputs.catalog_files import load_catalog
from hitclaims.inputs.loading import (
    bundled_policy_folders,
    bundled_provider_file,
    load_policies,
    load_provider,
)
from hitclaims.services.billing import Setup

from .databases import fresh_database, postgres_cluster


@pytest.fixture(scope="session")
def setup() -> Setup:
    """The bundled catalogs, policies and example provider, as `hitclaims bill` uses by default."""
    catalog = load_catalog()
    return Setup(
        catalog, load_policies(bundled_policy_folders(), catalog), load_provider(bundled_provider_file())
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on a file SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hitclaims.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    with fresh_database(server) as url:
        yield url
