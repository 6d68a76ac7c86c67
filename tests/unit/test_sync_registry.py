"""The sync registry is the one list of resource types: every registered type has a
copier of its own type, and every list derived from the registry agrees with it."""

from __future__ import annotations

import importlib

import sqlalchemy as sa

from kingbird.api import openapi
from kingbird.core.retry import RetryPolicy
from kingbird.regions.clients import RegionClients
from kingbird.regions.copying import Copier
from kingbird.sync import models, registry


def _clients() -> RegionClients:
    # Building copiers calls no region: a directory is never asked for a connection.
    return RegionClients(directory=None, policy=RetryPolicy())


def _enums_of(schema, key: str):
    """Every ``enum`` of a property named ``key`` anywhere in ``schema``."""
    if isinstance(schema, dict):
        for name, value in schema.items():
            if name == key and isinstance(value, dict) and "enum" in value:
                yield value["enum"]
            yield from _enums_of(value, key)
    elif isinstance(schema, list):
        for item in schema:
            yield from _enums_of(item, key)


def test_every_registered_type_builds_a_copier_of_that_type():
    service = _clients().service
    for sync_type in registry.SYNC_TYPES:
        copier = sync_type.copier(service)
        assert isinstance(copier, Copier), f"{sync_type.name} is registered without a copier"
        assert copier.resource_type == sync_type.name


def test_each_type_is_registered_once():
    assert len(set(registry.RESOURCE_TYPES)) == len(registry.SYNC_TYPES)


def test_build_copiers_serves_exactly_the_registered_types():
    copiers = registry.build_copiers(_clients().service)
    assert tuple(copiers) == registry.RESOURCE_TYPES


def test_the_models_read_the_registry():
    assert models.RESOURCE_TYPES == registry.RESOURCE_TYPES


def test_the_database_keeps_no_list_of_types_of_its_own():
    table = models.SyncJobEntry.__table__
    checks = [c for c in table.constraints if isinstance(c, sa.CheckConstraint)]
    assert checks and not any("resource_type" in str(c.sqltext) for c in checks)


def test_the_openapi_document_lists_the_registered_types():
    importlib.import_module("kingbird.sync.api")  # its routes describe themselves
    document = openapi.document("1.1")
    sync_paths = {path: ops for path, ops in document["paths"].items() if "os-sync" in path}
    enums = list(_enums_of(sync_paths, "resource_type"))
    assert enums, "the sync job schema has no resource_type enum"
    assert all(enum == list(registry.RESOURCE_TYPES) for enum in enums), enums
